/* SPDX-License-Identifier: MIT */
/*
 * The kernel target's life cycle: create (the platform, storage for the largest CPU count, the
 * registry and model tables), destroy, and reset (RAM back to zeros where the last run wrote, the
 * platform to its initial state, the kernel initialised and booted, the registry rebuilt).
 */
#include "target_kernel_internal.h"

#include "fingerprint.h"

#include <stdlib.h>
#include <string.h>

static void kernel_config(const struct kt *t, uint32_t ncpus, struct rvm_kernel_config *c)
{
    const uint64_t *p = t->prm;
    rvm_kernel_default_config(c);
    c->arch = t->riscv ? RVM_VCPU_RISCV64 : RVM_VCPU_AARCH64;
    c->ncpus = ncpus;
    c->nvmids = p[P_VMIDS] != 0 ? (uint32_t)p[P_VMIDS] : ncpus + 2u;
    c->ram_base = t->guest_base;
    c->ram_pages = t->guest_pages;
    c->max_order = 6;
    c->max_partitions = (uint32_t)p[P_PARTITIONS];
    c->max_caps = (uint32_t)p[P_CAPS];
    c->max_regions = (uint32_t)p[P_REGIONS];
    c->max_channels = (uint32_t)p[P_CHANNELS];
    c->queue_depth = 4;
    c->msg_bytes = 32;
    c->max_devices = (uint32_t)p[P_DEVICES];
    c->witness_ring = (uint32_t)p[P_RING];
    c->checkpoint_interval = p[P_CHECKPOINT];
    c->coherence_nodes = p[P_COHERENCE] != 0 ? c->max_partitions : 0;
    c->scratch_pages = 4;
    c->image_bytes = 32u * 1024u;
    c->max_images = 2u * c->max_regions;
    c->epoch_ns = p[P_EPOCH];
    c->slice_ns = p[P_SLICE];
    c->max_lease_ns = 2 * MS;
    c->max_window_ns = 1000 * MS;
    c->max_caps_per_partition = c->max_caps / 2u;
    c->apply_decisions = p[P_COHERENCE] == 2u;
}

void kt_destroy(void *inst)
{
    struct kt *t = inst;
    if (t == NULL) {
        return;
    }
    rvm_sim_platform_free(&t->plat);
    kt_tape_free(&t->tape);
    free(t->storage);
    free(t->ram_dirty);
    for (uint32_t c = 0; c < NCLS; c++) {
        free(t->known[c]);
        free(t->maxgen[c]);
    }
    free(t->msgs);
    free(t->msg_head);
    free(t->msg_count);
    free(t->msg_gen);
    free(t->msg_unknown);
    free(t->mark);
    free(t->payload);
    free(t->rxbuf);
    free(t->progressed);
    free(t->nw_copy);
    free(t);
}

void *kt_create(const uint64_t *p)
{
    struct kt *t = calloc(1, sizeof(*t));
    if (t == NULL) {
        return NULL;
    }
    memcpy(t->prm, p, sizeof(t->prm));
    t->riscv = p[P_RISCV] != 0;
    t->oracles = p[P_ORACLES] != 0;
    if ((p[P_RING] & (p[P_RING] - 1u)) != 0) {
        free(t);
        return NULL;
    }
    struct rvm_sim_platform_config pc;
    rvm_sim_platform_kernel_config(&pc, t->riscv ? RVM_SIM_ARCH_RISCV : RVM_SIM_ARCH_AARCH64,
                                   (uint32_t)p[P_PARTITIONS], p[P_RAM_PAGES]);
    struct rvm_crypto none = {0};
    if (rvm_sim_platform_init(&t->plat, &none, &pc) != RVM_OK) {
        free(t);
        return NULL;
    }
    uint64_t gsize;
    rvm_sim_platform_guest_ram(&t->plat, &t->guest_base, &gsize);
    t->guest_pages = (uint32_t)(gsize / PAGE);
    t->ram_dirty = calloc(t->guest_pages, 1);

    /* Storage for the largest CPU count the platform has; a run uses what its `cpus` needs. */
    kernel_config(t, RVM_SIM_PLATFORM_MAX_CPUS, &t->cfg);
    if (t->cfg.nvmids < RVM_SIM_PLATFORM_MAX_CPUS + 2u) {
        t->cfg.nvmids = RVM_SIM_PLATFORM_MAX_CPUS + 2u; /* sizing only: a run checks its own */
    }
    t->storage_bytes = rvm_kernel_storage_bytes(&t->cfg);
    if (t->storage_bytes == 0 || t->ram_dirty == NULL) {
        kt_destroy(t);
        return NULL;
    }
    t->storage = aligned_alloc(64, (t->storage_bytes + 63u) & ~(size_t)63u);
    t->nslots[CLS_PARTITION] = t->cfg.max_partitions;
    t->nslots[CLS_REGION] = t->cfg.max_regions;
    t->nslots[CLS_CHANNEL] = t->cfg.max_channels;
    t->nslots[CLS_DEVICE] = t->cfg.max_devices;
    t->nslots[CLS_CAP] = t->cfg.max_caps;
    bool ok = t->storage != NULL;
    for (uint32_t c = 0; c < NCLS && ok; c++) {
        t->known[c] = calloc(t->nslots[c] + 1u, sizeof(uint32_t));
        t->maxgen[c] = calloc(t->nslots[c] + 1u, sizeof(uint32_t));
        ok = t->known[c] != NULL && t->maxgen[c] != NULL;
    }
    uint32_t nch = t->cfg.max_channels + 1u;
    t->msgs = calloc((size_t)nch * t->cfg.queue_depth, sizeof(*t->msgs));
    t->msg_head = calloc(nch, sizeof(uint32_t));
    t->msg_count = calloc(nch, sizeof(uint32_t));
    t->msg_gen = calloc(nch, sizeof(uint32_t));
    t->msg_unknown = calloc(nch, 1);
    t->mark = calloc(t->guest_pages + 1u, 1);
    t->payload = calloc(RVM_KERNEL_MSG_MAX + 64u, 1);
    t->rxbuf = calloc(RVM_KERNEL_MSG_MAX + 64u, 1);
    t->progressed = calloc(t->cfg.max_partitions + 1u, 1);
    t->nw_copy = calloc(kt_nw_copy_bytes(&t->cfg), 1);
    ok = ok && t->msgs != NULL && t->msg_head != NULL && t->msg_count != NULL &&
         t->msg_gen != NULL && t->msg_unknown != NULL && t->mark != NULL && t->payload != NULL &&
         t->rxbuf != NULL && t->progressed != NULL && t->nw_copy != NULL;
    if (!ok) {
        kt_destroy(t);
        return NULL;
    }
    rvm_fingerprint_provider(&t->fp);
    kt_hal_init(t);
    return t;
}

static const uint8_t cap_key[32] = "rvmsim kernel target: cap MACs";
const uint8_t kt_image_bytes[64] = "rvmsim kernel target: a boot image; its bytes are measured";

/* The measured boot with `images` partition images, through the kernel's boot entry points. */
static enum rvm_err boot_all(struct kt *t)
{
    struct rvm_kernel *k = &t->k;
    struct kt_call call;
    struct kt_result res;
    for (uint32_t ph = 0; ph < RVM_BOOT_ROOT_PARTITION; ph++) {
        kt_call_init(&call, KT_BOOT_PHASE);
        call.arg.boot_phase = ph;
        enum rvm_err err = kt_call_kernel(k, &t->tape, &call, &res);
        if (err != RVM_OK) {
            return err;
        }
    }
    for (uint32_t i = 0; i < t->prm[P_IMAGES]; i++) {
        struct rvm_kernel_image img = {kt_image_bytes,
                                       sizeof(kt_image_bytes),
                                       0x10000000u + i * 0x100000u,
                                       0x10000000u + i * 0x100000u,
                                       {i, 0},
                                       100,
                                       0};
        if (t->riscv) {
            struct rvm_buddy_alloc_plan plan; /* PMP does not translate: load where it lands */
            if (rvm_buddy_prepare_alloc(&k->ram, 0, &plan) != RVM_OK) {
                return RVM_ERR_NO_MEMORY;
            }
            img.load_ipa = img.entry_pc = k->ram.base + (uint64_t)plan.page * PAGE;
        }
        kt_call_init(&call, KT_BOOT_LOAD);
        call.arg.boot_load = img;
        enum rvm_err err = kt_call_kernel(k, &t->tape, &call, &res);
        if (err != RVM_OK) {
            return err;
        }
    }
    for (uint32_t ph = RVM_BOOT_ROOT_PARTITION; ph < RVM_KERNEL_BOOT_PHASES; ph++) {
        kt_call_init(&call, KT_BOOT_PHASE);
        call.arg.boot_phase = ph;
        enum rvm_err err = kt_call_kernel(k, &t->tape, &call, &res);
        if (err != RVM_OK) {
            return err;
        }
    }
    return RVM_OK;
}

enum rvm_err kt_reset(void *inst, const struct rvm_sim_setup *s, struct rvm_sim *sim)
{
    struct kt *t = inst;
    if (s->ncpus > RVM_SIM_PLATFORM_MAX_CPUS) {
        return RVM_ERR_INVALID_ARGUMENT;
    }
    t->sim = sim;
    t->eng = s->hal;
    t->ncpus = s->ncpus;
    t->hal.crypto = s->hal->crypto;

    /* RAM back to zeros where the last run wrote, the platform to its initial state */
    if (t->ram_all_dirty) {
        memset(rvm_sim_platform_ram(&t->plat, t->guest_base, (uint64_t)t->guest_pages * PAGE), 0,
               (size_t)t->guest_pages * PAGE);
        memset(t->ram_dirty, 0, t->guest_pages);
    } else {
        for (uint32_t p = 0; p < t->guest_pages; p++) {
            if (t->ram_dirty[p] != 0) {
                memset(rvm_sim_platform_ram(&t->plat, t->guest_base + (uint64_t)p * PAGE, PAGE), 0,
                       PAGE);
                t->ram_dirty[p] = 0;
            }
        }
    }
    t->ram_all_dirty = false;
    rvm_sim_platform_reset(&t->plat);

    kernel_config(t, s->ncpus, &t->cfg);
    t->cfg.witness_key = s->hmac_key;
    t->cfg.witness_key_len = s->hmac_key_len;
    /* The capability link-MAC key is the target's, not the run's: MACs reach the records through
     * StateDigest, and a recorded run (rvmsim shrink) must replay to the same log with any seed. */
    t->cfg.cap_key = cap_key;
    t->cfg.cap_key_len = sizeof(cap_key);
    kt_tape_reset(&t->tape, s->tape, s->hal); /* init's questions are the tape's first answers */
    enum rvm_err err = rvm_kernel_init(&t->k, &t->hal, &t->cfg, t->storage, t->storage_bytes);
    if (err != RVM_OK) {
        return err;
    }
    for (uint32_t c = 0; c < NCLS; c++) {
        memset(t->known[c], 0, sizeof(uint32_t) * t->nslots[c]);
        memset(t->maxgen[c], 0, sizeof(uint32_t) * t->nslots[c]);
    }
    memset(t->msg_count, 0, sizeof(uint32_t) * (t->cfg.max_channels + 1u));
    memset(t->msg_gen, 0, sizeof(uint32_t) * (t->cfg.max_channels + 1u));
    memset(t->msg_unknown, 0, t->cfg.max_channels + 1u);
    memset(t->progressed, 0, t->cfg.max_partitions + 1u);
    t->next_nonce = 1;
    t->ref_valid = t->sref_valid = false;
    t->nw_calls = t->nw_slices = 0;
    t->dirty = D_ISO | D_MAP | D_SCHED;
    t->since_full = t->since_cross = t->since_digest_check = 0;
    t->coh_epoch = 0;
    t->checks = t->fingerprints = t->hostile = t->guest_accesses = 0;
    t->coh_unavailable_left = t->coh_short_left = 0;
    t->probe_bits = 0;
    t->last_class = t->last_released = 0;
    t->has_pending = false;
    t->primary = NONE_H;
    t->primary_cls = -1;
    /* the sink-ready interrupt drains the log, as the platform's witness driver would */
    err = s->hal->ops->irq_configure(s->hal->ctx, RVM_SIM_IRQ_SINK_READY, 0, true);
    if (err == RVM_OK && t->prm[P_BOOT] != 0) {
        err = boot_all(t);
    }
    if (err == RVM_OK) {
        kt_sync_objects(t);
    }
    return err;
}
