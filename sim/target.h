/* SPDX-License-Identifier: MIT */
/*
 * The simulator's target interface: what the engine (sim/engine.c) needs from a system under test.
 *
 * A target is a table. It declares its operations (name, typed arguments, which object class an
 * operation creates), its object classes, its parameters, the observable values scenario `expect`
 * lines may query, and its own fault kinds; and it supplies functions to create an instance on a
 * struct rvm_hal, apply one operation, handle an event, run its oracles, hash its state and drive
 * the final liveness phase. Everything the engine does — parsing scenario lines, expanding random
 * workloads, choosing objects and hostile arguments, injecting faults, checking the witness chain
 * and "no witness, no mutation", shrinking — works from this table, so a new target (the kernel)
 * plugs in without changing the engine or the scenario grammar.
 *
 * Binding the kernel is meant to be mechanical (docs/simulator.md, "Binding a target"):
 *   ops[]      one entry per kernel entry point the scenario may call (hypercalls, admin ops);
 *              apply() switches on the index and calls rvm_kernel_<op>(), returning its rvm_err;
 *   witness()  &kernel->witness;  hash() rvm_kernel_hash();  check() rvm_kernel_check();
 *   event()    the kernel's timer / interrupt / CPU hot-plug entry points;
 *   liveness() run scheduler ticks, report when every runnable partition has made progress;
 *   faults[]   the kernel-level fault kinds (partition_crash, core_crash, dormant_bitflip, ...)
 *              with inject() applying them.
 *
 * Rules for targets (the engine's determinism depends on them): no wall clock, no unseeded
 * randomness, no pointer values or hash-table order in any decision or output; all randomness
 * comes from arguments the engine drew. apply(), event() and liveness() must not allocate on the
 * heap per call (create() may). A target reports a transition invariant it sees broken with
 * rvm_sim_violation(); state invariants go in check().
 */
#ifndef RVM_SIM_TARGET_H
#define RVM_SIM_TARGET_H

#include "rvm/error.h"
#include "rvm/hal.h"
#include "rvm/sha256.h"
#include "rvm/witness.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RVM_SIM_MAX_ARGS   10u /* per operation or fault kind */
#define RVM_SIM_MAX_CPUS   16u /* simulated CPUs */
#define RVM_SIM_MAX_IRQS   64u /* interrupt lines of the simulated interrupt controller */
#define RVM_SIM_MAX_PARAMS 16u /* target parameters */

/* Object-argument values that do not name a created object. Targets must fail them closed. */
#define RVM_SIM_NO_OBJECT         UINT64_MAX       /* an optional object argument left out */
#define RVM_SIM_UNBOUND_OBJECT    (UINT64_MAX - 1) /* a name whose creating operation failed */
/* `hypervisor` written for an object argument: the system's own authority (the kernel target's
 * actor 0). Only a scenario line that names it passes it; a target that has no such authority for
 * an argument refuses it like a forged handle. */
#define RVM_SIM_PRIVILEGED_OBJECT (UINT64_MAX - 2)

/* Interrupt lines the engine's own simulated devices raise. */
#define RVM_SIM_IRQ_SINK_READY 1u /* the witness sink can take records again after a stall */

struct rvm_sim; /* the engine; opaque to targets, passed to the env functions below */

enum rvm_sim_arg_type {
    RVM_SIM_ARG_U64,    /* a number (durations accept ns/us/ms/s suffixes); random: [lo, hi] */
    RVM_SIM_ARG_BOOL,   /* 0/1/true/false */
    RVM_SIM_ARG_ACTION, /* a witness action kind: CAP_GRANT, CapabilityGrant or a number */
    RVM_SIM_ARG_ERR,    /* an error code: WITNESS_FULL or a number */
    RVM_SIM_ARG_OBJECT, /* an object of class `cls` created earlier (by name), or none */
};

struct rvm_sim_arg_spec {
    const char *name;
    enum rvm_sim_arg_type type;
    uint32_t cls;  /* OBJECT: index into the target's classes[] */
    bool optional; /* may be omitted: `def` (OBJECT: RVM_SIM_NO_OBJECT) is passed */
    uint64_t def;
    uint64_t lo, hi; /* random draws and parameter bounds, inclusive */
};

/* An operation a scenario line (or a random workload) can apply. */
struct rvm_sim_op_spec {
    const char *name;
    const char *summary;
    uint32_t nargs;
    const struct rvm_sim_arg_spec *args;
    int32_t creates; /* class of the object created on RVM_OK (bound with `as NAME`), or -1 */
};

/* A coverage probe: a path worth reaching (a refusal, a recovery step, a limit), which the target
 * reports from return codes and witness records, never from inside the system it runs. */
#define RVM_SIM_MAX_PROBES 64u

struct rvm_sim_probe {
    const char *name; /* stable: sweeps store counts under it */
    const char *summary;
    bool rare; /* expected in fewer than 1 in 10,000 seeds: its absence is no regression */
};

/* Fault kinds, the engine's and a target's own. */
enum rvm_sim_fault_flags {
    RVM_SIM_FAULT_DEFAULT = 1u << 0,  /* enabled by --faults default */
    RVM_SIM_FAULT_SWARM = 1u << 1,    /* may be switched on by --faults swarm */
    RVM_SIM_FAULT_SITE = 1u << 2,     /* rolled where it can happen (a site), not once per step */
    RVM_SIM_FAULT_EXPLICIT = 1u << 3, /* only from `fault` lines or `enable` (breaks oracles) */
};

struct rvm_sim_fault_spec {
    const char *name;
    const char *summary;
    uint32_t nargs;
    const struct rvm_sim_arg_spec *args; /* drawn from [lo, hi] when the fault fires by chance */
    uint32_t num, den;                   /* base probability per step (or per site visit) */
    uint32_t flags;                      /* enum rvm_sim_fault_flags */
};

enum rvm_sim_event_kind {
    RVM_SIM_EV_TIMER,       /* the timer armed with timer_arm on `cpu` expired */
    RVM_SIM_EV_IRQ,         /* interrupt `irq` delivered to `cpu` */
    RVM_SIM_EV_CPU_OFFLINE, /* `cpu` went offline (it runs nothing until it is back) */
    RVM_SIM_EV_CPU_ONLINE,  /* `cpu` is back */
    RVM_SIM_EV_TARGET,      /* scheduled by the target with rvm_sim_schedule(): `tag`, `arg` */
};

struct rvm_sim_event {
    uint64_t time_ns;
    enum rvm_sim_event_kind kind;
    uint32_t cpu;
    uint32_t irq; /* IRQ: the line; TARGET: the tag */
    uint64_t arg; /* TARGET: the argument */
};

/* One operation call, arguments resolved: object arguments are the handles the target returned. */
struct rvm_sim_call {
    uint32_t op;
    uint32_t cpu;
    uint64_t args[RVM_SIM_MAX_ARGS];
};

/* What an oracle reports: a stable invariant name ("witness.chain") and a human detail. */
struct rvm_sim_verdict {
    const char *invariant;
    char detail[192];
};

enum rvm_sim_live {
    RVM_SIM_LIVE_DONE,    /* every liveness obligation is met */
    RVM_SIM_LIVE_PENDING, /* not yet; the engine advances time and calls again, up to a bound */
};

/* What the engine hands a target for each run. */
struct rvm_sim_setup {
    const struct rvm_hal *hal; /* virtual clock, timers, interrupts, witness sink, crypto */
    const uint64_t *params;    /* values of the target's params[], in order */
    uint32_t ncpus;
    uint64_t seed; /* for information only: targets draw nothing themselves */
    const uint8_t *hmac_key;
    uint32_t hmac_key_len;
    bool tape; /* record an operation tape (targets with tape()) */
};

struct rvm_sim_target {
    const char *name;
    const char *summary;

    const char *const *classes; /* object class names */
    uint32_t nclasses;
    const struct rvm_sim_op_spec *ops;
    uint32_t nops;
    const struct rvm_sim_arg_spec *params; /* `target NAME key=value ...` */
    uint32_t nparams;
    const char *const *queries; /* names `expect NAME == N` may use */
    uint32_t nqueries;
    /* Optional, parallel to queries[]: the class of the object a query is asked about
     * (`expect cap.rights(C) == 3`), or -1 for a query of the whole system. NULL: none takes one.
     */
    const int32_t *query_cls;
    const struct rvm_sim_fault_spec *faults; /* the target's own fault kinds */
    uint32_t nfaults;

    /* Once per engine (may allocate); `params` as in rvm_sim_setup. NULL on failure. */
    void *(*create)(const uint64_t *params);
    void (*destroy)(void *inst);
    /* Once per run: a fresh system on `setup->hal`. No allocation. */
    enum rvm_err (*reset)(void *inst, const struct rvm_sim_setup *setup, struct rvm_sim *sim);

    /* Apply one operation. `created` receives the new object's handle when the op creates one. */
    enum rvm_err (*apply)(void *inst, const struct rvm_sim_call *call, uint64_t *created,
                          struct rvm_sim *sim);
    /* An event reached the system (timer, interrupt, CPU hot-plug, the target's own). */
    void (*event)(void *inst, const struct rvm_sim_event *ev, struct rvm_sim *sim);
    /* Inject the target's fault kind `fault` (index into faults[]) with its arguments. */
    void (*inject)(void *inst, uint32_t fault, const uint64_t *args, struct rvm_sim *sim);

    /* State invariants: a cheap, bounded, read-only scan. false (and *v filled) on violation. */
    bool (*check)(const void *inst, struct rvm_sim_verdict *v);
    /*
     * Absorb a canonical, pointer-free encoding of the state that "no witness, no mutation"
     * protects (for a kernel: rvm_kernel_hash). The engine calls it with a fast fingerprint
     * provider after every step and with SHA-256 for the final state digest; the state may change
     * only in a step that appended a witness record.
     */
    void (*hash)(const void *inst, struct rvm_sha256_ctx *ctx);
    /* The system's witness log: the engine checks its chain, sink and seal. */
    struct rvm_witness_log *(*witness)(void *inst);
    /* Liveness phase (faults off): drive progress; DONE when every obligation is met. */
    enum rvm_sim_live (*liveness)(void *inst, uint32_t round, struct rvm_sim *sim,
                                  struct rvm_sim_verdict *why);
    /* Value of queries[q]; `obj` is the handle of the object it is asked about (query_cls), which
     * may be stale or forged: such a query answers with a value that says so, never fails. */
    uint64_t (*query)(const void *inst, uint32_t q, uint64_t obj);
    /* Optional: records as they reach the sink, after the engine verified their chain. */
    void (*drained)(void *inst, uint64_t first_seq, const uint8_t *records, size_t count,
                    struct rvm_sim *sim);
    /*
     * The target checks "no witness, no mutation" itself around every call it makes into the
     * system (reporting "no-witness-no-mutation" with rvm_sim_violation), so the engine does not
     * fingerprint hash() after every step. For a large state (the kernel) where a per-step
     * fingerprint would cost more than the step; hash() then only gives the final state digest.
     */
    bool own_nwnm;
    /* The most CPUs a run may have (`cpus N` in a scenario); 0: RVM_SIM_MAX_CPUS. */
    uint32_t max_cpus;
    /* Optional: the final seal of witness(), made by the target so that it is part of what it
     * records (NULL: the engine seals the log itself). */
    enum rvm_err (*seal)(void *inst);
    /* Optional: the operation tape of the run so far (docs/tape-format.md), ending with the log's
     * `records` and `digest`; malloc'd into *bytes. false with *why when it has none. */
    bool (*tape)(void *inst, uint64_t seed, uint64_t records, const uint8_t digest[32],
                 uint8_t **bytes, size_t *len, const char **why);
    /* Optional, for bounded exploration (rvmsim explore): absorb what decides how the system
     * goes on, leaving out history that does not (the witness log's record count and chain), so
     * two operation sequences that leave every table alike hash alike. NULL: hash(). */
    void (*explore_hash)(const void *inst, struct rvm_sha256_ctx *ctx);
    /* Optional: with `on`, every oracle the target samples (every N steps) runs after every step
     * instead, for the rest of the engine's life (exploration). */
    void (*check_every_step)(void *inst, bool on);
    /* Optional: coverage probes (at most RVM_SIM_MAX_PROBES) and, at the end of a run, which of
     * them it hit (bit i: probes[i]), given every record the sink received. */
    const struct rvm_sim_probe *probes;
    uint32_t nprobes;
    uint64_t (*probes_hit)(void *inst, const uint8_t *records, uint64_t count);
};

/* ------------------------------------------------------------------------------------------------
 * Engine services for targets (implemented in engine.c)
 * --------------------------------------------------------------------------------------------- */

/* Report a broken transition invariant (safety). The first report of a run wins. */
void rvm_sim_violation(struct rvm_sim *sim, const char *invariant, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The allocation-failure fault site: true when this allocation must fail. */
bool rvm_sim_alloc_fails(struct rvm_sim *sim);

/*
 * A BUGGIFY site of the target's own fault kind `fault` (flag RVM_SIM_FAULT_SITE): true when it
 * fires here. `key` (e.g. a partition id) is matched against the first argument of scripted
 * `fault` lines; `args` (may be NULL) receives the fault's arguments.
 */
bool rvm_sim_target_site(struct rvm_sim *sim, uint32_t fault, uint64_t key, uint64_t *args);

/* Schedule a target event (RVM_SIM_EV_TARGET) `delay_ns` from now on `cpu`. */
void rvm_sim_schedule(struct rvm_sim *sim, uint64_t delay_ns, uint32_t cpu, uint32_t tag,
                      uint64_t arg);

/* The object `handle` of class `cls` no longer exists (random workloads stop choosing it and
 * may present it later as a stale handle). */
void rvm_sim_object_dead(struct rvm_sim *sim, uint32_t cls, uint64_t handle);

/* True when the witness sink takes every record offered (no stall or partial-drain fault). */
bool rvm_sim_sink_healthy(const struct rvm_sim *sim);

bool rvm_sim_cpu_online(const struct rvm_sim *sim, uint32_t cpu);

/* An object of class `cls` that an operation created besides the one its spec `creates` (a root
 * capability minted with a partition, a channel's endpoint capabilities): random workloads may
 * choose it from now on. Scenario lines cannot name it (only `as NAME` binds names). */
void rvm_sim_object_new(struct rvm_sim *sim, uint32_t cls, uint64_t handle);

/* A simulated device raises interrupt `irq` `delay_ns` from now: delivered (to the CPU it is
 * routed to, if enabled) through the engine's interrupt path, so lost / delayed / duplicated
 * interrupt faults apply to it. */
void rvm_sim_raise_irq(struct rvm_sim *sim, uint32_t irq, uint64_t delay_ns);

/* One --trace line (no-op when tracing is off; check rvm_sim_tracing() before formatting). */
bool rvm_sim_tracing(const struct rvm_sim *sim);
void rvm_sim_tracef(struct rvm_sim *sim, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* ------------------------------------------------------------------------------------------------
 * The registry (sim/targets.c)
 * --------------------------------------------------------------------------------------------- */

extern const struct rvm_sim_target rvm_sim_target_witness;
extern const struct rvm_sim_target rvm_sim_target_kernel;

/* NULL when there is no target of that name. */
const struct rvm_sim_target *rvm_sim_target_find(const char *name);
/* The i-th registered target, NULL past the end. */
const struct rvm_sim_target *rvm_sim_target_at(size_t i);
/* Tests only: one extra target the registry also lists (NULL removes it). */
void rvm_sim_target_register_test(const struct rvm_sim_target *t);

#endif /* RVM_SIM_TARGET_H */
