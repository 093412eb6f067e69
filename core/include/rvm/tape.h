/* SPDX-License-Identifier: MIT */
/*
 * The operation tape: a run of the kernel, fully resolved, as bytes that bare-metal firmware
 * replays through the same entry points.
 *
 * The simulator decides many things a kernel call depends on (the actor, the capability, the
 * nonce, the virtual time, which HAL call fails, how much of the log the sink accepts). The tape
 * holds all of it, so a replayer never decides anything: it reads a CALL entry, calls the entry
 * point with exactly those arguments, and answers every HAL question the kernel asks during that
 * call from the ANSWER entries that follow it, in order. Identical inputs at the kernel boundary
 * give an identical witness chain; that is what `rvmsim qemu` checks.
 *
 * Byte layout (little-endian throughout; docs/tape-format.md is the reference):
 *   header  RVM_TAPE_HEADER_BYTES: magic, version, configuration, keys, expected end, SHA-256
 *   body    a sequence of entries, each a multiple of 8 bytes, starting with
 *           u16 type, u16 code, u32 length (bytes, header included)
 * The SHA-256 at the end of the header covers the header before it and the whole body, so a
 * truncated or altered tape is refused before anything runs.
 *
 * Everything here is freestanding: the simulator's recorder encodes with these functions and the
 * firmware's interpreter decodes with them, so the two can never disagree about a field.
 */
#ifndef RVM_TAPE_H
#define RVM_TAPE_H

#include "rvm/error.h"
#include "rvm/hal.h"
#include "rvm/kernel.h"
#include "rvm/sha256.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RVM_TAPE_VERSION      1u
#define RVM_TAPE_HEADER_BYTES 512u
#define RVM_TAPE_KEY_MAX      64u   /* witness and capability key bytes a header carries */
#define RVM_TAPE_ARGS         8u    /* u64 arguments of a CALL */
#define RVM_TAPE_DATA_MAX     4096u /* payload bytes of a CALL (a boot image, a message) */
#define RVM_TAPE_CALL_BYTES   136u  /* a CALL entry without its payload */
#define RVM_TAPE_ANSWER_BYTES 24u
#define RVM_TAPE_END_BYTES    48u

/* Entry types. */
enum rvm_tape_type {
    RVM_TAPE_T_CALL = 1,   /* an entry point, its arguments and the result it must give */
    RVM_TAPE_T_ANSWER = 2, /* the HAL's answer to the next question of the running call */
    RVM_TAPE_T_END = 3,    /* the run ended: record count and log digest it must have */
};

/*
 * Entry points, with what args[] hold (handles packed generation << 32 | index). "auth" means
 * the CALL carries a struct rvm_kernel_auth (flag RVM_TAPE_F_AUTH).
 */
#define RVM_TAPE_ENTRIES(X)                                                                        \
    X(BOOT_PHASE, "boot_phase")                   /* a0 phase */                                   \
    X(BOOT_LOAD, "boot_load")                     /* a0 load_ipa a1 entry_pc a2,a3 args a4 urgency \
                                                     a5 affinity; data = image */                  \
    X(PARTITION_CREATE, "partition_create")       /* auth; a0 entry_pc a1,a2 args a3 affinity      \
                                                     a4 urgency */                                 \
    X(PARTITION_START, "partition_start")         /* auth; a0 partition */                         \
    X(PARTITION_SUSPEND, "partition_suspend")     /* auth; a0 partition */                         \
    X(PARTITION_RESUME, "partition_resume")       /* auth; a0 partition */                         \
    X(PARTITION_HIBERNATE, "partition_hibernate") /* auth; a0 partition */                         \
    X(PARTITION_RECONSTRUCT, "partition_reconstruct") /* auth; a0 partition */                     \
    X(PARTITION_DESTROY, "partition_destroy")         /* auth; a0 partition */                     \
    X(PARTITION_CHECKPOINT, "partition_checkpoint")   /* auth; a0 partition */                     \
    X(REGION_CREATE, "region_create")         /* auth; a0 owner a1 type a2 perms a3 pages */       \
    X(REGION_MAP, "region_map")               /* auth; a0 region a1 ipa a2 perms */                \
    X(REGION_UNMAP, "region_unmap")           /* auth; a0 region */                                \
    X(REGION_DESTROY, "region_destroy")       /* auth; a0 region */                                \
    X(REGION_SHARE, "region_share")           /* auth; a0 region a1 borrower a2 perms */           \
    X(CAP_GRANT, "cap_grant")                 /* a0 source a1 recipient a2 rights a3 badge */      \
    X(CAP_REVOKE, "cap_revoke")               /* a0 authority a1 target */                         \
    X(CAP_ATTENUATE, "cap_attenuate")         /* a0 cap a1 rights */                               \
    X(CAP_EPOCH_ADVANCE, "cap_epoch_advance") /* - */                                              \
    X(CAP_EPOCH_REVOKE, "cap_epoch_revoke")   /* a0 epoch */                                       \
    X(CHANNEL_CREATE, "channel_create")       /* auth; a0 sender a1 receiver */                    \
    X(CHANNEL_DESTROY, "channel_destroy")     /* auth; a0 channel */                               \
    X(IPC_SEND, "ipc_send")                   /* auth; a0 channel a1 tag; data = message */        \
    X(IPC_RECEIVE, "ipc_receive")             /* auth; a0 channel a1 buffer size */                \
    X(DEVICE_REGISTER, "device_register")     /* a0 irq */                                         \
    X(LEASE_GRANT, "lease_grant")             /* auth; a0 device a1 lessee a2 duration */          \
    X(LEASE_RENEW, "lease_renew")             /* auth; a0 device a1 duration */                    \
    X(LEASE_REVOKE, "lease_revoke")           /* auth; a0 device */                                \
    X(PARTITION_SPLIT, "partition_split")     /* auth; a0 source */                                \
    X(PARTITION_MERGE, "partition_merge")     /* auth (absorber); a0 absorber a1 absorbed          \
                                                 a2 cap a3 nonce a4 not_before a5 not_after of     \
                                                 the absorbed partition's authority */             \
    X(PARTITION_FAULT, "partition_fault")     /* a0 partition a1 reason */                         \
    X(GUEST_FAULT, "guest_fault")             /* cpu; a0 ipa */                                    \
    X(CORE_CRASH, "core_crash")               /* - */                                              \
    X(TIMER, "timer")                         /* cpu */                                            \
    X(EPOCH, "epoch")                         /* - */                                              \
    X(SCHEDULE, "schedule")                   /* cpu */                                            \
    X(IRQ, "irq")                             /* a0 irq */                                         \
    X(CPU_OFFLINE, "cpu_offline")             /* cpu */                                            \
    X(CPU_ONLINE, "cpu_online")               /* cpu */                                            \
    X(HYPERCALL, "hypercall")                 /* cpu; a0..a7 the guest's x0..x7 / a0..a7 */        \
    X(FLIP_IMAGE_BIT, "flip_image_bit")       /* a0 bit */                                         \
    X(WITNESS_FLUSH, "witness_flush")         /* the platform's witness driver drains */           \
    X(WITNESS_SEAL, "witness_seal")           /* the final checkpoint */                           \
    X(GUEST_ACCESS, "guest_access")           /* cpu; a0 0 read 1 write 2 fetch 3 read of an       \
                                                 M-mode register (RISC-V), a1 address, a2 the      \
                                                 8-byte value a write stores. Not a kernel call:   \
                                                 the guest's own instruction, performed by the     \
                                                 replayer's machine */

enum rvm_tape_entry {
#define RVM_TAPE_ENTRY_ENUM(id, name) RVM_TAPE_E_##id,
    RVM_TAPE_ENTRIES(RVM_TAPE_ENTRY_ENUM)
#undef RVM_TAPE_ENTRY_ENUM
        RVM_TAPE_E_COUNT
};

/* The HAL questions a call can ask whose answers come from the tape. */
#define RVM_TAPE_HOOKS(X)                                                                          \
    X(CLOCK, "clock_now_ns")            /* value: the time */                                      \
    X(TIMER_ARM, "timer_arm")           /* value: enum rvm_err */                                  \
    X(DRAIN, "witness_drain")           /* value: records the sink accepted */                     \
    X(CHECKPOINT, "witness_checkpoint") /* value: 1 accepted, 0 refused */                         \
    X(S2_MAP, "s2_map")                 /* value: enum rvm_err */                                  \
    X(S2_UNMAP, "s2_unmap")             /* value: enum rvm_err */                                  \
    X(S2_ACTIVATE, "s2_activate")       /* value: enum rvm_err */                                  \
    X(GUEST_READ, "guest_read")         /* value: enum rvm_err */                                  \
    X(GUEST_WRITE, "guest_write")       /* value: enum rvm_err */                                  \
    X(IRQ_CONFIGURE, "irq_configure")   /* value: enum rvm_err */                                  \
    X(COHERENCE, "coherence_budget")    /* value: the epoch's min-cut budget; only when injected */

enum rvm_tape_hook {
#define RVM_TAPE_HOOK_ENUM(id, name) RVM_TAPE_H_##id,
    RVM_TAPE_HOOKS(RVM_TAPE_HOOK_ENUM)
#undef RVM_TAPE_HOOK_ENUM
        RVM_TAPE_H_COUNT
};

/* CALL flags. */
#define RVM_TAPE_F_AUTH 0x1u /* the call carries an authority (struct rvm_kernel_auth) */

/* ANSWER flags. */
#define RVM_TAPE_A_INJECTED 0x1u /* a failure the simulator injected: do not perform, return it */

/* Why a tape was refused or a replay stopped: one name each, printed by the firmware. */
#define RVM_TAPE_STATUSES(X)                                                                       \
    X(OK, "ok")                                                                                    \
    X(TRUNCATED, "truncated") /* shorter than its header or an entry says */                       \
    X(BAD_MAGIC, "bad-magic")                                                                      \
    X(BAD_VERSION, "bad-version")                                                                  \
    X(BAD_CHECKSUM, "bad-checksum")                                                                \
    X(BAD_HEADER, "bad-header")           /* a configuration field out of range */                 \
    X(UNKNOWN_ENTRY, "unknown-entry")     /* an entry type, entry point or hook not known */       \
    X(BAD_LENGTH, "bad-length")           /* an entry's length does not fit its type */            \
    X(OUT_OF_RANGE, "out-of-range")       /* an argument no run could have recorded */             \
    X(RESULT_MISMATCH, "result-mismatch") /* the call returned another code than recorded */       \
    X(ANSWER_MISSING, "answer-missing")   /* the kernel asked a question the tape lacks */         \
    X(ANSWER_MISMATCH, "answer-mismatch") /* it asked another question than recorded */            \
    X(ANSWER_UNUSED, "answer-unused")     /* a recorded answer no question consumed */             \
    X(HAL_MISMATCH, "hal-mismatch")       /* the real hardware gave another result */              \
    X(END_MISMATCH, "end-mismatch")       /* record count or log digest differ at the end */       \
    X(NO_END, "no-end")                   /* the body ended without an END entry */

enum rvm_tape_status {
#define RVM_TAPE_STATUS_ENUM(id, name) RVM_TAPE_S_##id,
    RVM_TAPE_STATUSES(RVM_TAPE_STATUS_ENUM)
#undef RVM_TAPE_STATUS_ENUM
        RVM_TAPE_S_COUNT
};

const char *rvm_tape_entry_name(uint32_t entry);   /* "?" when unknown */
const char *rvm_tape_hook_name(uint32_t hook);     /* "?" when unknown */
const char *rvm_tape_status_name(uint32_t status); /* "?" when unknown */

/* The header, decoded. */
struct rvm_tape_header {
    uint32_t version;
    uint64_t seed;
    uint64_t body_bytes;
    uint64_t entries;
    struct rvm_kernel_config config; /* key pointers point into witness_key / cap_key below */
    uint8_t witness_key[RVM_TAPE_KEY_MAX];
    uint8_t cap_key[RVM_TAPE_KEY_MAX];
    uint64_t end_records;                        /* records the run's log holds at the end */
    uint8_t end_digest[RVM_SHA256_DIGEST_BYTES]; /* its log digest */
};

/* A CALL, decoded. `data` points into the tape (or the caller's buffer when encoding). */
struct rvm_tape_call {
    uint32_t entry; /* enum rvm_tape_entry */
    uint32_t cpu;
    uint32_t flags; /* RVM_TAPE_F_* */
    rvm_partition_id actor;
    int32_t expect;   /* enum rvm_err the call returned when recorded */
    uint64_t time_ns; /* virtual time when it was made (informational; the clock is answered) */
    struct rvm_kernel_auth auth;
    uint64_t args[RVM_TAPE_ARGS];
    const uint8_t *data;
    uint32_t data_len;
};

struct rvm_tape_answer {
    uint32_t hook;  /* enum rvm_tape_hook */
    uint32_t flags; /* RVM_TAPE_A_* */
    uint64_t value;
};

struct rvm_tape_end {
    uint64_t records;
    uint8_t digest[RVM_SHA256_DIGEST_BYTES];
};

struct rvm_tape_item {
    uint32_t type; /* enum rvm_tape_type */
    union {
        struct rvm_tape_call call;
        struct rvm_tape_answer answer;
        struct rvm_tape_end end;
    } u;
};

/* ------------------------------------------------------------------------------------------------
 * Encoding (the recorder)
 * --------------------------------------------------------------------------------------------- */

/* Bytes the encoding of `c` takes (its payload padded to 8). */
size_t rvm_tape_call_bytes(const struct rvm_tape_call *c);

/* Encode into `out` (room for rvm_tape_call_bytes); returns the bytes written, 0 when the call
 * cannot be represented (unknown entry, payload too long). */
size_t rvm_tape_encode_call(uint8_t *out, size_t room, const struct rvm_tape_call *c);
/* Set the result of an encoded CALL (a recorder learns it after the call's answers). */
void rvm_tape_set_expect(uint8_t *call, int32_t result);

size_t rvm_tape_encode_answer(uint8_t out[RVM_TAPE_ANSWER_BYTES], const struct rvm_tape_answer *a);
size_t rvm_tape_encode_end(uint8_t out[RVM_TAPE_END_BYTES], const struct rvm_tape_end *e);

/* The header bytes for `h` without its checksum (the last 32 bytes are left zero); false when a
 * field cannot be represented (key longer than RVM_TAPE_KEY_MAX). */
bool rvm_tape_encode_header(uint8_t out[RVM_TAPE_HEADER_BYTES], const struct rvm_tape_header *h);

/* Fill in the checksum of a complete tape (header followed by its body). */
void rvm_tape_seal(const struct rvm_crypto *crypto, uint8_t *tape, size_t len);

/* ------------------------------------------------------------------------------------------------
 * Decoding (the interpreter)
 * --------------------------------------------------------------------------------------------- */

struct rvm_tape_reader {
    const uint8_t *body;
    uint64_t len;
    uint64_t pos;
    uint64_t index; /* entries read so far */
    uint32_t ncpus;
};

/* Check a whole tape (magic, version, checksum, header fields, body length) and decode its
 * header; the reader is then positioned at the first entry. Nothing of the tape is trusted
 * before this returns OK. */
enum rvm_tape_status rvm_tape_open(struct rvm_tape_reader *r, struct rvm_tape_header *h,
                                   const struct rvm_crypto *crypto, const uint8_t *tape,
                                   size_t len);

/* The next entry; NO_END when the body is exhausted. Every field is range-checked. */
enum rvm_tape_status rvm_tape_next(struct rvm_tape_reader *r, struct rvm_tape_item *item);

/* ------------------------------------------------------------------------------------------------
 * Calling the kernel
 * --------------------------------------------------------------------------------------------- */

/* What a call gave back besides its result code (handles packed generation << 32 | index). */
struct rvm_tape_outputs {
    uint64_t out[3];
    uint32_t count; /* released capabilities, fault class */
    struct rvm_kernel_msg msg;
    uint8_t data[RVM_KERNEL_MSG_MAX];
};

/* Make the call `c` on `k`: the one place where a resolved call becomes a kernel entry point,
 * used by the simulator when it records and by the firmware when it replays. An argument wider
 * than the entry point's parameter (a u32, u16 or u8 in rvm/kernel.h), or a receive buffer above
 * RVM_KERNEL_MSG_MAX, is refused with RVM_ERR_OUT_OF_RANGE before the kernel sees the call. */
enum rvm_err rvm_tape_apply(struct rvm_kernel *k, const struct rvm_tape_call *c,
                            struct rvm_tape_outputs *out);

static inline uint64_t rvm_tape_pack(struct rvm_handle h)
{
    return (uint64_t)h.generation << 32 | h.index;
}

static inline struct rvm_handle rvm_tape_unpack(uint64_t v)
{
    struct rvm_handle h = {(uint32_t)v, (uint32_t)(v >> 32)};
    return h;
}

#endif
