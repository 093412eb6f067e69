/* SPDX-License-Identifier: MIT */
/* The engine's state and the functions its source files share (not a public interface). */
#ifndef RVM_SIM_ENGINE_INTERNAL_H
#define RVM_SIM_ENGINE_INTERNAL_H

#include "engine.h"
#include "events.h"
#include "hal_sim.h"
#include "prng.h"
#include "run_keys.h"

#include "rvm/sha256.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define EVQ_CAPACITY       8192u
#define CHAIN_HISTORY      1024u /* chain values kept to compare checkpoints against */
#define FULL_VERIFY_EVERY  16u   /* seeds whose stored log is re-verified record by record */
#define MAX_ARMED          64u
#define MAX_EVENTS_PER_GO  100000u /* events one clock advance may deliver (a scenario limit) */
#define MAX_EVENTS_AT_ONCE 10000u  /* events due at one instant before it is a storm (a bug) */
#define DEAD_RING          16u     /* recently dead handles per class, for stale-handle faults */
#define GEN_ATTEMPTS       16u     /* tries to generate a random op whose objects exist */
#define PICK_TABLE_MAX     4096u   /* largest total weight of a random block with a pick table */
#define NO_PICK_TABLE      UINT32_MAX

struct sim_obj {
    uint64_t handle;
    uint32_t cls;
    uint32_t pos; /* index in its class's live pool */
    int32_t name; /* scenario name bound to it, -1 for none */
    bool live;
};

struct lin_entry {
    uint8_t kind; /* SCN_OP, SCN_FAULT, SCN_EXPECT, SCN_WAIT */
    uint8_t time_kind;
    uint32_t cpu;
    uint32_t index; /* op, fault id, source step (expect) */
    uint64_t time;
    uint32_t after;
    uint8_t argk[RVM_SIM_MAX_ARGS]; /* enum scn_value_kind; SCN_V_NAME: args[] is an object */
    uint64_t args[RVM_SIM_MAX_ARGS];
    int32_t creates; /* object index created, -1 */
};

struct armed {
    uint32_t kind;
    bool has_key;
    uint64_t key;
    uint32_t after;
    uint64_t args[RVM_SIM_MAX_ARGS];
};

struct pool {
    uint32_t *items;
    uint32_t count, cap;
    uint64_t dead[DEAD_RING];
    uint32_t ndead; /* total ever; ring index = ndead % DEAD_RING */
};

struct rvm_sim {
    struct rvm_sim_hal base; /* first: hal_sim's hooks and the engine's share the context */
    struct rvm_hal_ops ops;
    const struct rvm_sim_target *target;
    void *inst;
    uint32_t ncpus;
    enum rvm_err reset_err; /* what the target's reset returned, for the start check */
    uint64_t params[RVM_SIM_MAX_PARAMS];
    struct rvm_crypto crypto; /* SHA-256: the log, checkpoints, final digests */
    struct rvm_crypto fp;     /* fingerprint: per-step state comparison */
    struct rvm_run_keys keys;
    struct rvm_witness_log *log;
    bool unseeded_hook; /* RVMSIM_TEST_UNSEEDED: a deliberate determinism bug, for tests */

    /* the run */
    const struct rvm_scenario *scn;
    struct rvm_sim_options opt;
    struct rvm_sim_outcome *out;
    uint32_t phase;
    bool failed;
    bool faults_on;
    enum rvm_err last_err;
    uint64_t step;
    uint32_t cur_line;
    struct rvm_prng workload, interleave, faults, swarm;

    /* fault registry state */
    uint32_t nkinds;
    struct rvm_sim_fault_conf *conf;
    uint32_t *ambient;
    uint32_t nambient;
    uint32_t *occ;
    uint64_t *fired_count;
    struct armed armed[MAX_ARMED];
    uint32_t narmed;
    struct rvm_sim_fired *fired;
    uint64_t nfired, fired_cap;

    /* platform */
    bool online[RVM_SIM_MAX_CPUS];
    uint64_t offline_until[RVM_SIM_MAX_CPUS];
    uint32_t nonline;
    uint32_t timer_gen[RVM_SIM_MAX_CPUS];
    struct {
        uint32_t cpu;
        bool enabled;
        bool in_service;
    } irq[RVM_SIM_MAX_IRQS];
    uint64_t sink_stall_until, sink_partial_until;
    uint64_t sink_limit;
    struct rvm_evq evq;
    struct rvm_evq_item *evq_storage;
    uint32_t go_events;

    /* the sink's store and its incremental verifier */
    uint8_t *records;
    uint64_t nrecords, rec_cap;
    struct rvm_witness_checkpoint *cps;
    uint64_t ncps, cps_cap;
    struct rvm_witness_verifier ver;
    uint32_t (*history)[RVM_SHA256_STATE_WORDS];

    /* objects */
    struct sim_obj *objs;
    uint32_t nobjs, objs_cap;
    struct pool *pools; /* one per class */
    int32_t *name_obj;
    uint32_t name_cap;

    /* random blocks: swarm switches */
    bool *entry_on;
    uint64_t *entry_upto; /* per entry: the weight of the switched-on entries up to it, itself in */
    uint64_t *block_total;
    uint32_t *block_first;
    uint32_t entry_cap, upto_cap, block_cap;
    /* A block whose total weight is at most PICK_TABLE_MAX has a table from a weight draw to the
     * index of the entry it picks, at block_pick[block] in pick_entry (NO_PICK_TABLE: none). */
    uint32_t *block_pick;
    uint32_t *pick_entry;
    uint32_t block_pick_cap, pick_cap;

    /* "no witness, no mutation" */
    uint32_t ref_fp[RVM_SHA256_STATE_WORDS];
    bool ref_valid;
    bool nwnm_now;
    uint64_t nwnm_counter;

    /* state digests at epoch boundaries (replay store) */
    struct rvm_sim_state *states;
    uint64_t nstates, states_cap;
    uint64_t epochs_done; /* boundaries passed: appended / epoch at the last one */
    bool state_at_done;
    uint8_t state_at_digest[32];

    /* values before the current operation line or random block, for `expect VALUE delta` */
    uint64_t delta_base[RVM_SCN_MAX_DELTAS];

    /* linearisation */
    struct lin_entry *lin;
    uint64_t nlin, lin_cap;
    int64_t fail_lin; /* lin entries up to and including the failing step: [0, fail_lin) */
};

static inline uint64_t now_ns(const struct rvm_sim *sim)
{
    return sim->base.now_ns;
}

static inline const struct rvm_sim_fault_spec *kind_spec(const struct rvm_sim *sim, uint32_t kind)
{
    return rvm_sim_fault_spec(sim->target, kind);
}

/* Grows *buf to hold at least `need` elements of `elem` bytes, doubling; false when out of
 * memory (the buffer is left as it was). */
static inline bool engine_grow(void **buf, uint64_t *cap, uint64_t need, size_t elem)
{
    if (need <= *cap) {
        return true;
    }
    uint64_t c = *cap != 0 ? *cap : 64;
    while (c < need) {
        c *= 2;
    }
    void *p = realloc(*buf, (size_t)(c * elem));
    if (p == NULL) {
        return false;
    }
    *buf = p;
    *cap = c;
    return true;
}

static inline bool engine_grow32(void **buf, uint32_t *cap, uint64_t need, size_t elem)
{
    uint64_t c = *cap;
    bool ok = engine_grow(buf, &c, need, elem);
    *cap = (uint32_t)c;
    return ok;
}

/* A value drawn uniformly from [lo, hi]. */
static inline uint64_t engine_draw_range(struct rvm_prng *p, uint64_t lo, uint64_t hi)
{
    if (lo == 0 && hi == UINT64_MAX) {
        return rvm_prng_next(p);
    }
    return lo + rvm_prng_below(p, hi - lo + 1);
}

/* engine.c: memory, failure, tracing, the per-step oracles and the clock */
void engine_fail(struct rvm_sim *sim, int cls, const char *invariant, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void engine_trace_args(struct rvm_sim *sim, const struct rvm_sim_arg_spec *specs, uint32_t n,
                       const uint64_t *args);
uint64_t engine_pre_step(struct rvm_sim *sim);
void engine_post_step(struct rvm_sim *sim, uint64_t appended_before, const char *what);
bool engine_push_event(struct rvm_sim *sim, uint64_t time, uint32_t kind, uint32_t a, uint32_t b,
                       uint64_t arg);
void engine_advance_to(struct rvm_sim *sim, uint64_t t);

/* engine.c: a run's start (false when the scenario is not the engine's: out says so), its
 * scenario steps, and its outcome (returns out->cls) */
bool engine_start(struct rvm_sim *sim, const struct rvm_scenario *scn,
                  const struct rvm_sim_options *opt, struct rvm_sim_outcome *out);
void engine_workload(struct rvm_sim *sim, const struct rvm_scenario *scn);
int engine_finish(struct rvm_sim *sim);

/* engine_faults.c */
bool engine_record_fired(struct rvm_sim *sim, uint32_t kind, const uint64_t *args, uint32_t after,
                         bool scripted);
bool engine_fault_site(struct rvm_sim *sim, uint32_t kind, uint64_t key, uint64_t *args_out);
void engine_raise_irq(struct rvm_sim *sim, uint32_t irq, uint64_t when);
bool engine_apply_fault(struct rvm_sim *sim, uint32_t kind, const uint64_t *args);
void engine_roll_ambient(struct rvm_sim *sim);

/* engine_hal.c */
void engine_hal_install(struct rvm_sim *sim);

/* engine_objects.c */
int32_t engine_add_object(struct rvm_sim *sim, uint32_t cls, uint64_t handle, int32_t name);

/* engine_linearize.c */
struct lin_entry *engine_lin_add(struct rvm_sim *sim);
void engine_lin_faults(struct rvm_sim *sim, uint64_t from, uint64_t to);
void engine_lin_wait(struct rvm_sim *sim);
void engine_lin_mark_fail(struct rvm_sim *sim);

/* engine_steps.c */
void engine_step_op(struct rvm_sim *sim, const struct scn_step *st);
void engine_step_random(struct rvm_sim *sim, uint32_t block, uint32_t line);
void engine_step_other(struct rvm_sim *sim, const struct scn_step *st, uint32_t src_index);
/* An explored operation (engine_explore.c): `tick` after the previous step, on call->cpu. */
void engine_step_explore(struct rvm_sim *sim, uint32_t line, uint64_t tick,
                         struct rvm_sim_call *call, const uint8_t *argk, const uint64_t *lin_args);
/* Before step `i` (an operation line or random block): the values its delta expectations compare
 * with. */
void engine_delta_snapshot(struct rvm_sim *sim, uint32_t i);

#endif
