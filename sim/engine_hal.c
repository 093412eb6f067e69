/* SPDX-License-Identifier: MIT */
/* The HAL hooks the engine lays over hal_sim: timers, interrupts, the witness sink. */
#include "engine_internal.h"

#include "events.h"
#include "exit_codes.h"

#include "rvm/sha256.h"

#include <inttypes.h>
#include <string.h>

static enum rvm_err eng_timer_arm(void *ctx, uint32_t cpu, uint64_t deadline_ns)
{
    struct rvm_sim *sim = ctx;
    uint64_t fa[RVM_SIM_MAX_ARGS];
    if (cpu >= sim->ncpus) {
        return RVM_ERR_OUT_OF_RANGE;
    }
    if (engine_fault_site(sim, RVM_SIM_F_TIMER_SKEW, cpu, fa)) {
        if (fa[2] != 0) {
            deadline_ns = deadline_ns > fa[1] ? deadline_ns - fa[1] : 0;
        } else {
            deadline_ns = deadline_ns + fa[1] < deadline_ns ? UINT64_MAX : deadline_ns + fa[1];
        }
    }
    if (deadline_ns < now_ns(sim)) {
        deadline_ns = now_ns(sim);
    }
    sim->timer_gen[cpu]++;
    return engine_push_event(sim, deadline_ns, RVM_EVQ_TIMER, cpu, sim->timer_gen[cpu], 0)
               ? RVM_OK
               : RVM_ERR_NO_SPACE;
}

static enum rvm_err eng_irq_configure(void *ctx, uint32_t irq, uint32_t cpu, bool enabled)
{
    struct rvm_sim *sim = ctx;
    if (irq >= RVM_SIM_MAX_IRQS || cpu >= sim->ncpus) {
        return RVM_ERR_OUT_OF_RANGE;
    }
    sim->irq[irq].cpu = cpu;
    sim->irq[irq].enabled = enabled;
    return RVM_OK;
}

static void eng_irq_complete(void *ctx, uint32_t irq)
{
    struct rvm_sim *sim = ctx;
    if (irq < RVM_SIM_MAX_IRQS) {
        sim->irq[irq].in_service = false;
    }
}

static size_t eng_drain(void *ctx, uint64_t first_seq, const uint8_t *records, size_t count)
{
    struct rvm_sim *sim = ctx;
    uint64_t now = now_ns(sim);
    if (now < sim->sink_stall_until) {
        return 0;
    }
    if (now < sim->sink_partial_until && count > sim->sink_limit) {
        count = (size_t)sim->sink_limit;
    }
    if (count == 0) {
        return 0;
    }
    if (first_seq != sim->nrecords) {
        engine_fail(sim, RVMSIM_EXIT_SAFETY, "witness.sequence",
                    "the sink was offered record %" PRIu64 " but holds %" PRIu64
                    " (a record lost or duplicated)",
                    first_seq, sim->nrecords);
        return 0;
    }
    if (!engine_grow((void **)&sim->records, &sim->rec_cap, sim->nrecords + count,
                     RVM_WITNESS_RECORD_BYTES)) {
        return 0; /* host out of memory looks like a stalled sink */
    }
    for (size_t i = 0; i < count; i++) {
        const uint8_t *img = records + i * RVM_WITNESS_RECORD_BYTES;
        enum rvm_err err = rvm_witness_verify_record(&sim->ver, img);
        if (err != RVM_OK) {
            engine_fail(sim, RVMSIM_EXIT_SAFETY, "witness.chain",
                        "record %" PRIu64 " as received by the sink fails verification: %s",
                        first_seq + i, rvm_err_name(err));
        }
        memcpy(sim->history[(first_seq + i) % CHAIN_HISTORY], sim->ver.state,
               sizeof(sim->ver.state));
    }
    memcpy(sim->records + sim->nrecords * RVM_WITNESS_RECORD_BYTES, records,
           count * RVM_WITNESS_RECORD_BYTES);
    sim->nrecords += count;
    if (sim->target->drained != NULL) {
        sim->target->drained(sim->inst, first_seq, records, count, sim);
    }
    return count;
}

static bool eng_checkpoint(void *ctx, const struct rvm_witness_checkpoint *cp)
{
    struct rvm_sim *sim = ctx;
    if (now_ns(sim) < sim->sink_stall_until) {
        return false;
    }
    if (cp->sequence >= sim->nrecords) {
        engine_fail(sim, RVMSIM_EXIT_SAFETY, "witness.checkpoint-order",
                    "checkpoint at record %" PRIu64
                    " arrived before that record (sink holds %" PRIu64 ")",
                    cp->sequence, sim->nrecords);
        return false;
    }
    if (sim->nrecords - cp->sequence <= CHAIN_HISTORY) {
        uint32_t state[RVM_SHA256_STATE_WORDS];
        uint8_t bytes[RVM_WITNESS_CHAIN_BYTES];
        memcpy(state, sim->history[cp->sequence % CHAIN_HISTORY], sizeof(state));
        rvm_sha256_state_bytes(state, bytes);
        if (memcmp(bytes, cp->chain, sizeof(bytes)) != 0) {
            engine_fail(sim, RVMSIM_EXIT_SAFETY, "witness.checkpoint",
                        "checkpoint at record %" PRIu64 " does not match the chain of the records",
                        cp->sequence);
        }
    }
    if (!engine_grow((void **)&sim->cps, &sim->cps_cap, sim->ncps + 1, sizeof(*sim->cps))) {
        return false;
    }
    sim->cps[sim->ncps++] = *cp;
    return true;
}

void engine_hal_install(struct rvm_sim *sim)
{
    sim->ops = *sim->base.hal.ops;
    sim->ops.timer_arm = eng_timer_arm;
    sim->ops.irq_configure = eng_irq_configure;
    sim->ops.irq_complete = eng_irq_complete;
    sim->ops.witness_drain = eng_drain;
    sim->ops.witness_checkpoint = eng_checkpoint;
    sim->base.hal.ops = &sim->ops;
}
