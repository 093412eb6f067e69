/* SPDX-License-Identifier: MIT */
/* The `explore` block of a scenario (docs/scenario-format.md "Explore blocks"): its parser and
 * printer. */
#include "scenario_parse.h"

#include <ctype.h>
#include <inttypes.h>
#include <string.h>

/* Values one argument may range over, and choices one line may make in one state (before object
 * arguments, whose count depends on the state): large enough for small domains, small enough that
 * a mistyped range is an error rather than a search that never ends. */
#define EXPLORE_MAX_VALUES  64u
#define EXPLORE_MAX_CHOICES 4096u

bool parse_explore_start(struct parser *p)
{
    struct rvm_scenario *s = p->scn;
    s->explore.tick = s->tick;
    for (uint32_t i = 1; i < p->nt; i++) {
        const struct tok *t = &p->t[i];
        if (t->n < 5 || memcmp(t->s, "tick=", 5) != 0) {
            return perr(p, t->col, "usage: explore [tick=DURATION]");
        }
        uint64_t v;
        if (!parse_uint(t->s + 5, t->n - 5, true, &v) || v > (1ull << 40)) {
            return perr(p, t->col + 5, "tick must be a duration of 0..2^40ns");
        }
        s->explore.tick = v;
    }
    s->explore.line = p->line;
    p->in_explore = true;
    return true;
}

/* [cpuN | cpu*]: the CPUs an entry runs on; *i moves past the word when there is one. */
static bool parse_explore_cpu(struct parser *p, uint32_t *i, struct scn_explore_entry *e)
{
    const struct tok *w = &p->t[*i];
    const uint32_t ncpus = p->scn->ncpus;
    e->cpu_lo = e->cpu_hi = 0;
    if (w->n < 4 || memcmp(w->s, "cpu", 3) != 0) {
        return true;
    }
    if (w->n == 4 && w->s[3] == '*') {
        e->cpu_hi = ncpus - 1u;
    } else if (isdigit((unsigned char)w->s[3])) {
        uint64_t c;
        if (!parse_uint(w->s + 3, w->n - 3, false, &c) || c >= ncpus) {
            return perr(p, w->col, "'%.*s': this scenario has cpus 0..%u", (int)w->n, w->s,
                        ncpus - 1u);
        }
        e->cpu_lo = e->cpu_hi = (uint32_t)c;
    } else {
        return true; /* an operation whose name starts with "cpu" */
    }
    (*i)++;
    if (*i >= p->nt) {
        return perr(p, w->col + (uint32_t)w->n, "expected an operation after '%.*s'", (int)w->n,
                    w->s);
    }
    return true;
}

static bool add_entry(struct parser *p, const struct scn_explore_entry *e)
{
    struct scn_explore *x = &p->scn->explore;
    uint32_t cap = cap_of(x->nentries);
    void *buf = x->entries;
    if (!reserve_items(&buf, &cap, x->nentries + 1, sizeof(*e))) {
        return oom(p);
    }
    x->entries = buf;
    x->entries[x->nentries++] = *e;
    return true;
}

bool parse_explore_line(struct parser *p)
{
    struct rvm_scenario *s = p->scn;
    const struct tok *k = &p->t[0];
    if (tok_is(k->s, k->n, "end")) {
        if (!want_args(p, 1, "end")) {
            return false;
        }
        if (s->explore.nentries == 0) {
            return perr(p, 1, "explore block (line %u) lists no operation", s->explore.line);
        }
        p->in_explore = false;
        return true;
    }
    struct scn_explore_entry e = {.line = p->line};
    uint32_t i = 0;
    if (!parse_explore_cpu(p, &i, &e)) {
        return false;
    }
    int32_t op = find_op(s->target, &p->t[i]);
    if (op < 0) {
        return unknown_op(p, &p->t[i]);
    }
    e.op = (uint32_t)op;
    const struct rvm_sim_op_spec *spec = &s->target->ops[op];
    if (!parse_args(p, i + 1, p->nt, spec->args, spec->nargs, spec->name, true, false, e.args,
                    NULL)) {
        return false;
    }
    uint64_t choices = (uint64_t)e.cpu_hi - e.cpu_lo + 1u;
    for (uint32_t a = 0; a < spec->nargs; a++) {
        const struct scn_value *v = &e.args[a];
        if (v->kind == SCN_V_RANGE) {
            if (v->hi - v->lo >= EXPLORE_MAX_VALUES) {
                return perr(p, p->t[i].col,
                            "'%s' ranges over %" PRIu64 "..%" PRIu64
                            ": at most %u values per argument",
                            spec->args[a].name, v->lo, v->hi, EXPLORE_MAX_VALUES);
            }
            choices *= v->hi - v->lo + 1u;
        }
    }
    if (choices > EXPLORE_MAX_CHOICES) {
        return perr(p, p->t[i].col, "'%s' makes %" PRIu64 " choices: at most %u per line",
                    spec->name, choices, EXPLORE_MAX_CHOICES);
    }
    return add_entry(p, &e);
}

void write_explore(FILE *f, const struct rvm_scenario *s)
{
    const struct scn_explore *x = &s->explore;
    if (x->line == 0) {
        return;
    }
    fprintf(f, "explore tick=%" PRIu64 "\n", x->tick);
    for (uint32_t i = 0; i < x->nentries; i++) {
        const struct scn_explore_entry *e = &x->entries[i];
        const struct rvm_sim_op_spec *op = &s->target->ops[e->op];
        fputs("  ", f);
        if (e->cpu_lo != e->cpu_hi) {
            fputs("cpu* ", f);
        } else if (e->cpu_lo != 0) {
            fprintf(f, "cpu%u ", e->cpu_lo);
        }
        fputs(op->name, f);
        for (uint32_t a = 0; a < op->nargs; a++) {
            if (e->args[a].kind == SCN_V_ANY) {
                fprintf(f, " %s=*", op->args[a].name);
            } else if (e->args[a].kind != SCN_V_DEFAULT) {
                fprintf(f, " %s=", op->args[a].name);
                print_value(f, s, &op->args[a], &e->args[a]);
            }
        }
        fputc('\n', f);
    }
    fputs("end\n", f);
}
