/* SPDX-License-Identifier: MIT */
#include "sweep_report.h"

#include "engine.h"
#include "simcli.h"
#include "util.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define FIRST_SEEDS_SHOWN 8u

static bool shorter(const struct sweep_failure *a, const struct sweep_failure *b)
{
    if (a->steps != b->steps) {
        return a->steps < b->steps;
    }
    if (a->records != b->records) {
        return a->records < b->records;
    }
    return a->seed < b->seed;
}

static int cmp_group(const void *x, const void *y)
{
    const struct sweep_group *a = x, *b = y;
    if (a->count != b->count) {
        return a->count > b->count ? -1 : 1;
    }
    return a->first < b->first ? -1 : a->first > b->first;
}

size_t sweep_group_failures(const struct sweep_failure *fails, size_t n,
                            struct sweep_group **groups)
{
    *groups = NULL;
    if (n == 0) {
        return 0;
    }
    struct sweep_group *g = calloc(n, sizeof(*g));
    if (g == NULL) {
        return 0;
    }
    size_t ng = 0;
    for (size_t i = 0; i < n; i++) {
        size_t k = 0;
        while (k < ng &&
               !(g[k].cls == fails[i].cls && strcmp(g[k].invariant, fails[i].invariant) == 0)) {
            k++;
        }
        if (k == ng) {
            g[ng++] = (struct sweep_group){
                .cls = fails[i].cls, .invariant = fails[i].invariant, .first = i, .shortest = i};
        }
        g[k].count++;
        if (shorter(&fails[i], &fails[g[k].shortest])) {
            g[k].shortest = i;
        }
    }
    qsort(g, ng, sizeof(*g), cmp_group);
    *groups = g;
    return ng;
}

/* "PROG shrink FILE --seed N --faults MODE -o shrunk-seed-N.scn" */
static void shrink_command(char *buf, size_t len, const struct sweep_report_scope *scope,
                           uint64_t seed)
{
    char prog[512], file[1024];
    rvm_shell_quote(prog, sizeof(prog), program_invocation_name);
    rvm_shell_quote(file, sizeof(file), scope->path);
    snprintf(buf, len, "%s shrink %s --seed %" PRIu64 " --faults %s -o shrunk-seed-%" PRIu64 ".scn",
             prog, file, seed, rvm_sim_fault_mode_name(scope->mode), seed);
}

void sweep_report_text(FILE *out, const struct sweep_report_scope *scope,
                       const struct sweep_failure *fails, size_t n)
{
    struct sweep_group *g;
    size_t ng = sweep_group_failures(fails, n, &g);
    if (ng == 0) {
        return;
    }
    fprintf(out, "failures by class and invariant (%zu failing run%s, %zu kind%s):\n", n,
            n == 1 ? "" : "s", ng, ng == 1 ? "" : "s");
    for (size_t k = 0; k < ng; k++) {
        const struct sweep_failure *s = &fails[g[k].shortest];
        fprintf(out, "  %zu x %s [%s]: seeds", g[k].count, rvm_sim_class_name(g[k].cls),
                g[k].invariant);
        size_t shown = 0;
        for (size_t i = g[k].first; i < n && shown < FIRST_SEEDS_SHOWN; i++) {
            if (fails[i].cls == g[k].cls && strcmp(fails[i].invariant, g[k].invariant) == 0) {
                fprintf(out, " %" PRIu64, fails[i].seed);
                shown++;
            }
        }
        fprintf(out, "%s\n", g[k].count > shown ? " ..." : "");
        char repro[1600], shrink[1700];
        simcli_repro(repro, sizeof(repro), scope->path, s->seed, scope->mode);
        shrink_command(shrink, sizeof(shrink), scope, s->seed);
        fprintf(out, "    shortest: seed %" PRIu64 " (%" PRIu64 " steps, %" PRIu64 " records)\n",
                s->seed, s->steps, s->records);
        fprintf(out, "    reproduce: %s\n", repro);
        fprintf(out, "    shrink:    %s\n", shrink);
    }
    free(g);
}

void sweep_report_json(struct rvm_json *j, const struct sweep_report_scope *scope,
                       const struct sweep_failure *fails, size_t n)
{
    struct sweep_group *g;
    size_t ng = sweep_group_failures(fails, n, &g);
    char repro[1600], shrink[1700];
    rvm_json_key(j, "groups");
    rvm_json_array_begin(j);
    for (size_t k = 0; k < ng; k++) {
        const struct sweep_failure *s = &fails[g[k].shortest];
        rvm_json_object_begin(j);
        rvm_json_key_string(j, "class", rvm_sim_class_name(g[k].cls));
        rvm_json_key_string(j, "invariant", g[k].invariant);
        rvm_json_key_int(j, "count", (int64_t)g[k].count);
        rvm_json_key(j, "first_seeds");
        rvm_json_array_begin(j);
        size_t shown = 0;
        for (size_t i = g[k].first; i < n && shown < FIRST_SEEDS_SHOWN; i++) {
            if (fails[i].cls == g[k].cls && strcmp(fails[i].invariant, g[k].invariant) == 0) {
                rvm_json_u64(j, fails[i].seed);
                shown++;
            }
        }
        rvm_json_array_end(j);
        simcli_repro(repro, sizeof(repro), scope->path, s->seed, scope->mode);
        shrink_command(shrink, sizeof(shrink), scope, s->seed);
        rvm_json_key(j, "shortest");
        rvm_json_object_begin(j);
        rvm_json_key_u64(j, "seed", s->seed);
        rvm_json_key_int(j, "steps", (int64_t)s->steps);
        rvm_json_key_int(j, "records", (int64_t)s->records);
        rvm_json_key_string(j, "reproduce", repro);
        rvm_json_key_string(j, "shrink", shrink);
        rvm_json_object_end(j);
        rvm_json_object_end(j);
    }
    rvm_json_array_end(j);
    free(g);
    rvm_json_key(j, "failures");
    rvm_json_array_begin(j);
    for (size_t i = 0; i < n; i++) {
        rvm_json_object_begin(j);
        rvm_json_key_u64(j, "seed", fails[i].seed);
        rvm_json_key_string(j, "class", rvm_sim_class_name(fails[i].cls));
        rvm_json_key_string(j, "invariant", fails[i].invariant);
        rvm_json_key_int(j, "steps", (int64_t)fails[i].steps);
        rvm_json_key_int(j, "records", (int64_t)fails[i].records);
        rvm_json_key_string(j, "text", fails[i].text);
        simcli_repro(repro, sizeof(repro), scope->path, fails[i].seed, scope->mode);
        rvm_json_key_string(j, "reproduce", repro);
        rvm_json_object_end(j);
    }
    rvm_json_array_end(j);
}
