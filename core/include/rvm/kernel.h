/* SPDX-License-Identifier: MIT */
/*
 * The kernel: the object that owns every subsystem and the entry points a platform (the simulator,
 * firmware, tests) drives. docs/architecture.md ("The kernel") is the map; this header is the
 * reference.
 *
 * One struct rvm_kernel plus ONE caller-provided storage area that rvm_kernel_init carves up
 * (rvm_kernel_storage_bytes(cfg) tells how much), so firmware can use a static buffer. No other
 * memory is used.
 *
 * Objects. Partitions, regions, channels, devices and capability slots are named by handles
 * (slot index + generation, packed `generation << 32 | index` in registers and records). A
 * destroyed object's handle fails with RVM_ERR_STALE (a capability's with RVM_ERR_CAP_STALE) for
 * ever after: generations only grow, and a slot whose generation is exhausted is never reused.
 * The scheduler, VMID, coherence and region tables know partitions by a small integer id: the
 * partition's slot index + 1 (rvm_kernel_partition_id); 0 is the hypervisor.
 *
 * Entry points. Every operation goes decode -> security gate (P1, then P2/P3 where the operation
 * needs it; the hypervisor, actor 0, is trusted and passes no capability) -> the subsystems'
 * prepare -> ONE witness record -> commit. A refusal appends one ProofRejected record with the
 * stage and error (docs/witness-format.md). Operations that must ask the platform something that
 * can fail (stage-2 maps and unmaps) reserve their record first, ask, and undo what they asked
 * when a later request is refused, so a refusal leaves no trace. The table of operations, their
 * tiers and records is in docs/architecture.md; each function below names its record.
 *
 * Time. The kernel has no clock of its own: everything comes from the HAL. rvm_kernel_timer()
 * is a CPU's timer interrupt: a time slice (the scheduler's switch, not witnessed: DC-10) and,
 * when the kernel epoch is due, the epoch pipeline in this fixed order:
 *   1 scheduler epoch summary          (SchedulerEpoch)
 *   2 coherence epoch and decision     (CoherenceRecomputed, maybe MinCutBudgetExceeded,
 *                                       DegradedModeEntered/Exited; the scheduler follows the
 *                                       engine's degraded flag)
 *   3 the decision carried out, if cfg.apply_decisions (PartitionSplit / PartitionMerge or the
 *     refusal)
 *   4 memory tiers: cut values staged from coherence scores, recency decay (RegionTierEpoch)
 *   5 device lease expiry              (DeviceLeaseExpire per lease)
 *   6 recovery bookkeeping             (RecoveryExit when Recovery mode ends)
 *   7 the epoch's state digest         (StateDigestV2, or StateDigest with cfg.state_digest 1:
 *                                       rvm_kernel_state_digest)
 * All records of an epoch are reserved first: either the whole epoch happens or none of it.
 *
 * Not thread-safe: the platform serialises entry points (one big kernel lock).
 */
#ifndef RVM_KERNEL_H
#define RVM_KERNEL_H

#include "rvm/buddy.h"
#include "rvm/cap.h"
#include "rvm/coherence.h"
#include "rvm/compress.h"
#include "rvm/error.h"
#include "rvm/gate.h"
#include "rvm/hal.h"
#include "rvm/proof.h"
#include "rvm/region.h"
#include "rvm/sched.h"
#include "rvm/sha256.h"
#include "rvm/types.h"
#include "rvm/vcpu.h"
#include "rvm/vmid.h"
#include "rvm/witness.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RVM_KERNEL_MAX_PARTITIONS 1024u
#define RVM_KERNEL_MAX_CPUS       RVM_VMID_MAX_CPUS
#define RVM_KERNEL_ARGS           2u   /* user boot arguments of a partition */
#define RVM_KERNEL_MSG_MAX        256u /* largest message payload a configuration may allow */
#define RVM_KERNEL_NONE           UINT32_MAX
#define RVM_KERNEL_BOOT_PHASES    7u
#define RVM_KERNEL_ABI_VERSION    1u

/* ------------------------------------------------------------------------------------------------
 * Configuration
 * --------------------------------------------------------------------------------------------- */

struct rvm_kernel_config {
    /* The platform. */
    uint8_t arch;       /* enum rvm_vcpu_arch of the guests */
    uint32_t ncpus;     /* 1..64 */
    uint32_t nvmids;    /* hardware VMIDs including the hypervisor's 0: ncpus + 2 .. 256 */
    uint64_t ram_base;  /* page-aligned host-physical RAM the allocator hands to partitions */
    uint32_t ram_pages; /* 1..2^24 */
    uint32_t max_order; /* buddy max order, <= 20 */

    /* Capacities (every table lives in the storage area). */
    uint32_t max_partitions; /* 1..RVM_KERNEL_MAX_PARTITIONS */
    uint32_t max_caps;       /* 1..65536 */
    uint32_t max_regions;    /* 1..65536 */
    uint32_t max_channels;   /* 0..4096 */
    uint32_t queue_depth;    /* messages a channel holds, 1..1024 */
    uint32_t msg_bytes;      /* payload bytes per message, 8..RVM_KERNEL_MSG_MAX, multiple of 8 */
    uint32_t max_devices;    /* 0..4096 */
    uint32_t witness_ring;   /* records, power of two, 32..2^20 */
    uint64_t checkpoint_interval; /* witness checkpoint every K records (0: only seals) */
    const uint8_t *witness_key;   /* HMAC key of the witness checkpoints (copied) */
    uint32_t witness_key_len;     /* <= RVM_WITNESS_HMAC_KEY_MAX; non-NULL key if > 0 */
    const uint8_t *cap_key;       /* capability link-MAC key (copied); empty: no signed P3 */
    uint32_t cap_key_len;         /* <= RVM_CAP_MAC_KEY_MAX; non-NULL key if > 0 */
    uint32_t coherence_nodes;     /* 0: no coherence engine (DC-1); else >= max_partitions,
                                     2..RVM_GRAPH_MAX_CAPACITY */
    uint32_t scratch_pages;       /* staging for page contents: the largest region the kernel can
                                     hibernate or checkpoint. 0: no compression, so no hibernation
                                     and no checkpoints (RVM_ERR_UNSUPPORTED); <= 65536 */
    uint32_t image_bytes;         /* store for dormant images and checkpoints, <= 2^30 */
    uint32_t max_images;          /* image descriptors, <= 65536 */

    /* Policy. */
    uint64_t epoch_ns;               /* kernel epoch length (the tick pipeline), >= 1 */
    uint64_t slice_ns;               /* time slice: the timer is re-armed this far ahead, >= 1 */
    uint64_t max_lease_ns;           /* longest device lease, >= 1 */
    uint64_t max_window_ns;          /* P2: longest not_before..not_after window */
    uint32_t restart_limit;          /* DC-14: F1 -> F2 after this many failed restarts (3), >= 1 */
    uint32_t recovery_epochs;        /* epochs in Recovery mode after an F3 or F4 */
    uint32_t max_caps_per_partition; /* DC-11: the merged partition holds at most this many */
    uint8_t max_delegation_depth;    /* P2 policy, <= 8 */
    uint8_t apply_decisions;         /* carry out coherence split/merge decisions at the tick */

    /* The epoch's state digest (docs/incremental-state-digest.md): 1 = the full stream
     * (StateDigest records), 2 = the incremental Merkle digest (StateDigestV2 records), 0 = the
     * newest (2). Version 2 needs more storage (rvm_kernel_storage_bytes). */
    uint8_t state_digest;
};

/* A general-purpose configuration for the simulator and tests (64 partitions, 4 CPUs, ...). */
void rvm_kernel_default_config(struct rvm_kernel_config *cfg);

/*
 * RVM's "Seed" hardware profile (ADR-138): 16 partitions on one CPU, the coherence engine absent
 * (DC-1 as a deployment), small tables, no compression. Its static footprint,
 * sizeof(struct rvm_kernel) + rvm_kernel_storage_bytes(), is at most 64 KiB (DESIGN §7; checked
 * by tests/unit/test_kernel.c, which prints the figure).
 */
void rvm_kernel_seed_config(struct rvm_kernel_config *cfg);

/* Bytes of storage `cfg` needs (8-byte aligned area), or 0 for an invalid configuration. */
size_t rvm_kernel_storage_bytes(const struct rvm_kernel_config *cfg);

/* ------------------------------------------------------------------------------------------------
 * Objects
 * --------------------------------------------------------------------------------------------- */

enum rvm_kpart_state {
    RVM_KPART_FREE = 0,
    RVM_KPART_CREATED = 1,    /* exists, never ran: not schedulable */
    RVM_KPART_RUNNING = 2,    /* schedulable: queued or on a CPU */
    RVM_KPART_SUSPENDED = 3,  /* paused; memory resident and mapped */
    RVM_KPART_HIBERNATED = 4, /* paused; RAM regions compressed to Dormant images, unmapped */
};

#define RVM_KPART_F_CRITICAL 0x01u /* in recovery: dispatched first in Recovery mode */
#define RVM_KPART_F_RAN      0x02u /* dispatched since its last fault (DC-14 bookkeeping) */

struct rvm_kpart {
    uint32_t generation;      /* of the current occupant, or of the next one while free */
    uint8_t state;            /* enum rvm_kpart_state */
    uint8_t flags;            /* RVM_KPART_F_* */
    uint16_t urgency;         /* scheduler deadline urgency */
    rvm_partition_id creator; /* who created it (0: the hypervisor); owns its root capability */
    uint32_t restarts;        /* F1 restarts since it last ran a healthy epoch */
    uint32_t faults;          /* faults reported, ever */
    uint32_t ckpt;            /* image of its checkpointed vCPU context, or RVM_KERNEL_NONE */
    uint32_t notifications;   /* device interrupts delivered to it */
    uint64_t affinity;
    struct rvm_handle self_cap; /* the capability it was started with (boot argument) */
    uint64_t entry_pc;          /* launch state, for restarts */
    uint64_t args[RVM_KERNEL_ARGS];
    struct rvm_vcpu_ctx ctx; /* saved registers while not on a CPU */
};

/* Kernel-side state of a region slot (the region table has the rest). */
struct rvm_kreg {
    uint64_t home_ipa;  /* where the region is mapped while its owner is active */
    uint8_t home_perms; /* 0: no home mapping */
    uint8_t reserved[3];
    uint32_t image; /* Dormant: its image, or RVM_KERNEL_NONE */
    uint32_t ckpt;  /* checkpoint image of its contents, or RVM_KERNEL_NONE */
};

/* A channel: a bounded FIFO from `a` (the creator, which holds the root capability) to `b`. */
struct rvm_kchan {
    uint32_t generation;
    uint8_t used;
    uint8_t reserved[3];
    rvm_partition_id a; /* sender */
    rvm_partition_id b; /* receiver */
    uint32_t head;      /* oldest message */
    uint32_t count;
    uint64_t next_seq; /* stamped by the kernel on every message */
    uint64_t sent;
    uint64_t received;
};

struct rvm_kmsg {
    rvm_partition_id sender; /* stamped by the kernel */
    uint32_t len;
    uint64_t seq; /* stamped by the kernel */
    uint64_t tag;
};

struct rvm_kdev {
    uint32_t generation;
    uint8_t used;
    uint8_t leased;
    uint8_t reserved[2];
    uint32_t irq;
    rvm_partition_id holder;
    struct rvm_handle lease_cap; /* the capability the lease gave its holder */
    uint64_t expires_ns;         /* first instant the lease is over */
    uint64_t delivered;          /* interrupts delivered to holders */
};

enum rvm_kimage_kind {
    RVM_KIMAGE_DORMANT = 1,     /* a hibernated region's contents */
    RVM_KIMAGE_CKPT_REGION = 2, /* a region's contents at the last checkpoint */
    RVM_KIMAGE_CKPT_VCPU = 3,   /* a partition's vCPU context at the last checkpoint */
};

/* A compressed image in the image store. The store models memory outside the trusted core
 * (dormant or checkpoint memory); the hash here and in the region is the trusted copy. */
struct rvm_kimage {
    uint32_t off;
    uint32_t len;
    uint8_t used;
    uint8_t kind; /* enum rvm_kimage_kind */
    uint8_t reserved[2];
    rvm_partition_id part;                 /* the partition it belongs to */
    uint32_t region;                       /* region slot (RVM_KERNEL_NONE for a vCPU image) */
    uint32_t raw_len;                      /* bytes it decodes to */
    uint8_t hash[RVM_SHA256_DIGEST_BYTES]; /* SHA-256 of the image (compress.h checkpoint) */
};

/* A stage-2 change made through the HAL during an operation, kept so it can be undone. */
struct rvm_kernel_s2op {
    uint32_t region; /* region slot */
    uint8_t map;     /* 1: mapped (undo: unmap); 0: unmapped (undo: map) */
    uint8_t perms;
    uint8_t reserved[2];
    rvm_partition_id part;
    uint64_t ipa;
    uint64_t hpa;
    uint64_t size;
};

enum rvm_kernel_boot_phase {
    RVM_BOOT_HAL_INIT = 0,        /* measures the platform configuration */
    RVM_BOOT_MEMORY_INIT = 1,     /* the memory configuration */
    RVM_BOOT_CAPABILITY_INIT = 2, /* the capability and proof policy */
    RVM_BOOT_WITNESS_INIT = 3,    /* the witness configuration */
    RVM_BOOT_SCHEDULER_INIT = 4,  /* the scheduler, coherence and recovery policy */
    RVM_BOOT_ROOT_PARTITION = 5,  /* every partition image loaded (rvm_kernel_boot_load) */
    RVM_BOOT_HANDOFF = 6,         /* start the loaded partitions; BootComplete */
};

/* The incremental state digest (kernel_digest.c). Each table below has a fixed-shape binary
 * Merkle tree over its slots and a shadow copy of the bytes each leaf was computed from; at an
 * epoch a slot whose bytes differ from its shadow gets a new leaf and path. */
enum rvm_kdigest_table_id {
    RVM_KDIGEST_CAPS = 0,   /* capability slots */
    RVM_KDIGEST_NONCES = 1, /* nonce domains */
    RVM_KDIGEST_BUDDY = 2,  /* the allocator's tags and links, RVM_KDIGEST_BUDDY_CHUNK pages each */
    RVM_KDIGEST_REGIONS = 3, /* region slots with their kernel-side entry */
    RVM_KDIGEST_PARTS = 4,   /* partitions with their saved vCPU context */
    RVM_KDIGEST_CHANS = 5,   /* channels with their queued messages */
    RVM_KDIGEST_DEVS = 6,    /* devices */
    RVM_KDIGEST_IMAGES = 7,  /* image descriptors with the image bytes */
    RVM_KDIGEST_TABLES = 8,
};

#define RVM_KDIGEST_BUDDY_CHUNK 64u
#define RVM_KDIGEST_NODE_BYTES  32u
/* Heights of a tree: a span is at most 2^32, so a root is at most 32 levels above its leaves. */
#define RVM_KDIGEST_HEIGHTS     33u

struct rvm_kdigest_table {
    uint8_t *nodes;        /* 2 * span nodes: node 1 is the root, leaf i is node span + i */
    uint8_t *shadow;       /* count * shadow_bytes: a copy of each watched array in turn */
    uint32_t count;        /* leaves in use */
    uint32_t span;         /* power of two >= count (1 when count is 0) */
    uint32_t shadow_bytes; /* per leaf */
};

struct rvm_kdigest {
    struct rvm_kdigest_table t[RVM_KDIGEST_TABLES];
    uint8_t *blank;       /* node h: the root of a height-h subtree of blank leaves (h < heights) */
    uint64_t *store_sums; /* per image: its outside sum when its leaf was computed */
    uint64_t *payload_sums; /* per channel: its outside sum when its leaf was computed */
    uint32_t heights;       /* 1 + the largest tree height */
    uint8_t version;        /* cfg.state_digest resolved: 1 or 2 */
    uint8_t primed;         /* every leaf and shadow describes the state as of the last digest */
};

struct rvm_kernel {
    const struct rvm_hal *hal;
    struct rvm_kernel_config cfg; /* key pointers cleared: the keys live in the subsystems */
    struct rvm_witness_log log;
    struct rvm_cap_table caps;
    struct rvm_proof_nonces nonces; /* domain 0: the hypervisor; domain i: partition slot i - 1 */
    struct rvm_proof_ctx proof;
    struct rvm_buddy ram;
    struct rvm_region_table regions;
    struct rvm_sched sched;
    struct rvm_vmid_table vmids;
    struct rvm_coherence coh; /* used when cfg.coherence_nodes != 0 */

    /* Tables carved from the storage area. */
    struct rvm_kpart *parts;
    struct rvm_kreg *kregs; /* one per region slot */
    struct rvm_kchan *chans;
    struct rvm_kmsg *msgs; /* max_channels * queue_depth */
    uint8_t *msg_data;     /* max_channels * queue_depth * msg_bytes */
    struct rvm_kdev *devs;
    struct rvm_vcpu_cpu *cpus;
    struct rvm_kimage *images;
    uint8_t *store;   /* image_bytes */
    uint8_t *scratch; /* scratch_pages pages + room for a vCPU image */
    size_t scratch_bytes;
    struct rvm_compress_work *work; /* NULL without compression */
    uint8_t *bounce;                /* msg_bytes: a message between guest and queue */
    uint32_t *order;                /* max_regions: region slots an operation works on */
    struct rvm_kernel_s2op *undo;   /* 2 * max_regions: stage-2 changes an operation may undo */

    /* Image store. */
    uint32_t store_used; /* images are packed from offset 0; freeing one moves the tail down */

    /* Measured boot. */
    uint8_t boot_next; /* next phase expected; RVM_KERNEL_BOOT_PHASES when booted */
    uint8_t attestation[RVM_SHA256_DIGEST_BYTES];
    struct rvm_sha256_ctx images_ctx; /* the ROOT_PARTITION measurement, image by image */
    uint32_t images_loaded;

    /* Time and recovery. */
    uint64_t epoch;         /* kernel epochs completed */
    uint64_t next_epoch_ns; /* the epoch pipeline runs at the first timer at or after this */
    uint32_t recovery_left; /* epochs of Recovery mode left (0: not in recovery) */
    uint8_t mode_before_recovery;
    uint8_t internal_error; /* sticky: a commit step that cannot fail did (rvm_kernel_check) */
    uint64_t hypercalls;

    struct rvm_kdigest digest; /* version 2 only */
};

/* ------------------------------------------------------------------------------------------------
 * Life of the kernel
 * --------------------------------------------------------------------------------------------- */

/*
 * Set up every subsystem over `storage` (`bytes` >= rvm_kernel_storage_bytes(cfg), 8-byte
 * aligned). Nothing is witnessed: the first records are the boot phases. INVALID_ARGUMENT for a
 * bad configuration or storage.
 */
enum rvm_err rvm_kernel_init(struct rvm_kernel *k, const struct rvm_hal *hal,
                             const struct rvm_kernel_config *cfg, void *storage, size_t bytes);

/*
 * Measured boot. Phases run in order 0..6; each measures what it brings up with SHA-256
 * (the canonical encodings are in docs/architecture.md), extends the attestation digest
 *     A' = SHA-256(A || phase || measurement)      A starts as 32 zero bytes
 * and appends BootPhase (0x83): actor 0, target = phase, payload = measurement[0..8) and
 * aux = A'[0..8) (as little-endian u64). HANDOFF also starts every loaded partition and
 * appends BootComplete (0x81): target = partitions loaded, payload = A[0..8), aux = A[8..16).
 * A phase out of order is refused with BOOT_ORDER (witnessed); so is every other entry point
 * before HANDOFF (NOT_BOOTED), except rvm_kernel_boot_load during ROOT_PARTITION.
 */
enum rvm_err rvm_kernel_boot_phase(struct rvm_kernel *k, uint32_t phase);

/* Run every phase in order with no partition image (tests, the simulator's default). */
enum rvm_err rvm_kernel_boot(struct rvm_kernel *k);

/* A partition image loaded at boot. */
struct rvm_kernel_image {
    const uint8_t *data; /* copied into a CODE region (R|X) mapped at load_ipa */
    uint64_t len;        /* 1 .. RVM_REGION_MAX_PAGES pages */
    uint64_t load_ipa;
    uint64_t entry_pc;
    uint64_t args[RVM_KERNEL_ARGS];
    uint16_t urgency;
    uint64_t affinity; /* 0: every CPU */
};

/*
 * During ROOT_PARTITION (after SCHEDULER_INIT completed): create a partition (creator: the
 * hypervisor) from an image, measured into the phase: SHA-256(image) || LE64 len || LE64 load_ipa
 * || LE64 entry_pc. Record BootAttestation (0x80): target = partition handle, payload = image
 * SHA-256[0..8), aux = len. The partition starts at HANDOFF.
 */
enum rvm_err rvm_kernel_boot_load(struct rvm_kernel *k, const struct rvm_kernel_image *img,
                                  struct rvm_handle *out);

static inline bool rvm_kernel_booted(const struct rvm_kernel *k)
{
    return k->boot_next == RVM_KERNEL_BOOT_PHASES;
}

/* ------------------------------------------------------------------------------------------------
 * Authority presented with a request
 * --------------------------------------------------------------------------------------------- */

/* What a partition presents. Ignored for the hypervisor (actor 0). A zero time window means
 * "now" (not_before = not_after = the current time), which is what a synchronous hypercall is. */
struct rvm_kernel_auth {
    struct rvm_handle cap;
    uint64_t nonce; /* P2: fresh in the actor's nonce domain */
    uint64_t not_before_ns;
    uint64_t not_after_ns;
};

/* ------------------------------------------------------------------------------------------------
 * Partitions (kernel_partition.c). Authority: a Partition capability naming the partition, with
 * WRITE; creation: the actor's own partition (its "self" capability) with WRITE.
 * --------------------------------------------------------------------------------------------- */

struct rvm_kernel_partition_req {
    uint64_t entry_pc;
    uint64_t args[RVM_KERNEL_ARGS];
    uint64_t affinity; /* 0: every CPU */
    uint16_t urgency;
};

/*
 * Create (Created state): a vCPU context at entry_pc, a scheduler entry, a coherence node, a root
 * Partition capability (all rights) for the creator (the actor) and a "self" capability (READ |
 * WRITE | GRANT | PROVE) derived from it for the new partition, whose boot arguments are
 * x0/a0 = its own handle, x1/a1 = the self capability, then req->args. P1.
 * Record PartitionCreate (0x01): target = handle, payload = entry_pc, aux = root cap handle.
 * Errors: PARTITION_LIMIT, CAP_TABLE_FULL, GRAPH_FULL, INVALID_ARGUMENT (affinity, pc).
 */
enum rvm_err rvm_kernel_partition_create(struct rvm_kernel *k, rvm_partition_id actor,
                                         const struct rvm_kernel_auth *auth,
                                         const struct rvm_kernel_partition_req *req,
                                         struct rvm_handle *out, struct rvm_handle *root_cap);

/* Created -> Running (queued). P1. Record PartitionStart (0x0A): target = handle. */
enum rvm_err rvm_kernel_partition_start(struct rvm_kernel *k, rvm_partition_id actor,
                                        const struct rvm_kernel_auth *auth, struct rvm_handle p);

/* Running -> Suspended (off its queue and CPU; memory stays mapped). P1. PartitionSuspend. */
enum rvm_err rvm_kernel_partition_suspend(struct rvm_kernel *k, rvm_partition_id actor,
                                          const struct rvm_kernel_auth *auth, struct rvm_handle p);

/* Suspended -> Running; regions with a home mapping that are unmapped (after a reconstruct) are
 * mapped back. P1. Record PartitionResume (0x04): payload = regions mapped back. */
enum rvm_err rvm_kernel_partition_resume(struct rvm_kernel *k, rvm_partition_id actor,
                                         const struct rvm_kernel_auth *auth, struct rvm_handle p);

/*
 * Running | Suspended -> Hibernated: stopped, every mapping unmapped (home kept), every RAM region
 * compressed Hot/Warm -> Dormant into the image store and its pages scrubbed and freed. P2.
 * Record PartitionHibernate (0x07): payload = regions compressed, aux = image bytes.
 * Errors: UNSUPPORTED (no compression configured), WRONG_STATE (a region of it is viewed by
 * another partition), NO_SPACE (a region larger than the staging area, or the store is full).
 */
enum rvm_err rvm_kernel_partition_hibernate(struct rvm_kernel *k, rvm_partition_id actor,
                                            const struct rvm_kernel_auth *auth,
                                            struct rvm_handle p);

/*
 * Hibernated -> Suspended: every Dormant region verified against its checkpoint hash and restored
 * (Dormant -> Warm, fresh pages, contents written back); mappings come back at resume. Fails
 * closed: any image that does not verify refuses the whole operation (CORRUPT), as does too
 * little memory (NO_MEMORY). P2. Record PartitionReconstruct (0x08): payload = regions restored.
 */
enum rvm_err rvm_kernel_partition_reconstruct(struct rvm_kernel *k, rvm_partition_id actor,
                                              const struct rvm_kernel_auth *auth,
                                              struct rvm_handle p);

/*
 * Destroy (any state): leaves nothing behind. Every mapping of its regions and of views of them
 * is removed (TLBs invalidated), its regions destroyed and their pages scrubbed, its channels
 * destroyed (queued messages dropped and counted), its device leases ended, every capability it
 * holds or that names one of its objects revoked, its images freed, its scheduler entry, VMID,
 * coherence node and nonce domain released; partitions it created are adopted by the hypervisor.
 * P2. Record PartitionDestroy (0x02): payload = regions | channels << 16 | messages dropped << 32,
 * aux = capabilities it held.
 */
enum rvm_err rvm_kernel_partition_destroy(struct rvm_kernel *k, rvm_partition_id actor,
                                          const struct rvm_kernel_auth *auth, struct rvm_handle p);

/*
 * Checkpoint (Running or Suspended): every RAM region's contents and the vCPU context compressed
 * into the image store under SHA-256 hashes kept in the kernel, replacing the previous
 * checkpoint; F2 and F3 restore from it. P2. Record CheckpointCreated (0x72): target = handle,
 * payload = regions, aux = image bytes. Errors as hibernate.
 */
enum rvm_err rvm_kernel_partition_checkpoint(struct rvm_kernel *k, rvm_partition_id actor,
                                             const struct rvm_kernel_auth *auth,
                                             struct rvm_handle p);

/* Queries (read-only). */
enum rvm_err rvm_kernel_partition_lookup(const struct rvm_kernel *k, struct rvm_handle p,
                                         uint32_t *slot);
static inline rvm_partition_id rvm_kernel_partition_id(struct rvm_handle p)
{
    return p.index + 1u;
}
struct rvm_handle rvm_kernel_partition_handle(const struct rvm_kernel *k, rvm_partition_id id);
uint8_t rvm_kernel_partition_state(const struct rvm_kernel *k, struct rvm_handle p);

/* ------------------------------------------------------------------------------------------------
 * Memory regions (kernel_memory.c). Authority: a Region capability naming the region; creation:
 * the actor's self capability with WRITE.
 * --------------------------------------------------------------------------------------------- */

/*
 * Create a RAM region (DATA: R or RW; CODE and IMMUTABLE: R or RX) of npages for partition
 * `owner` (the actor itself for a partition; any live partition for the hypervisor), unmapped,
 * and mint its root Region capability (READ | WRITE | EXECUTE as its perms allow, plus GRANT |
 * REVOKE | PROVE) for the owner. P1 (self capability). Record RegionCreate (0x20) as region.h
 * (flags = type | perms << 4, payload = host base, aux = owner | npages << 32); `cap` receives
 * the root capability.
 */
enum rvm_err rvm_kernel_region_create(struct rvm_kernel *k, rvm_partition_id actor,
                                      const struct rvm_kernel_auth *auth, struct rvm_handle owner,
                                      uint32_t type, uint32_t perms, uint32_t npages,
                                      struct rvm_handle *out, struct rvm_handle *cap);

/* Map at `ipa` with perms (a subset of the region's, the capability's rights covering them).
 * Becomes the region's home mapping. P2 (Region, READ + WRITE/EXECUTE as asked). RegionMap. The
 * partition's VMID is not touched (new translations need no invalidation). */
enum rvm_err rvm_kernel_region_map(struct rvm_kernel *k, rvm_partition_id actor,
                                   const struct rvm_kernel_auth *auth, struct rvm_handle region,
                                   uint64_t ipa, uint32_t perms);

/* Unmap (and forget the home mapping), then invalidate the owner's VMID. P1 (Region, REVOKE:
 * every region root carries it, a read grant does not; READ for the borrower's own read-only
 * view). RegionUnmap. */
enum rvm_err rvm_kernel_region_unmap(struct rvm_kernel *k, rvm_partition_id actor,
                                     const struct rvm_kernel_auth *auth, struct rvm_handle region);

/* Destroy an unmapped, unshared region: its capabilities revoked, its pages scrubbed and freed,
 * its images freed. P2 (Region, REVOKE). A shared view is released by its borrower instead:
 * P1 (Region, READ), RegionUnshare. */
enum rvm_err rvm_kernel_region_destroy(struct rvm_kernel *k, rvm_partition_id actor,
                                       const struct rvm_kernel_auth *auth,
                                       struct rvm_handle region);

/* A read-only view (R or RX) of an IMMUTABLE region for `borrower`, with a root capability for
 * it (READ (| EXECUTE)). P1 (GRANT). RegionShare; `view_cap` receives the view's capability. */
enum rvm_err rvm_kernel_region_share(struct rvm_kernel *k, rvm_partition_id actor,
                                     const struct rvm_kernel_auth *auth, struct rvm_handle region,
                                     struct rvm_handle borrower, uint32_t perms,
                                     struct rvm_handle *view, struct rvm_handle *view_cap);

/* ------------------------------------------------------------------------------------------------
 * Capabilities (kernel_memory.c): the cap module's operations plus the kernel's preconditions
 * (the recipient exists; leases whose capability went away end).
 * --------------------------------------------------------------------------------------------- */

/* Grant to another live partition (CapabilityGrant) or, when recipient is the actor itself,
 * delegate (CapabilityDelegate). */
enum rvm_err rvm_kernel_cap_grant(struct rvm_kernel *k, rvm_partition_id actor,
                                  struct rvm_handle source, struct rvm_handle recipient,
                                  uint8_t rights, uint64_t badge, struct rvm_handle *out);
/* CapabilityRevoke; a device lease whose capability is revoked ends with it. */
enum rvm_err rvm_kernel_cap_revoke(struct rvm_kernel *k, rvm_partition_id actor,
                                   struct rvm_handle authority, struct rvm_handle target,
                                   uint32_t *released);
/* CapabilityAttenuated. */
enum rvm_err rvm_kernel_cap_attenuate(struct rvm_kernel *k, rvm_partition_id actor,
                                      struct rvm_handle cap, uint8_t rights);
/* CapabilityEpochAdvance / CapabilityEpochRevoke (the hypervisor only). */
enum rvm_err rvm_kernel_cap_epoch_advance(struct rvm_kernel *k, rvm_partition_id actor);
enum rvm_err rvm_kernel_cap_epoch_revoke(struct rvm_kernel *k, rvm_partition_id actor,
                                         uint32_t epoch, uint32_t *released);

/* ------------------------------------------------------------------------------------------------
 * IPC (kernel_ipc.c). Authority: a CommEdge capability naming the channel.
 * --------------------------------------------------------------------------------------------- */

/*
 * A channel from `sender` to `receiver` (either may equal the other: internal traffic). A
 * partition creates channels from itself (sender = the actor) and needs a Partition capability
 * naming the receiver with WRITE (P1); the hypervisor may connect any two live partitions. The
 * sender gets the root CommEdge capability (READ | WRITE | GRANT | REVOKE), the receiver one
 * derived from it (READ). Record CommEdgeCreate (0x30): target = channel, payload = sender |
 * receiver << 32, aux = the root capability.
 */
enum rvm_err rvm_kernel_channel_create(struct rvm_kernel *k, rvm_partition_id actor,
                                       const struct rvm_kernel_auth *auth, struct rvm_handle sender,
                                       struct rvm_handle receiver, struct rvm_handle *out,
                                       struct rvm_handle *send_cap, struct rvm_handle *recv_cap);

/* Destroy: every capability on it revoked, queued messages dropped. P1 (REVOKE). Record
 * CommEdgeDestroy (0x31): payload = messages dropped. */
enum rvm_err rvm_kernel_channel_destroy(struct rvm_kernel *k, rvm_partition_id actor,
                                        const struct rvm_kernel_auth *auth, struct rvm_handle ch);

/*
 * Send `len` (<= msg_bytes) bytes and a tag. Only the sender endpoint, with WRITE (P1). The kernel
 * stamps sender and sequence. A full queue is OVERLOAD (witnessed) and nothing is dropped. Feeds
 * the coherence graph (weight 1 between the endpoints). Record IpcSend (0x32): target = channel,
 * payload = sequence, aux = len | receiver << 32. `seq` may be NULL.
 */
enum rvm_err rvm_kernel_ipc_send(struct rvm_kernel *k, rvm_partition_id actor,
                                 const struct rvm_kernel_auth *auth, struct rvm_handle ch,
                                 const void *data, uint32_t len, uint64_t tag, uint64_t *seq);

struct rvm_kernel_msg {
    rvm_partition_id sender;
    uint32_t len;
    uint64_t seq;
    uint64_t tag;
};

/* Receive the oldest message into buf (cap >= its length, else NO_SPACE and it stays queued).
 * Only the receiver endpoint, with READ (P1). EMPTY when there is none. Record IpcReceive
 * (0x33): target = channel, payload = sequence, aux = sender | len << 32. */
enum rvm_err rvm_kernel_ipc_receive(struct rvm_kernel *k, rvm_partition_id actor,
                                    const struct rvm_kernel_auth *auth, struct rvm_handle ch,
                                    void *buf, uint32_t cap, struct rvm_kernel_msg *msg);

/* ------------------------------------------------------------------------------------------------
 * Devices (kernel_lease.c). Authority: a Device capability naming the device.
 * --------------------------------------------------------------------------------------------- */

/* The hypervisor registers a device with its interrupt; its root capability (all rights) is
 * held by the hypervisor. Record DeviceRegister (0x44): target = device, payload = irq,
 * aux = root capability. */
enum rvm_err rvm_kernel_device_register(struct rvm_kernel *k, rvm_partition_id actor, uint32_t irq,
                                        struct rvm_handle *out, struct rvm_handle *cap);

/*
 * Lease the device to `lessee` for duration_ns (1 .. max_lease_ns): no other holder may exist
 * (LEASE_CONFLICT). The lessee receives a Device capability (READ | WRITE) derived from the one
 * presented (which needs GRANT). P3 (signed when the table has a key). Record DeviceLeaseGrant
 * (0x40): target = device, payload = lease capability, aux = expiry time.
 */
enum rvm_err rvm_kernel_lease_grant(struct rvm_kernel *k, rvm_partition_id actor,
                                    const struct rvm_kernel_auth *auth, struct rvm_handle dev,
                                    struct rvm_handle lessee, uint64_t duration_ns,
                                    struct rvm_handle *lease_cap);

/* Renew a lease that has not expired (P2's lease rule: PROOF_LEASE otherwise) to now +
 * duration_ns: by its holder (the lease capability) or the grantor. P2 (WRITE). Record
 * DeviceLeaseRenew (0x43): payload = old expiry, aux = new expiry. */
enum rvm_err rvm_kernel_lease_renew(struct rvm_kernel *k, rvm_partition_id actor,
                                    const struct rvm_kernel_auth *auth, struct rvm_handle dev,
                                    uint64_t duration_ns);

/* End a lease: the actor needs REVOKE on the lease capability or an ancestor (the grantor);
 * the lease capability is revoked. P1. Record DeviceLeaseRevoke (0x41): payload = lease
 * capability, aux = holder. Leases also expire at the epoch tick (DeviceLeaseExpire, actor 0). */
enum rvm_err rvm_kernel_lease_revoke(struct rvm_kernel *k, rvm_partition_id actor,
                                     const struct rvm_kernel_auth *auth, struct rvm_handle dev);

/* ------------------------------------------------------------------------------------------------
 * Split and merge (kernel_restructure.c)
 * --------------------------------------------------------------------------------------------- */

/*
 * Split a Running partition along the coherence engine's cut (the engine must justify it:
 * coherence.h prepare_split). A child partition is created (Running, the source's launch state);
 * the source's resident, unshared regions are assigned to source or child by the DC-9 score
 * (docs/architecture.md) and those assigned to the child are transferred and remapped at the same
 * guest addresses; channels whose other endpoint lies across the cut follow the child;
 * capabilities follow the objects they name (DC-8): the source's capabilities on moved objects are
 * rehomed to the child, its capabilities on objects of other partitions are attenuated to READ
 * and the child receives a READ copy when they carry GRANT. P2 (WRITE on the source).
 * Record PartitionSplit (0x05): target = source, payload = child handle, aux = regions moved |
 * channels moved << 16 | capabilities rehomed << 32 | attenuated << 48.
 */
enum rvm_err rvm_kernel_partition_split(struct rvm_kernel *k, rvm_partition_id actor,
                                        const struct rvm_kernel_auth *auth,
                                        struct rvm_handle source, struct rvm_handle *child);

/*
 * Merge `absorbed` into `absorber` after every DC-11 precondition (docs/architecture.md): a
 * channel between them, coherence (the engine's merged score), no device lease held by the
 * absorbed partition, no overlap of their guest mappings, the capability intersection within
 * max_caps_per_partition, both Running or Suspended, P2 on the absorber's capability (and P1 on
 * the absorbed one's). The absorbed partition's regions move (remapped at the same addresses),
 * its channels' endpoints become the absorber, every capability it holds is rehomed to the
 * absorber except those naming the absorbed partition itself, which are revoked with every other
 * capability naming it; then it is removed. Record PartitionMerge (0x06): target = absorber,
 * payload = absorbed, aux = regions | channels << 16 | capabilities rehomed << 32.
 */
enum rvm_err rvm_kernel_partition_merge(struct rvm_kernel *k, rvm_partition_id actor,
                                        const struct rvm_kernel_auth *auth_absorber,
                                        struct rvm_handle absorber,
                                        const struct rvm_kernel_auth *auth_absorbed,
                                        struct rvm_handle absorbed);

/* ------------------------------------------------------------------------------------------------
 * Failures (kernel_recovery.c): DC-14
 * --------------------------------------------------------------------------------------------- */

enum rvm_kernel_fault_reason {
    RVM_FAULT_CRASH = 1,        /* the partition (an agent in it) failed: simulator, guest */
    RVM_FAULT_GUEST_MEMORY = 2, /* a stage-2 / PMP fault it took (rvm_kernel_guest_fault) */
    RVM_FAULT_RETURN_STATE = 3, /* its saved return state had to be coerced (vcpu.h) */
    RVM_FAULT_CORE = 4,         /* the core itself (rvm_kernel_core_crash) */
};

/*
 * A partition failed. The kernel classifies and escalates (each step witnessed, records reserved
 * up front):
 *   F1 restart (FailureRestart 0x77) while it has had fewer than restart_limit consecutive
 *      restarts without a healthy epoch in between: vCPU back to its launch state, memory kept.
 *   F2 reconstruct from checkpoint (FailureReconstruct 0x78): vCPU and every region restored
 *      from its last checkpoint. Fails without a checkpoint or when any image fails verification.
 *   F3 memory rollback (FailureMemoryRollback 0x79): each region rolled back to its checkpoint
 *      image where that verifies, scrubbed where it does not, vCPU from its launch state;
 *      scheduler in Recovery mode with the partition critical. Fails when nothing verifies.
 *   F4 core restart (FailureCoreRestart 0x7A, rvm_kernel_core_crash): see below.
 * Records: target = partition handle, flags = 1 when the step failed (and escalated), payload =
 * reason | step-specific count << 32, aux = error of a failed step.
 * `class_out` (may be NULL) receives the class that handled it (1..4).
 */
enum rvm_err rvm_kernel_partition_fault(struct rvm_kernel *k, struct rvm_handle p, uint32_t reason,
                                        uint32_t *class_out);

/* The partition running on `cpu` took a guest memory fault at `ipa` (the simulator's guest access
 * or the trap handler): a partition fault (RVM_FAULT_GUEST_MEMORY). WRONG_STATE when nothing
 * runs there. */
enum rvm_err rvm_kernel_guest_fault(struct rvm_kernel *k, uint32_t cpu, uint64_t ipa,
                                    uint32_t *class_out);

/*
 * F4, core restart: every CPU is parked and every run queue emptied, every VMID's TLB entries
 * invalidated; the failed partition (if any) is destroyed; every other Running partition is
 * restored from its checkpoint (as F2) or, without a usable one, restarted from its launch state
 * (as F1); the scheduler runs in Recovery mode for recovery_epochs. Record FailureCoreRestart:
 * target = the failed partition (0: the core itself), payload = partitions restored | restarted
 * << 16 | destroyed << 32, aux = the first 8 bytes of rvm_kernel_hash before the restart, so a
 * replayer can re-execute the log up to here and compare (the witness-replay half of F4).
 */
enum rvm_err rvm_kernel_core_crash(struct rvm_kernel *k);

/* ------------------------------------------------------------------------------------------------
 * Platform events (kernel_tick.c)
 * --------------------------------------------------------------------------------------------- */

/* A CPU's timer: the epoch pipeline if due, a time slice, and the timer re-armed. */
enum rvm_err rvm_kernel_timer(struct rvm_kernel *k, uint32_t cpu);

/* Run the epoch pipeline now (tests, benchmarks; the timer runs it when it is due). */
enum rvm_err rvm_kernel_epoch(struct rvm_kernel *k);

/* A time slice on `cpu` without the epoch: the running partition (if still Running) is
 * re-queued and the head of the queue dispatched. Not witnessed (DC-10) unless a VMID changes. */
enum rvm_err rvm_kernel_schedule(struct rvm_kernel *k, uint32_t cpu);

/* A device interrupt: delivered to the lease holder (NotificationSignal 0x35: target = holder,
 * payload = irq, aux = device) and completed; an interrupt no leased device owns is completed
 * and ignored. */
enum rvm_err rvm_kernel_irq(struct rvm_kernel *k, uint32_t irq);

/* CPU hot-plug: the scheduler's CpuOffline / CpuOnline (the running partition parked and moved). */
enum rvm_err rvm_kernel_cpu_offline(struct rvm_kernel *k, uint32_t cpu);
enum rvm_err rvm_kernel_cpu_online(struct rvm_kernel *k, uint32_t cpu);

/* Hypercall numbers (x0 / a0). Arguments x1..x7 (a1..a7); every register a call does not use
 * must be 0 (RESERVED_ARG). Results: x0 = enum rvm_err, x1..x4 as listed in
 * docs/architecture.md. Handles are packed generation << 32 | index. */
enum rvm_hypercall {
    RVM_HC_VERSION = 0,
    RVM_HC_YIELD = 1,
    RVM_HC_CAP_GRANT = 2,
    RVM_HC_CAP_REVOKE = 3,
    RVM_HC_CAP_ATTENUATE = 4,
    RVM_HC_CAP_INFO = 5,
    RVM_HC_REGION_CREATE = 6,
    RVM_HC_REGION_MAP = 7,
    RVM_HC_REGION_UNMAP = 8,
    RVM_HC_REGION_DESTROY = 9,
    RVM_HC_REGION_SHARE = 10,
    RVM_HC_CHANNEL_CREATE = 11,
    RVM_HC_CHANNEL_DESTROY = 12,
    RVM_HC_IPC_SEND = 13,
    RVM_HC_IPC_RECV = 14,
    RVM_HC_PARTITION_CREATE = 15,
    RVM_HC_PARTITION_START = 16,
    RVM_HC_PARTITION_SUSPEND = 17,
    RVM_HC_PARTITION_RESUME = 18,
    RVM_HC_PARTITION_DESTROY = 19,
    RVM_HC_PARTITION_HIBERNATE = 20,
    RVM_HC_PARTITION_RECONSTRUCT = 21,
    RVM_HC_PARTITION_CHECKPOINT = 22,
    RVM_HC_PARTITION_SPLIT = 23,
    RVM_HC_PARTITION_MERGE = 24,
    RVM_HC_LEASE_GRANT = 25,
    RVM_HC_LEASE_RENEW = 26,
    RVM_HC_LEASE_REVOKE = 27,
    RVM_HC_COUNT = 28,
};

/* The first argument register of `arch` in struct rvm_vcpu_regs.gpr: x0 (0) or a0 (10). */
static inline uint32_t rvm_kernel_arg_reg(uint8_t arch)
{
    return arch == RVM_VCPU_RISCV64 ? 10u : 0u;
}

/*
 * A hypercall from the partition running on `cpu`: its number and arguments are in the CPU's live
 * register frame (x0..x7 / a0..a7), and so are the results when it returns (docs/architecture.md
 * has the table). Decoded and validated completely before anything runs; guest buffers are only
 * read and written through the HAL's guest_read / guest_write. Every refusal is witnessed.
 * Returns the call's result (also in x0 / a0).
 */
enum rvm_err rvm_kernel_hypercall(struct rvm_kernel *k, uint32_t cpu);

/* The partition running on `cpu` trapped with `regs` in its argument registers x0..x7 / a0..a7:
 * they go into its live register frame, where rvm_kernel_hypercall decodes them. The trap
 * handler's (or the simulator's) way in, so nothing outside the kernel writes its frames. Does
 * nothing when no partition runs there (the hypercall is then refused as WRONG_STATE). */
void rvm_kernel_trap_args(struct rvm_kernel *k, uint32_t cpu, const uint64_t regs[8]);

/* Fault injection from outside (the simulator): flip one bit of the image store (dormant or
 * checkpoint memory, which the core does not trust). Not a kernel operation: nothing is
 * witnessed. OUT_OF_RANGE beyond the used store. */
enum rvm_err rvm_kernel_flip_image_bit(struct rvm_kernel *k, uint64_t bit);

/* ------------------------------------------------------------------------------------------------
 * Oracles
 * --------------------------------------------------------------------------------------------- */

/*
 * Every subsystem's rvm_x_check plus the cross-subsystem invariants: partition states agree with
 * the scheduler and the CPUs, nothing names a free or dead object (capability holders and objects,
 * region owners, channel endpoints and queued senders, lease holders and capabilities, creators,
 * VMID bindings, graph nodes, images), isolation and W^X of live mappings, capability
 * monotonicity, allocator conservation (resident RAM regions hold exactly the allocated pages),
 * image store accounting. RVM_ERR_INTERNAL when something is wrong. Read-only.
 */
enum rvm_err rvm_kernel_check(const struct rvm_kernel *k);

/* Absorb a canonical, pointer-free encoding of the whole kernel state (every subsystem's hash and
 * the kernel's own tables). */
void rvm_kernel_hash(const struct rvm_kernel *k, struct rvm_sha256_ctx *ctx);

/*
 * The same with parts left out. RVM_KHASH_NO_SCHED leaves out what changes on the hot path
 * without a record (DC-10) or by the guest itself: run-queue order and scheduler counters, the
 * CPUs' frames and the partitions' saved registers, VMID LRU state, the "ran since its last
 * fault" flags. A simulator's "no witness, no mutation" oracle protects that hash; the replay
 * store compares the full one (StateDigest).
 */
#define RVM_KHASH_ALL             0u
#define RVM_KHASH_NO_SCHED        1u
/* RVM_KHASH_NO_LOG leaves out the log's history (its record count and chain value): two histories
 * that leave every table the same then hash the same (bounded exploration deduplicates on it). */
#define RVM_KHASH_NO_LOG          2u
/* RVM_KHASH_NO_CAPS_REGIONS leaves out the capability table, the region table and the kernel's
 * per-region records (struct rvm_kreg), headers included: for a caller that compares those
 * byte for byte itself ("no witness, no mutation"). */
#define RVM_KHASH_NO_CAPS_REGIONS 4u
void rvm_kernel_hash_ex(const struct rvm_kernel *k, struct rvm_sha256_ctx *ctx, uint32_t flags);

/* The first 16 bytes of SHA-256 over rvm_kernel_hash: what StateDigest records carry. */
void rvm_kernel_digest(const struct rvm_kernel *k, uint8_t out[16]);

/*
 * The epoch's digest in the configured version: the action of its record (RVM_ACT_STATE_DIGEST
 * or RVM_ACT_STATE_DIGEST_V2) and 16 bytes. Version 2 first brings the Merkle trees up to date
 * (only the digest's own bookkeeping changes); docs/incremental-state-digest.md defines it.
 */
uint8_t rvm_kernel_state_digest(struct rvm_kernel *k, uint8_t out[16]);

/* Version 2 in full (SHA-256 of the top block); the record carries its first 16 bytes. */
void rvm_kernel_digest_v2(struct rvm_kernel *k, uint8_t out[RVM_SHA256_DIGEST_BYTES]);

/* The leaf of slot `index` of `table`, computed from the state now (no cached value): 32 zero
 * bytes while the slot is as rvm_kernel_init left it (a blank slot), SHA-256 of its encoding
 * otherwise. */
void rvm_kernel_digest_leaf(const struct rvm_kernel *k, uint32_t table, uint32_t index,
                            uint8_t out[RVM_KDIGEST_NODE_BYTES]);

/* SHA-256 of the top block given the eight table roots (the last step of version 2). */
void rvm_kernel_digest_top(const struct rvm_kernel *k,
                           const uint8_t roots[RVM_KDIGEST_TABLES][RVM_KDIGEST_NODE_BYTES],
                           uint8_t out[RVM_SHA256_DIGEST_BYTES]);

/*
 * The oracle of version 2, changing nothing: every slot whose bytes equal its shadow has the
 * leaf a from-scratch computation gives, and every interior node is the hash of its children,
 * so the next digest's roots equal a from-scratch recomputation. RVM_OK (also before the first
 * digest and for version 1), else RVM_ERR_INTERNAL with the first table and slot that disagree
 * (slot UINT32_MAX: an interior node).
 */
enum rvm_err rvm_kernel_digest_verify(const struct rvm_kernel *k, uint32_t *table, uint32_t *slot);

/*
 * The part of rvm_kernel_digest_verify a missed change can break while the change test is right,
 * cheap enough for every full check. Only channel leaves (a message's payload) and image leaves
 * (the image's bytes in the store) cover bytes outside their shadow: every channel and image whose
 * shadow matches must still have the outside sum taken when its leaf was computed. RVM_OK, else
 * RVM_ERR_INTERNAL with the table and slot.
 */
enum rvm_err rvm_kernel_digest_verify_outside_shadow(const struct rvm_kernel *k, uint32_t *table,
                                                     uint32_t *slot);

/* A 64-bit sum of the bytes a leaf covers outside its slot's shadow: an image's bytes in the store
 * (nothing for an unused one), a channel's queued payloads in leaf order; 0 for other tables. Not
 * cryptographic, but a change confined to one 8-byte word always changes it: what
 * verify_outside_shadow compares instead of rehashing. */
uint64_t rvm_kernel_digest_outside_sum(const struct rvm_kernel *k, uint32_t table, uint32_t slot);

/*
 * A 64-bit summary of the state a kernel operation changes and must therefore witness: the
 * kernel's scalars, the log's position (count and chain), every capability slot, the nonce
 * high-water marks, the allocator's free lists, every region (placement, mapping, tier, image),
 * partition life cycle, channel queue counters, devices and leases, and the coherence engine's
 * counters. It leaves out what rvm_kernel_hash_ex(RVM_KHASH_NO_SCHED) leaves out (scheduler,
 * frames, VMID LRU, the "ran" flag) and, to stay cheap, some of what that hash covers: message
 * and image bytes and the image table, capability MACs, partitions' entry points and arguments,
 * the attestation, the graph's weights. Not collision resistant: a "no witness, no mutation"
 * oracle compares it before and after a call that appended no record (and the full hash now and
 * then). A field added to a kernel table that an operation changes belongs here as well as in
 * rvm_kernel_hash_ex.
 */
uint64_t rvm_kernel_summary(const struct rvm_kernel *k);

/*
 * The same with parts left out, for a caller that compares those itself, byte for byte (cheaper
 * than mixing them, and exact). RVM_KSUMMARY_NO_CAP_SLOTS leaves out the capability slots (the
 * table's counters, free list head and epochs stay in); RVM_KSUMMARY_NO_REGION_SLOTS the region
 * slots and their kernel records (struct rvm_kreg; the region count and epoch stay in).
 */
#define RVM_KSUMMARY_ALL             0u
#define RVM_KSUMMARY_NO_CAP_SLOTS    1u
#define RVM_KSUMMARY_NO_REGION_SLOTS 2u
uint64_t rvm_kernel_summary_ex(const struct rvm_kernel *k, uint32_t parts);

/* Where references to a partition id were found (rvm_kernel_refs). */
#define RVM_KREF_CAP_HOLDER 0x0001u /* a capability held by it */
#define RVM_KREF_CAP_OBJECT 0x0002u /* a capability naming its partition object */
#define RVM_KREF_REGION     0x0004u /* a region it owns (a view included) */
#define RVM_KREF_MAPPING    0x0008u /* a live mapping in its address space */
#define RVM_KREF_CHANNEL    0x0010u /* a channel endpoint */
#define RVM_KREF_MESSAGE    0x0020u /* a queued message it sent */
#define RVM_KREF_LEASE      0x0040u /* a device lease it holds */
#define RVM_KREF_SCHED      0x0080u /* queued, running, or non-default scheduler attributes */
#define RVM_KREF_CPU        0x0100u /* a CPU frame holding its registers */
#define RVM_KREF_VMID       0x0200u /* a VMID bound to it */
#define RVM_KREF_GRAPH      0x0400u /* a coherence graph node */
#define RVM_KREF_CREATOR    0x0800u /* another partition names it as creator */
#define RVM_KREF_IMAGE      0x1000u /* an image in the store */
#define RVM_KREF_NONCE      0x2000u /* a nonce domain that is not empty */
#define RVM_KREF_SLOT       0x4000u /* its partition slot is live */

/* Scan every table for anything naming partition id `id`; returns the RVM_KREF_* bits found and
 * (if count != NULL) how many references. After a destroy this must be 0 for the old id. */
uint32_t rvm_kernel_refs(const struct rvm_kernel *k, rvm_partition_id id, uint32_t *count);

#endif /* RVM_KERNEL_H */
