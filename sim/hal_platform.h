/* SPDX-License-Identifier: MIT */
/*
 * The simulated HAL with a simulated platform behind its address-space and guest-memory hooks.
 *
 * rvm_sim_hal_init (hal_sim.h) keeps its behaviour: no platform, s2_* refused with
 * RVM_ERR_UNSUPPORTED and guest memory refused with RVM_ERR_GUEST_FAULT. rvm_sim_platform_init
 * builds the same simulated HAL (clock, console, sink: every other hook is the plain simulated
 * one) and replaces s2_map, s2_unmap, s2_activate, tlb_invalidate_vmid, guest_read and
 * guest_write with a simulated AArch64 EL2 platform (VMSAv8-64 stage-2 tables, VMID-tagged TLB)
 * or a simulated RISC-V M-mode platform (PMP), chosen by the configuration.
 *
 * The address spaces themselves (slots, region sets, refusal order, translation, guest copy) are
 * platform/common/aspace.h, the implementation firmware uses too; this file adds what only a
 * simulation has: host memory as RAM, the CPUs' translation registers, the TLB model, the
 * isolation oracles.
 *
 * Physical memory is host memory: `ram_size` bytes at host-physical `ram_base`. Its first
 * `hyp_size` bytes belong to the hypervisor (on AArch64 the stage-2 table pool lives there) and
 * can never be mapped into a partition; guests get pages from [ram_base + hyp_size, ram_base +
 * ram_size), which is what the core's allocator should manage (rvm_sim_platform_guest_ram).
 *
 * docs/platforms.md describes what is modelled and what is not.
 */
#ifndef RVM_SIM_HAL_PLATFORM_H
#define RVM_SIM_HAL_PLATFORM_H

#include "a64_stage2.h"
#include "a64_tlb.h"
#include "aspace.h"
#include "hal_sim.h"
#include "rv_pmp.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RVM_SIM_PLATFORM_MAX_CPUS 8u

enum rvm_sim_arch {
    RVM_SIM_ARCH_NONE = 0, /* the plain simulated HAL (rvm_sim_hal_init) */
    RVM_SIM_ARCH_AARCH64 = 1,
    RVM_SIM_ARCH_RISCV = 2,
};

struct rvm_sim_platform_config {
    enum rvm_sim_arch arch;
    uint32_t cpus;           /* 1..RVM_SIM_PLATFORM_MAX_CPUS */
    uint32_t max_partitions; /* address spaces held at once */
    uint64_t ram_base;       /* host-physical base of RAM, page aligned */
    uint64_t ram_size;       /* bytes, page multiple, > hyp_size */
    uint64_t hyp_size;       /* hypervisor-only bytes at the start of RAM, page multiple */
    uint32_t table_pages;    /* AArch64: stage-2 table pool (pages, inside the hypervisor bytes) */
    uint32_t tlb_entries;    /* AArch64: TLB model capacity */
    uint32_t pmp_entries;    /* RISC-V: 16 or 64 */
    uint32_t max_regions;    /* RISC-V: mapped ranges per partition */
};

/* The defaults for `arch`: QEMU virt's RAM base (0x40000000 / 0x80000000), 16 MiB of RAM of which
 * 2 MiB are the hypervisor's, 4 CPUs, 64 partitions, 256 table pages and a 64-entry TLB / 16 PMP
 * entries and 32 regions per partition. */
void rvm_sim_platform_default_config(struct rvm_sim_platform_config *cfg, enum rvm_sim_arch arch);

/* A simulated CPU's translation registers. */
struct rvm_sim_cpu {
    bool active;
    rvm_partition_id part;
    uint16_t vmid;
    uint64_t vttbr;        /* AArch64: VTTBR_EL2 as loaded */
    struct rvm_rv_pmp pmp; /* RISC-V: the hart's live PMP registers */
};

struct rvm_sim_platform {
    struct rvm_sim_hal sim; /* first member: hooks get &sim as their context */
    struct rvm_hal_ops ops; /* the plain simulated hooks with the platform's replacing six */
    struct rvm_sim_platform_config cfg;
    uint8_t *ram; /* ram_size bytes of host memory backing [ram_base, ram_base + ram_size) */
    struct rvm_aspace as; /* the partitions' address spaces, over the storage below */
    struct rvm_a64_page_info *pool_info;
    struct rvm_a64_tlb tlb;
    struct rvm_a64_tlb_entry *tlb_entries;
    struct rvm_aspace_space *spaces;    /* max_partitions: as.spaces, for oracles and tests */
    struct rvm_rv_region *region_store; /* max_partitions * max_regions */
    struct rvm_rv_region *scratch;      /* max_regions + 1 */
    rvm_partition_id running[RVM_SIM_PLATFORM_MAX_CPUS];
    uint32_t *page_owner; /* isolation check scratch, one per RAM page */
    uint8_t *page_flags;
    /* What rvm_sim_platform_check_isolation_changed keeps between checks (only while
     * max_partitions <= 64): per guest RAM page, the address-space slots (bit s) mapping it and
     * those mapping it writable, as of the last check; the slots whose tables / PMP regions changed
     * since; whether the masks describe every slot (a complete, clean walk built them). */
    uint64_t *page_spaces, *page_writers;
    uint64_t spaces_changed;
    bool masks_valid;
    struct rvm_sim_cpu cpu[RVM_SIM_PLATFORM_MAX_CPUS];
    rvm_partition_id vmid_owner[RVM_A64_VMID_COUNT]; /* last partition activated per VMID */
    /* Counters for tests and statistics. */
    uint64_t tlb_hits;
    uint64_t tlb_misses;
    uint64_t guest_faults;
    uint64_t phys_violations; /* phys_read/write/zero outside guest RAM: a core bug (tests) */
};

/*
 * Initialise `p` as a simulated HAL backed by the configured platform (NULL cfg: the AArch64
 * defaults). Same starting state as rvm_sim_hal_init (time 0, no console, no sink). Returns
 * RVM_ERR_INVALID_ARGUMENT for a configuration the platform cannot have, RVM_ERR_NO_MEMORY when
 * host memory runs out. Free with rvm_sim_platform_free.
 */
enum rvm_err rvm_sim_platform_init(struct rvm_sim_platform *p, const struct rvm_crypto *crypto,
                                   const struct rvm_sim_platform_config *cfg);
void rvm_sim_platform_free(struct rvm_sim_platform *p);

/*
 * The platform a kernel with `max_partitions` partitions and `ram_pages` pages of guest RAM runs
 * on: RAM = the hypervisor's bytes (a stage-2 table pool of 8 pages per partition + 16) followed
 * by the guest RAM, aligned to 64 pages so buddy blocks are physically aligned (RISC-V's NAPOT
 * PMP entries want that). The guest RAM base that follows from it is hashed into the witness
 * chain at boot, so the kernel target and every replayer of its tapes size the platform here.
 */
void rvm_sim_platform_kernel_config(struct rvm_sim_platform_config *cfg, enum rvm_sim_arch arch,
                                    uint32_t max_partitions, uint64_t ram_pages);

/*
 * Back to the state rvm_sim_platform_init left, without allocating: every address space
 * destroyed (its table pages back in the pool), the TLB, CPUs, VMID owners and counters cleared,
 * the clock at 0. RAM contents are the caller's business (a simulator target zeroes the pages it
 * let the guest or the core write), except the stage-2 table pages, which are zeroed as they are
 * handed out again.
 */
void rvm_sim_platform_reset(struct rvm_sim_platform *p);

/* The HAL to hand to the core. */
static inline const struct rvm_hal *rvm_sim_platform_hal(const struct rvm_sim_platform *p)
{
    return &p->sim.hal;
}

/* The host-physical range partitions may be given: [*base, *base + *size). */
void rvm_sim_platform_guest_ram(const struct rvm_sim_platform *p, uint64_t *base, uint64_t *size);

/* Host memory behind [hpa, hpa + len) of RAM (hypervisor bytes included), or NULL. For scenario
 * setup and oracles: it bypasses every check. */
uint8_t *rvm_sim_platform_ram(const struct rvm_sim_platform *p, uint64_t hpa, uint64_t len);

enum rvm_sim_access {
    RVM_SIM_READ = RVM_ASPACE_READ,
    RVM_SIM_WRITE = RVM_ASPACE_WRITE,
    RVM_SIM_EXEC = RVM_ASPACE_EXEC,
    /* not a memory access: a read of a register of the hypervisor's privilege (RISC-V: an
     * M-mode CSR), which the hardware refuses as an illegal instruction */
    RVM_SIM_PRIV_PROBE = 3,
};

/* `csrr t2, mstatus` (csrrs x7, 0x300, x0): the instruction of RVM_SIM_PRIV_PROBE on RISC-V. */
#define RVM_SIM_RV_CSRR_MSTATUS 0x300023f3u

/* What the hardware reports for a guest access that faults into the hypervisor. */
struct rvm_sim_guest_fault {
    uint64_t syndrome; /* AArch64: ESR_EL2; RISC-V: mcause */
    uint64_t addr;     /* AArch64: FAR_EL2 (= the IPA: guest stage 1 is off); RISC-V: mtval */
    uint64_t hpfar;    /* AArch64: HPFAR_EL2; RISC-V: 0 */
    uint8_t level;     /* AArch64: stage-2 fault level; RISC-V: 0 */
    uint8_t kind;      /* AArch64: enum rvm_a64_fault_kind; RISC-V: 0 */
};

/*
 * A guest instruction on `cpu` accessing `len` (1, 2, 4 or 8, naturally aligned) bytes at guest
 * address `ipa`, checked as the hardware checks it: on AArch64 through the VMID-tagged TLB and
 * the tables of the VTTBR loaded on that CPU; on RISC-V against that hart's live PMP at S-mode.
 * RVM_OK and the data moved (READ and EXEC fill buf, WRITE stores it), or RVM_ERR_GUEST_FAULT
 * with *fault filled and nothing moved. RVM_ERR_WRONG_STATE when nothing runs on `cpu`.
 */
enum rvm_err rvm_sim_platform_guest_access(struct rvm_sim_platform *p, uint32_t cpu,
                                           enum rvm_sim_access kind, uint64_t ipa, void *buf,
                                           size_t len, struct rvm_sim_guest_fault *fault);

/*
 * Software translation of one guest address of `part` from its current tables / regions (never
 * a cached translation): RVM_OK with *hpa, or RVM_ERR_GUEST_FAULT.
 */
enum rvm_err rvm_sim_platform_translate(const struct rvm_sim_platform *p, rvm_partition_id part,
                                        uint64_t ipa, enum rvm_sim_access kind, uint64_t *hpa);

/* Bytes `part` has mapped in its current tables / PMP regions (0 when it has no address space):
 * what an oracle compares with the core's own account of the partition's mappings. */
uint64_t rvm_sim_platform_mapped_bytes(const struct rvm_sim_platform *p, rvm_partition_id part);

/* Structural invariants: rvm_aspace_check and the simulated harts' live PMP images. */
enum rvm_err rvm_sim_platform_check(const struct rvm_sim_platform *p);

/* The first isolation violation found by rvm_sim_platform_check_isolation. */
struct rvm_sim_isolation_report {
    rvm_partition_id part;  /* partition whose mapping or cached translation is at fault */
    rvm_partition_id other; /* SHARE: the other partition */
    uint64_t ipa;
    uint64_t hpa;
    uint32_t cpu;  /* STALE on RISC-V: the hart */
    uint16_t vmid; /* STALE on AArch64: the TLB tag */
};

/*
 * The isolation oracle over the real tables / PMP: RVM_OK, or the first violation:
 *   RVM_ERR_WX      a mapping both writable and executable;
 *   RVM_ERR_SHARE   a host page mapped by two partitions and writable by at least one;
 *   RVM_ERR_CORRUPT a mapping of hypervisor memory or of memory outside RAM;
 *   RVM_ERR_STALE   a cached translation that grants more than the tables of the partition now
 *                   owning its VMID (AArch64 TLB), or a hart whose live PMP differs from its
 *                   partition's current layout (RISC-V): a missing tlb_invalidate_vmid.
 */
enum rvm_err rvm_sim_platform_check_isolation(struct rvm_sim_platform *p,
                                              struct rvm_sim_isolation_report *report);

/*
 * The same verdict and report, reading only the address spaces whose mappings changed since the
 * last check (stage-2 leaves / PMP regions re-read for those slots, the rest taken from the page
 * masks the last check left); the stale-translation check is always complete. A violation, a
 * platform with more than 64 slots, or masks no complete clean walk has built yet make it the
 * full check (the report is always the full walk's).
 */
enum rvm_err rvm_sim_platform_check_isolation_changed(struct rvm_sim_platform *p,
                                                      struct rvm_sim_isolation_report *report);

#endif /* RVM_SIM_HAL_PLATFORM_H */
