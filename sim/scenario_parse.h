/* SPDX-License-Identifier: MIT */
/* The scenario parser's state and the helpers its source files share (not a public interface):
 * scenario.c parses the grammar of docs/scenario-format.md, scenario_explore.c its explore
 * block. */
#ifndef RVM_SIM_SCENARIO_PARSE_H
#define RVM_SIM_SCENARIO_PARSE_H

#include "scenario.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define MAX_TOKENS 64u

struct caps {
    uint32_t steps, randoms, names, overrides;
};

struct tok {
    const char *s;
    size_t n;
    uint32_t col;
};

struct parser {
    struct rvm_scenario *scn;
    struct rvm_scn_error *err;
    struct caps caps;
    uint32_t line;
    struct tok t[MAX_TOKENS];
    uint32_t nt;
    bool header_done;       /* a step was seen: no more directives */
    int32_t in_random;      /* index of the open random block, -1 when none */
    bool in_explore;        /* inside the explore block */
    bool have_op;           /* an op line precedes (for expect ok/err/refused) */
    bool last_op_is_random; /* the step before is a random block */
    uint64_t last_abs_time;
    uint32_t last_abs_line;
};

bool perr(struct parser *p, uint32_t col, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
bool oom(struct parser *p);
bool tok_is(const char *s, size_t n, const char *word);
bool reserve_items(void **buf, uint32_t *cap, uint32_t need, size_t elem);
uint32_t cap_of(uint32_t count);
bool want_args(struct parser *p, uint32_t n, const char *usage);
bool parse_uint(const char *s, size_t n, bool units, uint64_t *out);
bool parse_value(struct parser *p, const struct rvm_sim_arg_spec *a, const struct tok *v,
                 bool allow_range, struct scn_value *out);
/* name=value arguments tokens[from..to) against `specs` */
bool parse_args(struct parser *p, uint32_t from, uint32_t to, const struct rvm_sim_arg_spec *specs,
                uint32_t nspecs, const char *what, bool allow_range, bool require,
                struct scn_value *out, uint32_t *after);
int32_t find_op(const struct rvm_sim_target *t, const struct tok *k);
bool unknown_op(struct parser *p, const struct tok *k);
void print_value(FILE *f, const struct rvm_scenario *s, const struct rvm_sim_arg_spec *a,
                 const struct scn_value *v);
void print_args(FILE *f, const struct rvm_scenario *s, const struct rvm_sim_arg_spec *specs,
                uint32_t n, const struct scn_value *vals);

/* scenario_explore.c: the `explore` line, the lines of its block and its `end`. */
bool parse_explore_start(struct parser *p);
bool parse_explore_line(struct parser *p);
void write_explore(FILE *f, const struct rvm_scenario *s);

#endif /* RVM_SIM_SCENARIO_PARSE_H */
