/* SPDX-License-Identifier: MIT */
/*
 * The scheduler: hand-computed priorities and orders, every refusal and its witness record, the
 * witness records of the administrative operations, and a long randomised run against a
 * deliberately simple model (per-CPU lists kept sorted by insertion, placement rules re-written
 * from sched.h's documentation) compared after every operation, including CPU offline/online
 * with nothing lost or duplicated.
 *
 * The model never calls the code under test; heaps are also inspected directly (key layout from
 * sched.h: priority << 32 | partition id) rather than through rvm_sched_check only.
 */
#include "test_support.h"

#include "hal_recorder.h"
#include "witnessed.h"

#include "rvm/bytes.h"
#include "rvm/crypto_portable.h"
#include "rvm/sched.h"
#include "rvm/sha256.h"
#include "rvm/witness.h"

#define MAXC 6u
#define MAXP 48u
#define MAXQ 48u
#define RING 256u

struct fx {
    struct rvm_crypto crypto;
    struct hal_recorder rec;
    struct rvm_witness_log log;
    uint8_t ring[RING][RVM_WITNESS_RECORD_BYTES];
    struct rvm_sched s;
    struct rvm_sched_part parts[MAXP];
    uint64_t keys[MAXC * MAXQ];
    rvm_partition_id ids[MAXC * MAXQ];
};

static struct fx *fx_new(uint32_t ncpus, uint64_t online, uint32_t maxp, uint32_t cap,
                         enum rvm_sched_mode mode)
{
    struct fx *f = calloc(1, sizeof(*f));
    rvm_crypto_portable(&f->crypto);
    hal_recorder_init(&f->rec, &f->crypto);
    struct rvm_witness_config wc = {.ring = f->ring, .ring_capacity = RING};
    assert_int_equal(rvm_witness_init(&f->log, hal_recorder_hal(&f->rec), &wc), RVM_OK);
    struct rvm_sched_config sc = {.ncpus = ncpus,
                                  .online_mask = online,
                                  .max_partitions = maxp,
                                  .parts = f->parts,
                                  .queue_capacity = cap,
                                  .queue_keys = f->keys,
                                  .queue_ids = f->ids,
                                  .mode = mode};
    assert_int_equal(rvm_sched_init(&f->s, &f->log, &sc), RVM_OK);
    return f;
}

static void fx_free(struct fx *f)
{
    hal_recorder_free(&f->rec);
    free(f);
}

/* Every record appended so far, decoded. */
static uint64_t records(struct fx *f, struct rvm_witness_record *out, uint64_t max)
{
    assert_int_equal(rvm_witness_flush(&f->log), RVM_OK);
    uint64_t n = f->rec.sink.count;
    for (uint64_t i = 0; i < n && i < max; i++) {
        assert_true(
            rvm_witness_decode(f->rec.sink.records + i * RVM_WITNESS_RECORD_BYTES, &out[i]));
    }
    return n;
}

static struct rvm_witness_record last_record(struct fx *f)
{
    static struct rvm_witness_record all[4096];
    uint64_t n = records(f, all, 4096);
    assert_true(n > 0 && n <= 4096);
    return all[n - 1];
}

static uint64_t record_count(struct fx *f)
{
    return rvm_witness_count(&f->log);
}

static void assert_rejection(struct fx *f, uint8_t kind, uint8_t stage, enum rvm_err err,
                             uint64_t target)
{
    struct rvm_witness_record r = last_record(f);
    assert_int_equal(r.kind, RVM_ACT_PROOF_REJECTED);
    assert_int_equal(r.flags, stage);
    assert_int_equal(r.target, target);
    assert_int_equal(r.payload & 0xFFFFFFFFu, (uint64_t)err);
    assert_int_equal((r.payload >> 32) & 0xFFu, kind);
}

static void state_digest(const struct rvm_sched *s, const struct rvm_crypto *c, uint8_t out[32])
{
    struct rvm_sha256_ctx ctx;
    rvm_sha256_init(&ctx, c);
    rvm_sched_hash(s, &ctx);
    rvm_sha256_final(&ctx, out);
}

/* Expected priority, from the formula in sched.h (independent of the code). */
static uint32_t expect_prio(int mode, bool degraded, uint32_t urgency, uint32_t pressure,
                            bool critical)
{
    if (mode == RVM_SCHED_FLOW) {
        return urgency + (degraded ? 0 : pressure * 65535u / 10000u);
    }
    if (mode == RVM_SCHED_RECOVERY) {
        return urgency + (critical ? 131072u : 0u);
    }
    return urgency;
}

/* The key of a queued partition and the sequence number in it (key layout from sched.h:
 * priority << 46 | (2^46 - 1 - seq)). */
static uint64_t *queued_key(struct fx *f, rvm_partition_id id)
{
    const struct rvm_sched_part *p = &f->parts[id - 1];
    assert_true((p->state & RVM_SCHED_QUEUED) != 0);
    return &f->s.cpu[p->qcpu].keys[p->pos];
}

static uint64_t queued_seq(const struct fx *f, rvm_partition_id id)
{
    const struct rvm_sched_part *p = &f->parts[id - 1];
    assert_true((p->state & RVM_SCHED_QUEUED) != 0);
    const uint64_t low = (1ull << 46) - 1;
    return low - (f->s.cpu[p->qcpu].keys[p->pos] & low);
}

static rvm_partition_id next_on(struct fx *f, uint32_t cpu)
{
    struct rvm_sched_switch sw;
    assert_int_equal(rvm_sched_switch_next(&f->s, cpu, &sw), RVM_OK);
    assert_int_equal(sw.cpu, cpu);
    return sw.next;
}

/* ---- targeted tests ------------------------------------------------------------------------ */

static void test_init_rejects_bad_configuration(void **state)
{
    (void)state;
    struct fx *f = fx_new(2, 3, 8, 4, RVM_SCHED_FLOW);
    struct rvm_sched s;
    struct rvm_sched_config ok = {.ncpus = 2,
                                  .online_mask = 1,
                                  .max_partitions = 8,
                                  .parts = f->parts,
                                  .queue_capacity = 4,
                                  .queue_keys = f->keys,
                                  .queue_ids = f->ids,
                                  .mode = RVM_SCHED_FLOW};
    assert_int_equal(rvm_sched_init(&s, &f->log, &ok), RVM_OK);
    struct rvm_sched_config bad;
    bad = ok, bad.ncpus = 0;
    assert_int_equal(rvm_sched_init(&s, &f->log, &bad), RVM_ERR_INVALID_ARGUMENT);
    bad = ok, bad.ncpus = 65;
    assert_int_equal(rvm_sched_init(&s, &f->log, &bad), RVM_ERR_INVALID_ARGUMENT);
    bad = ok, bad.online_mask = 0;
    assert_int_equal(rvm_sched_init(&s, &f->log, &bad), RVM_ERR_INVALID_ARGUMENT);
    bad = ok, bad.online_mask = 4; /* CPU 2 of 2 */
    assert_int_equal(rvm_sched_init(&s, &f->log, &bad), RVM_ERR_INVALID_ARGUMENT);
    bad = ok, bad.max_partitions = 0;
    assert_int_equal(rvm_sched_init(&s, &f->log, &bad), RVM_ERR_INVALID_ARGUMENT);
    bad = ok, bad.queue_capacity = 0;
    assert_int_equal(rvm_sched_init(&s, &f->log, &bad), RVM_ERR_INVALID_ARGUMENT);
    bad = ok, bad.parts = NULL;
    assert_int_equal(rvm_sched_init(&s, &f->log, &bad), RVM_ERR_INVALID_ARGUMENT);
    bad = ok, bad.queue_keys = NULL;
    assert_int_equal(rvm_sched_init(&s, &f->log, &bad), RVM_ERR_INVALID_ARGUMENT);
    bad = ok, bad.queue_ids = NULL;
    assert_int_equal(rvm_sched_init(&s, &f->log, &bad), RVM_ERR_INVALID_ARGUMENT);
    bad = ok, bad.mode = (enum rvm_sched_mode)3;
    assert_int_equal(rvm_sched_init(&s, &f->log, &bad), RVM_ERR_INVALID_ARGUMENT);
    assert_int_equal(rvm_sched_init(&s, NULL, &ok), RVM_ERR_INVALID_ARGUMENT);
    assert_int_equal(rvm_sched_init(NULL, &f->log, &ok), RVM_ERR_INVALID_ARGUMENT);
    assert_int_equal(rvm_sched_init(&s, &f->log, NULL), RVM_ERR_INVALID_ARGUMENT);
    bad = ok, bad.max_partitions = RVM_SCHED_MAX_PARTITIONS + 1u;
    assert_int_equal(rvm_sched_init(&s, &f->log, &bad), RVM_ERR_INVALID_ARGUMENT);
    bad = ok, bad.queue_capacity = RVM_SCHED_MAX_QUEUE + 1u;
    assert_int_equal(rvm_sched_init(&s, &f->log, &bad), RVM_ERR_INVALID_ARGUMENT);
    struct rvm_sched_config all64 = ok;
    static uint64_t k64[64 * 4];
    static rvm_partition_id i64[64 * 4];
    all64.ncpus = 64, all64.online_mask = UINT64_MAX, all64.queue_keys = k64, all64.queue_ids = i64;
    assert_int_equal(rvm_sched_init(&s, &f->log, &all64), RVM_OK);
    assert_int_equal(s.cpu_mask, UINT64_MAX);
    fx_free(f);
}

/* Hand-computed: boost(p) = floor(p * 65535 / 10000). */
static void test_priority_formula_and_pressure_moves_the_order(void **state)
{
    (void)state;
    struct fx *f = fx_new(1, 1, 8, 8, RVM_SCHED_FLOW);
    assert_int_equal(rvm_sched_priority_of(&f->s, 100, 0, 0), 100);
    assert_int_equal(rvm_sched_priority_of(&f->s, 100, 1, 0), 106);   /* 6.5535 */
    assert_int_equal(rvm_sched_priority_of(&f->s, 100, 100, 0), 755); /* 655.35 */
    assert_int_equal(rvm_sched_priority_of(&f->s, 0, 10000, 0), 65535);
    assert_int_equal(rvm_sched_priority_of(&f->s, 65535, 10000, 0), 131070);
    assert_int_equal(rvm_sched_priority_of(&f->s, 200, 5000, 1), 200 + 32767); /* no boost */
    /* The boost is a multiply and shift: equal to the division for every pressure, above all
     * where p * 65535 / 10000 is closest below an integer (p = 757: 4960.9995) or is one
     * (p = 2000: 13107). */
    for (uint32_t p = 0; p <= RVM_SCHED_PRESSURE_MAX_BP; p++) { /* bound: 10001 */
        uint64_t expected = (uint64_t)p * 65535u / 10000u;
        assert_int_equal(rvm_sched_priority_of(&f->s, 0, p, 0), expected);
    }

    /* RVM's pressure bench shape: urgency 25 i, pressure 1000 i bp. */
    for (uint32_t i = 0; i < 8; i++) {
        assert_int_equal(rvm_sched_enqueue_on(&f->s, 0, i + 1, (uint16_t)(i * 25), i * 1000),
                         RVM_OK);
    }
    for (uint32_t i = 0; i < 8; i++) {
        assert_int_equal(next_on(f, 0), 8 - i);
    }
    /* Pressure beats urgency: 1 % of pressure outweighs 600 urgency units. */
    assert_int_equal(rvm_sched_enqueue_on(&f->s, 0, 1, 700, 0), RVM_OK);
    assert_int_equal(rvm_sched_enqueue_on(&f->s, 0, 2, 0, 100), RVM_OK);  /* 655 */
    assert_int_equal(rvm_sched_enqueue_on(&f->s, 0, 3, 50, 100), RVM_OK); /* 705 */
    assert_int_equal(next_on(f, 0), 3);
    assert_int_equal(next_on(f, 0), 1);
    assert_int_equal(next_on(f, 0), 2);
    assert_int_equal(next_on(f, 0), 0); /* idle */
    assert_int_equal(rvm_sched_check(&f->s), RVM_OK);
    fx_free(f);
}

static void test_fifo_among_equals_and_update_in_place(void **state)
{
    (void)state;
    struct fx *f = fx_new(1, 1, 16, 16, RVM_SCHED_FLOW);
    for (uint32_t id = 1; id <= 10; id++) {
        assert_int_equal(rvm_sched_enqueue_on(&f->s, 0, id, 50, 0), RVM_OK);
    }
    /* Re-enqueue 1 and 4 with the same priority: no duplicate, FIFO place kept. */
    assert_int_equal(rvm_sched_enqueue_on(&f->s, 0, 1, 50, 0), RVM_OK);
    assert_int_equal(rvm_sched_enqueue(&f->s, 4, 50, 0), RVM_OK);
    assert_int_equal(rvm_sched_queue_len(&f->s, 0), 10);
    /* Raise 7, lower 2: updated in place. */
    assert_int_equal(rvm_sched_enqueue_on(&f->s, 0, 7, 51, 0), RVM_OK);
    assert_int_equal(rvm_sched_enqueue(&f->s, 2, 49, 0), RVM_OK);
    assert_int_equal(rvm_sched_queue_len(&f->s, 0), 10);
    static const rvm_partition_id order[] = {7, 1, 3, 4, 5, 6, 8, 9, 10, 2};
    for (size_t i = 0; i < RVM_ARRAY_LEN(order); i++) {
        assert_int_equal(next_on(f, 0), order[i]);
        assert_int_equal(rvm_sched_check(&f->s), RVM_OK);
    }
    /* The running one re-enqueued goes behind equals queued before it. */
    assert_int_equal(rvm_sched_enqueue_on(&f->s, 0, 5, 10, 0), RVM_OK);
    assert_int_equal(rvm_sched_enqueue_on(&f->s, 0, 2, 10, 0), RVM_OK); /* 2 is running */
    assert_int_equal(rvm_sched_state(&f->s, 2), RVM_SCHED_QUEUED | RVM_SCHED_RUNNING);
    assert_int_equal(next_on(f, 0), 5);
    assert_int_equal(rvm_sched_state(&f->s, 2), RVM_SCHED_QUEUED);
    assert_int_equal(next_on(f, 0), 2);
    fx_free(f);
}

static void test_no_pressure_in_reflex_and_degraded_critical_in_recovery(void **state)
{
    (void)state;
    struct fx *f = fx_new(1, 1, 8, 8, RVM_SCHED_REFLEX);
    assert_int_equal(rvm_sched_priority_of(&f->s, 100, 10000, 0), 100);
    assert_int_equal(rvm_sched_enqueue_on(&f->s, 0, 1, 100, 10000), RVM_OK);
    assert_int_equal(rvm_sched_enqueue_on(&f->s, 0, 2, 101, 0), RVM_OK);
    assert_int_equal(rvm_sched_enqueue_on(&f->s, 0, 3, 90, 0), RVM_OK);
    /* Flow: the stored pressure of 1 counts again, and the queue is re-ordered. */
    assert_int_equal(witnessed_sched_set_mode(&f->s, 0, RVM_SCHED_FLOW), RVM_OK);
    assert_int_equal(rvm_sched_check(&f->s), RVM_OK);
    /* Recovery: 3 is critical and runs first whatever its urgency. */
    assert_int_equal(witnessed_sched_set_placement(&f->s, 0, 3, 1, RVM_SCHED_F_CRITICAL), RVM_OK);
    assert_int_equal(witnessed_sched_set_mode(&f->s, 0, RVM_SCHED_RECOVERY), RVM_OK);
    assert_int_equal(rvm_sched_priority_of(&f->s, 90, 0, RVM_SCHED_F_CRITICAL), 90 + 131072);
    assert_int_equal(rvm_sched_check(&f->s), RVM_OK);
    assert_int_equal(next_on(f, 0), 3);
    assert_int_equal(next_on(f, 0), 2);
    assert_int_equal(next_on(f, 0), 1);
    fx_free(f);
}

static void test_flow_order_then_reflex_order(void **state)
{
    (void)state;
    struct fx *f = fx_new(1, 1, 8, 8, RVM_SCHED_FLOW);
    assert_int_equal(rvm_sched_enqueue_on(&f->s, 0, 1, 100, 10000), RVM_OK);
    assert_int_equal(rvm_sched_enqueue_on(&f->s, 0, 2, 101, 0), RVM_OK);
    struct rvm_sched_switch sw;
    assert_int_equal(rvm_sched_prepare_switch(&f->s, 0, &sw), RVM_OK);
    assert_int_equal(sw.next, 1); /* pressure wins in Flow */
    assert_int_equal(witnessed_sched_set_mode(&f->s, 0, RVM_SCHED_REFLEX), RVM_OK);
    assert_int_equal(rvm_sched_prepare_switch(&f->s, 0, &sw), RVM_OK);
    assert_int_equal(sw.next, 2); /* deadline only in Reflex */
    struct rvm_witness_record r = last_record(f);
    assert_int_equal(r.kind, RVM_ACT_SCHED_MODE_SWITCH);
    assert_int_equal(r.payload, RVM_SCHED_REFLEX);
    assert_int_equal(r.aux, RVM_SCHED_FLOW);
    /* Same mode again: refused and witnessed. */
    assert_int_equal(witnessed_sched_set_mode(&f->s, 7, RVM_SCHED_REFLEX), RVM_ERR_WRONG_STATE);
    assert_rejection(f, RVM_ACT_SCHED_MODE_SWITCH, RVM_STAGE_PRECONDITION, RVM_ERR_WRONG_STATE, 0);
    assert_int_equal(last_record(f).actor, 7);
    assert_int_equal(witnessed_sched_set_mode(&f->s, 0, 3), RVM_ERR_INVALID_ARGUMENT);
    assert_rejection(f, RVM_ACT_SCHED_MODE_SWITCH, RVM_STAGE_DECODE, RVM_ERR_INVALID_ARGUMENT, 0);
    fx_free(f);
}

static void test_degraded_mode_zeroes_pressure_and_is_witnessed(void **state)
{
    (void)state;
    struct fx *f = fx_new(1, 1, 8, 8, RVM_SCHED_FLOW);
    assert_int_equal(rvm_sched_enqueue_on(&f->s, 0, 1, 100, 9000), RVM_OK);
    assert_int_equal(rvm_sched_enqueue_on(&f->s, 0, 2, 150, 0), RVM_OK);
    assert_int_equal(rvm_sched_epoch_tick(&f->s, NULL), RVM_OK);
    assert_int_equal(rvm_sched_epoch_tick(&f->s, NULL), RVM_OK);
    assert_int_equal(witnessed_sched_enter_degraded(&f->s, 0, RVM_SCHED_DEGRADED_MINCUT_BUDGET),
                     RVM_OK);
    struct rvm_witness_record r = last_record(f);
    assert_int_equal(r.kind, RVM_ACT_DEGRADED_ENTER);
    assert_int_equal(r.payload, RVM_SCHED_DEGRADED_MINCUT_BUDGET);
    assert_int_equal(r.aux, 2); /* entered in epoch 2 */
    assert_true(f->s.degraded);
    assert_int_equal(f->parts[0].pressure, 0);
    assert_int_equal(rvm_sched_check(&f->s), RVM_OK);
    /* Queued priorities were recomputed: 2 (150) now beats 1 (100). */
    assert_int_equal(next_on(f, 0), 2);
    /* New pressure is ignored while degraded. */
    assert_int_equal(rvm_sched_enqueue_on(&f->s, 0, 3, 120, 10000), RVM_OK);
    assert_int_equal(f->parts[2].pressure, 0);
    assert_int_equal(next_on(f, 0), 3);
    assert_int_equal(witnessed_sched_enter_degraded(&f->s, 0, RVM_SCHED_DEGRADED_RECOVERY),
                     RVM_ERR_WRONG_STATE);
    assert_rejection(f, RVM_ACT_DEGRADED_ENTER, RVM_STAGE_PRECONDITION, RVM_ERR_WRONG_STATE, 0);
    assert_int_equal(witnessed_sched_enter_degraded(&f->s, 0, 0), RVM_ERR_INVALID_ARGUMENT);
    assert_int_equal(rvm_sched_epoch_tick(&f->s, NULL), RVM_OK);
    assert_int_equal(witnessed_sched_exit_degraded(&f->s, 0), RVM_OK);
    r = last_record(f);
    assert_int_equal(r.kind, RVM_ACT_DEGRADED_EXIT);
    assert_int_equal(r.payload, RVM_SCHED_DEGRADED_MINCUT_BUDGET);
    assert_int_equal(r.aux, 1); /* one epoch spent degraded */
    assert_false(f->s.degraded);
    assert_int_equal(witnessed_sched_exit_degraded(&f->s, 0), RVM_ERR_WRONG_STATE);
    assert_rejection(f, RVM_ACT_DEGRADED_EXIT, RVM_STAGE_PRECONDITION, RVM_ERR_WRONG_STATE, 0);
    /* Pressure counts again after exit. */
    assert_int_equal(rvm_sched_enqueue_on(&f->s, 0, 4, 0, 10000), RVM_OK);
    assert_int_equal(rvm_sched_enqueue_on(&f->s, 0, 5, 60000, 0), RVM_OK);
    assert_int_equal(next_on(f, 0), 4);
    fx_free(f);
}

static void test_one_epoch_record_per_epoch(void **state)
{
    (void)state;
    struct fx *f = fx_new(2, 3, 8, 8, RVM_SCHED_FLOW);
    uint64_t before = record_count(f);
    for (uint32_t i = 0; i < 1000; i++) {
        assert_int_equal(rvm_sched_enqueue_on(&f->s, 0, 1 + (i % 3), 10, 0), RVM_OK);
        assert_int_equal(rvm_sched_enqueue_on(&f->s, 0, 4, 5, 0), RVM_OK);
        (void)next_on(f, 0);
        (void)next_on(f, 0);
    }
    assert_int_equal(record_count(f), before); /* switches are never witnessed one by one */
    assert_int_equal(rvm_sched_enqueue_on(&f->s, 1, 5, 1, 0), RVM_OK);
    struct rvm_sched_epoch_summary sum;
    assert_int_equal(rvm_sched_epoch_tick(&f->s, &sum), RVM_OK);
    assert_int_equal(record_count(f), before + 1);
    struct rvm_witness_record r = last_record(f);
    assert_int_equal(r.kind, RVM_ACT_SCHED_EPOCH);
    assert_int_equal(r.actor, 0);
    assert_int_equal(r.target, 0);
    assert_int_equal(r.flags, RVM_SCHED_FLOW);
    /* 2000 dispatches; runnable: 5 queued on CPU 1 + whatever runs on CPU 0 (the last of each
     * pair was dispatched, and the pair's queue is empty). */
    assert_int_equal(r.payload & 0xFFFFFFFFu, 2000);
    assert_int_equal(r.payload >> 32, 2);
    assert_int_equal(r.aux & 0xFFFFFFFFu, 4); /* 1, 2, 3, 4 ran */
    assert_int_equal((r.aux >> 48) & 0xFFFFu, 2);
    assert_int_equal(sum.epoch, 0);
    assert_int_equal(sum.stats.switches, 2000);
    assert_int_equal(sum.stats.distinct, 4);
    assert_int_equal(sum.runnable, 2);
    assert_int_equal(f->s.epoch, 1);
    assert_int_equal(f->s.stats.switches, 0);
    /* An empty epoch still gets its one record; degraded shows in the flags. */
    assert_int_equal(witnessed_sched_enter_degraded(&f->s, 0, 1), RVM_OK);
    assert_int_equal(rvm_sched_epoch_tick(&f->s, &sum), RVM_OK);
    r = last_record(f);
    assert_int_equal(r.target, 1);
    assert_int_equal(r.flags, RVM_SCHED_FLOW | 4);
    assert_int_equal(r.payload & 0xFFFFFFFFu, 0);
    fx_free(f);
}

static void test_hot_path_refusals_are_witnessed(void **state)
{
    (void)state;
    struct fx *f = fx_new(2, 1, 4, 2, RVM_SCHED_FLOW); /* CPU 1 offline */
    assert_int_equal(rvm_sched_enqueue_on(&f->s, 0, 0, 1, 0), RVM_ERR_OUT_OF_RANGE);
    assert_rejection(f, RVM_ACT_SCHED_ENQUEUE, RVM_STAGE_DECODE, RVM_ERR_OUT_OF_RANGE, 0);
    assert_int_equal(rvm_sched_enqueue_on(&f->s, 0, 5, 1, 0), RVM_ERR_OUT_OF_RANGE);
    assert_rejection(f, RVM_ACT_SCHED_ENQUEUE, RVM_STAGE_DECODE, RVM_ERR_OUT_OF_RANGE, 5);
    assert_int_equal(rvm_sched_enqueue_on(&f->s, 0, 1, 1, 10001), RVM_ERR_OUT_OF_RANGE);
    assert_int_equal(rvm_sched_enqueue(&f->s, 1, 1, UINT32_MAX), RVM_ERR_OUT_OF_RANGE);
    assert_int_equal(rvm_sched_enqueue_on(&f->s, 2, 1, 1, 0), RVM_ERR_OUT_OF_RANGE);
    assert_int_equal(rvm_sched_enqueue_on(&f->s, UINT32_MAX, 1, 1, 0), RVM_ERR_OUT_OF_RANGE);
    assert_int_equal(rvm_sched_enqueue_on(&f->s, 1, 1, 1, 0), RVM_ERR_CPU_OFFLINE);
    assert_rejection(f, RVM_ACT_SCHED_ENQUEUE, RVM_STAGE_PRECONDITION, RVM_ERR_CPU_OFFLINE, 1);
    assert_int_equal(rvm_sched_enqueue_on(&f->s, 0, 1, 1, 0), RVM_OK);
    assert_int_equal(rvm_sched_enqueue_on(&f->s, 0, 2, 1, 0), RVM_OK);
    assert_int_equal(rvm_sched_enqueue_on(&f->s, 0, 3, 1, 0), RVM_ERR_QUEUE_FULL);
    assert_rejection(f, RVM_ACT_SCHED_ENQUEUE, RVM_STAGE_PRECONDITION, RVM_ERR_QUEUE_FULL, 3);
    assert_int_equal(rvm_sched_enqueue(&f->s, 3, 1, 0), RVM_ERR_QUEUE_FULL);
    assert_int_equal(rvm_sched_dequeue(&f->s, 3), RVM_ERR_WRONG_STATE);
    assert_rejection(f, RVM_ACT_SCHED_ENQUEUE, RVM_STAGE_PRECONDITION, RVM_ERR_WRONG_STATE, 3);
    assert_int_equal(rvm_sched_dequeue(&f->s, 9), RVM_ERR_OUT_OF_RANGE);
    struct rvm_sched_switch sw;
    assert_int_equal(rvm_sched_switch_next(&f->s, 1, &sw), RVM_ERR_CPU_OFFLINE);
    assert_rejection(f, RVM_ACT_SCHED_SWITCH, RVM_STAGE_PRECONDITION, RVM_ERR_CPU_OFFLINE, 1);
    assert_int_equal(rvm_sched_switch_next(&f->s, 64, &sw), RVM_ERR_OUT_OF_RANGE);
    assert_rejection(f, RVM_ACT_SCHED_SWITCH, RVM_STAGE_DECODE, RVM_ERR_OUT_OF_RANGE, 64);
    /* Affinity: partition 4 may only use CPU 1, which is offline. */
    assert_int_equal(witnessed_sched_set_placement(&f->s, 0, 4, 2, 0), RVM_OK);
    assert_int_equal(rvm_sched_enqueue(&f->s, 4, 1, 0), RVM_ERR_AFFINITY);
    assert_rejection(f, RVM_ACT_SCHED_ENQUEUE, RVM_STAGE_PRECONDITION, RVM_ERR_AFFINITY, 4);
    assert_int_equal(rvm_sched_dequeue(&f->s, 1), RVM_OK);
    assert_int_equal(rvm_sched_enqueue_on(&f->s, 0, 4, 1, 0), RVM_ERR_AFFINITY);
    /* Running on CPU 0, cannot be queued on CPU 1. */
    assert_int_equal(witnessed_sched_cpu_online(&f->s, 0, 1), RVM_OK);
    assert_int_equal(next_on(f, 0), 2);
    assert_int_equal(rvm_sched_enqueue_on(&f->s, 1, 2, 1, 0), RVM_ERR_RUNNING_ELSEWHERE);
    assert_rejection(f, RVM_ACT_SCHED_ENQUEUE, RVM_STAGE_PRECONDITION, RVM_ERR_RUNNING_ELSEWHERE,
                     2);
    assert_int_equal(rvm_sched_check(&f->s), RVM_OK);
    fx_free(f);
}

static void test_admin_refusals_and_records(void **state)
{
    (void)state;
    struct fx *f = fx_new(3, 7, 4, 4, RVM_SCHED_FLOW);
    assert_int_equal(witnessed_sched_set_placement(&f->s, 9, 0, 1, 0), RVM_ERR_OUT_OF_RANGE);
    assert_rejection(f, RVM_ACT_SCHED_PLACEMENT, RVM_STAGE_DECODE, RVM_ERR_OUT_OF_RANGE, 0);
    assert_int_equal(last_record(f).actor, 9);
    assert_int_equal(witnessed_sched_set_placement(&f->s, 0, 1, 0, 0), RVM_ERR_INVALID_ARGUMENT);
    assert_int_equal(witnessed_sched_set_placement(&f->s, 0, 1, 8, 0), RVM_ERR_INVALID_ARGUMENT);
    assert_int_equal(witnessed_sched_set_placement(&f->s, 0, 1, 1, 2), RVM_ERR_INVALID_ARGUMENT);
    assert_rejection(f, RVM_ACT_SCHED_PLACEMENT, RVM_STAGE_DECODE, RVM_ERR_INVALID_ARGUMENT, 1);
    /* A move: 1 queued on CPU 0, affinity becomes {2}. */
    assert_int_equal(rvm_sched_enqueue_on(&f->s, 0, 1, 1, 0), RVM_OK);
    assert_int_equal(witnessed_sched_set_placement(&f->s, 3, 1, 4, RVM_SCHED_F_CRITICAL), RVM_OK);
    struct rvm_witness_record r = last_record(f);
    assert_int_equal(r.kind, RVM_ACT_SCHED_PLACEMENT);
    assert_int_equal(r.actor, 3);
    assert_int_equal(r.target, 1);
    assert_int_equal(r.payload, 4);
    assert_int_equal(r.aux, RVM_SCHED_F_CRITICAL | (0 + 1) << 8 | (2 + 1) << 16);
    assert_int_equal(rvm_sched_queue_cpu(&f->s, 1), 2);
    /* CPU records. */
    assert_int_equal(witnessed_sched_cpu_online(&f->s, 0, 3), RVM_ERR_OUT_OF_RANGE);
    assert_rejection(f, RVM_ACT_CPU_ONLINE, RVM_STAGE_DECODE, RVM_ERR_OUT_OF_RANGE, 3);
    assert_int_equal(witnessed_sched_cpu_online(&f->s, 0, 1), RVM_ERR_WRONG_STATE);
    assert_int_equal(witnessed_sched_cpu_offline(&f->s, 0, 2), RVM_OK);
    r = last_record(f);
    assert_int_equal(r.kind, RVM_ACT_CPU_OFFLINE);
    assert_int_equal(r.target, 2);
    assert_int_equal(r.payload, 1);
    assert_int_equal(r.aux, 0);
    assert_int_equal(f->parts[0].state, RVM_SCHED_QUEUED | RVM_SCHED_FORCED);
    assert_int_equal(witnessed_sched_cpu_offline(&f->s, 0, 2), RVM_ERR_WRONG_STATE);
    assert_rejection(f, RVM_ACT_CPU_OFFLINE, RVM_STAGE_PRECONDITION, RVM_ERR_WRONG_STATE, 2);
    assert_int_equal(witnessed_sched_cpu_offline(&f->s, 0, 1), RVM_OK);
    assert_int_equal(witnessed_sched_cpu_offline(&f->s, 0, 0), RVM_ERR_LAST_CPU);
    assert_rejection(f, RVM_ACT_CPU_OFFLINE, RVM_STAGE_PRECONDITION, RVM_ERR_LAST_CPU, 0);
    assert_int_equal(witnessed_sched_cpu_online(&f->s, 0, 2), RVM_OK);
    assert_int_equal(last_record(f).kind, RVM_ACT_CPU_ONLINE);
    /* Remove. */
    assert_int_equal(next_on(f, 0), 1);
    assert_int_equal(witnessed_sched_remove(&f->s, 5, 1), RVM_OK);
    r = last_record(f);
    assert_int_equal(r.kind, RVM_ACT_SCHED_REMOVE);
    assert_int_equal(r.actor, 5);
    assert_int_equal(r.target, 1);
    assert_int_equal(r.payload, RVM_SCHED_RUNNING);
    assert_int_equal(r.aux, 1);
    assert_int_equal(rvm_sched_current(&f->s, 0), 0);
    assert_int_equal(f->parts[0].affinity, 7);
    assert_int_equal(witnessed_sched_remove(&f->s, 0, 5), RVM_ERR_OUT_OF_RANGE);
    assert_rejection(f, RVM_ACT_SCHED_REMOVE, RVM_STAGE_DECODE, RVM_ERR_OUT_OF_RANGE, 5);
    assert_int_equal(rvm_sched_check(&f->s), RVM_OK);
    fx_free(f);
}

/* No witness, no mutation: with the sink stalled and the ring full, nothing changes. */
static void test_witness_full_changes_nothing(void **state)
{
    (void)state;
    struct fx *f = fx_new(2, 3, 8, 8, RVM_SCHED_FLOW);
    assert_int_equal(rvm_sched_enqueue_on(&f->s, 0, 1, 5, 100), RVM_OK);
    assert_int_equal(rvm_sched_enqueue_on(&f->s, 1, 2, 5, 100), RVM_OK);
    assert_int_equal(next_on(f, 1), 2);
    f->rec.drain_limit = 0;
    struct rvm_witness_entry e = {.kind = RVM_ACT_DEMO};
    while (rvm_witness_append(&f->log, &e, NULL) == RVM_OK) {
    }
    uint8_t before[32];
    uint8_t after[32];
    state_digest(&f->s, &f->crypto, before);
    assert_int_equal(witnessed_sched_set_mode(&f->s, 0, RVM_SCHED_REFLEX), RVM_ERR_WITNESS_FULL);
    assert_int_equal(witnessed_sched_enter_degraded(&f->s, 0, 1), RVM_ERR_WITNESS_FULL);
    assert_int_equal(witnessed_sched_cpu_offline(&f->s, 0, 1), RVM_ERR_WITNESS_FULL);
    assert_int_equal(witnessed_sched_set_placement(&f->s, 0, 1, 2, 0), RVM_ERR_WITNESS_FULL);
    assert_int_equal(witnessed_sched_remove(&f->s, 0, 2), RVM_ERR_WITNESS_FULL);
    assert_int_equal(rvm_sched_epoch_tick(&f->s, NULL), RVM_ERR_WITNESS_FULL);
    state_digest(&f->s, &f->crypto, after);
    assert_memory_equal(before, after, 32);
    assert_int_equal(f->s.mode, RVM_SCHED_FLOW);
    assert_int_equal(f->s.epoch, 0);
    f->rec.drain_limit = UINT64_MAX;
    assert_int_equal(rvm_sched_epoch_tick(&f->s, NULL), RVM_OK);
    fx_free(f);
}

static void test_prepare_commit_switch_and_stale_plan(void **state)
{
    (void)state;
    struct fx *f = fx_new(1, 1, 4, 4, RVM_SCHED_FLOW);
    assert_int_equal(rvm_sched_enqueue_on(&f->s, 0, 1, 5, 0), RVM_OK);
    struct rvm_sched_switch plan;
    assert_int_equal(rvm_sched_prepare_switch(&f->s, 0, &plan), RVM_OK);
    assert_int_equal(plan.prev, 0);
    assert_int_equal(plan.next, 1);
    uint8_t a[32];
    uint8_t b[32];
    state_digest(&f->s, &f->crypto, a);
    assert_int_equal(rvm_sched_prepare_switch(&f->s, 0, &plan), RVM_OK);
    state_digest(&f->s, &f->crypto, b);
    assert_memory_equal(a, b, 32); /* prepare is read-only */
    rvm_sched_commit_switch(&f->s, &plan);
    assert_int_equal(rvm_sched_current(&f->s, 0), 1);
    /* A plan whose partition left the queue in between dispatches nothing rather than
     * corrupting the queue. */
    assert_int_equal(rvm_sched_enqueue_on(&f->s, 0, 2, 5, 0), RVM_OK);
    assert_int_equal(rvm_sched_prepare_switch(&f->s, 0, &plan), RVM_OK);
    assert_int_equal(rvm_sched_dequeue(&f->s, 2), RVM_OK);
    rvm_sched_commit_switch(&f->s, &plan);
    assert_int_equal(rvm_sched_current(&f->s, 0), 0);
    assert_int_equal(rvm_sched_check(&f->s), RVM_OK);
    assert_int_equal(rvm_sched_prepare_switch(&f->s, 1, &plan), RVM_ERR_OUT_OF_RANGE);
    fx_free(f);
}

/* A partition whose affinity changes while it runs stays queued where it runs, then moves. */
static void test_affinity_change_while_running(void **state)
{
    (void)state;
    struct fx *f = fx_new(2, 3, 4, 4, RVM_SCHED_FLOW);
    assert_int_equal(rvm_sched_enqueue_on(&f->s, 0, 1, 5, 0), RVM_OK);
    assert_int_equal(next_on(f, 0), 1);
    assert_int_equal(witnessed_sched_set_placement(&f->s, 0, 1, 2, 0), RVM_OK);
    assert_int_equal(rvm_sched_enqueue(&f->s, 1, 5, 0), RVM_OK);
    assert_int_equal(rvm_sched_queue_cpu(&f->s, 1), 0); /* where it runs, never elsewhere */
    assert_int_equal(rvm_sched_enqueue_on(&f->s, 0, 1, 6, 0), RVM_OK);
    assert_int_equal(rvm_sched_enqueue_on(&f->s, 0, 2, 9, 0), RVM_OK);
    assert_int_equal(rvm_sched_check(&f->s), RVM_OK);
    assert_int_equal(next_on(f, 0), 2); /* 1 stops running: it moves to CPU 1 */
    assert_int_equal(rvm_sched_queue_cpu(&f->s, 1), 1);
    assert_int_equal(rvm_sched_check(&f->s), RVM_OK);
    assert_int_equal(next_on(f, 1), 1);
    fx_free(f);
}

static void test_check_detects_corruption(void **state)
{
    (void)state;
    struct fx *f = fx_new(2, 3, 8, 8, RVM_SCHED_FLOW);
    for (uint32_t id = 1; id <= 6; id++) {
        assert_int_equal(rvm_sched_enqueue_on(&f->s, id % 2, id, (uint16_t)id, 0), RVM_OK);
    }
    assert_int_equal(rvm_sched_check(&f->s), RVM_OK);
    uint64_t saved = f->s.cpu[0].keys[0];
    f->s.cpu[0].keys[0] = f->s.cpu[0].keys[2]; /* heap order broken */
    assert_int_equal(rvm_sched_check(&f->s), RVM_ERR_INTERNAL);
    f->s.cpu[0].keys[0] = saved;
    rvm_partition_id sid = f->s.cpu[0].ids[0];
    f->s.cpu[0].ids[0] = f->s.cpu[0].ids[1]; /* duplicate id */
    assert_int_equal(rvm_sched_check(&f->s), RVM_ERR_INTERNAL);
    f->s.cpu[0].ids[0] = sid;
    f->parts[2].pos ^= 1;
    assert_int_equal(rvm_sched_check(&f->s), RVM_ERR_INTERNAL);
    f->parts[2].pos ^= 1;
    f->parts[3].pressure = 1; /* cached priority no longer matches */
    assert_int_equal(rvm_sched_check(&f->s), RVM_ERR_INTERNAL);
    f->parts[3].pressure = 0;
    f->s.cpu[1].current = 1;
    assert_int_equal(rvm_sched_check(&f->s), RVM_ERR_INTERNAL);
    f->s.cpu[1].current = 0;
    f->parts[5].state |= RVM_SCHED_RUNNING;
    assert_int_equal(rvm_sched_check(&f->s), RVM_ERR_INTERNAL);
    f->parts[5].state &= (uint8_t)~RVM_SCHED_RUNNING;
    uint64_t key = *queued_key(f, 1);
    *queued_key(f, 1) = (key >> 46 << 46) | (((1ull << 46) - 1) - f->s.next_seq);
    assert_int_equal(rvm_sched_check(&f->s), RVM_ERR_INTERNAL);
    *queued_key(f, 1) = key;
    f->s.pressure_keep = 0; /* would drop pressures outside degraded mode */
    assert_int_equal(rvm_sched_check(&f->s), RVM_ERR_INTERNAL);
    f->s.pressure_keep = UINT32_MAX;
    assert_int_equal(rvm_sched_check(&f->s), RVM_OK);
    fx_free(f);
}

/* Sequence numbers near the key's 46 bits are renumbered without changing the order. */
static void test_sequence_renumbering_keeps_fifo(void **state)
{
    (void)state;
    const uint64_t limit = 1ull << 46;
    struct fx *f = fx_new(1, 1, 8, 8, RVM_SCHED_FLOW);
    f->s.next_seq = limit - 4; /* as if 7e13 enqueues had happened */
    for (uint32_t id = 1; id <= 6; id++) {
        assert_int_equal(rvm_sched_enqueue_on(&f->s, 0, id, 50, 0), RVM_OK);
        assert_int_equal(rvm_sched_check(&f->s), RVM_OK);
    }
    /* Shifted down by the oldest queued number (limit - 4): 0, 1, 2, then 3, 4, 5. */
    for (uint32_t id = 1; id <= 6; id++) {
        assert_int_equal(queued_seq(f, id), id - 1);
    }
    assert_int_equal(f->s.next_seq, 6);
    for (uint32_t id = 1; id <= 6; id++) {
        assert_int_equal(next_on(f, 0), id);
    }
    /* A partition queued since sequence 0 while 2^46 others went by: clamped, still first. */
    assert_int_equal(rvm_sched_enqueue_on(&f->s, 0, 1, 50, 0), RVM_OK);
    assert_int_equal(queued_seq(f, 1), 6);
    f->s.next_seq = limit - 2;
    assert_int_equal(rvm_sched_enqueue(&f->s, 2, 50, 0), RVM_OK); /* gets limit - 2 */
    assert_int_equal(rvm_sched_enqueue(&f->s, 3, 50, 0), RVM_OK); /* renumbers first */
    uint64_t base = (limit - 1) - (limit >> 1);                   /* next_seq - 2^45 */
    assert_int_equal(queued_seq(f, 1), 0);                        /* 6 < base: clamped */
    assert_int_equal(queued_seq(f, 2), limit - 2 - base);
    assert_int_equal(queued_seq(f, 3), limit - 1 - base);
    assert_int_equal(f->s.next_seq, limit - base);
    assert_int_equal(rvm_sched_check(&f->s), RVM_OK);
    assert_int_equal(next_on(f, 0), 1);
    assert_int_equal(next_on(f, 0), 2);
    assert_int_equal(next_on(f, 0), 3);
    fx_free(f);
}

/* ---- the model -------------------------------------------------------------------------- */

#define NONE (-1)

struct mpart {
    int qcpu;
    int rcpu; /* running on */
    int last; /* last CPU it ran on */
    uint64_t seq;
    uint32_t prio;
    uint16_t urg;
    uint16_t pr;
    uint64_t aff;
    bool crit;
    bool forced;
    uint64_t last_epoch;
};

struct model {
    uint32_t ncpus;
    uint32_t maxp;
    uint32_t cap;
    uint64_t allmask;
    uint64_t online;
    int mode;
    bool degraded;
    uint64_t next_seq;
    uint64_t epoch;
    uint32_t switches;
    struct mpart p[MAXP + 1];
    rvm_partition_id current[MAXC];
    rvm_partition_id list[MAXC][MAXQ]; /* sorted by (prio desc, seq asc) */
    uint32_t len[MAXC];
};

static void m_init(struct model *m, uint32_t ncpus, uint64_t online, uint32_t maxp, uint32_t cap,
                   int mode)
{
    memset(m, 0, sizeof(*m));
    m->ncpus = ncpus;
    m->maxp = maxp;
    m->cap = cap;
    m->allmask = (1ull << ncpus) - 1;
    m->online = online;
    m->mode = mode;
    for (uint32_t id = 1; id <= maxp; id++) {
        m->p[id].qcpu = m->p[id].rcpu = m->p[id].last = NONE;
        m->p[id].aff = m->allmask;
    }
}

static uint32_t m_prio(const struct model *m, uint32_t id)
{
    const struct mpart *p = &m->p[id];
    return expect_prio(m->mode, m->degraded, p->urg, p->pr, p->crit);
}

static bool m_before(const struct model *m, uint32_t a, uint32_t b)
{
    return m->p[a].prio > m->p[b].prio ||
           (m->p[a].prio == m->p[b].prio && m->p[a].seq < m->p[b].seq);
}

static void m_insert(struct model *m, uint32_t cpu, uint32_t id)
{
    uint32_t i = m->len[cpu];
    while (i > 0 && m_before(m, id, m->list[cpu][i - 1])) {
        m->list[cpu][i] = m->list[cpu][i - 1];
        i--;
    }
    m->list[cpu][i] = id;
    m->len[cpu]++;
    m->p[id].qcpu = (int)cpu;
    m->p[id].forced = false;
}

static void m_remove(struct model *m, uint32_t id)
{
    int cpu = m->p[id].qcpu;
    uint32_t i = 0;
    while (m->list[cpu][i] != id) {
        i++;
    }
    memmove(&m->list[cpu][i], &m->list[cpu][i + 1], (m->len[cpu] - i - 1) * sizeof(uint32_t));
    m->len[cpu]--;
    m->p[id].qcpu = NONE;
    m->p[id].forced = false;
}

static void m_resort_all(struct model *m)
{
    for (uint32_t c = 0; c < m->ncpus; c++) {
        uint32_t ids[MAXQ];
        uint32_t n = m->len[c];
        memcpy(ids, m->list[c], n * sizeof(uint32_t));
        m->len[c] = 0;
        for (uint32_t i = 0; i < n; i++) {
            bool forced = m->p[ids[i]].forced;
            m->p[ids[i]].prio = m_prio(m, ids[i]);
            m_insert(m, c, ids[i]);
            m->p[ids[i]].forced = forced;
        }
    }
}

static uint32_t m_load(const struct model *m, uint32_t c)
{
    return m->len[c] + (m->current[c] != 0);
}

/* sched.h: least-loaded online CPU of the mask with room; ties prefer, then lowest index. */
static int m_pick(const struct model *m, uint64_t mask, int prefer, const uint32_t *extra)
{
    int best = NONE;
    uint32_t best_load = 0;
    for (uint32_t c = 0; c < m->ncpus; c++) {
        if (!((mask & m->online) >> c & 1)) {
            continue;
        }
        uint32_t add = extra ? extra[c] : 0;
        if (m->len[c] + add >= m->cap) {
            continue;
        }
        uint32_t load = m_load(m, c) + add;
        if (best == NONE || load < best_load) {
            best = (int)c;
            best_load = load;
        }
    }
    if (best != NONE && prefer != NONE && ((mask & m->online) >> prefer & 1) &&
        m->len[prefer] + (extra ? extra[prefer] : 0) < m->cap &&
        m_load(m, (uint32_t)prefer) + (extra ? extra[prefer] : 0) == best_load) {
        best = prefer;
    }
    return best;
}

static void m_queue(struct model *m, uint32_t cpu, uint32_t id, bool fresh)
{
    if (fresh) {
        m->p[id].seq = m->next_seq++;
    }
    m->p[id].prio = m_prio(m, id);
    m_insert(m, cpu, id);
}

static enum rvm_err m_enqueue_at(struct model *m, uint32_t cpu, uint32_t id, uint16_t urg,
                                 uint32_t pr)
{
    struct mpart *p = &m->p[id];
    if (m->degraded) {
        pr = 0;
    }
    if (p->qcpu == (int)cpu) {
        bool forced = p->forced;
        m_remove(m, id);
        p->urg = urg, p->pr = (uint16_t)pr;
        m_queue(m, cpu, id, false);
        p->forced = forced;
        return RVM_OK;
    }
    if (m->len[cpu] >= m->cap) {
        return RVM_ERR_QUEUE_FULL;
    }
    bool fresh = p->qcpu == NONE;
    if (!fresh) {
        m_remove(m, id);
    }
    p->urg = urg, p->pr = (uint16_t)pr;
    m_queue(m, cpu, id, fresh);
    return RVM_OK;
}

static enum rvm_err m_enqueue_on(struct model *m, uint32_t cpu, uint32_t id, uint16_t urg,
                                 uint32_t pr)
{
    if (id == 0 || id > m->maxp || pr > 10000 || cpu >= m->ncpus) {
        return RVM_ERR_OUT_OF_RANGE;
    }
    if (!(m->online >> cpu & 1)) {
        return RVM_ERR_CPU_OFFLINE;
    }
    struct mpart *p = &m->p[id];
    if (p->rcpu != NONE && p->rcpu != (int)cpu) {
        return RVM_ERR_RUNNING_ELSEWHERE;
    }
    if (!(p->aff >> cpu & 1) && p->rcpu == NONE) {
        return RVM_ERR_AFFINITY;
    }
    return m_enqueue_at(m, cpu, id, urg, pr);
}

static enum rvm_err m_enqueue(struct model *m, uint32_t id, uint16_t urg, uint32_t pr)
{
    if (id == 0 || id > m->maxp || pr > 10000) {
        return RVM_ERR_OUT_OF_RANGE;
    }
    struct mpart *p = &m->p[id];
    int cpu;
    if (p->qcpu != NONE) {
        cpu = p->qcpu;
    } else if (p->rcpu != NONE) {
        cpu = p->rcpu;
    } else {
        cpu = m_pick(m, p->aff, p->last, NULL);
        if (cpu == NONE) {
            return (p->aff & m->online) == 0 ? RVM_ERR_AFFINITY : RVM_ERR_QUEUE_FULL;
        }
    }
    return m_enqueue_at(m, (uint32_t)cpu, id, urg, pr);
}

static enum rvm_err m_switch(struct model *m, uint32_t cpu, rvm_partition_id *prev,
                             rvm_partition_id *next)
{
    if (cpu >= m->ncpus) {
        return RVM_ERR_OUT_OF_RANGE;
    }
    if (!(m->online >> cpu & 1)) {
        return RVM_ERR_CPU_OFFLINE;
    }
    *prev = m->current[cpu];
    uint32_t top = m->len[cpu] ? m->list[cpu][0] : 0;
    if (*prev != 0) {
        struct mpart *pp = &m->p[*prev];
        pp->rcpu = NONE;
        if (pp->qcpu == (int)cpu && !(pp->aff >> cpu & 1) && *prev != top) {
            int to = m_pick(m, pp->aff, NONE, NULL);
            if (to == NONE) {
                pp->forced = true;
            } else {
                m_remove(m, *prev);
                m_insert(m, (uint32_t)to, *prev);
            }
        }
    }
    *next = top;
    if (top == 0) {
        m->current[cpu] = 0;
        return RVM_OK;
    }
    m_remove(m, top);
    m->p[top].rcpu = (int)cpu;
    m->p[top].last = (int)cpu;
    m->p[top].last_epoch = m->epoch + 1;
    m->current[cpu] = top;
    m->switches++;
    return RVM_OK;
}

static enum rvm_err m_placement(struct model *m, uint32_t id, uint64_t aff, uint32_t flags)
{
    if (id == 0 || id > m->maxp) {
        return RVM_ERR_OUT_OF_RANGE;
    }
    if (aff == 0 || (aff & ~m->allmask) || (flags & ~1u)) {
        return RVM_ERR_INVALID_ARGUMENT;
    }
    struct mpart *p = &m->p[id];
    int to = NONE;
    if (p->qcpu != NONE && !(aff >> p->qcpu & 1) && p->rcpu != p->qcpu) {
        to = m_pick(m, aff, NONE, NULL);
        if (to == NONE) {
            return (aff & m->online) == 0 ? RVM_ERR_AFFINITY : RVM_ERR_QUEUE_FULL;
        }
    }
    p->aff = aff;
    p->crit = flags & 1;
    if (p->qcpu != NONE) {
        int cpu = to != NONE ? to : p->qcpu;
        bool forced = p->forced && to == NONE && !(aff >> p->qcpu & 1);
        m_remove(m, id);
        p->prio = m_prio(m, id);
        m_insert(m, (uint32_t)cpu, id);
        p->forced = forced;
    }
    return RVM_OK;
}

static void m_remove_part(struct model *m, uint32_t id)
{
    struct mpart *p = &m->p[id];
    if (p->qcpu != NONE) {
        m_remove(m, id);
    }
    if (p->rcpu != NONE) {
        m->current[p->rcpu] = 0;
    }
    memset(p, 0, sizeof(*p));
    p->qcpu = p->rcpu = p->last = NONE;
    p->aff = m->allmask;
}

static bool m_on_cpu(const struct model *m, uint32_t id, uint32_t cpu)
{
    return m->p[id].qcpu == (int)cpu || m->p[id].rcpu == (int)cpu;
}

static int m_evac_cpu(const struct model *m, uint64_t remaining, uint32_t id, const uint32_t *extra)
{
    int to = m_pick(m, m->p[id].aff & remaining, NONE, extra);
    if (to == NONE && (m->p[id].aff & remaining & m->online) == 0) {
        to = m_pick(m, remaining, NONE, extra);
    }
    return to;
}

static enum rvm_err m_cpu(struct model *m, uint32_t cpu, bool online)
{
    if (cpu >= m->ncpus) {
        return RVM_ERR_OUT_OF_RANGE;
    }
    uint64_t bit = 1ull << cpu;
    if (online) {
        if (m->online & bit) {
            return RVM_ERR_WRONG_STATE;
        }
        m->online |= bit;
        return RVM_OK;
    }
    if (!(m->online & bit)) {
        return RVM_ERR_WRONG_STATE;
    }
    if (m->online == bit) {
        return RVM_ERR_LAST_CPU;
    }
    uint32_t extra[MAXC] = {0};
    uint64_t remaining = m->online & ~bit;
    for (uint32_t id = 1; id <= m->maxp; id++) {
        if (!m_on_cpu(m, id, cpu)) {
            continue;
        }
        int to = m_evac_cpu(m, remaining, id, extra);
        if (to == NONE) {
            return RVM_ERR_QUEUE_FULL;
        }
        extra[to]++;
    }
    m->online &= ~bit;
    m->current[cpu] = 0;
    for (uint32_t id = 1; id <= m->maxp; id++) {
        if (!m_on_cpu(m, id, cpu)) {
            continue;
        }
        struct mpart *p = &m->p[id];
        bool fresh = p->qcpu == NONE;
        if (p->rcpu == (int)cpu) {
            p->rcpu = NONE;
        }
        if (!fresh) {
            m_remove(m, id);
        }
        int to = m_evac_cpu(m, m->online, id, NULL);
        m_queue(m, (uint32_t)to, id, fresh);
        p->forced = !(p->aff >> to & 1);
    }
    return RVM_OK;
}

static void m_degraded(struct model *m, bool enter)
{
    m->degraded = enter;
    if (enter) {
        for (uint32_t id = 1; id <= m->maxp; id++) {
            m->p[id].pr = 0;
        }
        m_resort_all(m);
    }
}

/* Compare everything observable, and the raw heaps, with the model. */
static void compare(const struct model *m, const struct fx *f)
{
    const struct rvm_sched *s = &f->s;
    assert_int_equal(rvm_sched_check(s), RVM_OK);
    assert_int_equal(s->online_mask, m->online);
    assert_int_equal(s->mode, m->mode);
    assert_int_equal(s->degraded != 0, m->degraded);
    assert_int_equal(s->next_seq, m->next_seq);
    assert_int_equal(s->stats.switches, m->switches);
    uint32_t seen[MAXP + 1] = {0};
    for (uint32_t c = 0; c < m->ncpus; c++) {
        assert_int_equal(rvm_sched_current(s, c), m->current[c]);
        assert_int_equal(rvm_sched_queue_len(s, c), m->len[c]);
        for (uint32_t i = 0; i < s->cpu[c].len; i++) {
            uint64_t key = s->cpu[c].keys[i];
            uint32_t id = s->cpu[c].ids[i];
            assert_true(id >= 1 && id <= m->maxp);
            seen[id]++;
            assert_int_equal(m->p[id].qcpu, (int)c);
            assert_int_equal(key >> 46, m->p[id].prio); /* key layout from sched.h */
            assert_int_equal(key & ((1ull << 46) - 1), (1ull << 46) - 1 - m->p[id].seq);
            if (i > 0) { /* heap order, from the model's priorities and sequence numbers */
                uint32_t pid = s->cpu[c].ids[(i - 1) / 2];
                assert_true(m->p[pid].prio > m->p[id].prio ||
                            (m->p[pid].prio == m->p[id].prio && m->p[pid].seq < m->p[id].seq));
            }
        }
    }
    for (uint32_t id = 1; id <= m->maxp; id++) {
        const struct mpart *p = &m->p[id];
        uint8_t st = (p->qcpu != NONE ? RVM_SCHED_QUEUED : 0) |
                     (p->rcpu != NONE ? RVM_SCHED_RUNNING : 0) | (p->forced ? RVM_SCHED_FORCED : 0);
        assert_int_equal(rvm_sched_state(s, id), st);
        assert_int_equal(seen[id], p->qcpu != NONE ? 1 : 0); /* never lost, never duplicated */
        assert_int_equal(rvm_sched_queue_cpu(s, id), p->qcpu);
        if (p->qcpu != NONE) {
            assert_int_equal(queued_seq(f, id), p->seq);
        }
        assert_int_equal(f->parts[id - 1].affinity, p->aff);
        assert_int_equal(f->parts[id - 1].pressure, p->pr);
        assert_int_equal(f->parts[id - 1].last_epoch, p->last_epoch);
    }
}

static void run_random(uint64_t seed, uint32_t steps)
{
    struct test_rng rng = test_rng_new(seed);
    uint32_t ncpus = 1 + (uint32_t)test_rng_below(&rng, MAXC);
    uint64_t all = (1ull << ncpus) - 1;
    uint64_t online = 0;
    while (online == 0) {
        online = test_rng_next(&rng) & all;
    }
    uint32_t maxp = 1 + (uint32_t)test_rng_below(&rng, MAXP);
    uint32_t cap = 1 + (uint32_t)test_rng_below(&rng, 16);
    int mode = (int)test_rng_below(&rng, 3);
    struct fx *f = fx_new(ncpus, online, maxp, cap, (enum rvm_sched_mode)mode);
    struct rvm_sched *s = &f->s;
    static struct model m;
    m_init(&m, ncpus, online, maxp, cap, mode);
    for (uint32_t step = 0; step < steps; step++) {
        uint32_t op = (uint32_t)test_rng_below(&rng, 100);
        uint32_t id = (uint32_t)test_rng_below(&rng, maxp + 2);   /* 0 and maxp + 1 are invalid */
        uint32_t cpu = (uint32_t)test_rng_below(&rng, ncpus + 1); /* ncpus is invalid */
        /* Few distinct urgencies and pressures, so FIFO ties are common. */
        uint16_t urg = (uint16_t)(test_rng_below(&rng, 4) * 1000);
        uint32_t pr = test_rng_below(&rng, 20) == 0 ? 10001 + (uint32_t)test_rng_below(&rng, 5)
                                                    : (uint32_t)test_rng_below(&rng, 3) * 5000;
        enum rvm_err want = RVM_OK;
        enum rvm_err got;
        if (op < 30) {
            got = rvm_sched_enqueue_on(s, cpu, id, urg, pr);
            want = m_enqueue_on(&m, cpu, id, urg, pr);
        } else if (op < 45) {
            got = rvm_sched_enqueue(s, id, urg, pr);
            want = m_enqueue(&m, id, urg, pr);
        } else if (op < 72) {
            struct rvm_sched_switch sw;
            rvm_partition_id prev = 0;
            rvm_partition_id next = 0;
            got = rvm_sched_switch_next(s, cpu, &sw);
            want = m_switch(&m, cpu, &prev, &next);
            if (want == RVM_OK && got == RVM_OK) {
                assert_int_equal(sw.prev, prev);
                assert_int_equal(sw.next, next);
            }
        } else if (op < 76) {
            got = rvm_sched_dequeue(s, id);
            want = (id == 0 || id > maxp) ? RVM_ERR_OUT_OF_RANGE
                   : m.p[id].qcpu == NONE ? RVM_ERR_WRONG_STATE
                                          : RVM_OK;
            if (want == RVM_OK) {
                m_remove(&m, id);
            }
        } else if (op < 86) {
            uint64_t aff =
                test_rng_below(&rng, 8) == 0 ? test_rng_next(&rng) : test_rng_next(&rng) & all;
            uint32_t flags = test_rng_below(&rng, 5) == 0 ? 2u : (uint32_t)test_rng_below(&rng, 2);
            got = witnessed_sched_set_placement(s, 0, id, aff, flags);
            want = m_placement(&m, id, aff, flags);
        } else if (op < 89) {
            uint32_t mode2 = (uint32_t)test_rng_below(&rng, 4);
            got = witnessed_sched_set_mode(s, 0, mode2);
            want = mode2 > 2              ? RVM_ERR_INVALID_ARGUMENT
                   : (int)mode2 == m.mode ? RVM_ERR_WRONG_STATE
                                          : RVM_OK;
            if (want == RVM_OK) {
                m.mode = (int)mode2;
                m_resort_all(&m);
            }
        } else if (op < 91) {
            bool enter = test_rng_below(&rng, 2) != 0;
            got = enter
                      ? witnessed_sched_enter_degraded(s, 0, 1 + (uint32_t)test_rng_below(&rng, 3))
                      : witnessed_sched_exit_degraded(s, 0);
            want = enter == m.degraded ? RVM_ERR_WRONG_STATE : RVM_OK;
            if (want == RVM_OK) {
                m_degraded(&m, enter);
            }
        } else if (op < 96) {
            bool on = test_rng_below(&rng, 2) != 0;
            got =
                on ? witnessed_sched_cpu_online(s, 0, cpu) : witnessed_sched_cpu_offline(s, 0, cpu);
            want = m_cpu(&m, cpu, on);
        } else if (op < 98) {
            got = witnessed_sched_remove(s, 0, id);
            want = (id == 0 || id > maxp) ? RVM_ERR_OUT_OF_RANGE : RVM_OK;
            if (want == RVM_OK) {
                m_remove_part(&m, id);
            }
        } else {
            struct rvm_sched_epoch_summary sum;
            got = rvm_sched_epoch_tick(s, &sum);
            uint32_t distinct = 0;
            for (uint32_t i = 1; i <= maxp; i++) {
                distinct += m.p[i].last_epoch == m.epoch + 1;
            }
            assert_int_equal(sum.stats.distinct, distinct);
            assert_int_equal(sum.stats.switches, m.switches);
            m.epoch++;
            m.switches = 0;
        }
        if (got != want) {
            fail_msg("seed %llu step %u op %u id %u cpu %u: got %s, model says %s",
                     (unsigned long long)seed, step, op, id, cpu, rvm_err_name(got),
                     rvm_err_name(want));
        }
        compare(&m, f);
    }
    fx_free(f);
}

static void test_random_against_sorted_list_model(void **state)
{
    (void)state;
    uint64_t seed = test_seed("sched_model", 20261121);
    struct test_rng rng = test_rng_new(seed);
    for (int run = 0; run < 150; run++) {
        run_random(test_rng_next(&rng), 1500);
    }
}

/* Same seed, same operations: same state hash at every step; the hash sees every change. */
static void test_hash_is_deterministic_and_sensitive(void **state)
{
    (void)state;
    struct fx *a = fx_new(3, 7, 16, 8, RVM_SCHED_FLOW);
    struct fx *b = fx_new(3, 7, 16, 8, RVM_SCHED_FLOW);
    struct test_rng r1 = test_rng_new(7);
    uint8_t ha[32];
    uint8_t hb[32];
    uint8_t prev[32] = {0};
    for (int i = 0; i < 400; i++) {
        uint32_t id = 1 + (uint32_t)test_rng_below(&r1, 16);
        uint32_t cpu = (uint32_t)test_rng_below(&r1, 3);
        uint16_t urg = (uint16_t)test_rng_below(&r1, 5);
        struct rvm_sched_switch sw;
        if (i % 3 == 2) {
            (void)rvm_sched_switch_next(&a->s, cpu, &sw);
            (void)rvm_sched_switch_next(&b->s, cpu, &sw);
        } else {
            (void)rvm_sched_enqueue_on(&a->s, cpu, id, urg, 0);
            (void)rvm_sched_enqueue_on(&b->s, cpu, id, urg, 0);
        }
        state_digest(&a->s, &a->crypto, ha);
        state_digest(&b->s, &b->crypto, hb);
        assert_memory_equal(ha, hb, 32);
        memcpy(prev, ha, 32);
    }
    /* Any field that matters changes the hash. */
    a->parts[3].affinity ^= 2;
    state_digest(&a->s, &a->crypto, ha);
    assert_memory_not_equal(ha, prev, 32);
    a->parts[3].affinity ^= 2;
    a->s.next_seq++;
    state_digest(&a->s, &a->crypto, ha);
    assert_memory_not_equal(ha, prev, 32);
    a->s.next_seq--;
    state_digest(&a->s, &a->crypto, ha);
    assert_memory_equal(ha, prev, 32);
    fx_free(a);
    fx_free(b);
}

/* Offline/online churn on a busy system: the set of runnable partitions never changes. */
static void test_cpu_churn_loses_and_duplicates_nothing(void **state)
{
    (void)state;
    uint64_t seed = test_seed("sched_cpu_churn", 99);
    struct test_rng rng = test_rng_new(seed);
    struct fx *f = fx_new(MAXC, (1u << MAXC) - 1, MAXP, MAXP, RVM_SCHED_FLOW);
    bool runnable[MAXP + 1] = {false};
    for (uint32_t id = 1; id <= 40; id++) {
        assert_int_equal(
            witnessed_sched_set_placement(&f->s, 0, id, 1 + test_rng_below(&rng, 63), 0), RVM_OK);
        assert_int_equal(rvm_sched_enqueue(&f->s, id, (uint16_t)test_rng_below(&rng, 9), 0),
                         RVM_OK);
        runnable[id] = true;
    }
    for (int step = 0; step < 5000; step++) {
        uint32_t cpu = (uint32_t)test_rng_below(&rng, MAXC);
        uint32_t what = (uint32_t)test_rng_below(&rng, 3);
        if (what == 0) {
            (void)witnessed_sched_cpu_offline(&f->s, 0, cpu);
        } else if (what == 1) {
            (void)witnessed_sched_cpu_online(&f->s, 0, cpu);
        } else {
            /* A tick: the running partition stays runnable (re-queued where it runs), then the
             * CPU switches. */
            struct rvm_sched_switch sw;
            rvm_partition_id cur = rvm_sched_current(&f->s, cpu);
            if (cur != 0) {
                assert_int_equal(
                    rvm_sched_enqueue(&f->s, cur, (uint16_t)test_rng_below(&rng, 9), 0), RVM_OK);
            }
            (void)rvm_sched_switch_next(&f->s, cpu, &sw);
        }
        assert_int_equal(rvm_sched_check(&f->s), RVM_OK);
        uint32_t count[MAXP + 1] = {0};
        for (uint32_t c = 0; c < MAXC; c++) {
            for (uint32_t i = 0; i < f->s.cpu[c].len; i++) {
                count[f->s.cpu[c].ids[i]]++;
            }
            if (f->s.cpu[c].current != 0 &&
                (f->parts[f->s.cpu[c].current - 1].state & RVM_SCHED_QUEUED) == 0) {
                count[f->s.cpu[c].current]++;
            }
            if (!rvm_sched_cpu_is_online(&f->s, c)) {
                assert_int_equal(f->s.cpu[c].len, 0);
                assert_int_equal(f->s.cpu[c].current, 0);
            }
        }
        for (uint32_t id = 1; id <= MAXP; id++) {
            assert_int_equal(count[id], runnable[id] ? 1 : 0);
        }
    }
    fx_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init_rejects_bad_configuration),
        cmocka_unit_test(test_priority_formula_and_pressure_moves_the_order),
        cmocka_unit_test(test_fifo_among_equals_and_update_in_place),
        cmocka_unit_test(test_no_pressure_in_reflex_and_degraded_critical_in_recovery),
        cmocka_unit_test(test_flow_order_then_reflex_order),
        cmocka_unit_test(test_degraded_mode_zeroes_pressure_and_is_witnessed),
        cmocka_unit_test(test_one_epoch_record_per_epoch),
        cmocka_unit_test(test_hot_path_refusals_are_witnessed),
        cmocka_unit_test(test_admin_refusals_and_records),
        cmocka_unit_test(test_witness_full_changes_nothing),
        cmocka_unit_test(test_prepare_commit_switch_and_stale_plan),
        cmocka_unit_test(test_affinity_change_while_running),
        cmocka_unit_test(test_check_detects_corruption),
        cmocka_unit_test(test_sequence_renumbering_keeps_fifo),
        cmocka_unit_test(test_random_against_sorted_list_model),
        cmocka_unit_test(test_hash_is_deterministic_and_sensitive),
        cmocka_unit_test(test_cpu_churn_loses_and_duplicates_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
