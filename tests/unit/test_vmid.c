/* SPDX-License-Identifier: MIT */
/*
 * VMIDs: assignment, LRU reclaim with invalidation, release, refusals, and a long randomised run
 * with far more partitions than VMIDs over several CPUs, judged only from the HAL calls the
 * recorder saw: no two partitions ever run under one VMID without a TLB invalidation of that VMID
 * in between, and no VMID is ever loaded for two partitions at once.
 */
#include "test_support.h"

#include "hal_recorder.h"
#include "witnessed.h"

#include "rvm/crypto_portable.h"
#include "rvm/sha256.h"
#include "rvm/vmid.h"
#include "rvm/witness.h"

#define RING 128u
#define MAXP 600u

struct fx {
    struct rvm_crypto crypto;
    struct hal_recorder rec;
    struct rvm_witness_log log;
    uint8_t ring[RING][RVM_WITNESS_RECORD_BYTES];
    struct rvm_vmid_table t;
    struct rvm_vmid_binding bindings[MAXP];
};

static struct fx *fx_new(uint32_t nvmids, uint32_t ncpus, uint32_t maxp)
{
    struct fx *f = calloc(1, sizeof(*f));
    rvm_crypto_portable(&f->crypto);
    hal_recorder_init(&f->rec, &f->crypto);
    struct rvm_witness_config wc = {.ring = f->ring, .ring_capacity = RING};
    assert_int_equal(rvm_witness_init(&f->log, hal_recorder_hal(&f->rec), &wc), RVM_OK);
    struct rvm_vmid_config vc = {
        .nvmids = nvmids, .ncpus = ncpus, .max_partitions = maxp, .bindings = f->bindings};
    assert_int_equal(rvm_vmid_init(&f->t, &f->log, &vc), RVM_OK);
    return f;
}

static void fx_free(struct fx *f)
{
    hal_recorder_free(&f->rec);
    free(f);
}

static struct rvm_witness_record last_record(struct fx *f)
{
    assert_int_equal(rvm_witness_flush(&f->log), RVM_OK);
    struct rvm_witness_record r;
    uint64_t n = f->rec.sink.count;
    assert_true(n > 0);
    assert_true(rvm_witness_decode(f->rec.sink.records + (n - 1) * RVM_WITNESS_RECORD_BYTES, &r));
    return r;
}

static const struct hal_call *last_call(struct fx *f)
{
    assert_true(f->rec.ncalls > 0);
    return &f->rec.calls[f->rec.ncalls - 1];
}

static uint16_t activate(struct fx *f, uint32_t cpu, rvm_partition_id id)
{
    uint16_t v = 0;
    assert_int_equal(rvm_vmid_activate(&f->t, cpu, id, &v), RVM_OK);
    assert_int_equal(rvm_vmid_check(&f->t), RVM_OK);
    return v;
}

static void test_init_rejects_bad_configuration(void **state)
{
    (void)state;
    struct fx *f = fx_new(256, 4, 8);
    struct rvm_vmid_table t;
    struct rvm_vmid_config ok = {
        .nvmids = 4, .ncpus = 2, .max_partitions = 8, .bindings = f->bindings};
    assert_int_equal(rvm_vmid_init(&t, &f->log, &ok), RVM_OK);
    struct rvm_vmid_config bad;
    bad = ok, bad.nvmids = 1;
    assert_int_equal(rvm_vmid_init(&t, &f->log, &bad), RVM_ERR_INVALID_ARGUMENT);
    bad = ok, bad.nvmids = 257;
    assert_int_equal(rvm_vmid_init(&t, &f->log, &bad), RVM_ERR_INVALID_ARGUMENT);
    bad = ok, bad.ncpus = 3; /* 3 usable VMIDs must exceed the CPUs */
    assert_int_equal(rvm_vmid_init(&t, &f->log, &bad), RVM_ERR_INVALID_ARGUMENT);
    bad = ok, bad.ncpus = 0;
    assert_int_equal(rvm_vmid_init(&t, &f->log, &bad), RVM_ERR_INVALID_ARGUMENT);
    bad = ok, bad.max_partitions = 0;
    assert_int_equal(rvm_vmid_init(&t, &f->log, &bad), RVM_ERR_INVALID_ARGUMENT);
    bad = ok, bad.bindings = NULL;
    assert_int_equal(rvm_vmid_init(&t, &f->log, &bad), RVM_ERR_INVALID_ARGUMENT);
    assert_int_equal(rvm_vmid_init(&t, NULL, &ok), RVM_ERR_INVALID_ARGUMENT);
    assert_int_equal(rvm_vmid_init(NULL, &f->log, &ok), RVM_ERR_INVALID_ARGUMENT);
    assert_int_equal(rvm_vmid_init(&t, &f->log, NULL), RVM_ERR_INVALID_ARGUMENT);
    bad = ok, bad.nvmids = 256, bad.ncpus = 65; /* at most 64 CPUs, whatever the VMIDs */
    assert_int_equal(rvm_vmid_init(&t, &f->log, &bad), RVM_ERR_INVALID_ARGUMENT);
    struct rvm_witness_log no_hal = f->log;
    no_hal.hal = NULL;
    assert_int_equal(rvm_vmid_init(&t, &no_hal, &ok), RVM_ERR_INVALID_ARGUMENT);
    fx_free(f);
}

static void test_assign_hit_and_records(void **state)
{
    (void)state;
    struct fx *f = fx_new(256, 2, 8);
    uint64_t n0 = rvm_witness_count(&f->log);
    assert_int_equal(activate(f, 0, 5), 1);
    struct rvm_witness_record r = last_record(f);
    assert_int_equal(r.kind, RVM_ACT_VMID_ASSIGN);
    assert_int_equal(r.actor, 0);
    assert_int_equal(r.flags, 0); /* a never-used VMID needs no invalidation */
    assert_int_equal(r.target, (1ull << 32) | 1);
    assert_int_equal(r.payload, 5);
    assert_int_equal(r.aux, 0);
    const struct hal_call *c = last_call(f);
    assert_int_equal(c->kind, HAL_CALL_ACTIVATE);
    assert_int_equal(c->cpu, 0);
    assert_int_equal(c->partition, 5);
    assert_int_equal(c->vmid, 1);
    assert_int_equal(hal_recorder_count(&f->rec, HAL_CALL_TLB_INVALIDATE_VMID), 0);
    /* Hit: no record, no invalidation, same VMID, on another CPU too. */
    assert_int_equal(activate(f, 1, 5), 1);
    assert_int_equal(activate(f, 0, 5), 1);
    assert_int_equal(rvm_witness_count(&f->log), n0 + 1);
    assert_int_equal(rvm_vmid_of(&f->t, 5), 1);
    assert_int_equal(rvm_vmid_of(&f->t, 6), 0);
    assert_int_equal(rvm_vmid_of(&f->t, 0), 0);
    assert_int_equal(activate(f, 1, 6), 2);
    assert_int_equal(f->t.stats.hits, 2);
    assert_int_equal(f->t.stats.assigns, 2);
    fx_free(f);
}

/* 3 usable VMIDs, 1 CPU: the fourth partition takes the least recently activated one. */
static void test_reclaim_least_recently_used_with_invalidation(void **state)
{
    (void)state;
    struct fx *f = fx_new(4, 1, 8);
    assert_int_equal(activate(f, 0, 1), 1);
    assert_int_equal(activate(f, 0, 2), 2);
    assert_int_equal(activate(f, 0, 3), 3);
    assert_int_equal(activate(f, 0, 1), 1); /* 2 is now the least recently used */
    hal_recorder_clear(&f->rec);
    assert_int_equal(activate(f, 0, 4), 2);
    struct rvm_witness_record r = last_record(f);
    assert_int_equal(r.kind, RVM_ACT_VMID_RECLAIM);
    assert_int_equal(r.flags, RVM_VMID_FLAG_INVALIDATED);
    assert_int_equal(r.target, (2ull << 32) | 2); /* slot 2, second generation */
    assert_int_equal(r.payload, 4ull | 2ull << 32);
    assert_int_equal(f->rec.ncalls, 2);
    assert_int_equal(f->rec.calls[0].kind, HAL_CALL_TLB_INVALIDATE_VMID);
    assert_int_equal(f->rec.calls[0].vmid, 2);
    assert_int_equal(f->rec.calls[1].kind, HAL_CALL_ACTIVATE);
    assert_int_equal(f->rec.calls[1].vmid, 2);
    assert_int_equal(rvm_vmid_of(&f->t, 2), 0); /* the victim lost its binding */
    /* The victim comes back: it reclaims the LRU (3), again with an invalidation. */
    hal_recorder_clear(&f->rec);
    assert_int_equal(activate(f, 0, 2), 3);
    assert_int_equal(f->rec.calls[0].kind, HAL_CALL_TLB_INVALIDATE_VMID);
    assert_int_equal(f->rec.calls[0].vmid, 3);
    assert_int_equal(f->t.stats.reclaims, 2);
    fx_free(f);
}

/* A VMID loaded on a CPU (even an idle one) is never taken. */
static void test_loaded_vmids_are_never_reclaimed(void **state)
{
    (void)state;
    struct fx *f = fx_new(4, 2, 8); /* 3 usable, 2 CPUs */
    assert_int_equal(activate(f, 0, 1), 1);
    assert_int_equal(activate(f, 1, 2), 2);
    assert_int_equal(activate(f, 1, 3), 3); /* CPU 1 now holds 3; 2 is free to take */
    /* LRU order is 1, 2, 3 but 1 is loaded on CPU 0 and 3 on CPU 1: 2 must be chosen. */
    assert_int_equal(activate(f, 1, 4), 2);
    /* Now CPU 1 holds 2; loaded: 1 (CPU 0), 2 (CPU 1); only 3 may go. */
    assert_int_equal(activate(f, 1, 5), 3);
    assert_int_equal(rvm_vmid_of(&f->t, 1), 1);
    /* CPU 0 goes offline: its VMID becomes reclaimable. */
    assert_int_equal(rvm_vmid_cpu_offline(&f->t, 0), RVM_OK);
    assert_int_equal(rvm_vmid_check(&f->t), RVM_OK);
    assert_int_equal(activate(f, 1, 6), 1);
    assert_int_equal(rvm_vmid_cpu_offline(&f->t, 2), RVM_ERR_OUT_OF_RANGE);
    fx_free(f);
}

/* Released VMIDs are reused only after an invalidation, even by a partition reusing the id. */
static void test_release(void **state)
{
    (void)state;
    struct fx *f = fx_new(8, 1, 8);
    assert_int_equal(activate(f, 0, 1), 1);
    assert_int_equal(activate(f, 0, 2), 2); /* CPU 0 no longer holds 1 */
    assert_int_equal(witnessed_vmid_release(&f->t, 9, 1), RVM_OK);
    struct rvm_witness_record r = last_record(f);
    assert_int_equal(r.kind, RVM_ACT_VMID_RELEASE);
    assert_int_equal(r.actor, 9);
    assert_int_equal(r.target, (1ull << 32) | 1);
    assert_int_equal(r.payload, 1);
    assert_int_equal(rvm_vmid_of(&f->t, 1), 0);
    assert_int_equal(rvm_vmid_check(&f->t), RVM_OK);
    /* Nothing to release: no record. */
    uint64_t n = rvm_witness_count(&f->log);
    assert_int_equal(witnessed_vmid_release(&f->t, 0, 1), RVM_OK);
    assert_int_equal(witnessed_vmid_release(&f->t, 0, 7), RVM_OK);
    assert_int_equal(rvm_witness_count(&f->log), n);
    assert_int_equal(witnessed_vmid_release(&f->t, 0, 0), RVM_ERR_OUT_OF_RANGE);
    r = last_record(f);
    assert_int_equal(r.kind, RVM_ACT_PROOF_REJECTED);
    assert_int_equal(r.payload,
                     (uint64_t)RVM_ERR_OUT_OF_RANGE | (uint64_t)RVM_ACT_VMID_RELEASE << 32);
    /* Clean slots first (3..7), then the released dirty one with an invalidation. */
    for (rvm_partition_id id = 3; id <= 7; id++) {
        assert_int_equal(activate(f, 0, id), id);
    }
    hal_recorder_clear(&f->rec);
    assert_int_equal(activate(f, 0, 1), 1); /* the id is reused by a "new" partition 1 */
    assert_int_equal(f->rec.calls[0].kind, HAL_CALL_TLB_INVALIDATE_VMID);
    assert_int_equal(f->rec.calls[0].vmid, 1);
    r = last_record(f);
    assert_int_equal(r.kind, RVM_ACT_VMID_ASSIGN);
    assert_int_equal(r.flags, RVM_VMID_FLAG_INVALIDATED);
    assert_int_equal(r.target, (3ull << 32) | 1); /* generation 3: assigned, released, assigned */
    fx_free(f);
}

static void hash_of(const struct fx *f, uint8_t out[32])
{
    struct rvm_sha256_ctx c;
    rvm_sha256_init(&c, &f->crypto);
    rvm_vmid_hash(&f->t, &c);
    rvm_sha256_final(&c, out);
}

static void test_refusals_change_nothing(void **state)
{
    (void)state;
    struct fx *f = fx_new(4, 1, 8);
    assert_int_equal(activate(f, 0, 1), 1);
    assert_int_equal(activate(f, 0, 2), 2);
    assert_int_equal(activate(f, 0, 3), 3);
    uint8_t a[32];
    uint8_t b[32];
    hash_of(f, a);
    hal_recorder_clear(&f->rec);
    assert_int_equal(rvm_vmid_activate(&f->t, 1, 1, NULL), RVM_ERR_OUT_OF_RANGE);
    assert_int_equal(rvm_vmid_activate(&f->t, 0, 0, NULL), RVM_ERR_OUT_OF_RANGE);
    assert_int_equal(rvm_vmid_activate(&f->t, 0, 9, NULL), RVM_ERR_OUT_OF_RANGE);
    /* Witness full: a reclaim is refused before any invalidation or activation. */
    f->rec.drain_limit = 0;
    struct rvm_witness_entry e = {.kind = RVM_ACT_DEMO};
    while (rvm_witness_append(&f->log, &e, NULL) == RVM_OK) {
    }
    hash_of(f, a);
    assert_int_equal(rvm_vmid_activate(&f->t, 0, 4, NULL), RVM_ERR_WITNESS_FULL);
    assert_int_equal(witnessed_vmid_release(&f->t, 0, 1), RVM_ERR_WITNESS_FULL);
    hash_of(f, b);
    assert_memory_equal(a, b, 32);
    assert_int_equal(f->rec.ncalls, 0);
    /* A hit needs no record and still works. */
    assert_int_equal(rvm_vmid_activate(&f->t, 0, 2, NULL), RVM_OK);
    f->rec.drain_limit = UINT64_MAX;
    /* The HAL refuses the activation: the new binding stays, this CPU's VMID does not change. */
    hal_recorder_fail(&f->rec, HAL_CALL_ACTIVATE, 1, RVM_ERR_HAL);
    uint16_t before = f->t.loaded[0];
    assert_int_equal(rvm_vmid_activate(&f->t, 0, 4, NULL), RVM_ERR_HAL);
    assert_int_equal(f->t.loaded[0], before);
    assert_int_equal(rvm_vmid_check(&f->t), RVM_OK);
    assert_true(rvm_vmid_of(&f->t, 4) != 0);
    fx_free(f);
}

static void test_check_detects_corruption(void **state)
{
    (void)state;
    struct fx *f = fx_new(8, 2, 8);
    assert_int_equal(activate(f, 0, 1), 1);
    assert_int_equal(activate(f, 1, 2), 2);
    f->t.slots[1].loaded_mask = 0;
    assert_int_equal(rvm_vmid_check(&f->t), RVM_ERR_INTERNAL);
    f->t.slots[1].loaded_mask = 1;
    f->bindings[1].generation++;
    assert_int_equal(rvm_vmid_check(&f->t), RVM_ERR_INTERNAL);
    f->bindings[1].generation--;
    f->t.slots[2].dirty = 0; /* loaded but clean: impossible */
    assert_int_equal(rvm_vmid_check(&f->t), RVM_ERR_INTERNAL);
    f->t.slots[2].dirty = 1;
    f->bindings[4].vmid = 1; /* a stale binding that was never cleared */
    assert_int_equal(rvm_vmid_check(&f->t), RVM_ERR_INTERNAL);
    f->bindings[4].vmid = 0;
    assert_int_equal(rvm_vmid_check(&f->t), RVM_OK);
    fx_free(f);
}

/*
 * The property, from the recorded calls only. For each VMID: the partition it last ran and
 * whether it was invalidated since; for each CPU: the (VMID, partition) it holds.
 */
struct vmid_oracle {
    rvm_partition_id last[RVM_VMID_HW_MAX];
    bool clean[RVM_VMID_HW_MAX];
    int held_vmid[RVM_VMID_MAX_CPUS];
    rvm_partition_id held_part[RVM_VMID_MAX_CPUS];
};

static char oracle_msg[160];

/* NULL when the calls respect the property, else what went wrong. */
static const char *oracle_replay(struct vmid_oracle *o, const struct hal_recorder *rec, size_t from,
                                 uint32_t ncpus)
{
    for (size_t i = from; i < rec->ncalls; i++) {
        const struct hal_call *c = &rec->calls[i];
        if (c->kind == HAL_CALL_TLB_INVALIDATE_VMID) {
            o->clean[c->vmid] = true;
            continue;
        }
        if (c->kind != HAL_CALL_ACTIVATE || c->result != RVM_OK) {
            continue;
        }
        if (c->vmid == 0 || c->vmid >= RVM_VMID_HW_MAX || c->cpu >= ncpus) {
            return "activation with an invalid VMID or CPU";
        }
        if (o->last[c->vmid] != 0 && o->last[c->vmid] != c->partition && !o->clean[c->vmid]) {
            snprintf(oracle_msg, sizeof(oracle_msg),
                     "VMID %u ran partition %u and then %u without an invalidation", c->vmid,
                     o->last[c->vmid], c->partition);
            return oracle_msg;
        }
        for (uint32_t cpu = 0; cpu < ncpus; cpu++) {
            if (cpu != c->cpu && o->held_vmid[cpu] == c->vmid &&
                o->held_part[cpu] != c->partition) {
                snprintf(oracle_msg, sizeof(oracle_msg),
                         "VMID %u loaded for partitions %u and %u at once", c->vmid,
                         o->held_part[cpu], c->partition);
                return oracle_msg;
            }
        }
        o->last[c->vmid] = c->partition;
        o->clean[c->vmid] = false;
        o->held_vmid[c->cpu] = c->vmid;
        o->held_part[c->cpu] = c->partition;
    }
    return NULL;
}

static void oracle_ok(struct vmid_oracle *o, const struct hal_recorder *rec, size_t from,
                      uint32_t ncpus)
{
    const char *msg = oracle_replay(o, rec, from, ncpus);
    if (msg != NULL) {
        fail_msg("%s", msg);
    }
}

static void run_random(uint64_t seed, uint32_t nvmids, uint32_t ncpus, uint32_t maxp,
                       uint32_t steps)
{
    struct test_rng rng = test_rng_new(seed);
    struct fx *f = fx_new(nvmids, ncpus, maxp);
    struct vmid_oracle o;
    memset(&o, 0, sizeof(o));
    for (uint32_t c = 0; c < RVM_VMID_MAX_CPUS; c++) {
        o.held_vmid[c] = -1;
    }
    uint64_t reclaims_seen = 0;
    for (uint32_t step = 0; step < steps; step++) {
        uint32_t what = (uint32_t)test_rng_below(&rng, 100);
        uint32_t cpu = (uint32_t)test_rng_below(&rng, ncpus);
        /* Skewed ids: a hot set that fits and a long tail that does not. */
        rvm_partition_id id = test_rng_below(&rng, 2) == 0
                                  ? 1 + (rvm_partition_id)test_rng_below(&rng, nvmids / 2)
                                  : 1 + (rvm_partition_id)test_rng_below(&rng, maxp);
        if (what < 85) {
            if (test_rng_below(&rng, 50) == 0) {
                hal_recorder_fail(&f->rec, HAL_CALL_ACTIVATE, 1, RVM_ERR_HAL);
            }
            enum rvm_err err = rvm_vmid_activate(&f->t, cpu, id, NULL);
            assert_true(err == RVM_OK || err == RVM_ERR_HAL);
            hal_recorder_fail(&f->rec, HAL_CALL_ACTIVATE, 0, RVM_OK);
        } else if (what < 95) {
            assert_int_equal(witnessed_vmid_release(&f->t, 0, id), RVM_OK);
        } else {
            assert_int_equal(rvm_vmid_cpu_offline(&f->t, cpu), RVM_OK);
        }
        assert_int_equal(rvm_vmid_check(&f->t), RVM_OK);
        /* Judge this step's calls, in order with what the test did to the CPUs. */
        assert_false(f->rec.overflowed);
        oracle_ok(&o, &f->rec, 0, ncpus);
        if (what >= 95) {
            o.held_vmid[cpu] = -1; /* the CPU stopped: it holds nothing */
        }
        hal_recorder_clear(&f->rec);
    }
    reclaims_seen = f->t.stats.reclaims;
    assert_true(reclaims_seen > 100); /* the run really multiplexed */
    fx_free(f);
}

static void test_random_more_partitions_than_vmids(void **state)
{
    (void)state;
    uint64_t seed = test_seed("vmid_random", 4242);
    struct test_rng rng = test_rng_new(seed);
    run_random(test_rng_next(&rng), 256, 4, MAXP, 60000); /* the real hardware size */
    for (int i = 0; i < 20; i++) {
        uint32_t nvmids = 3 + (uint32_t)test_rng_below(&rng, 30);
        uint32_t ncpus = 1 + (uint32_t)test_rng_below(&rng, nvmids - 2);
        if (ncpus > RVM_VMID_MAX_CPUS) {
            ncpus = RVM_VMID_MAX_CPUS;
        }
        run_random(test_rng_next(&rng), nvmids, ncpus, 40 + (uint32_t)test_rng_below(&rng, 100),
                   5000);
    }
}

/* The oracle itself must catch a violation, or the random test proves nothing. */
static void test_oracle_catches_a_missing_invalidation(void **state)
{
    (void)state;
    struct hal_recorder rec;
    struct rvm_crypto crypto;
    rvm_crypto_portable(&crypto);
    hal_recorder_init(&rec, &crypto);
    const struct rvm_hal *hal = hal_recorder_hal(&rec);
    assert_int_equal(hal->ops->s2_activate(hal->ctx, 0, 1, 7), RVM_OK);
    hal->ops->tlb_invalidate_vmid(hal->ctx, 7);
    assert_int_equal(hal->ops->s2_activate(hal->ctx, 0, 2, 7), RVM_OK); /* fine */
    struct vmid_oracle o;
    memset(&o, 0, sizeof(o));
    for (uint32_t c = 0; c < RVM_VMID_MAX_CPUS; c++) {
        o.held_vmid[c] = -1;
    }
    assert_null(oracle_replay(&o, &rec, 0, 2));
    hal_recorder_clear(&rec);
    assert_int_equal(hal->ops->s2_activate(hal->ctx, 1, 3, 7), RVM_OK); /* no invalidation */
    assert_non_null(oracle_replay(&o, &rec, 0, 2));
    /* Two partitions holding one VMID at once is caught too. */
    struct vmid_oracle o2;
    memset(&o2, 0, sizeof(o2));
    for (uint32_t c = 0; c < RVM_VMID_MAX_CPUS; c++) {
        o2.held_vmid[c] = -1;
    }
    hal_recorder_clear(&rec);
    assert_int_equal(hal->ops->s2_activate(hal->ctx, 0, 1, 9), RVM_OK);
    hal->ops->tlb_invalidate_vmid(hal->ctx, 9);
    assert_int_equal(hal->ops->s2_activate(hal->ctx, 1, 2, 9), RVM_OK);
    assert_non_null(oracle_replay(&o2, &rec, 0, 2));
    hal_recorder_free(&rec);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init_rejects_bad_configuration),
        cmocka_unit_test(test_assign_hit_and_records),
        cmocka_unit_test(test_reclaim_least_recently_used_with_invalidation),
        cmocka_unit_test(test_loaded_vmids_are_never_reclaimed),
        cmocka_unit_test(test_release),
        cmocka_unit_test(test_refusals_change_nothing),
        cmocka_unit_test(test_check_detects_corruption),
        cmocka_unit_test(test_random_more_partitions_than_vmids),
        cmocka_unit_test(test_oracle_catches_a_missing_invalidation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
