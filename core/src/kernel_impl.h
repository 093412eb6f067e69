/* SPDX-License-Identifier: MIT */
/*
 * Internal to the kernel's own sources (core/src/kernel*.c): the operation frame every entry point
 * uses and helpers shared between the files. Not an API; names carry rvm_kernel__ (two
 * underscores) like the scheduler's internal functions.
 *
 * An entry point is written as
 *
 *     struct rvm_kop op;
 *     err = rvm_kernel__begin(&op, k, actor, KIND, target);          decode: booted, actor live
 *     err = rvm_kernel__gate(&op, auth, tier, type, rights, object);  P1 (P2, P3); actor 0: none
 *     ... validate everything; on failure return rvm_kernel__refuse(&op, stage, err) ...
 *     ... fallible platform requests (after rvm_kernel__reserve), undone on a later refusal ...
 *     err = rvm_kernel__append(&op, flags, payload, aux);             the one record; nonce spent
 *     ... commit: subsystem prepare/commit pairs that cannot fail now ...
 *
 * Every refusal path appends exactly one ProofRejected record. A commit step that fails although
 * everything was validated is a kernel bug: rvm_kernel__must() records it in k->internal_error,
 * which rvm_kernel_check() reports.
 */
#ifndef RVM_KERNEL_IMPL_H
#define RVM_KERNEL_IMPL_H

#include "rvm/bytes.h"
#include "rvm/kernel.h"

struct rvm_kop {
    struct rvm_kernel *k;
    rvm_partition_id actor;
    uint8_t kind;
    uint8_t tier; /* highest proof tier passed */
    uint32_t cap_hash;
    uint64_t target;
    bool gated;
    struct rvm_gate_plan gate;
};

enum rvm_err rvm_kernel__begin(struct rvm_kop *op, struct rvm_kernel *k, rvm_partition_id actor,
                               uint8_t kind, uint64_t target);
enum rvm_err rvm_kernel__gate(struct rvm_kop *op, const struct rvm_kernel_auth *auth, uint8_t tier,
                              uint8_t cap_type, uint8_t rights, struct rvm_handle object);
enum rvm_err rvm_kernel__refuse(struct rvm_kop *op, uint8_t stage, enum rvm_err err);
/* Refuse an event the platform delivered (timer, interrupt, CPU hot-plug) at the decode stage, as
 * the hypervisor: there is no requesting partition and no gate. */
enum rvm_err rvm_kernel__refuse_event(struct rvm_kernel *k, uint8_t kind, uint64_t target,
                                      enum rvm_err err);
enum rvm_err rvm_kernel__reserve(struct rvm_kop *op, uint32_t n);
enum rvm_err rvm_kernel__append(struct rvm_kop *op, uint8_t flags, uint64_t payload, uint64_t aux);
void rvm_kernel__must(struct rvm_kernel *k, enum rvm_err err);

/* A record the kernel writes on its own (actor 0, tier 0): internal events. */
enum rvm_err rvm_kernel__event(struct rvm_kernel *k, uint8_t kind, uint8_t flags, uint64_t target,
                               uint64_t payload, uint64_t aux);

static inline uint64_t rvm_kernel__now(const struct rvm_kernel *k)
{
    return rvm_hal_now(k->hal);
}

/* ---- objects ------------------------------------------------------------------------------- */

enum rvm_err rvm_kernel__part_find(const struct rvm_kernel *k, struct rvm_handle h, uint32_t *slot);
enum rvm_err rvm_kernel__chan_find(const struct rvm_kernel *k, struct rvm_handle h, uint32_t *slot);
enum rvm_err rvm_kernel__dev_find(const struct rvm_kernel *k, struct rvm_handle h, uint32_t *slot);
bool rvm_kernel__part_live_id(const struct rvm_kernel *k, rvm_partition_id id);
struct rvm_handle rvm_kernel__part_handle(const struct rvm_kernel *k, uint32_t slot);
struct rvm_handle rvm_kernel__region_handle(const struct rvm_kernel *k, uint32_t slot);
/* Bump a slot's generation on release; false when it is exhausted (the slot is retired). */
uint32_t rvm_kernel__next_generation(uint32_t generation);

/* A new partition: a free slot (PARTITION_LIMIT), room for its two capabilities
 * (CAP_TABLE_FULL) and its graph node (GRAPH_FULL); the affinity names configured CPUs. */
enum rvm_err rvm_kernel__part_check_new(const struct rvm_kernel *k, uint64_t affinity,
                                        uint32_t *slot);
/* Create it (Created state): root capability for the creator, self capability, launch context,
 * graph node, fresh nonce domain. */
void rvm_kernel__part_commit_new(struct rvm_kernel *k, uint32_t slot, rvm_partition_id creator,
                                 const struct rvm_kernel_partition_req *req, bool graph_node);

/* The region slots (in slot order) owned by partition id, into k->order; returns how many. */
uint32_t rvm_kernel__regions_of(struct rvm_kernel *k, rvm_partition_id id);

/* Could the allocator back these regions (their orders), one after another, right now? */
bool rvm_kernel__alloc_feasible(const struct rvm_kernel *k, const uint32_t *regions, uint32_t n);

/* A register file as RVM_KERNEL_CTX_BYTES little-endian bytes (checkpoint images) and back. */
#define RVM_KERNEL_CTX_BYTES (132u * 8u)
void rvm_kernel__ctx_store(const struct rvm_vcpu_regs *r, uint8_t *out);
void rvm_kernel__ctx_load(const uint8_t *in, struct rvm_vcpu_regs *r);

/* ---- capabilities -------------------------------------------------------------------------- */

/* The handle the next mint or derive will create (the head of the free list). */
struct rvm_handle rvm_kernel__next_cap(const struct rvm_kernel *k);

/* At least n free capability slots (a bounded walk of the free list). */
bool rvm_kernel__caps_free(const struct rvm_kernel *k, uint32_t n);
/* Mint (as the hypervisor) and return the handle; the slot is known to be free. */
struct rvm_handle rvm_kernel__mint(struct rvm_kernel *k, uint8_t type, uint8_t rights,
                                   rvm_partition_id owner, struct rvm_handle object);
/* Derive from `source` (held by its owner) for `owner`; the table is known to have room. */
struct rvm_handle rvm_kernel__derive(struct rvm_kernel *k, struct rvm_handle source, uint8_t rights,
                                     rvm_partition_id owner);
/* Revoke one capability (with its subtree) if it is still live; returns how many went. */
uint32_t rvm_kernel__revoke_cap(struct rvm_kernel *k, struct rvm_handle cap);
/* Revoke every capability naming the object (type, handle); returns how many went. */
uint32_t rvm_kernel__revoke_object(struct rvm_kernel *k, uint8_t type, struct rvm_handle object);
/* Revoke every capability held by partition id (with its subtree); returns how many went. */
uint32_t rvm_kernel__revoke_held(struct rvm_kernel *k, rvm_partition_id id);
/* The root capability naming (type, object), or an invalid handle. */
struct rvm_handle rvm_kernel__root_cap(const struct rvm_kernel *k, uint8_t type,
                                       struct rvm_handle object);
/* End every lease whose capability is no longer live (after revocations). */
void rvm_kernel__leases_sync(struct rvm_kernel *k);

/* ---- scheduling and CPUs ------------------------------------------------------------------- */

/* Take a partition off its queue and CPU (its registers saved from the frame). No record. */
void rvm_kernel__stop(struct rvm_kernel *k, uint32_t slot);
/* Make a partition runnable: its placement re-applied and queued. No record. */
void rvm_kernel__run(struct rvm_kernel *k, uint32_t slot);
uint16_t rvm_kernel__pressure(const struct rvm_kernel *k, rvm_partition_id id);
/* A fresh vCPU context at the launch state (entry pc, own handle, self capability, args). */
void rvm_kernel__launch_ctx(struct rvm_kernel *k, uint32_t slot, struct rvm_handle self_cap);
/* Invalidate the TLB entries of a partition's VMID, if it has one. */
void rvm_kernel__tlb_flush(struct rvm_kernel *k, rvm_partition_id id);

/* ---- memory -------------------------------------------------------------------------------- */

void rvm_kernel__scrub(struct rvm_kernel *k, uint64_t hpa, uint32_t order);
/* Host pages a resident RAM region holds (2^order). */
uint32_t rvm_kernel__region_pages(const struct rvm_region *r);
bool rvm_kernel__region_is_ram(const struct rvm_region *r);

/* Images: allocation at the end of the store, freeing moves the tail down. */
uint32_t rvm_kernel__image_slot(const struct rvm_kernel *k);
bool rvm_kernel__images_free(const struct rvm_kernel *k, uint32_t n);
void rvm_kernel__image_free(struct rvm_kernel *k, uint32_t idx);
/*
 * Staged images: an operation that writes several images first stages them all beyond store_used
 * (packed, from store_used + 0), which sizes them without changing any state, then unstages each
 * in turn to store_used, seals it (rvm_compress_seal) and commits it, so every image is encoded
 * once. rvm_kernel__image_compress stages `raw` at store_used + offset (unhashed, content hash
 * zero). rvm_kernel__image_adopt gives a staged image the content hash of image `prev` (a
 * region's last checkpoint) when it has the same bytes (rvm_compress_adopt_hash), so sealing it
 * need not hash the contents again. rvm_kernel__image_unstage moves the staged image at store
 * offset *from down to store_used, advances *from past it and returns its length.
 */
enum rvm_err rvm_kernel__image_compress(struct rvm_kernel *k, uint32_t offset, const uint8_t *raw,
                                        size_t raw_len, uint32_t *len);
void rvm_kernel__image_adopt(struct rvm_kernel *k, uint32_t offset, uint32_t len, uint32_t prev);
uint32_t rvm_kernel__image_unstage(struct rvm_kernel *k, uint32_t *from);
/* Record the sealed image at store_used as image `idx`. */
void rvm_kernel__image_commit(struct rvm_kernel *k, uint32_t idx, uint8_t kind, uint32_t part_slot,
                              uint32_t region, uint32_t raw_len, uint32_t len,
                              const uint8_t hash[RVM_SHA256_DIGEST_BYTES]);
/* Verify and decode image idx into the scratch area (CORRUPT on any mismatch). */
enum rvm_err rvm_kernel__image_decode(struct rvm_kernel *k, uint32_t idx);
/* rvm_kernel__image_decode's result without decoding (the image's hash and header only,
 * rvm_compress_check): for a pass that decides before the pass that restores. */
enum rvm_err rvm_kernel__image_check(const struct rvm_kernel *k, uint32_t idx);

/* Undoable stage-2 changes: map / unmap through the HAL, remembered in k->undo so a later refusal
 * can put everything back. */
struct rvm_kernel_s2 {
    uint32_t n;
};
enum rvm_err rvm_kernel__s2_unmap(struct rvm_kernel *k, struct rvm_kernel_s2 *u, uint32_t region);
enum rvm_err rvm_kernel__s2_map(struct rvm_kernel *k, struct rvm_kernel_s2 *u, uint32_t region,
                                rvm_partition_id part, uint64_t ipa, uint32_t perms);
void rvm_kernel__s2_undo(struct rvm_kernel *k, struct rvm_kernel_s2 *u);

/* Receive shared by the API and the hypercall, which writes the message into guest memory at
 * `guest` before anything is dequeued (a guest buffer that cannot take it refuses the receive,
 * GUEST_FAULT, and the message stays queued). */
enum rvm_err rvm_kernel__ipc_receive(struct rvm_kernel *k, rvm_partition_id actor,
                                     const struct rvm_kernel_auth *auth, struct rvm_handle ch,
                                     void *buf, uint32_t cap, struct rvm_kernel_msg *msg,
                                     bool to_guest, uint64_t guest);

/* ---- composite commits shared by several operations ---------------------------------------- */

/* The commit half of destroying a partition (validation and platform requests done). Returns the
 * counts for the record. */
struct rvm_kernel_destroy_counts {
    uint32_t regions;
    uint32_t channels;
    uint32_t messages;
    uint32_t caps;
};
/* Stage-2 removals a destroy needs (its own mappings, other partitions' views of its regions). */
enum rvm_err rvm_kernel__destroy_unmap(struct rvm_kernel *k, struct rvm_kernel_s2 *u,
                                       uint32_t slot);
void rvm_kernel__destroy_commit(struct rvm_kernel *k, uint32_t slot,
                                struct rvm_kernel_destroy_counts *c);

/* Restore a partition's regions and vCPU from its checkpoint (F2 and F4). verify_only: check. */
enum rvm_err rvm_kernel__ckpt_restore(struct rvm_kernel *k, uint32_t slot, bool verify_only);

/* The hypervisor-driven split / merge of a coherence decision (the epoch pipeline). */
enum rvm_err rvm_kernel__apply_decision(struct rvm_kernel *k,
                                        const struct rvm_coherence_decision *d);

/* The incremental digest's storage (kernel_digest.c): bytes version 2 needs after the tables,
 * and its set-up over them. */
size_t rvm_kernel__digest_bytes(const struct rvm_kernel_config *cfg);
void rvm_kernel__digest_init(struct rvm_kernel *k, uint8_t *area);

/* The store's bytes under image `image` changed or may have (a commit, a free, a flipped bit):
 * its leaf is recomputed at the next digest even if its descriptor looks the same. */
void rvm_kernel__digest_touch_image(struct rvm_kernel *k, uint32_t image);

/* ---- canonical encodings of the kernel's own objects ---------------------------------------- */

/*
 * One encoder per object serves both state hashes: the version-1 stream (rvm_kernel_hash_ex) and
 * the version-2 digest's leaves (kernel_digest.c). The forms differ in two ways only: the stream
 * writes a slot's one-byte flags (used, kind, home_perms) as 32-bit words and stops after the
 * header of a slot that holds nothing; a leaf writes them as bytes and always in full. Each
 * encoder writes little-endian integers in declaration order into `out` (at least
 * RVM_KENC_MAX_BYTES) and returns the length, so a caller hashes an object with one update.
 */
enum rvm_kenc_form {
    RVM_KENC_STREAM,
    RVM_KENC_LEAF,
};

#define RVM_KENC_MAX_BYTES 72u /* the longest encoding below (a partition's, 70 bytes) */

static inline uint8_t *rvm_kenc_u8(uint8_t *p, uint8_t v)
{
    *p = v;
    return p + 1;
}

static inline uint8_t *rvm_kenc_u32(uint8_t *p, uint32_t v)
{
    rvm_store_le32(p, v);
    return p + 4;
}

static inline uint8_t *rvm_kenc_u64(uint8_t *p, uint64_t v)
{
    rvm_store_le64(p, v);
    return p + 8;
}

static inline uint8_t *rvm_kenc_handle(uint8_t *p, struct rvm_handle h)
{
    return rvm_kenc_u64(p, rvm_handle_pack(h));
}

/* A one-byte field the stream widens to a word. */
static inline uint8_t *rvm_kenc_flag(uint8_t *p, uint8_t v, enum rvm_kenc_form form)
{
    return form == RVM_KENC_STREAM ? rvm_kenc_u32(p, v) : rvm_kenc_u8(p, v);
}

/* A partition without its vCPU context (rvm_vcpu_hash follows it). `flags` is what to write for
 * p->flags: the stream without the scheduler's part masks RVM_KPART_F_RAN. */
static inline size_t rvm_kernel__encode_part(const struct rvm_kpart *p, uint8_t flags,
                                             enum rvm_kenc_form form, uint8_t *out)
{
    uint8_t *at = rvm_kenc_u32(out, p->generation);
    at = rvm_kenc_u8(at, p->state);
    at = rvm_kenc_u8(at, flags);
    if (form == RVM_KENC_STREAM && p->state == RVM_KPART_FREE) {
        return (size_t)(at - out);
    }
    at = rvm_kenc_u32(at, p->urgency);
    at = rvm_kenc_u32(at, p->creator);
    at = rvm_kenc_u32(at, p->restarts);
    at = rvm_kenc_u32(at, p->faults);
    at = rvm_kenc_u32(at, p->ckpt);
    at = rvm_kenc_u32(at, p->notifications);
    at = rvm_kenc_u64(at, p->affinity);
    at = rvm_kenc_handle(at, p->self_cap);
    at = rvm_kenc_u64(at, p->entry_pc);
    for (uint32_t j = 0; j < RVM_KERNEL_ARGS; j++) { /* bound: RVM_KERNEL_ARGS */
        at = rvm_kenc_u64(at, p->args[j]);
    }
    return (size_t)(at - out);
}

static inline size_t rvm_kernel__encode_kreg(const struct rvm_kreg *kr, enum rvm_kenc_form form,
                                             uint8_t *out)
{
    uint8_t *at = rvm_kenc_u64(out, kr->home_ipa);
    at = rvm_kenc_flag(at, kr->home_perms, form);
    at = rvm_kenc_u32(at, kr->image);
    at = rvm_kenc_u32(at, kr->ckpt);
    return (size_t)(at - out);
}

/* A channel without its messages (rvm_kernel__encode_msg for each, then its payload). */
static inline size_t rvm_kernel__encode_chan(const struct rvm_kchan *ch, enum rvm_kenc_form form,
                                             uint8_t *out)
{
    uint8_t *at = rvm_kenc_u32(out, ch->generation);
    at = rvm_kenc_flag(at, ch->used, form);
    if (form == RVM_KENC_STREAM && !ch->used) {
        return (size_t)(at - out);
    }
    at = rvm_kenc_u32(at, ch->a);
    at = rvm_kenc_u32(at, ch->b);
    at = rvm_kenc_u64(at, ch->next_seq);
    at = rvm_kenc_u64(at, ch->sent);
    at = rvm_kenc_u64(at, ch->received);
    at = rvm_kenc_u32(at, ch->count);
    return (size_t)(at - out);
}

/* A queued message's header (the same in both forms). */
static inline size_t rvm_kernel__encode_msg(const struct rvm_kmsg *m, uint8_t *out)
{
    uint8_t *at = rvm_kenc_u32(out, m->sender);
    at = rvm_kenc_u32(at, m->len);
    at = rvm_kenc_u64(at, m->seq);
    at = rvm_kenc_u64(at, m->tag);
    return (size_t)(at - out);
}

/* A device (the same in both forms). */
static inline size_t rvm_kernel__encode_dev(const struct rvm_kdev *d, uint8_t *out)
{
    uint8_t *at = rvm_kenc_u32(out, d->generation);
    at = rvm_kenc_u8(at, d->used);
    at = rvm_kenc_u8(at, d->leased);
    at = rvm_kenc_u32(at, d->irq);
    at = rvm_kenc_u32(at, d->holder);
    at = rvm_kenc_handle(at, d->lease_cap);
    at = rvm_kenc_u64(at, d->expires_ns);
    at = rvm_kenc_u64(at, d->delivered);
    return (size_t)(at - out);
}

/* An image's descriptor (a leaf adds the image's bytes in the store). */
static inline size_t rvm_kernel__encode_image(const struct rvm_kimage *im, enum rvm_kenc_form form,
                                              uint8_t *out)
{
    uint8_t *at = rvm_kenc_flag(out, im->used, form);
    if (form == RVM_KENC_STREAM && !im->used) {
        return (size_t)(at - out);
    }
    at = rvm_kenc_u32(at, im->off);
    at = rvm_kenc_u32(at, im->len);
    at = rvm_kenc_flag(at, im->kind, form);
    at = rvm_kenc_u32(at, im->part);
    at = rvm_kenc_u32(at, im->region);
    at = rvm_kenc_u32(at, im->raw_len);
    rvm_memcpy(at, im->hash, sizeof(im->hash));
    at += sizeof(im->hash);
    return (size_t)(at - out);
}

#endif /* RVM_KERNEL_IMPL_H */
