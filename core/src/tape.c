/* SPDX-License-Identifier: MIT */
/*
 * The operation tape (rvm/tape.h): encoder, validating decoder, and the one function that turns
 * a resolved call into a kernel entry point.
 *
 * Fault model: the decoder reads bytes that crossed a file system and a QEMU loader. It trusts
 * nothing: the checksum is verified over the whole tape first, then every entry's type, length
 * and fields are range-checked before any of it reaches the kernel; the kernel itself then
 * refuses hostile arguments as it refuses them from a guest.
 */
#include "rvm/tape.h"

#include "rvm/bytes.h"

/* Header layout (docs/tape-format.md). */
#define HDR_MAGIC       0u
#define HDR_VERSION     8u
#define HDR_SIZE        12u
#define HDR_BODY        16u
#define HDR_ENTRIES     24u
#define HDR_SEED        32u
#define HDR_CONFIG      40u
#define HDR_KEY_LENS    264u
#define HDR_WITNESS_KEY 272u
#define HDR_CAP_KEY     336u
#define HDR_END_RECORDS 400u
#define HDR_END_DIGEST  408u
#define HDR_RESERVED    440u
#define HDR_CHECKSUM    480u

/* CALL layout. */
#define CALL_CPU      8u
#define CALL_FLAGS    12u
#define CALL_ACTOR    16u
#define CALL_EXPECT   20u
#define CALL_TIME     24u
#define CALL_AUTH     32u
#define CALL_ARGS     64u
#define CALL_DATA_LEN 128u

static const uint8_t tape_magic[8] = {'R', 'V', 'M', 'T', 'A', 'P', 'E', 0};

/* The configuration fields in header order, each stored as a u64. */
enum cfg_width { W8 = 1, W32 = 4, W64 = 8 };
struct cfg_field {
    uint16_t offset;
    uint8_t width;
};
#define CFG(f, w)                                                                                  \
    {                                                                                              \
        (uint16_t) offsetof(struct rvm_kernel_config, f), w                                        \
    }
static const struct cfg_field cfg_fields[] = {
    CFG(arch, W8),
    CFG(ncpus, W32),
    CFG(nvmids, W32),
    CFG(ram_base, W64),
    CFG(ram_pages, W32),
    CFG(max_order, W32),
    CFG(max_partitions, W32),
    CFG(max_caps, W32),
    CFG(max_regions, W32),
    CFG(max_channels, W32),
    CFG(queue_depth, W32),
    CFG(msg_bytes, W32),
    CFG(max_devices, W32),
    CFG(witness_ring, W32),
    CFG(checkpoint_interval, W64),
    CFG(coherence_nodes, W32),
    CFG(scratch_pages, W32),
    CFG(image_bytes, W32),
    CFG(max_images, W32),
    CFG(epoch_ns, W64),
    CFG(slice_ns, W64),
    CFG(max_lease_ns, W64),
    CFG(max_window_ns, W64),
    CFG(restart_limit, W32),
    CFG(recovery_epochs, W32),
    CFG(max_caps_per_partition, W32),
    CFG(max_delegation_depth, W8),
    CFG(apply_decisions, W8),
};
#undef CFG
#define NCFG (sizeof(cfg_fields) / sizeof(cfg_fields[0]))
_Static_assert(HDR_CONFIG + 8u * NCFG == HDR_KEY_LENS, "header layout");

/* The display name of each X-macro entry (entry points, hooks, statuses). */
#define TAPE_NAME(id, name) name,
static const char *const entry_names[] = {RVM_TAPE_ENTRIES(TAPE_NAME)};
static const char *const hook_names[] = {RVM_TAPE_HOOKS(TAPE_NAME)};
static const char *const status_names[] = {RVM_TAPE_STATUSES(TAPE_NAME)};
#undef TAPE_NAME

const char *rvm_tape_entry_name(uint32_t entry)
{
    return entry < RVM_TAPE_E_COUNT ? entry_names[entry] : "?";
}

const char *rvm_tape_hook_name(uint32_t hook)
{
    return hook < RVM_TAPE_H_COUNT ? hook_names[hook] : "?";
}

const char *rvm_tape_status_name(uint32_t status)
{
    return status < RVM_TAPE_S_COUNT ? status_names[status] : "?";
}

static uint64_t cfg_get(const struct rvm_kernel_config *c, const struct cfg_field *f)
{
    const uint8_t *p = (const uint8_t *)c + f->offset;
    if (f->width == W8) {
        return *p;
    }
    if (f->width == W32) {
        uint32_t v;
        rvm_memcpy(&v, p, sizeof(v));
        return v;
    }
    uint64_t v;
    rvm_memcpy(&v, p, sizeof(v));
    return v;
}

/* false when `v` does not fit the field */
static bool cfg_set(struct rvm_kernel_config *c, const struct cfg_field *f, uint64_t v)
{
    uint8_t *p = (uint8_t *)c + f->offset;
    if (f->width == W8) {
        if (v > UINT8_MAX) {
            return false;
        }
        *p = (uint8_t)v;
        return true;
    }
    if (f->width == W32) {
        if (v > UINT32_MAX) {
            return false;
        }
        uint32_t w = (uint32_t)v;
        rvm_memcpy(p, &w, sizeof(w));
        return true;
    }
    rvm_memcpy(p, &v, sizeof(v));
    return true;
}

static uint32_t pad8(uint32_t n)
{
    return (n + 7u) & ~7u;
}

/* ------------------------------------------------------------------------------------------------
 * Encoding
 * --------------------------------------------------------------------------------------------- */

static void entry_header(uint8_t *out, uint32_t type, uint32_t code, uint32_t bytes)
{
    rvm_store_le16(out, (uint16_t)type);
    rvm_store_le16(out + 2, (uint16_t)code);
    rvm_store_le32(out + 4, bytes);
}

size_t rvm_tape_call_bytes(const struct rvm_tape_call *c)
{
    return RVM_TAPE_CALL_BYTES + pad8(c->data_len);
}

size_t rvm_tape_encode_call(uint8_t *out, size_t room, const struct rvm_tape_call *c)
{
    if (c->entry >= RVM_TAPE_E_COUNT || c->data_len > RVM_TAPE_DATA_MAX ||
        (c->data_len != 0 && c->data == NULL)) {
        return 0;
    }
    const uint32_t bytes = RVM_TAPE_CALL_BYTES + pad8(c->data_len);
    if (room < bytes) {
        return 0;
    }
    rvm_memset(out, 0, bytes);
    entry_header(out, RVM_TAPE_T_CALL, c->entry, bytes);
    rvm_store_le32(out + CALL_CPU, c->cpu);
    rvm_store_le32(out + CALL_FLAGS, c->flags);
    rvm_store_le32(out + CALL_ACTOR, c->actor);
    rvm_store_le32(out + CALL_EXPECT, (uint32_t)c->expect);
    rvm_store_le64(out + CALL_TIME, c->time_ns);
    rvm_store_le64(out + CALL_AUTH, rvm_tape_pack(c->auth.cap));
    rvm_store_le64(out + CALL_AUTH + 8, c->auth.nonce);
    rvm_store_le64(out + CALL_AUTH + 16, c->auth.not_before_ns);
    rvm_store_le64(out + CALL_AUTH + 24, c->auth.not_after_ns);
    for (uint32_t i = 0; i < RVM_TAPE_ARGS; i++) { /* bound: RVM_TAPE_ARGS */
        rvm_store_le64(out + CALL_ARGS + 8u * i, c->args[i]);
    }
    rvm_store_le32(out + CALL_DATA_LEN, c->data_len);
    if (c->data_len != 0) {
        rvm_memcpy(out + RVM_TAPE_CALL_BYTES, c->data, c->data_len);
    }
    return bytes;
}

void rvm_tape_set_expect(uint8_t *call, int32_t result)
{
    rvm_store_le32(call + CALL_EXPECT, (uint32_t)result);
}

size_t rvm_tape_encode_answer(uint8_t out[RVM_TAPE_ANSWER_BYTES], const struct rvm_tape_answer *a)
{
    rvm_memset(out, 0, RVM_TAPE_ANSWER_BYTES);
    entry_header(out, RVM_TAPE_T_ANSWER, a->hook, RVM_TAPE_ANSWER_BYTES);
    rvm_store_le32(out + 8, a->flags);
    rvm_store_le64(out + 16, a->value);
    return RVM_TAPE_ANSWER_BYTES;
}

size_t rvm_tape_encode_end(uint8_t out[RVM_TAPE_END_BYTES], const struct rvm_tape_end *e)
{
    entry_header(out, RVM_TAPE_T_END, 0, RVM_TAPE_END_BYTES);
    rvm_store_le64(out + 8, e->records);
    rvm_memcpy(out + 16, e->digest, RVM_SHA256_DIGEST_BYTES);
    return RVM_TAPE_END_BYTES;
}

bool rvm_tape_encode_header(uint8_t out[RVM_TAPE_HEADER_BYTES], const struct rvm_tape_header *h)
{
    const struct rvm_kernel_config *c = &h->config;
    if (c->witness_key_len > RVM_TAPE_KEY_MAX || c->cap_key_len > RVM_TAPE_KEY_MAX ||
        (c->witness_key_len != 0 && c->witness_key == NULL) ||
        (c->cap_key_len != 0 && c->cap_key == NULL)) {
        return false;
    }
    rvm_memset(out, 0, RVM_TAPE_HEADER_BYTES);
    rvm_memcpy(out + HDR_MAGIC, tape_magic, sizeof(tape_magic));
    rvm_store_le32(out + HDR_VERSION, RVM_TAPE_VERSION);
    rvm_store_le32(out + HDR_SIZE, RVM_TAPE_HEADER_BYTES);
    rvm_store_le64(out + HDR_BODY, h->body_bytes);
    rvm_store_le64(out + HDR_ENTRIES, h->entries);
    rvm_store_le64(out + HDR_SEED, h->seed);
    for (uint32_t i = 0; i < NCFG; i++) { /* bound: NCFG */
        rvm_store_le64(out + HDR_CONFIG + 8u * i, cfg_get(c, &cfg_fields[i]));
    }
    rvm_store_le32(out + HDR_KEY_LENS, c->witness_key_len);
    rvm_store_le32(out + HDR_KEY_LENS + 4, c->cap_key_len);
    if (c->witness_key_len != 0) {
        rvm_memcpy(out + HDR_WITNESS_KEY, c->witness_key, c->witness_key_len);
    }
    if (c->cap_key_len != 0) {
        rvm_memcpy(out + HDR_CAP_KEY, c->cap_key, c->cap_key_len);
    }
    rvm_store_le64(out + HDR_END_RECORDS, h->end_records);
    rvm_memcpy(out + HDR_END_DIGEST, h->end_digest, RVM_SHA256_DIGEST_BYTES);
    return true;
}

static void tape_checksum(const struct rvm_crypto *crypto, const uint8_t *tape, size_t len,
                          uint8_t out[RVM_SHA256_DIGEST_BYTES])
{
    struct rvm_sha256_ctx ctx;
    rvm_sha256_init(&ctx, crypto);
    rvm_sha256_update(&ctx, tape, HDR_CHECKSUM);
    rvm_sha256_update(&ctx, tape + RVM_TAPE_HEADER_BYTES, len - RVM_TAPE_HEADER_BYTES);
    rvm_sha256_final(&ctx, out);
}

void rvm_tape_seal(const struct rvm_crypto *crypto, uint8_t *tape, size_t len)
{
    if (len < RVM_TAPE_HEADER_BYTES) {
        return;
    }
    tape_checksum(crypto, tape, len, tape + HDR_CHECKSUM);
}

/* ------------------------------------------------------------------------------------------------
 * Decoding
 * --------------------------------------------------------------------------------------------- */

enum rvm_tape_status rvm_tape_open(struct rvm_tape_reader *r, struct rvm_tape_header *h,
                                   const struct rvm_crypto *crypto, const uint8_t *tape, size_t len)
{
    rvm_memset(r, 0, sizeof(*r));
    rvm_memset(h, 0, sizeof(*h));
    if (len < RVM_TAPE_HEADER_BYTES) {
        return RVM_TAPE_S_TRUNCATED;
    }
    if (!rvm_ct_equal(tape + HDR_MAGIC, tape_magic, sizeof(tape_magic))) {
        return RVM_TAPE_S_BAD_MAGIC;
    }
    h->version = rvm_load_le32(tape + HDR_VERSION);
    if (h->version != RVM_TAPE_VERSION || rvm_load_le32(tape + HDR_SIZE) != RVM_TAPE_HEADER_BYTES) {
        return RVM_TAPE_S_BAD_VERSION;
    }
    h->body_bytes = rvm_load_le64(tape + HDR_BODY);
    if (h->body_bytes != (uint64_t)(len - RVM_TAPE_HEADER_BYTES)) {
        return h->body_bytes > (uint64_t)(len - RVM_TAPE_HEADER_BYTES) ? RVM_TAPE_S_TRUNCATED
                                                                       : RVM_TAPE_S_BAD_LENGTH;
    }
    uint8_t sum[RVM_SHA256_DIGEST_BYTES];
    tape_checksum(crypto, tape, len, sum);
    if (!rvm_ct_equal(sum, tape + HDR_CHECKSUM, sizeof(sum))) {
        return RVM_TAPE_S_BAD_CHECKSUM;
    }
    h->entries = rvm_load_le64(tape + HDR_ENTRIES);
    h->seed = rvm_load_le64(tape + HDR_SEED);
    for (uint32_t i = 0; i < NCFG; i++) { /* bound: NCFG */
        if (!cfg_set(&h->config, &cfg_fields[i], rvm_load_le64(tape + HDR_CONFIG + 8u * i))) {
            return RVM_TAPE_S_BAD_HEADER;
        }
    }
    const uint32_t wlen = rvm_load_le32(tape + HDR_KEY_LENS);
    const uint32_t clen = rvm_load_le32(tape + HDR_KEY_LENS + 4);
    if (wlen > RVM_TAPE_KEY_MAX || clen > RVM_TAPE_KEY_MAX || h->config.ncpus == 0 ||
        h->config.ncpus > RVM_KERNEL_MAX_CPUS) {
        return RVM_TAPE_S_BAD_HEADER;
    }
    for (uint32_t i = HDR_RESERVED; i < HDR_CHECKSUM; i++) { /* bound: reserved bytes */
        if (tape[i] != 0) {
            return RVM_TAPE_S_BAD_HEADER;
        }
    }
    rvm_memcpy(h->witness_key, tape + HDR_WITNESS_KEY, RVM_TAPE_KEY_MAX);
    rvm_memcpy(h->cap_key, tape + HDR_CAP_KEY, RVM_TAPE_KEY_MAX);
    h->config.witness_key = h->witness_key;
    h->config.witness_key_len = wlen;
    h->config.cap_key = h->cap_key;
    h->config.cap_key_len = clen;
    h->end_records = rvm_load_le64(tape + HDR_END_RECORDS);
    rvm_memcpy(h->end_digest, tape + HDR_END_DIGEST, RVM_SHA256_DIGEST_BYTES);
    r->body = tape + RVM_TAPE_HEADER_BYTES;
    r->len = h->body_bytes;
    r->ncpus = h->config.ncpus;
    return RVM_TAPE_S_OK;
}

static enum rvm_tape_status decode_call(const struct rvm_tape_reader *r, const uint8_t *e,
                                        uint32_t code, uint32_t bytes, struct rvm_tape_call *c)
{
    if (bytes < RVM_TAPE_CALL_BYTES) {
        return RVM_TAPE_S_BAD_LENGTH;
    }
    if (code >= RVM_TAPE_E_COUNT) {
        return RVM_TAPE_S_UNKNOWN_ENTRY;
    }
    c->entry = code;
    c->cpu = rvm_load_le32(e + CALL_CPU);
    c->flags = rvm_load_le32(e + CALL_FLAGS);
    c->actor = rvm_load_le32(e + CALL_ACTOR);
    c->expect = (int32_t)rvm_load_le32(e + CALL_EXPECT);
    c->time_ns = rvm_load_le64(e + CALL_TIME);
    c->auth.cap = rvm_tape_unpack(rvm_load_le64(e + CALL_AUTH));
    c->auth.nonce = rvm_load_le64(e + CALL_AUTH + 8);
    c->auth.not_before_ns = rvm_load_le64(e + CALL_AUTH + 16);
    c->auth.not_after_ns = rvm_load_le64(e + CALL_AUTH + 24);
    for (uint32_t i = 0; i < RVM_TAPE_ARGS; i++) { /* bound: RVM_TAPE_ARGS */
        c->args[i] = rvm_load_le64(e + CALL_ARGS + 8u * i);
    }
    c->data_len = rvm_load_le32(e + CALL_DATA_LEN);
    if (c->data_len > RVM_TAPE_DATA_MAX || bytes != RVM_TAPE_CALL_BYTES + pad8(c->data_len)) {
        return RVM_TAPE_S_BAD_LENGTH;
    }
    c->data = c->data_len != 0 ? e + RVM_TAPE_CALL_BYTES : NULL;
    if (c->cpu >= r->ncpus || (c->flags & ~RVM_TAPE_F_AUTH) != 0) {
        return RVM_TAPE_S_OUT_OF_RANGE;
    }
    if (c->entry == RVM_TAPE_E_IPC_RECEIVE && c->args[1] > RVM_KERNEL_MSG_MAX) {
        return RVM_TAPE_S_OUT_OF_RANGE; /* the replayer's receive buffer */
    }
    return RVM_TAPE_S_OK;
}

enum rvm_tape_status rvm_tape_next(struct rvm_tape_reader *r, struct rvm_tape_item *item)
{
    rvm_memset(item, 0, sizeof(*item));
    const uint64_t left = r->len - r->pos;
    if (left == 0) {
        return RVM_TAPE_S_NO_END;
    }
    if (left < 8u) {
        return RVM_TAPE_S_TRUNCATED;
    }
    const uint8_t *e = r->body + r->pos;
    const uint32_t type = rvm_load_le16(e);
    const uint32_t code = rvm_load_le16(e + 2);
    const uint32_t bytes = rvm_load_le32(e + 4);
    if (bytes > left) {
        return RVM_TAPE_S_TRUNCATED;
    }
    if (bytes < 8u || (bytes & 7u) != 0) {
        return RVM_TAPE_S_BAD_LENGTH;
    }
    enum rvm_tape_status st;
    item->type = type;
    switch (type) {
    case RVM_TAPE_T_CALL:
        st = decode_call(r, e, code, bytes, &item->u.call);
        break;
    case RVM_TAPE_T_ANSWER:
        if (bytes != RVM_TAPE_ANSWER_BYTES) {
            return RVM_TAPE_S_BAD_LENGTH;
        }
        item->u.answer.hook = code;
        item->u.answer.flags = rvm_load_le32(e + 8);
        item->u.answer.value = rvm_load_le64(e + 16);
        st = code >= RVM_TAPE_H_COUNT                             ? RVM_TAPE_S_UNKNOWN_ENTRY
             : (item->u.answer.flags & ~RVM_TAPE_A_INJECTED) != 0 ? RVM_TAPE_S_OUT_OF_RANGE
                                                                  : RVM_TAPE_S_OK;
        break;
    case RVM_TAPE_T_END:
        if (bytes != RVM_TAPE_END_BYTES) {
            return RVM_TAPE_S_BAD_LENGTH;
        }
        item->u.end.records = rvm_load_le64(e + 8);
        rvm_memcpy(item->u.end.digest, e + 16, RVM_SHA256_DIGEST_BYTES);
        st = RVM_TAPE_S_OK;
        break;
    default:
        return RVM_TAPE_S_UNKNOWN_ENTRY;
    }
    if (st == RVM_TAPE_S_OK) {
        r->pos += bytes;
        r->index++;
    }
    return st;
}

/* ------------------------------------------------------------------------------------------------
 * Calling the kernel
 * --------------------------------------------------------------------------------------------- */

static struct rvm_handle H(uint64_t v) {
    return rvm_tape_unpack(v);
}

/* Entry points with an authority and one handle argument. */
static enum rvm_err
apply_one(struct rvm_kernel *k, const struct rvm_tape_call *c, const struct rvm_kernel_auth *auth)
{
    const rvm_partition_id a = c->actor;
    const struct rvm_handle h = H(c->args[0]);
    switch (c->entry) {
    case RVM_TAPE_E_PARTITION_START:
        return rvm_kernel_partition_start(k, a, auth, h);
    case RVM_TAPE_E_PARTITION_SUSPEND:
        return rvm_kernel_partition_suspend(k, a, auth, h);
    case RVM_TAPE_E_PARTITION_RESUME:
        return rvm_kernel_partition_resume(k, a, auth, h);
    case RVM_TAPE_E_PARTITION_HIBERNATE:
        return rvm_kernel_partition_hibernate(k, a, auth, h);
    case RVM_TAPE_E_PARTITION_RECONSTRUCT:
        return rvm_kernel_partition_reconstruct(k, a, auth, h);
    case RVM_TAPE_E_PARTITION_DESTROY:
        return rvm_kernel_partition_destroy(k, a, auth, h);
    case RVM_TAPE_E_PARTITION_CHECKPOINT:
        return rvm_kernel_partition_checkpoint(k, a, auth, h);
    case RVM_TAPE_E_REGION_UNMAP:
        return rvm_kernel_region_unmap(k, a, auth, h);
    case RVM_TAPE_E_REGION_DESTROY:
        return rvm_kernel_region_destroy(k, a, auth, h);
    case RVM_TAPE_E_CHANNEL_DESTROY:
        return rvm_kernel_channel_destroy(k, a, auth, h);
    case RVM_TAPE_E_LEASE_REVOKE:
        return rvm_kernel_lease_revoke(k, a, auth, h);
    default:
        return RVM_ERR_INVALID_ARGUMENT;
    }
}

/* Entry points that create objects (their handles go to out->out[]). */
static enum rvm_err apply_create(struct rvm_kernel *k, const struct rvm_tape_call *c,
                                 const struct rvm_kernel_auth *auth, struct rvm_tape_outputs *out)
{
    const rvm_partition_id a = c->actor;
    const uint64_t *x = c->args;
    struct rvm_handle h0 = rvm_cap_no_handle(), h1 = rvm_cap_no_handle(), h2 = rvm_cap_no_handle();
    enum rvm_err err = RVM_ERR_INVALID_ARGUMENT;
    switch (c->entry) {
    case RVM_TAPE_E_BOOT_LOAD: {
        struct rvm_kernel_image img = {c->data,      c->data_len,    x[0], x[1],
                                       {x[2], x[3]}, (uint16_t)x[4], x[5]};
        err = x[4] > UINT16_MAX ? RVM_ERR_OUT_OF_RANGE : rvm_kernel_boot_load(k, &img, &h0);
        break;
    }
    case RVM_TAPE_E_PARTITION_CREATE: {
        struct rvm_kernel_partition_req req = {x[0], {x[1], x[2]}, x[3], (uint16_t)x[4]};
        err = x[4] > UINT16_MAX ? RVM_ERR_OUT_OF_RANGE
                                : rvm_kernel_partition_create(k, a, auth, &req, &h0, &h1);
        break;
    }
    case RVM_TAPE_E_REGION_CREATE:
        err = x[1] > UINT32_MAX || x[2] > UINT32_MAX || x[3] > UINT32_MAX
                  ? RVM_ERR_OUT_OF_RANGE
                  : rvm_kernel_region_create(k, a, auth, H(x[0]), (uint32_t)x[1], (uint32_t)x[2],
                                             (uint32_t)x[3], &h0, &h1);
        break;
    case RVM_TAPE_E_REGION_SHARE:
        err = x[2] > UINT32_MAX
                  ? RVM_ERR_OUT_OF_RANGE
                  : rvm_kernel_region_share(k, a, auth, H(x[0]), H(x[1]), (uint32_t)x[2], &h0, &h1);
        break;
    case RVM_TAPE_E_CAP_GRANT:
        err = x[2] > UINT8_MAX
                  ? RVM_ERR_OUT_OF_RANGE
                  : rvm_kernel_cap_grant(k, a, H(x[0]), H(x[1]), (uint8_t)x[2], x[3], &h0);
        break;
    case RVM_TAPE_E_CHANNEL_CREATE:
        err = rvm_kernel_channel_create(k, a, auth, H(x[0]), H(x[1]), &h0, &h1, &h2);
        break;
    case RVM_TAPE_E_DEVICE_REGISTER:
        err = x[0] > UINT32_MAX ? RVM_ERR_OUT_OF_RANGE
                                : rvm_kernel_device_register(k, a, (uint32_t)x[0], &h0, &h1);
        break;
    case RVM_TAPE_E_LEASE_GRANT:
        err = rvm_kernel_lease_grant(k, a, auth, H(x[0]), H(x[1]), x[2], &h0);
        break;
    case RVM_TAPE_E_PARTITION_SPLIT:
        err = rvm_kernel_partition_split(k, a, auth, H(x[0]), &h0);
        break;
    default:
        break;
    }
    out->out[0] = rvm_tape_pack(h0);
    out->out[1] = rvm_tape_pack(h1);
    out->out[2] = rvm_tape_pack(h2);
    return err;
}

enum rvm_err rvm_tape_apply(struct rvm_kernel *k, const struct rvm_tape_call *c,
                            struct rvm_tape_outputs *out)
{
    /* not the message buffer: a receive fills what it returns, and clearing 256 bytes per call
     * would cost every simulated step */
    rvm_memset(out->out, 0, sizeof(out->out));
    out->count = 0;
    rvm_memset(&out->msg, 0, sizeof(out->msg));
    const struct rvm_kernel_auth *auth = (c->flags & RVM_TAPE_F_AUTH) != 0 ? &c->auth : NULL;
    const rvm_partition_id a = c->actor;
    const uint64_t *x = c->args;
    switch (c->entry) {
    case RVM_TAPE_E_BOOT_PHASE:
        return x[0] > UINT32_MAX ? RVM_ERR_OUT_OF_RANGE : rvm_kernel_boot_phase(k, (uint32_t)x[0]);
    case RVM_TAPE_E_BOOT_LOAD:
    case RVM_TAPE_E_PARTITION_CREATE:
    case RVM_TAPE_E_REGION_CREATE:
    case RVM_TAPE_E_REGION_SHARE:
    case RVM_TAPE_E_CAP_GRANT:
    case RVM_TAPE_E_CHANNEL_CREATE:
    case RVM_TAPE_E_DEVICE_REGISTER:
    case RVM_TAPE_E_LEASE_GRANT:
    case RVM_TAPE_E_PARTITION_SPLIT:
        return apply_create(k, c, auth, out);
    case RVM_TAPE_E_REGION_MAP:
        return x[2] > UINT32_MAX ? RVM_ERR_OUT_OF_RANGE
                                 : rvm_kernel_region_map(k, a, auth, H(x[0]), x[1], (uint32_t)x[2]);
    case RVM_TAPE_E_CAP_REVOKE:
        return rvm_kernel_cap_revoke(k, a, H(x[0]), H(x[1]), &out->count);
    case RVM_TAPE_E_CAP_ATTENUATE:
        return x[1] > UINT8_MAX ? RVM_ERR_OUT_OF_RANGE
                                : rvm_kernel_cap_attenuate(k, a, H(x[0]), (uint8_t)x[1]);
    case RVM_TAPE_E_CAP_EPOCH_ADVANCE:
        return rvm_kernel_cap_epoch_advance(k, a);
    case RVM_TAPE_E_CAP_EPOCH_REVOKE:
        return x[0] > UINT32_MAX ? RVM_ERR_OUT_OF_RANGE
                                 : rvm_kernel_cap_epoch_revoke(k, a, (uint32_t)x[0], &out->count);
    case RVM_TAPE_E_IPC_SEND:
        return rvm_kernel_ipc_send(k, a, auth, H(x[0]), c->data, c->data_len, x[1], &out->out[0]);
    case RVM_TAPE_E_IPC_RECEIVE:
        return x[1] > RVM_KERNEL_MSG_MAX ? RVM_ERR_OUT_OF_RANGE
                                         : rvm_kernel_ipc_receive(k, a, auth, H(x[0]), out->data,
                                                                  (uint32_t)x[1], &out->msg);
    case RVM_TAPE_E_LEASE_RENEW:
        return rvm_kernel_lease_renew(k, a, auth, H(x[0]), x[1]);
    case RVM_TAPE_E_PARTITION_MERGE: {
        const struct rvm_kernel_auth absorbed = {H(x[2]), x[3], x[4], x[5]};
        return rvm_kernel_partition_merge(k, a, auth, H(x[0]), &absorbed, H(x[1]));
    }
    case RVM_TAPE_E_PARTITION_FAULT:
        return x[1] > UINT32_MAX
                   ? RVM_ERR_OUT_OF_RANGE
                   : rvm_kernel_partition_fault(k, H(x[0]), (uint32_t)x[1], &out->count);
    case RVM_TAPE_E_GUEST_FAULT:
        return rvm_kernel_guest_fault(k, c->cpu, x[0], &out->count);
    case RVM_TAPE_E_CORE_CRASH:
        return rvm_kernel_core_crash(k);
    case RVM_TAPE_E_TIMER:
        return rvm_kernel_timer(k, c->cpu);
    case RVM_TAPE_E_EPOCH:
        return rvm_kernel_epoch(k);
    case RVM_TAPE_E_SCHEDULE:
        return rvm_kernel_schedule(k, c->cpu);
    case RVM_TAPE_E_IRQ:
        return x[0] > UINT32_MAX ? RVM_ERR_OUT_OF_RANGE : rvm_kernel_irq(k, (uint32_t)x[0]);
    case RVM_TAPE_E_CPU_OFFLINE:
        return rvm_kernel_cpu_offline(k, c->cpu);
    case RVM_TAPE_E_CPU_ONLINE:
        return rvm_kernel_cpu_online(k, c->cpu);
    case RVM_TAPE_E_HYPERCALL:
        rvm_kernel_trap_args(k, c->cpu, x);
        return rvm_kernel_hypercall(k, c->cpu);
    case RVM_TAPE_E_FLIP_IMAGE_BIT:
        return rvm_kernel_flip_image_bit(k, x[0]);
    case RVM_TAPE_E_WITNESS_FLUSH:
        return rvm_witness_flush(&k->log);
    case RVM_TAPE_E_WITNESS_SEAL:
        return rvm_witness_close(&k->log, NULL);
    default:
        return apply_one(k, c, auth);
    }
}
