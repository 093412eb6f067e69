/* SPDX-License-Identifier: MIT */
/* The coverage ledger of a sweep: counting, printing, handing the counts to the run store. */
#include "coverage.h"

#include <inttypes.h>
#include <string.h>

void rvm_coverage_init(struct rvm_coverage *c, const struct rvm_sim_target *target)
{
    memset(c, 0, sizeof(*c));
    c->target = target;
}

void rvm_coverage_add(struct rvm_coverage *c, uint64_t probes)
{
    c->seeds++;
    for (uint32_t i = 0; i < c->target->nprobes && i < RVM_SIM_MAX_PROBES; i++) {
        c->hits[i] += (probes >> i) & 1u;
    }
}

uint32_t rvm_coverage_missing(const struct rvm_coverage *c, bool rare)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < c->target->nprobes && i < RVM_SIM_MAX_PROBES; i++) {
        n += c->hits[i] == 0 && (rare || !c->target->probes[i].rare);
    }
    return n;
}

static void print_missing(FILE *f, const struct rvm_coverage *c, bool rare)
{
    fprintf(f, "never hit%s (%u):", rare ? ", rare" : "",
            rvm_coverage_missing(c, rare) - (rare ? rvm_coverage_missing(c, false) : 0));
    for (uint32_t i = 0; i < c->target->nprobes && i < RVM_SIM_MAX_PROBES; i++) {
        if (c->hits[i] == 0 && c->target->probes[i].rare == rare) {
            fprintf(f, " %s", c->target->probes[i].name);
        }
    }
    fputc('\n', f);
}

void rvm_coverage_print(FILE *f, const struct rvm_coverage *c, bool brief)
{
    const struct rvm_sim_target *t = c->target;
    if (t->nprobes == 0) {
        fprintf(f, "coverage: target %s has no probes\n", t->name);
        return;
    }
    if (!brief) {
        fprintf(f, "coverage over %" PRIu64 " seeds (%u probes):\n", c->seeds, t->nprobes);
        fprintf(f, "  %-34s %10s %8s\n", "probe", "seeds", "share");
        for (uint32_t i = 0; i < t->nprobes && i < RVM_SIM_MAX_PROBES; i++) {
            double share = c->seeds != 0 ? 100.0 * (double)c->hits[i] / (double)c->seeds : 0.0;
            fprintf(f, "  %-34s %10" PRIu64 " %7.2f%%%s\n", t->probes[i].name, c->hits[i], share,
                    t->probes[i].rare ? "  rare" : "");
        }
    }
    print_missing(f, c, false);
    if (!brief) {
        print_missing(f, c, true);
    }
}

void rvm_coverage_export(const struct rvm_coverage *c, struct rvm_run_coverage *out)
{
    out->seeds = c->seeds;
    out->nprobes =
        c->target->nprobes < RVM_SIM_MAX_PROBES ? c->target->nprobes : RVM_SIM_MAX_PROBES;
    out->probes = c->target->probes;
    out->hits = c->hits;
}
