/* SPDX-License-Identifier: MIT */
/*
 * rvmsim targets [NAME]: what a scenario can say to each target — its parameters, operations
 * with their arguments, objects, queryable values and fault kinds (the engine's and its own).
 */
#include "commands.h"
#include "faults.h"
#include "scenario.h"
#include "target.h"
#include "util.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static const char *type_word(const struct rvm_sim_target *t, const struct rvm_sim_arg_spec *a)
{
    switch (a->type) {
    case RVM_SIM_ARG_U64:
        return "u64";
    case RVM_SIM_ARG_BOOL:
        return "bool";
    case RVM_SIM_ARG_ACTION:
        return "action";
    case RVM_SIM_ARG_ERR:
        return "error";
    case RVM_SIM_ARG_OBJECT:
        return t->classes[a->cls];
    }
    return "?";
}

static void print_args(const struct rvm_sim_target *t, const struct rvm_sim_arg_spec *a, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        printf(" %s%s=%s%s", a[i].optional ? "[" : "", a[i].name, type_word(t, &a[i]),
               a[i].optional ? "]" : "");
    }
}

static void describe(const struct rvm_sim_target *t)
{
    printf("target %s: %s\n", t->name, t->summary);
    printf("  params:");
    for (uint32_t i = 0; i < t->nparams; i++) {
        printf(" %s=%" PRIu64 " (%" PRIu64 "..%" PRIu64 ")", t->params[i].name, t->params[i].def,
               t->params[i].lo, t->params[i].hi);
    }
    printf("\n  cpus: 1..%u", t->max_cpus != 0 ? t->max_cpus : RVM_SIM_MAX_CPUS);
    printf("\n  objects:");
    for (uint32_t i = 0; i < t->nclasses; i++) {
        printf(" %s", t->classes[i]);
    }
    printf("\n  operations:\n");
    for (uint32_t i = 0; i < t->nops; i++) {
        const struct rvm_sim_op_spec *op = &t->ops[i];
        printf("    op %s", op->name);
        print_args(t, op->args, op->nargs);
        if (op->creates >= 0) {
            printf(" -> %s", t->classes[op->creates]);
        }
        printf("\n        %s\n", op->summary);
    }
    printf("  values (expect NAME CMP N):");
    for (uint32_t i = 0; i < SCN_EQ_COUNT; i++) {
        printf(" %s", rvm_scn_engine_queries[i]);
    }
    for (uint32_t i = 0; i < t->nqueries; i++) {
        if (t->query_cls != NULL && t->query_cls[i] >= 0) {
            printf(" %s(%s)", t->queries[i], t->classes[t->query_cls[i]]);
        } else {
            printf(" %s", t->queries[i]);
        }
    }
    printf(" fired.FAULT\n  faults:\n");
    for (uint32_t i = 0; i < rvm_sim_fault_count(t); i++) {
        const struct rvm_sim_fault_spec *f = rvm_sim_fault_spec(t, i);
        printf("    fault %s", f->name);
        print_args(t, f->args, f->nargs);
        printf("  [%s%s, p=%u/%u%s]\n        %s\n",
               f->flags & RVM_SIM_FAULT_SITE ? "site" : "ambient",
               f->flags & RVM_SIM_FAULT_EXPLICIT ? ", explicit only" : "", f->num, f->den,
               i < RVM_SIM_F_COUNT ? "" : ", target's own", f->summary);
    }
}

int rvmsim_cmd_targets(int argc, char **argv)
{
    const bool help = argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0);
    if (argc == 2 && !help && argv[1][0] == '-') {
        rvm_errorf("targets: unknown option '%s' (usage: rvmsim targets [NAME])", argv[1]);
        return RVMSIM_EXIT_USAGE;
    }
    if (argc > 2 || help) {
        FILE *out = argc == 2 ? stdout : stderr;
        fprintf(out, "usage: rvmsim targets [NAME]\n\nLists what scenario files can use with each "
                     "target: parameters, operations,\nobjects, values and fault kinds.\n");
        return argc == 2 ? RVMSIM_EXIT_PASS : RVMSIM_EXIT_USAGE;
    }
    if (argc == 2) {
        const struct rvm_sim_target *t = rvm_sim_target_find(argv[1]);
        if (t == NULL) {
            char known[256] = "";
            for (size_t i = 0; rvm_sim_target_at(i) != NULL; i++) {
                size_t at = strlen(known);
                snprintf(known + at, sizeof(known) - at, "%s%s", i != 0 ? ", " : "",
                         rvm_sim_target_at(i)->name);
            }
            rvm_errorf("targets: unknown target '%s' (the targets are: %s)", argv[1], known);
            return RVMSIM_EXIT_USAGE;
        }
        describe(t);
        return RVMSIM_EXIT_PASS;
    }
    for (size_t i = 0; rvm_sim_target_at(i) != NULL; i++) {
        describe(rvm_sim_target_at(i));
    }
    return RVMSIM_EXIT_PASS;
}
