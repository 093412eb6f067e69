/* SPDX-License-Identifier: MIT */
/*
 * Scenario files: the parsed form, the parser and the printer. The grammar is in
 * docs/scenario-format.md. Operation, argument, fault and query names are looked up in the
 * target's tables (and the engine's fault table), so a new target's operations need no grammar
 * change. Every name is resolved to an index at parse time: a run never looks a string up.
 */
#ifndef RVM_SIM_SCENARIO_H
#define RVM_SIM_SCENARIO_H

#include "faults.h"
#include "target.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum scn_step_kind {
    SCN_OP,     /* apply an operation */
    SCN_FAULT,  /* inject (ambient kinds) or arm (site kinds) a fault */
    SCN_EXPECT, /* assert the previous operation's result or a queried value */
    SCN_RANDOM, /* expand random block `index` */
    SCN_WAIT,   /* a bare timestamp: advance the clock (delivering due events) */
};

enum scn_time_kind {
    SCN_TIME_NONE, /* ops: advance by `tick`; faults and expectations: stay at the current time */
    SCN_TIME_ABS,  /* @T: at time T (or now, if the clock is already past T) */
    SCN_TIME_REL,  /* @+D: D after the current time */
};

enum scn_value_kind {
    SCN_V_DEFAULT, /* argument omitted */
    SCN_V_LIT,     /* a literal (lo) */
    SCN_V_NAME,    /* a named object (name) */
    SCN_V_RANGE,   /* random entries only: uniform in [lo, hi] */
    SCN_V_NONE,    /* object argument explicitly `none` */
    SCN_V_ANY,     /* explore blocks only: every live object of the argument's class (`*`) */
};

struct scn_value {
    uint8_t kind; /* enum scn_value_kind */
    uint32_t name;
    uint64_t lo, hi;
};

/* Delta expectations that may follow one operation line or random block. */
#define RVM_SCN_MAX_DELTAS 8u

enum scn_expect_kind {
    SCN_EXPECT_OK,      /* previous operation returned RVM_OK */
    SCN_EXPECT_ERR,     /* previous operation returned error `value` */
    SCN_EXPECT_REFUSED, /* previous operation returned any error */
    SCN_EXPECT_QUERY,   /* query <cmp> value */
};

enum scn_cmp { SCN_EQ, SCN_NE, SCN_LT, SCN_LE, SCN_GT, SCN_GE };

enum scn_query_source {
    SCN_Q_ENGINE, /* index into rvm_scn_engine_queries */
    SCN_Q_TARGET, /* index into the target's queries[] */
    SCN_Q_FIRED,  /* times fault kind `index` fired */
};

enum scn_engine_query {
    SCN_EQ_STEP,             /* operation steps executed so far */
    SCN_EQ_TIME,             /* virtual time, ns */
    SCN_EQ_RECORDS,          /* witness records appended */
    SCN_EQ_SINK_RECORDS,     /* witness records the sink holds */
    SCN_EQ_SINK_CHECKPOINTS, /* checkpoints the sink holds */
    SCN_EQ_CPUS_ONLINE,
    SCN_EQ_FAULTS_FIRED, /* all kinds */
    SCN_EQ_EVENTS,       /* events delivered to the target */
    SCN_EQ_COUNT,
};

extern const char *const rvm_scn_engine_queries[SCN_EQ_COUNT];

struct scn_step {
    uint8_t kind;      /* enum scn_step_kind */
    uint8_t time_kind; /* enum scn_time_kind */
    uint64_t time;
    int32_t cpu;    /* -1: cpu 0 for scripted ops, seed-chosen in random blocks */
    uint32_t index; /* op index, fault id, random block */
    struct scn_value args[RVM_SIM_MAX_ARGS];
    int32_t bind;   /* name bound by `as NAME`, -1 for none */
    uint32_t after; /* site faults: matching site visits to let pass first */
    /* expectations */
    uint8_t expect; /* enum scn_expect_kind */
    uint8_t cmp;    /* enum scn_cmp */
    uint8_t qsrc;   /* enum scn_query_source */
    uint32_t qindex;
    struct scn_value qobj; /* the object a target query is asked about (SCN_V_DEFAULT: none) */
    uint64_t value;        /* the constant compared with; a two's complement int64 for `delta` */
    /* `QUERY delta CMP N`: the query's change across the operation line or random block before
     * it, compared as signed numbers; `slot` numbers the delta expectations after that step */
    bool delta;
    uint8_t delta_slot;
    /* `QUERY CMP QUERY`: the right-hand side is a query instead of `value` */
    bool rhs_query;
    uint8_t rqsrc;
    uint32_t rqindex;
    struct scn_value rqobj;
    /* where it came from (0 when generated) */
    uint32_t line, col;
};

struct scn_random_entry {
    uint32_t op;
    uint32_t weight;
    struct scn_value args[RVM_SIM_MAX_ARGS];
    uint32_t line;
};

struct scn_random {
    uint64_t count;
    struct scn_random_entry *entries;
    uint32_t nentries;
    uint32_t line;
};

/* One line of an `explore` block: an operation and the values each argument ranges over. */
struct scn_explore_entry {
    uint32_t op;
    uint32_t cpu_lo, cpu_hi; /* the CPUs it runs on (`cpuN`, or `cpu*` for every one) */
    struct scn_value args[RVM_SIM_MAX_ARGS]; /* LIT, RANGE, NAME, NONE, ANY or DEFAULT */
    uint32_t line;
};

/* The `explore` block (rvmsim explore): after the scenario's steps, every sequence of these
 * operations. `line` is 0 when the scenario has none; `run` and `sweep` ignore it. */
struct scn_explore {
    struct scn_explore_entry *entries;
    uint32_t nentries;
    uint32_t line;
    uint64_t tick; /* ns between explored operations; 0: all at one instant */
};

struct scn_name {
    char *text;
    uint32_t cls;
    uint32_t line;
};

struct rvm_scenario {
    char *path; /* as given, for messages and reproduction commands */
    const struct rvm_sim_target *target;
    uint64_t params[RVM_SIM_MAX_PARAMS];
    uint32_t ncpus;
    bool has_seed;
    uint64_t seed;
    bool has_faults;
    enum rvm_sim_fault_mode faults;
    uint64_t tick;     /* ns an op line without a timestamp advances the clock */
    uint32_t liveness; /* rounds of the liveness phase */
    struct rvm_sim_fault_override *overrides;
    uint32_t noverrides;
    struct scn_step *steps;
    uint32_t nsteps;
    struct scn_random *randoms;
    uint32_t nrandoms;
    struct scn_name *names;
    uint32_t nnames;
    uint32_t nops_total; /* op steps, plus random counts: a size hint */
    struct scn_explore explore;
};

#define RVM_SCN_DEFAULT_TICK     1000u
#define RVM_SCN_DEFAULT_LIVENESS 1000u

struct rvm_scn_error {
    uint32_t line, col;
    char msg[240];
};

/* Parse `len` bytes of scenario text. On failure *out is left empty and *err says where. */
bool rvm_scenario_parse(const char *path, const char *text, size_t len, struct rvm_scenario *out,
                        struct rvm_scn_error *err);

/* Read and parse a file; I/O errors are reported at line 0. */
bool rvm_scenario_load(const char *path, struct rvm_scenario *out, struct rvm_scn_error *err);

void rvm_scenario_free(struct rvm_scenario *s);

/* A scenario with `src`'s header (target, params, cpus, tick, liveness) and no steps. */
bool rvm_scenario_init_from(struct rvm_scenario *dst, const struct rvm_scenario *src,
                            const char *path);
bool rvm_scenario_add_step(struct rvm_scenario *s, const struct scn_step *step);
/* Index of the new name, -1 on allocation failure. */
int32_t rvm_scenario_add_name(struct rvm_scenario *s, const char *text, uint32_t cls);

/* Write the scenario in the file format (after `comment` lines, each prefixed with "# "). */
bool rvm_scenario_write(FILE *f, const struct rvm_scenario *s, const char *comment);

/* Names of values, for printing. */
const char *rvm_scn_action_name(uint64_t v); /* enum spelling ("CAP_GRANT") or NULL */

/* Number of SCN_OP and SCN_FAULT steps. */
uint32_t rvm_scenario_count(const struct rvm_scenario *s, enum scn_step_kind kind);

#endif /* RVM_SIM_SCENARIO_H */
