/* SPDX-License-Identifier: MIT */
#include "scenario.h"
#include "scenario_parse.h"

#include "rvm/action.h"
#include "rvm/error.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

const char *const rvm_scn_engine_queries[SCN_EQ_COUNT] = {
    [SCN_EQ_STEP] = "step",
    [SCN_EQ_TIME] = "time",
    [SCN_EQ_RECORDS] = "records",
    [SCN_EQ_SINK_RECORDS] = "sink.records",
    [SCN_EQ_SINK_CHECKPOINTS] = "sink.checkpoints",
    [SCN_EQ_CPUS_ONLINE] = "cpus.online",
    [SCN_EQ_FAULTS_FIRED] = "faults.fired",
    [SCN_EQ_EVENTS] = "events",
};

/* ------------------------------------------------------------------------------------------------
 * Symbol tables for action and error arguments
 * --------------------------------------------------------------------------------------------- */

struct sym {
    const char *name;
    const char *display;
    uint64_t value;
};

static const struct sym action_syms[] = {
#define ACTION_SYM_(name, code, display) {#name, display, code},
    RVM_ACTION_LIST(ACTION_SYM_)
#undef ACTION_SYM_
};

static const struct sym error_syms[] = {
#define ERROR_SYM_(name, value, msg) {#name, NULL, value},
    RVM_ERROR_LIST(ERROR_SYM_)
#undef ERROR_SYM_
};

#define NSYMS(t) (sizeof(t) / sizeof((t)[0]))

const char *rvm_scn_action_name(uint64_t v)
{
    for (size_t i = 0; i < NSYMS(action_syms); i++) {
        if (action_syms[i].value == v) {
            return action_syms[i].name;
        }
    }
    return NULL;
}

static const char *error_name(uint64_t v)
{
    for (size_t i = 0; i < NSYMS(error_syms); i++) {
        if (error_syms[i].value == v) {
            return error_syms[i].name;
        }
    }
    return NULL;
}

bool tok_is(const char *s, size_t n, const char *word)
{
    return strlen(word) == n && memcmp(s, word, n) == 0;
}

static bool sym_lookup(const struct sym *t, size_t n, const char *s, size_t len, uint64_t *out)
{
    for (size_t i = 0; i < n; i++) {
        if (tok_is(s, len, t[i].name) || (t[i].display != NULL && tok_is(s, len, t[i].display))) {
            *out = t[i].value;
            return true;
        }
    }
    return false;
}

/* ------------------------------------------------------------------------------------------------
 * Dynamic arrays (parse time only)
 * --------------------------------------------------------------------------------------------- */

bool reserve_items(void **buf, uint32_t *cap, uint32_t need, size_t elem)
{
    if (need <= *cap) {
        return true;
    }
    uint32_t c = *cap != 0 ? *cap : 16;
    while (c < need) {
        c *= 2;
    }
    void *p = realloc(*buf, (size_t)c * elem);
    if (p == NULL) {
        return false;
    }
    *buf = p;
    *cap = c;
    return true;
}

/* Capacities live beside the scenario during parsing; afterwards the arrays are exact-or-larger
 * and only freed. rvm_scenario_add_* grow by doubling from the current count. */
uint32_t cap_of(uint32_t count)
{
    uint32_t c = 16;
    while (c < count) {
        c *= 2;
    }
    return count == 0 ? 0 : c;
}

bool rvm_scenario_add_step(struct rvm_scenario *s, const struct scn_step *step)
{
    uint32_t cap = cap_of(s->nsteps);
    void *buf = s->steps;
    if (!reserve_items(&buf, &cap, s->nsteps + 1, sizeof(*s->steps))) {
        return false;
    }
    s->steps = buf;
    s->steps[s->nsteps++] = *step;
    if (step->kind == SCN_OP) {
        s->nops_total++;
    }
    return true;
}

int32_t rvm_scenario_add_name(struct rvm_scenario *s, const char *text, uint32_t cls)
{
    uint32_t cap = cap_of(s->nnames);
    void *buf = s->names;
    if (!reserve_items(&buf, &cap, s->nnames + 1, sizeof(*s->names))) {
        return -1;
    }
    s->names = buf;
    char *copy = strdup(text);
    if (copy == NULL) {
        return -1;
    }
    s->names[s->nnames] = (struct scn_name){copy, cls, 0};
    return (int32_t)s->nnames++;
}

void rvm_scenario_free(struct rvm_scenario *s)
{
    for (uint32_t i = 0; i < s->nnames; i++) {
        free(s->names[i].text);
    }
    for (uint32_t i = 0; i < s->nrandoms; i++) {
        free(s->randoms[i].entries);
    }
    free(s->names);
    free(s->randoms);
    free(s->explore.entries);
    free(s->steps);
    free(s->overrides);
    free(s->path);
    memset(s, 0, sizeof(*s));
}

bool rvm_scenario_init_from(struct rvm_scenario *dst, const struct rvm_scenario *src,
                            const char *path)
{
    memset(dst, 0, sizeof(*dst));
    dst->path = strdup(path != NULL ? path : "(generated)");
    if (dst->path == NULL) {
        return false;
    }
    dst->target = src->target;
    memcpy(dst->params, src->params, sizeof(dst->params));
    dst->ncpus = src->ncpus;
    dst->tick = src->tick;
    dst->liveness = src->liveness;
    return true;
}

uint32_t rvm_scenario_count(const struct rvm_scenario *s, enum scn_step_kind kind)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < s->nsteps; i++) {
        n += s->steps[i].kind == kind;
    }
    return n;
}

/* ------------------------------------------------------------------------------------------------
 * The parser
 * --------------------------------------------------------------------------------------------- */

bool perr(struct parser *p, uint32_t col, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    p->err->line = p->line;
    p->err->col = col;
    vsnprintf(p->err->msg, sizeof(p->err->msg), fmt, ap);
    va_end(ap);
    return false;
}

bool oom(struct parser *p)
{
    return perr(p, 1, "out of memory");
}

/* Split one line (comment already removed) into whitespace-separated tokens. */
static bool tokenize(struct parser *p, const char *line, size_t len)
{
    p->nt = 0;
    size_t i = 0;
    while (i < len) {
        while (i < len && (line[i] == ' ' || line[i] == '\t')) {
            i++;
        }
        if (i >= len) {
            break;
        }
        size_t start = i;
        while (i < len && line[i] != ' ' && line[i] != '\t') {
            i++;
        }
        if (p->nt == MAX_TOKENS) {
            return perr(p, (uint32_t)start + 1, "too many words on one line (at most %u)",
                        MAX_TOKENS);
        }
        p->t[p->nt++] = (struct tok){line + start, i - start, (uint32_t)start + 1};
    }
    return true;
}

static bool is_name_char(char c, bool first)
{
    return isalpha((unsigned char)c) || c == '_' ||
           (!first && (isdigit((unsigned char)c) || c == '.' || c == '-'));
}

static bool valid_name(const char *s, size_t n)
{
    if (n == 0 || !is_name_char(s[0], true)) {
        return false;
    }
    for (size_t i = 1; i < n; i++) {
        if (!is_name_char(s[i], false)) {
            return false;
        }
    }
    return true;
}

/*
 * Unsigned integer: decimal or 0x hex, `_` separators, optional time unit when `units` (ns, us,
 * ms, s: the value is in ns). Exact: no sign, no junk, no overflow.
 */
bool parse_uint(const char *s, size_t n, bool units, uint64_t *out)
{
    uint64_t base = 10, v = 0, mult = 1;
    size_t i = 0, digits = 0;
    if (n >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        i = 2;
    }
    if (units && base == 10) {
        if (n > 2 && tok_is(s + n - 2, 2, "ns")) {
            n -= 2;
        } else if (n > 2 && tok_is(s + n - 2, 2, "us")) {
            n -= 2, mult = 1000;
        } else if (n > 2 && tok_is(s + n - 2, 2, "ms")) {
            n -= 2, mult = 1000000;
        } else if (n > 1 && s[n - 1] == 's') {
            n -= 1, mult = 1000000000;
        }
    }
    for (; i < n; i++) {
        char c = s[i];
        uint64_t d;
        if (c == '_' && digits != 0) {
            continue;
        }
        if (c >= '0' && c <= '9') {
            d = (uint64_t)(c - '0');
        } else if (base == 16 && c >= 'a' && c <= 'f') {
            d = (uint64_t)(c - 'a' + 10);
        } else if (base == 16 && c >= 'A' && c <= 'F') {
            d = (uint64_t)(c - 'A' + 10);
        } else {
            return false;
        }
        if (d >= base || v > (UINT64_MAX - d) / base) {
            return false;
        }
        v = v * base + d;
        digits++;
    }
    if (digits == 0 || (mult != 1 && v > UINT64_MAX / mult)) {
        return false;
    }
    *out = v * mult;
    return true;
}

static int32_t find_name(const struct rvm_scenario *s, const char *text, size_t n)
{
    for (uint32_t i = 0; i < s->nnames; i++) {
        if (tok_is(text, n, s->names[i].text)) {
            return (int32_t)i;
        }
    }
    return -1;
}

/* "k=v": split at the first '='. */
static bool split_kv(struct parser *p, const struct tok *t, struct tok *k, struct tok *v)
{
    const char *eq = memchr(t->s, '=', t->n);
    if (eq == NULL || eq == t->s || eq == t->s + t->n - 1) {
        return perr(p, t->col, "expected name=value, got '%.*s'", (int)t->n, t->s);
    }
    *k = (struct tok){t->s, (size_t)(eq - t->s), t->col};
    *v = (struct tok){eq + 1, t->n - (size_t)(eq - t->s) - 1, t->col + (uint32_t)(eq - t->s) + 1};
    return true;
}

static const char *type_name(const struct rvm_sim_target *tg, const struct rvm_sim_arg_spec *a)
{
    switch (a->type) {
    case RVM_SIM_ARG_U64:
        return "an unsigned integer";
    case RVM_SIM_ARG_BOOL:
        return "0, 1, true or false";
    case RVM_SIM_ARG_ACTION:
        return "an action kind (e.g. CAP_GRANT) or a number";
    case RVM_SIM_ARG_ERR:
        return "an error name (e.g. WITNESS_FULL) or a number";
    case RVM_SIM_ARG_OBJECT:
        return tg != NULL && a->cls < tg->nclasses ? tg->classes[a->cls] : "an object";
    }
    return "?";
}

static bool parse_scalar(struct parser *p, const struct rvm_sim_arg_spec *a, const struct tok *v,
                         uint64_t *out)
{
    switch (a->type) {
    case RVM_SIM_ARG_U64:
        if (parse_uint(v->s, v->n, true, out)) {
            return true;
        }
        break;
    case RVM_SIM_ARG_BOOL:
        if (tok_is(v->s, v->n, "true") || tok_is(v->s, v->n, "1")) {
            *out = 1;
            return true;
        }
        if (tok_is(v->s, v->n, "false") || tok_is(v->s, v->n, "0")) {
            *out = 0;
            return true;
        }
        break;
    case RVM_SIM_ARG_ACTION:
        if (parse_uint(v->s, v->n, false, out) ||
            sym_lookup(action_syms, NSYMS(action_syms), v->s, v->n, out)) {
            return true;
        }
        break;
    case RVM_SIM_ARG_ERR:
        if (parse_uint(v->s, v->n, false, out) ||
            sym_lookup(error_syms, NSYMS(error_syms), v->s, v->n, out)) {
            return true;
        }
        break;
    case RVM_SIM_ARG_OBJECT:
        if (parse_uint(v->s, v->n, false, out)) {
            return true;
        }
        break;
    }
    return perr(p, v->col, "'%s' must be %s, got '%.*s'", a->name, type_name(p->scn->target, a),
                (int)v->n, v->s);
}

bool parse_value(struct parser *p, const struct rvm_sim_arg_spec *a, const struct tok *v,
                 bool allow_range, struct scn_value *out)
{
    *out = (struct scn_value){.kind = SCN_V_LIT};
    if (a->type == RVM_SIM_ARG_OBJECT) {
        if (tok_is(v->s, v->n, "none")) {
            out->kind = SCN_V_NONE;
            return true;
        }
        if (tok_is(v->s, v->n, "*")) {
            if (!p->in_explore) {
                return perr(p, v->col, "'*' (every live object) is only allowed in explore blocks");
            }
            out->kind = SCN_V_ANY;
            return true;
        }
        if (tok_is(v->s, v->n, "hypervisor")) {
            out->lo = out->hi = RVM_SIM_PRIVILEGED_OBJECT;
            return true;
        }
        if (v->n > 0 && !isdigit((unsigned char)v->s[0])) {
            int32_t idx = find_name(p->scn, v->s, v->n);
            if (idx < 0) {
                return perr(p, v->col, "unknown object '%.*s' (objects are named with 'as NAME')",
                            (int)v->n, v->s);
            }
            const struct scn_name *nm = &p->scn->names[idx];
            if (nm->cls != a->cls) {
                return perr(p, v->col, "'%.*s' is a %s, but '%s' needs a %s", (int)v->n, v->s,
                            p->scn->target->classes[nm->cls], a->name,
                            p->scn->target->classes[a->cls]);
            }
            out->kind = SCN_V_NAME;
            out->name = (uint32_t)idx;
            return true;
        }
    }
    const char *dots = NULL;
    for (size_t i = 0; i + 1 < v->n; i++) {
        if (v->s[i] == '.' && v->s[i + 1] == '.') {
            dots = v->s + i;
            break;
        }
    }
    if (dots != NULL) {
        if (!allow_range) {
            return perr(p, v->col,
                        "ranges (lo..hi) are only allowed in random blocks (and explore blocks)");
        }
        if (a->type == RVM_SIM_ARG_OBJECT) {
            return perr(p, v->col, "'%s' is an object argument: no ranges", a->name);
        }
        struct tok lo = {v->s, (size_t)(dots - v->s), v->col};
        struct tok hi = {dots + 2, v->n - lo.n - 2, v->col + (uint32_t)lo.n + 2};
        if (!parse_scalar(p, a, &lo, &out->lo) || !parse_scalar(p, a, &hi, &out->hi)) {
            return false;
        }
        if (out->lo > out->hi) {
            return perr(p, v->col, "empty range: %" PRIu64 " > %" PRIu64, out->lo, out->hi);
        }
        out->kind = SCN_V_RANGE;
        return true;
    }
    if (!parse_scalar(p, a, v, &out->lo)) {
        return false;
    }
    out->hi = out->lo;
    return true;
}

/* Parse name=value arguments tokens[from..nt) against `specs`. */
bool parse_args(struct parser *p, uint32_t from, uint32_t to, const struct rvm_sim_arg_spec *specs,
                uint32_t nspecs, const char *what, bool allow_range, bool require,
                struct scn_value *out, uint32_t *after)
{
    for (uint32_t i = 0; i < RVM_SIM_MAX_ARGS || i < nspecs; i++) {
        out[i] = (struct scn_value){.kind = SCN_V_DEFAULT};
    }
    for (uint32_t i = from; i < to; i++) {
        struct tok k = {0}, v = {0};
        if (!split_kv(p, &p->t[i], &k, &v)) {
            return false;
        }
        if (after != NULL && tok_is(k.s, k.n, "after")) {
            uint64_t n;
            if (!parse_uint(v.s, v.n, false, &n) || n > UINT32_MAX) {
                return perr(p, v.col, "'after' must be a count, got '%.*s'", (int)v.n, v.s);
            }
            *after = (uint32_t)n;
            continue;
        }
        uint32_t a = 0;
        while (a < nspecs && !tok_is(k.s, k.n, specs[a].name)) {
            a++;
        }
        if (a == nspecs) {
            char known[160] = "";
            size_t len = 0;
            for (uint32_t j = 0; j < nspecs && len < sizeof(known) - 1; j++) {
                int w = snprintf(known + len, sizeof(known) - len, "%s%s", j ? ", " : "",
                                 specs[j].name);
                len += w > 0 ? (size_t)w : 0;
            }
            return perr(p, k.col, "%s has no argument '%.*s' (it takes: %s)", what, (int)k.n, k.s,
                        nspecs ? known : "nothing");
        }
        if (out[a].kind != SCN_V_DEFAULT) {
            return perr(p, k.col, "argument '%s' given twice", specs[a].name);
        }
        if (!parse_value(p, &specs[a], &v, allow_range, &out[a])) {
            return false;
        }
    }
    if (require) {
        for (uint32_t a = 0; a < nspecs; a++) {
            if (out[a].kind == SCN_V_DEFAULT && !specs[a].optional) {
                return perr(p, p->t[to - 1].col + (uint32_t)p->t[to - 1].n,
                            "%s needs argument '%s=' (%s)", what, specs[a].name,
                            type_name(p->scn->target, &specs[a]));
            }
        }
    }
    return true;
}

int32_t find_op(const struct rvm_sim_target *t, const struct tok *k)
{
    for (uint32_t i = 0; i < t->nops; i++) {
        if (tok_is(k->s, k->n, t->ops[i].name)) {
            return (int32_t)i;
        }
    }
    return -1;
}

bool unknown_op(struct parser *p, const struct tok *k)
{
    const struct rvm_sim_target *t = p->scn->target;
    char known[200] = "";
    size_t len = 0;
    for (uint32_t j = 0; j < t->nops && len < sizeof(known) - 1; j++) {
        int w = snprintf(known + len, sizeof(known) - len, "%s%s", j ? ", " : "", t->ops[j].name);
        len += w > 0 ? (size_t)w : 0;
    }
    return perr(p, k->col, "unknown operation '%.*s' for target %s (operations: %s)", (int)k->n,
                k->s, t->name, known);
}

static bool parse_target(struct parser *p)
{
    struct rvm_scenario *s = p->scn;
    if (p->nt < 2) {
        return perr(p, p->t[0].col + 6, "expected a target name after 'target'");
    }
    char name[64];
    if (p->t[1].n >= sizeof(name)) {
        return perr(p, p->t[1].col, "target name too long");
    }
    memcpy(name, p->t[1].s, p->t[1].n);
    name[p->t[1].n] = '\0';
    s->target = rvm_sim_target_find(name);
    if (s->target == NULL) {
        char known[160] = "";
        size_t len = 0;
        for (size_t i = 0; rvm_sim_target_at(i) != NULL && len < sizeof(known) - 1; i++) {
            int w = snprintf(known + len, sizeof(known) - len, "%s%s", i ? ", " : "",
                             rvm_sim_target_at(i)->name);
            len += w > 0 ? (size_t)w : 0;
        }
        return perr(p, p->t[1].col, "unknown target '%s' (targets: %s)", name, known);
    }
    const struct rvm_sim_target *t = s->target;
    for (uint32_t i = 0; i < t->nparams; i++) {
        s->params[i] = t->params[i].def;
    }
    struct scn_value vals[RVM_SIM_MAX_PARAMS];
    if (t->nparams > RVM_SIM_MAX_PARAMS) {
        return perr(p, 1, "internal: target has too many parameters");
    }
    char what[80];
    snprintf(what, sizeof(what), "target %s", t->name);
    if (!parse_args(p, 2, p->nt, t->params, t->nparams, what, false, false, vals, NULL)) {
        return false;
    }
    for (uint32_t i = 0; i < t->nparams; i++) {
        if (vals[i].kind == SCN_V_DEFAULT) {
            continue;
        }
        if (vals[i].lo < t->params[i].lo || vals[i].lo > t->params[i].hi) {
            return perr(p, 1, "target parameter '%s' must be in %" PRIu64 "..%" PRIu64,
                        t->params[i].name, t->params[i].lo, t->params[i].hi);
        }
        s->params[i] = vals[i].lo;
    }
    return true;
}

bool want_args(struct parser *p, uint32_t n, const char *usage)
{
    if (p->nt != n) {
        uint32_t col = p->nt > n ? p->t[n].col : p->t[p->nt - 1].col + (uint32_t)p->t[p->nt - 1].n;
        return perr(p, col, "usage: %s", usage);
    }
    return true;
}

static bool parse_directive(struct parser *p, bool *handled)
{
    struct rvm_scenario *s = p->scn;
    const struct tok *k = &p->t[0];
    uint64_t v;
    *handled = true;

    if (tok_is(k->s, k->n, "target")) {
        return perr(p, k->col, "'target' may appear only once, as the first line");
    }
    static const char *const directives[] = {"cpus",   "seed",    "faults",  "tick",
                                             "enable", "disable", "liveness"};
    bool is_directive = false;
    for (size_t i = 0; i < sizeof(directives) / sizeof(directives[0]); i++) {
        is_directive |= tok_is(k->s, k->n, directives[i]);
    }
    if (!is_directive) {
        *handled = false;
        return true;
    }
    if (p->header_done) {
        return perr(p, k->col, "'%.*s' must come before the first step", (int)k->n, k->s);
    }
    if (tok_is(k->s, k->n, "cpus")) {
        if (!want_args(p, 2, "cpus N")) {
            return false;
        }
        if (!parse_uint(p->t[1].s, p->t[1].n, false, &v) || v < 1 || v > RVM_SIM_MAX_CPUS) {
            return perr(p, p->t[1].col, "cpus must be 1..%u", RVM_SIM_MAX_CPUS);
        }
        s->ncpus = (uint32_t)v;
    } else if (tok_is(k->s, k->n, "seed")) {
        if (!want_args(p, 2, "seed N")) {
            return false;
        }
        if (!parse_uint(p->t[1].s, p->t[1].n, false, &s->seed)) {
            return perr(p, p->t[1].col, "seed must be an unsigned 64-bit integer");
        }
        s->has_seed = true;
    } else if (tok_is(k->s, k->n, "faults")) {
        if (!want_args(p, 2, "faults none|default|swarm")) {
            return false;
        }
        char mode[16] = "";
        if (p->t[1].n < sizeof(mode)) {
            memcpy(mode, p->t[1].s, p->t[1].n);
        }
        if (!rvm_sim_fault_mode_parse(mode, &s->faults)) {
            return perr(p, p->t[1].col, "faults must be none, default or swarm");
        }
        s->has_faults = true;
    } else if (tok_is(k->s, k->n, "tick")) {
        if (!want_args(p, 2, "tick DURATION")) {
            return false;
        }
        if (!parse_uint(p->t[1].s, p->t[1].n, true, &v) || v == 0 || v > (1ull << 40)) {
            return perr(p, p->t[1].col, "tick must be a duration of 1ns..2^40ns");
        }
        s->tick = v;
    } else if (tok_is(k->s, k->n, "liveness")) {
        if (!want_args(p, 2, "liveness ROUNDS")) {
            return false;
        }
        if (!parse_uint(p->t[1].s, p->t[1].n, false, &v) || v > 10000000) {
            return perr(p, p->t[1].col, "liveness must be 0..10000000 rounds");
        }
        s->liveness = (uint32_t)v;
    } else {
        bool enable = tok_is(k->s, k->n, "enable");
        if (p->nt < 2 || p->nt > (enable ? 3u : 2u)) {
            return want_args(p, enable ? 3 : 2,
                             enable ? "enable FAULT [NUM/DEN]" : "disable FAULT");
        }
        char name[64] = "";
        if (p->t[1].n < sizeof(name)) {
            memcpy(name, p->t[1].s, p->t[1].n);
        }
        int32_t id = rvm_sim_fault_find(s->target, name);
        if (id < 0) {
            return perr(p, p->t[1].col, "unknown fault kind '%.*s'", (int)p->t[1].n, p->t[1].s);
        }
        struct rvm_sim_fault_override ov = {(uint32_t)id, enable, 0, 0};
        if (p->nt == 3) {
            const struct tok *r = &p->t[2];
            const char *slash = memchr(r->s, '/', r->n);
            uint64_t num, den;
            if (slash == NULL || !parse_uint(r->s, (size_t)(slash - r->s), false, &num) ||
                !parse_uint(slash + 1, r->n - (size_t)(slash - r->s) - 1, false, &den) ||
                den == 0 || num > den || den > UINT32_MAX) {
                return perr(p, r->col, "probability must be NUM/DEN with 0 <= NUM <= DEN, DEN > 0");
            }
            ov.num = (uint32_t)num;
            ov.den = (uint32_t)den;
        }
        uint32_t cap = p->caps.overrides;
        void *buf = s->overrides;
        if (!reserve_items(&buf, &cap, s->noverrides + 1, sizeof(ov))) {
            return oom(p);
        }
        s->overrides = buf;
        p->caps.overrides = cap;
        s->overrides[s->noverrides++] = ov;
    }
    return true;
}

/* The object a query is asked about: a name bound by `as` to an object of the query's class, or
 * an integer used as a raw handle (stale or forged ones included). */
static bool parse_query_object(struct parser *p, const struct tok *o, uint32_t cls, const char *q,
                               struct scn_value *out)
{
    const struct rvm_sim_target *t = p->scn->target;
    *out = (struct scn_value){.kind = SCN_V_LIT};
    if (o->n > 0 && isdigit((unsigned char)o->s[0])) {
        if (!parse_uint(o->s, o->n, false, &out->lo)) {
            return perr(p, o->col, "'%s' takes a %s name or a handle, got '%.*s'", q,
                        t->classes[cls], (int)o->n, o->s);
        }
        out->hi = out->lo;
        return true;
    }
    int32_t idx = find_name(p->scn, o->s, o->n);
    if (idx < 0) {
        return perr(p, o->col, "unknown object '%.*s' (objects are named with 'as NAME')",
                    (int)o->n, o->s);
    }
    if (p->scn->names[idx].cls != cls) {
        return perr(p, o->col, "'%.*s' is a %s, but '%s' asks about a %s", (int)o->n, o->s,
                    t->classes[p->scn->names[idx].cls], q, t->classes[cls]);
    }
    out->kind = SCN_V_NAME;
    out->name = (uint32_t)idx;
    return true;
}

/* QUERY = NAME | NAME "(" OBJECT ")": an engine value, a target's, or fired.FAULT. */
static bool parse_query(struct parser *p, const struct tok *whole, uint8_t *src, uint32_t *index,
                        struct scn_value *obj)
{
    const struct rvm_sim_target *t = p->scn->target;
    struct tok q = *whole, arg = {NULL, 0, 0};
    *obj = (struct scn_value){.kind = SCN_V_DEFAULT};
    const char *paren = memchr(q.s, '(', q.n);
    if (paren != NULL) {
        size_t name_len = (size_t)(paren - q.s);
        if (q.s[q.n - 1] != ')' || name_len + 2 >= q.n) {
            return perr(p, whole->col, "expected VALUE or VALUE(OBJECT), got '%.*s'", (int)q.n,
                        q.s);
        }
        arg = (struct tok){paren + 1, q.n - name_len - 2, whole->col + (uint32_t)name_len + 1};
        q.n = name_len;
    }
    for (uint32_t i = 0; i < SCN_EQ_COUNT && arg.s == NULL; i++) {
        if (tok_is(q.s, q.n, rvm_scn_engine_queries[i])) {
            *src = SCN_Q_ENGINE;
            *index = i;
            return true;
        }
    }
    for (uint32_t i = 0; i < t->nqueries; i++) {
        if (!tok_is(q.s, q.n, t->queries[i])) {
            continue;
        }
        int32_t cls = t->query_cls != NULL ? t->query_cls[i] : -1;
        if (cls < 0 && arg.s != NULL) {
            return perr(p, arg.col, "'%s' is a value of the whole system: it takes no object",
                        t->queries[i]);
        }
        if (cls >= 0 && arg.s == NULL) {
            return perr(p, whole->col + (uint32_t)q.n, "'%s' asks about one %s: write %s(NAME)",
                        t->queries[i], t->classes[cls], t->queries[i]);
        }
        *src = SCN_Q_TARGET;
        *index = i;
        return cls < 0 || parse_query_object(p, &arg, (uint32_t)cls, t->queries[i], obj);
    }
    if (q.n > 6 && memcmp(q.s, "fired.", 6) == 0 && arg.s == NULL) {
        char name[64] = "";
        if (q.n - 6 < sizeof(name)) {
            memcpy(name, q.s + 6, q.n - 6);
        }
        int32_t id = rvm_sim_fault_find(t, name);
        if (id < 0) {
            return perr(p, q.col + 6, "unknown fault kind '%s'", name);
        }
        *src = SCN_Q_FIRED;
        *index = (uint32_t)id;
        return true;
    }
    char known[400] = "";
    size_t len = 0;
    for (uint32_t i = 0; i < SCN_EQ_COUNT + t->nqueries && len < sizeof(known) - 1; i++) {
        const char *n = i < SCN_EQ_COUNT ? rvm_scn_engine_queries[i] : t->queries[i - SCN_EQ_COUNT];
        int32_t cls =
            i >= SCN_EQ_COUNT && t->query_cls != NULL ? t->query_cls[i - SCN_EQ_COUNT] : -1;
        int w = snprintf(known + len, sizeof(known) - len, "%s%s, ", n, cls >= 0 ? "(OBJ)" : "");
        len += w > 0 ? (size_t)w : 0;
    }
    return perr(p, q.col, "unknown value '%.*s' (known: %sfired.FAULT)", (int)q.n, q.s, known);
}

/* The signed constant of a delta expectation: [+|-]INT, |value| < 2^63. */
static bool parse_signed(const struct tok *v, uint64_t *out)
{
    bool neg = v->n > 1 && v->s[0] == '-';
    size_t skip = (v->n > 1 && (v->s[0] == '-' || v->s[0] == '+')) ? 1 : 0;
    uint64_t mag;
    if (!parse_uint(v->s + skip, v->n - skip, false, &mag) || mag > (uint64_t)INT64_MAX) {
        return false;
    }
    *out = neg ? (uint64_t) - (int64_t)mag : mag;
    return true;
}

/* A delta expectation measures across the operation line or random block before it: which one,
 * and how many delta expectations already follow it. */
static bool delta_slot(struct parser *p, const struct tok *w, struct scn_step *st)
{
    const struct rvm_scenario *s = p->scn;
    uint32_t slots = 0;
    for (uint32_t i = s->nsteps; i-- > 0;) {
        const struct scn_step *o = &s->steps[i];
        if (o->kind == SCN_OP || o->kind == SCN_RANDOM) {
            if (slots >= RVM_SCN_MAX_DELTAS) {
                return perr(p, w->col, "at most %u delta expectations after one step",
                            RVM_SCN_MAX_DELTAS);
            }
            st->delta_slot = (uint8_t)slots;
            return true;
        }
        slots += o->kind == SCN_EXPECT && o->expect == SCN_EXPECT_QUERY && o->delta;
    }
    return perr(p, w->col, "'delta' needs an operation line or random block before it");
}

static bool parse_expect(struct parser *p, uint32_t i, struct scn_step *st)
{
    st->kind = SCN_EXPECT;
    if (i >= p->nt) {
        return perr(p, p->t[i - 1].col + (uint32_t)p->t[i - 1].n,
                    "expected 'ok', 'err NAME', 'refused' or 'VALUE OP N' after 'expect'");
    }
    const struct tok *w = &p->t[i];
    bool result_kind =
        tok_is(w->s, w->n, "ok") || tok_is(w->s, w->n, "err") || tok_is(w->s, w->n, "refused");
    if (result_kind && (!p->have_op || p->last_op_is_random)) {
        return perr(p, w->col, "'expect %.*s' needs an operation line before it", (int)w->n, w->s);
    }
    if (tok_is(w->s, w->n, "ok") || tok_is(w->s, w->n, "refused")) {
        st->expect = tok_is(w->s, w->n, "ok") ? SCN_EXPECT_OK : SCN_EXPECT_REFUSED;
        return want_args(p, i + 1, "expect ok | expect refused");
    }
    if (tok_is(w->s, w->n, "err")) {
        if (!want_args(p, i + 2, "expect err ERROR_NAME")) {
            return false;
        }
        st->expect = SCN_EXPECT_ERR;
        const struct tok *e = &p->t[i + 1];
        if (!sym_lookup(error_syms, NSYMS(error_syms), e->s, e->n, &st->value) &&
            !parse_uint(e->s, e->n, false, &st->value)) {
            return perr(p, e->col,
                        "unknown error '%.*s' (names as in core/include/rvm/error.h, "
                        "e.g. WITNESS_FULL)",
                        (int)e->n, e->s);
        }
        return true;
    }
    st->expect = SCN_EXPECT_QUERY;
    st->delta = i + 1 < p->nt && tok_is(p->t[i + 1].s, p->t[i + 1].n, "delta");
    uint32_t c_at = i + 1 + (st->delta ? 1u : 0u);
    if (!want_args(p, c_at + 2,
                   st->delta ? "expect VALUE delta ==|!=|<|<=|>|>= [+|-]N"
                             : "expect VALUE ==|!=|<|<=|>|>= N|VALUE")) {
        return false;
    }
    if (!parse_query(p, w, &st->qsrc, &st->qindex, &st->qobj)) {
        return false;
    }
    if (st->delta && !delta_slot(p, &p->t[i + 1], st)) {
        return false;
    }
    static const char *const cmps[] = {"==", "!=", "<", "<=", ">", ">="};
    const struct tok *c = &p->t[c_at];
    st->cmp = 0xff;
    for (uint8_t k = 0; k < 6; k++) {
        if (tok_is(c->s, c->n, cmps[k])) {
            st->cmp = k;
        }
    }
    if (st->cmp == 0xff) {
        return perr(p, c->col, "expected a comparison (==, !=, <, <=, >, >=), got '%.*s'",
                    (int)c->n, c->s);
    }
    const struct tok *r = &p->t[c_at + 1];
    if (st->delta) {
        if (!parse_signed(r, &st->value)) {
            return perr(p, r->col, "expected a signed integer (e.g. -3, +1, 0), got '%.*s'",
                        (int)r->n, r->s);
        }
        return true;
    }
    if (r->n > 0 && !isdigit((unsigned char)r->s[0])) {
        st->rhs_query = true;
        return parse_query(p, r, &st->rqsrc, &st->rqindex, &st->rqobj);
    }
    if (!parse_uint(r->s, r->n, true, &st->value)) {
        return perr(p, r->col, "expected an unsigned integer or a value, got '%.*s'", (int)r->n,
                    r->s);
    }
    return true;
}

static bool same_values(const struct scn_value *a, const struct scn_value *b, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        if (a[i].kind != b[i].kind || a[i].name != b[i].name || a[i].lo != b[i].lo ||
            a[i].hi != b[i].hi) {
            return false;
        }
    }
    return true;
}

static bool parse_random_entry(struct parser *p)
{
    struct rvm_scenario *s = p->scn;
    struct scn_random *r = &s->randoms[p->in_random];
    int32_t op = find_op(s->target, &p->t[0]);
    if (op < 0) {
        return unknown_op(p, &p->t[0]);
    }
    if (p->nt < 2) {
        return perr(p, p->t[0].col + (uint32_t)p->t[0].n, "expected a weight after '%s'",
                    s->target->ops[op].name);
    }
    uint64_t w;
    if (!parse_uint(p->t[1].s, p->t[1].n, false, &w) || w > 1000000) {
        return perr(p, p->t[1].col, "weight must be 0..1000000");
    }
    struct scn_random_entry e = {.op = (uint32_t)op, .weight = (uint32_t)w, .line = p->line};
    const struct rvm_sim_op_spec *spec = &s->target->ops[op];
    if (!parse_args(p, 2, p->nt, spec->args, spec->nargs, spec->name, true, false, e.args, NULL)) {
        return false;
    }
    for (uint32_t i = 0; i < r->nentries; i++) { /* one weight per argument pattern */
        if (r->entries[i].op == e.op && same_values(r->entries[i].args, e.args, spec->nargs)) {
            return perr(p, p->t[0].col,
                        "'%s' with these arguments is listed twice in this random block (line %u)",
                        spec->name, r->entries[i].line);
        }
    }
    uint32_t cap = cap_of(r->nentries);
    void *buf = r->entries;
    if (!reserve_items(&buf, &cap, r->nentries + 1, sizeof(e))) {
        return oom(p);
    }
    r->entries = buf;
    r->entries[r->nentries++] = e;
    return true;
}

static bool close_random(struct parser *p)
{
    struct scn_random *r = &p->scn->randoms[p->in_random];
    uint64_t total = 0;
    for (uint32_t i = 0; i < r->nentries; i++) {
        total += r->entries[i].weight;
    }
    if (total == 0) {
        return perr(p, 1, "random block (line %u) has no operation with a weight above 0", r->line);
    }
    p->in_random = -1;
    return true;
}

static bool parse_step(struct parser *p)
{
    struct rvm_scenario *s = p->scn;
    struct scn_step st = {.cpu = -1, .bind = -1, .line = p->line, .col = p->t[0].col};
    uint32_t i = 0;

    /* [@T | @+D] */
    if (p->t[0].s[0] == '@') {
        const struct tok *t = &p->t[0];
        bool rel = t->n > 1 && t->s[1] == '+';
        size_t skip = rel ? 2 : 1;
        uint64_t v;
        if (!parse_uint(t->s + skip, t->n - skip, true, &v)) {
            return perr(p, t->col, "bad timestamp '%.*s' (use @T or @+D, e.g. @10us, @+500ns)",
                        (int)t->n, t->s);
        }
        st.time_kind = rel ? SCN_TIME_REL : SCN_TIME_ABS;
        st.time = v;
        if (!rel) {
            if (v < p->last_abs_time) {
                return perr(p, t->col, "timestamp %" PRIu64 " is before %" PRIu64 " (line %u)", v,
                            p->last_abs_time, p->last_abs_line);
            }
            p->last_abs_time = v;
            p->last_abs_line = p->line;
        }
        i++;
    }
    if (i >= p->nt) {
        st.kind = SCN_WAIT; /* a bare timestamp: wait until then */
        if (!rvm_scenario_add_step(s, &st)) {
            return oom(p);
        }
        return true;
    }
    /* [cpuN] */
    const struct tok *w = &p->t[i];
    if (w->n > 3 && memcmp(w->s, "cpu", 3) == 0 && isdigit((unsigned char)w->s[3])) {
        uint64_t c;
        if (!parse_uint(w->s + 3, w->n - 3, false, &c) || c >= s->ncpus) {
            return perr(p, w->col, "'%.*s': this scenario has cpus 0..%u", (int)w->n, w->s,
                        s->ncpus - 1);
        }
        st.cpu = (int32_t)c;
        i++;
        if (i >= p->nt) {
            return perr(p, w->col + (uint32_t)w->n, "expected an operation after '%.*s'", (int)w->n,
                        w->s);
        }
        w = &p->t[i];
    }

    if (tok_is(w->s, w->n, "expect")) {
        if (st.cpu >= 0) {
            return perr(p, w->col, "'expect' lines take no cpu");
        }
        if (!parse_expect(p, i + 1, &st)) {
            return false;
        }
    } else if (tok_is(w->s, w->n, "fault")) {
        if (st.cpu >= 0) {
            return perr(p, w->col, "'fault' lines take no cpu (faults name their own)");
        }
        if (i + 1 >= p->nt) {
            return perr(p, w->col + 5, "expected a fault kind after 'fault'");
        }
        const struct tok *f = &p->t[i + 1];
        char name[64] = "";
        if (f->n < sizeof(name)) {
            memcpy(name, f->s, f->n);
        }
        int32_t id = rvm_sim_fault_find(s->target, name);
        if (id < 0) {
            return perr(p, f->col, "unknown fault kind '%.*s'", (int)f->n, f->s);
        }
        const struct rvm_sim_fault_spec *spec = rvm_sim_fault_spec(s->target, (uint32_t)id);
        st.kind = SCN_FAULT;
        st.index = (uint32_t)id;
        bool site = (spec->flags & RVM_SIM_FAULT_SITE) != 0;
        char what[80];
        snprintf(what, sizeof(what), "fault %s", spec->name);
        /* Site faults are armed; an omitted key (first argument) matches any site visit. */
        if (!parse_args(p, i + 2, p->nt, spec->args, spec->nargs, what, false, !site, st.args,
                        site ? &st.after : NULL)) {
            return false;
        }
    } else {
        int32_t op = find_op(s->target, w);
        if (op < 0) {
            return unknown_op(p, w);
        }
        const struct rvm_sim_op_spec *spec = &s->target->ops[op];
        uint32_t end = p->nt;
        if (end >= i + 2 && tok_is(p->t[end - 2].s, p->t[end - 2].n, "as")) {
            end -= 2;
        } else if (end >= i + 1 && tok_is(p->t[end - 1].s, p->t[end - 1].n, "as")) {
            return perr(p, p->t[end - 1].col + 2, "expected a name after 'as'");
        }
        st.kind = SCN_OP;
        st.index = (uint32_t)op;
        if (!parse_args(p, i + 1, end, spec->args, spec->nargs, spec->name, false, true, st.args,
                        NULL)) {
            return false;
        }
        if (end != p->nt) {
            const struct tok *n = &p->t[end + 1];
            if (spec->creates < 0) {
                return perr(p, p->t[end].col, "'%s' creates no object: nothing to name",
                            spec->name);
            }
            if (!valid_name(n->s, n->n) || tok_is(n->s, n->n, "none")) {
                return perr(p, n->col, "bad object name '%.*s'", (int)n->n, n->s);
            }
            int32_t prev = find_name(s, n->s, n->n);
            if (prev >= 0) {
                return perr(p, n->col, "object name '%.*s' is already used (line %u)", (int)n->n,
                            n->s, s->names[prev].line);
            }
            char text[128];
            if (n->n >= sizeof(text)) {
                return perr(p, n->col, "object name too long");
            }
            memcpy(text, n->s, n->n);
            text[n->n] = '\0';
            st.bind = rvm_scenario_add_name(s, text, (uint32_t)spec->creates);
            if (st.bind < 0) {
                return oom(p);
            }
            s->names[st.bind].line = p->line;
        }
        p->have_op = true;
        p->last_op_is_random = false;
    }
    if (!rvm_scenario_add_step(s, &st)) {
        return oom(p);
    }
    return true;
}

static bool parse_random_start(struct parser *p)
{
    struct rvm_scenario *s = p->scn;
    if (!want_args(p, 2, "random COUNT")) {
        return false;
    }
    uint64_t count;
    if (!parse_uint(p->t[1].s, p->t[1].n, false, &count) || count == 0 || count > 1000000000) {
        return perr(p, p->t[1].col, "random COUNT must be 1..1000000000");
    }
    uint32_t cap = p->caps.randoms;
    void *buf = s->randoms;
    if (!reserve_items(&buf, &cap, s->nrandoms + 1, sizeof(*s->randoms))) {
        return oom(p);
    }
    s->randoms = buf;
    p->caps.randoms = cap;
    s->randoms[s->nrandoms] = (struct scn_random){.count = count, .line = p->line};
    struct scn_step st = {.kind = SCN_RANDOM,
                          .index = s->nrandoms,
                          .cpu = -1,
                          .bind = -1,
                          .line = p->line,
                          .col = p->t[0].col};
    if (!rvm_scenario_add_step(s, &st)) {
        return oom(p);
    }
    s->nops_total += count > UINT32_MAX - s->nops_total ? 0 : (uint32_t)count;
    p->in_random = (int32_t)s->nrandoms++;
    p->last_op_is_random = true;
    return true;
}

static bool parse_line(struct parser *p)
{
    struct rvm_scenario *s = p->scn;
    const struct tok *k = &p->t[0];

    if (s->target == NULL) {
        if (!tok_is(k->s, k->n, "target")) {
            return perr(p, k->col, "expected 'target NAME [param=value ...]' as the first line");
        }
        return parse_target(p);
    }
    if (p->in_explore) {
        return parse_explore_line(p);
    }
    if (p->in_random >= 0) {
        if (tok_is(k->s, k->n, "end")) {
            if (!want_args(p, 1, "end")) {
                return false;
            }
            return close_random(p);
        }
        return parse_random_entry(p);
    }
    if (tok_is(k->s, k->n, "end")) {
        return perr(p, k->col, "'end' without 'random'");
    }
    bool handled;
    if (!parse_directive(p, &handled)) {
        return false;
    }
    if (handled) {
        return true;
    }
    p->header_done = true;
    if (s->explore.line != 0) {
        return perr(p, k->col, "nothing may follow the explore block (line %u)", s->explore.line);
    }
    if (tok_is(k->s, k->n, "explore")) {
        return parse_explore_start(p);
    }
    if (tok_is(k->s, k->n, "random")) {
        return parse_random_start(p);
    }
    return parse_step(p);
}

bool rvm_scenario_parse(const char *path, const char *text, size_t len, struct rvm_scenario *out,
                        struct rvm_scn_error *err)
{
    memset(out, 0, sizeof(*out));
    memset(err, 0, sizeof(*err));
    struct parser p = {.scn = out, .err = err, .in_random = -1};
    out->path = strdup(path);
    out->ncpus = 1;
    out->tick = RVM_SCN_DEFAULT_TICK;
    out->liveness = RVM_SCN_DEFAULT_LIVENESS;
    out->faults = RVM_SIM_FAULTS_DEFAULT;
    if (out->path == NULL) {
        snprintf(err->msg, sizeof(err->msg), "out of memory");
        return false;
    }

    size_t pos = 0;
    bool ok = true;
    while (ok && pos < len) {
        size_t end = pos;
        while (end < len && text[end] != '\n') {
            end++;
        }
        p.line++;
        size_t n = end - pos;
        const char *line = text + pos;
        const char *hash = memchr(line, '#', n);
        if (hash != NULL) {
            n = (size_t)(hash - line);
        }
        if (n > 0 && line[n - 1] == '\r') {
            n--;
        }
        for (size_t i = 0; i < n && ok; i++) {
            if (line[i] == '\0' ||
                ((unsigned char)line[i] < 0x20 && line[i] != '\t' && line[i] != '\r')) {
                ok = perr(&p, (uint32_t)i + 1, "control character 0x%02x in the line",
                          (unsigned char)line[i]);
            }
        }
        if (ok) {
            ok = tokenize(&p, line, n);
        }
        if (ok && p.nt > 0) {
            ok = parse_line(&p);
        }
        pos = end + 1;
    }
    if (ok && out->target == NULL) {
        p.line = p.line == 0 ? 1 : p.line;
        ok = perr(&p, 1, "no 'target' line: a scenario starts with 'target NAME'");
    }
    if (ok && p.in_random >= 0) {
        uint32_t rl = out->randoms[p.in_random].line;
        p.line++;
        ok = perr(&p, 1, "random block (line %u) is not closed with 'end'", rl);
    }
    if (ok && p.in_explore) {
        p.line++;
        ok = perr(&p, 1, "explore block (line %u) is not closed with 'end'", out->explore.line);
    }
    if (!ok) {
        rvm_scenario_free(out);
    }
    return ok;
}

bool rvm_scenario_load(const char *path, struct rvm_scenario *out, struct rvm_scn_error *err)
{
    memset(err, 0, sizeof(*err));
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        snprintf(err->msg, sizeof(err->msg), "cannot open: %s", strerror(errno));
        return false;
    }
    char *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len == cap) {
            cap = cap ? cap * 2 : 65536;
            if (cap > (64u << 20)) {
                snprintf(err->msg, sizeof(err->msg), "file is larger than 64 MiB");
                free(buf);
                fclose(f);
                return false;
            }
            char *nb = realloc(buf, cap);
            if (nb == NULL) {
                snprintf(err->msg, sizeof(err->msg), "out of memory");
                free(buf);
                fclose(f);
                return false;
            }
            buf = nb;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0) {
            break;
        }
    }
    bool io_error = ferror(f) != 0;
    fclose(f);
    if (io_error) {
        snprintf(err->msg, sizeof(err->msg), "read error");
        free(buf);
        return false;
    }
    bool ok = rvm_scenario_parse(path, buf, len, out, err);
    free(buf);
    return ok;
}

/* ------------------------------------------------------------------------------------------------
 * The printer
 * --------------------------------------------------------------------------------------------- */

void print_value(FILE *f, const struct rvm_scenario *s, const struct rvm_sim_arg_spec *a,
                 const struct scn_value *v)
{
    const char *name;
    switch (v->kind) {
    case SCN_V_NAME:
        fputs(s->names[v->name].text, f);
        return;
    case SCN_V_NONE:
        fputs("none", f);
        return;
    case SCN_V_RANGE:
        fprintf(f, "%" PRIu64 "..%" PRIu64, v->lo, v->hi);
        return;
    default:
        break;
    }
    switch (a->type) {
    case RVM_SIM_ARG_ACTION:
        name = rvm_scn_action_name(v->lo);
        if (name != NULL) {
            fputs(name, f);
            return;
        }
        fprintf(f, "0x%02" PRIx64, v->lo);
        return;
    case RVM_SIM_ARG_ERR:
        name = error_name(v->lo);
        if (name != NULL) {
            fputs(name, f);
            return;
        }
        break;
    case RVM_SIM_ARG_OBJECT:
        if (v->lo == RVM_SIM_PRIVILEGED_OBJECT) {
            fputs("hypervisor", f);
            return;
        }
        fprintf(f, "0x%" PRIx64, v->lo);
        return;
    default:
        break;
    }
    fprintf(f, "%" PRIu64, v->lo);
}

static void print_query(FILE *f, const struct rvm_scenario *s, uint8_t src, uint32_t index,
                        const struct scn_value *obj)
{
    const struct rvm_sim_target *t = s->target;
    if (src == SCN_Q_ENGINE) {
        fputs(rvm_scn_engine_queries[index], f);
    } else if (src == SCN_Q_TARGET) {
        fputs(t->queries[index], f);
    } else {
        fprintf(f, "fired.%s", rvm_sim_fault_spec(t, index)->name);
    }
    if (obj->kind == SCN_V_NAME) {
        fprintf(f, "(%s)", s->names[obj->name].text);
    } else if (obj->kind == SCN_V_LIT) {
        fprintf(f, "(0x%" PRIx64 ")", obj->lo);
    }
}

void print_args(FILE *f, const struct rvm_scenario *s, const struct rvm_sim_arg_spec *specs,
                uint32_t n, const struct scn_value *vals)
{
    for (uint32_t a = 0; a < n; a++) {
        if (vals[a].kind == SCN_V_DEFAULT) {
            continue;
        }
        fprintf(f, " %s=", specs[a].name);
        print_value(f, s, &specs[a], &vals[a]);
    }
}

bool rvm_scenario_write(FILE *f, const struct rvm_scenario *s, const char *comment)
{
    static const char *const cmps[] = {"==", "!=", "<", "<=", ">", ">="};
    const struct rvm_sim_target *t = s->target;

    if (comment != NULL) {
        const char *c = comment;
        while (*c != '\0') {
            const char *nl = strchr(c, '\n');
            size_t n = nl ? (size_t)(nl - c) : strlen(c);
            fprintf(f, "# %.*s\n", (int)n, c);
            c += n + (nl ? 1 : 0);
        }
    }
    fprintf(f, "target %s", t->name);
    for (uint32_t i = 0; i < t->nparams; i++) {
        fprintf(f, " %s=%" PRIu64, t->params[i].name, s->params[i]);
    }
    fputc('\n', f);
    fprintf(f, "cpus %u\n", s->ncpus);
    if (s->tick != RVM_SCN_DEFAULT_TICK) {
        fprintf(f, "tick %" PRIu64 "\n", s->tick);
    }
    if (s->liveness != RVM_SCN_DEFAULT_LIVENESS) {
        fprintf(f, "liveness %u\n", s->liveness);
    }
    if (s->has_seed) {
        fprintf(f, "seed %" PRIu64 "\n", s->seed);
    }
    if (s->has_faults) {
        fprintf(f, "faults %s\n", rvm_sim_fault_mode_name(s->faults));
    }
    for (uint32_t i = 0; i < s->noverrides; i++) {
        const struct rvm_sim_fault_override *o = &s->overrides[i];
        const char *name = rvm_sim_fault_spec(t, o->id)->name;
        if (!o->enable) {
            fprintf(f, "disable %s\n", name);
        } else if (o->den != 0) {
            fprintf(f, "enable %s %u/%u\n", name, o->num, o->den);
        } else {
            fprintf(f, "enable %s\n", name);
        }
    }
    for (uint32_t i = 0; i < s->nsteps; i++) {
        const struct scn_step *st = &s->steps[i];
        const char *sep = st->kind == SCN_WAIT ? "" : " ";
        if (st->time_kind == SCN_TIME_ABS) {
            fprintf(f, "@%" PRIu64 "%s", st->time, sep);
        } else if (st->time_kind == SCN_TIME_REL) {
            fprintf(f, "@+%" PRIu64 "%s", st->time, sep);
        }
        switch (st->kind) {
        case SCN_OP: {
            const struct rvm_sim_op_spec *op = &t->ops[st->index];
            if (st->cpu >= 0) {
                fprintf(f, "cpu%d ", st->cpu);
            }
            fputs(op->name, f);
            print_args(f, s, op->args, op->nargs, st->args);
            if (st->bind >= 0) {
                fprintf(f, " as %s", s->names[st->bind].text);
            }
            break;
        }
        case SCN_FAULT: {
            const struct rvm_sim_fault_spec *fs = rvm_sim_fault_spec(t, st->index);
            fprintf(f, "fault %s", fs->name);
            print_args(f, s, fs->args, fs->nargs, st->args);
            if (st->after != 0) {
                fprintf(f, " after=%u", st->after);
            }
            break;
        }
        case SCN_EXPECT:
            fputs("expect ", f);
            switch (st->expect) {
            case SCN_EXPECT_OK:
                fputs("ok", f);
                break;
            case SCN_EXPECT_REFUSED:
                fputs("refused", f);
                break;
            case SCN_EXPECT_ERR: {
                const char *n = error_name(st->value);
                if (n != NULL) {
                    fprintf(f, "err %s", n);
                } else {
                    fprintf(f, "err %" PRIu64, st->value);
                }
                break;
            }
            case SCN_EXPECT_QUERY:
                print_query(f, s, st->qsrc, st->qindex, &st->qobj);
                if (st->delta) {
                    fprintf(f, " delta %s %+" PRId64, cmps[st->cmp], (int64_t)st->value);
                } else if (st->rhs_query) {
                    fprintf(f, " %s ", cmps[st->cmp]);
                    print_query(f, s, st->rqsrc, st->rqindex, &st->rqobj);
                } else {
                    fprintf(f, " %s %" PRIu64, cmps[st->cmp], st->value);
                }
                break;
            }
            break;
        case SCN_WAIT:
            break;
        case SCN_RANDOM: {
            const struct scn_random *r = &s->randoms[st->index];
            fprintf(f, "random %" PRIu64 "\n", r->count);
            for (uint32_t e = 0; e < r->nentries; e++) {
                const struct rvm_sim_op_spec *op = &t->ops[r->entries[e].op];
                fprintf(f, "  %s %u", op->name, r->entries[e].weight);
                print_args(f, s, op->args, op->nargs, r->entries[e].args);
                fputc('\n', f);
            }
            fputs("end", f);
            break;
        }
        }
        fputc('\n', f);
    }
    write_explore(f, s);
    return ferror(f) == 0;
}
