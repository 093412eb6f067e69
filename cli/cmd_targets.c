/* SPDX-License-Identifier: MIT */
/*
 * rvmsim targets [NAME]: what a scenario can say to each target — its parameters, operations
 * with their arguments, objects, queryable values and fault kinds (the engine's and its own).
 */
#include "commands.h"
#include "faults.h"
#include "json.h"
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

static void json_args(struct rvm_json *j, const struct rvm_sim_target *t,
                      const struct rvm_sim_arg_spec *a, uint32_t n)
{
    rvm_json_key(j, "args");
    rvm_json_array_begin(j);
    for (uint32_t i = 0; i < n; i++) {
        rvm_json_object_begin(j);
        rvm_json_key_string(j, "name", a[i].name);
        rvm_json_key_string(j, "type", type_word(t, &a[i]));
        rvm_json_key_bool(j, "optional", a[i].optional);
        rvm_json_object_end(j);
    }
    rvm_json_array_end(j);
}

/* The same facts as describe(), as one JSON object (docs/json.md "targets"). */
static void describe_json(struct rvm_json *j, const struct rvm_sim_target *t)
{
    rvm_json_object_begin(j);
    rvm_json_key_string(j, "name", t->name);
    rvm_json_key_string(j, "summary", t->summary);
    rvm_json_key(j, "params");
    rvm_json_array_begin(j);
    for (uint32_t i = 0; i < t->nparams; i++) {
        rvm_json_object_begin(j);
        rvm_json_key_string(j, "name", t->params[i].name);
        rvm_json_key_u64(j, "default", t->params[i].def);
        rvm_json_key_u64(j, "min", t->params[i].lo);
        rvm_json_key_u64(j, "max", t->params[i].hi);
        rvm_json_object_end(j);
    }
    rvm_json_array_end(j);
    rvm_json_key_int(j, "max_cpus", t->max_cpus != 0 ? t->max_cpus : RVM_SIM_MAX_CPUS);
    rvm_json_key(j, "objects");
    rvm_json_array_begin(j);
    for (uint32_t i = 0; i < t->nclasses; i++) {
        rvm_json_string(j, t->classes[i]);
    }
    rvm_json_array_end(j);
    rvm_json_key(j, "operations");
    rvm_json_array_begin(j);
    for (uint32_t i = 0; i < t->nops; i++) {
        const struct rvm_sim_op_spec *op = &t->ops[i];
        rvm_json_object_begin(j);
        rvm_json_key_string(j, "name", op->name);
        json_args(j, t, op->args, op->nargs);
        rvm_json_key_string(j, "creates", op->creates >= 0 ? t->classes[op->creates] : NULL);
        rvm_json_key_string(j, "summary", op->summary);
        rvm_json_object_end(j);
    }
    rvm_json_array_end(j);
    rvm_json_key(j, "values");
    rvm_json_array_begin(j);
    for (uint32_t i = 0; i < SCN_EQ_COUNT; i++) {
        rvm_json_string(j, rvm_scn_engine_queries[i]);
    }
    for (uint32_t i = 0; i < t->nqueries; i++) {
        rvm_json_string(j, t->queries[i]);
    }
    rvm_json_array_end(j);
    rvm_json_key(j, "faults");
    rvm_json_array_begin(j);
    for (uint32_t i = 0; i < rvm_sim_fault_count(t); i++) {
        const struct rvm_sim_fault_spec *f = rvm_sim_fault_spec(t, i);
        rvm_json_object_begin(j);
        rvm_json_key_string(j, "name", f->name);
        json_args(j, t, f->args, f->nargs);
        rvm_json_key_string(j, "scope", f->flags & RVM_SIM_FAULT_SITE ? "site" : "ambient");
        rvm_json_key_bool(j, "explicit_only", (f->flags & RVM_SIM_FAULT_EXPLICIT) != 0);
        rvm_json_key_int(j, "probability_num", f->num);
        rvm_json_key_int(j, "probability_den", f->den);
        rvm_json_key_bool(j, "target_own", i >= RVM_SIM_F_COUNT);
        rvm_json_key_string(j, "summary", f->summary);
        rvm_json_object_end(j);
    }
    rvm_json_array_end(j);
    rvm_json_object_end(j);
    rvm_json_newline(j);
}

static void targets_usage(FILE *out)
{
    fprintf(out, "usage: rvmsim targets [NAME] [--json]\n\nLists what scenario files can use with "
                 "each target: parameters, operations,\nobjects, values and fault kinds. --json: "
                 "one JSON object per target\n(docs/json.md).\n");
}

int rvmsim_cmd_targets(int argc, char **argv)
{
    const char *name = NULL;
    bool json = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            targets_usage(stdout);
            return RVMSIM_EXIT_PASS;
        }
        if (strcmp(argv[i], "--json") == 0) {
            json = true;
        } else if (argv[i][0] == '-') {
            rvm_errorf("targets: unknown option '%s' (usage: rvmsim targets [NAME] [--json])",
                       argv[i]);
            return RVMSIM_EXIT_USAGE;
        } else if (name != NULL) {
            rvm_errorf("targets: unexpected argument '%s'", argv[i]);
            targets_usage(stderr);
            return RVMSIM_EXIT_USAGE;
        } else {
            name = argv[i];
        }
    }
    struct rvm_json j;
    rvm_json_init(&j, stdout);
    if (name != NULL) {
        const struct rvm_sim_target *t = rvm_sim_target_find(name);
        if (t == NULL) {
            char known[256] = "";
            for (size_t i = 0; rvm_sim_target_at(i) != NULL; i++) {
                size_t at = strlen(known);
                snprintf(known + at, sizeof(known) - at, "%s%s", i != 0 ? ", " : "",
                         rvm_sim_target_at(i)->name);
            }
            rvm_errorf("targets: unknown target '%s' (the targets are: %s)", name, known);
            return RVMSIM_EXIT_USAGE;
        }
        if (json) {
            describe_json(&j, t);
        } else {
            describe(t);
        }
        return RVMSIM_EXIT_PASS;
    }
    for (size_t i = 0; rvm_sim_target_at(i) != NULL; i++) {
        if (json) {
            describe_json(&j, rvm_sim_target_at(i));
        } else {
            describe(rvm_sim_target_at(i));
        }
    }
    return RVMSIM_EXIT_PASS;
}
