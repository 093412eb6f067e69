/* SPDX-License-Identifier: MIT */
/*
 * Witness action kinds (record offset 16).
 *
 * The high nibble is the subsystem, as in RVM's ADR-134 grouping, so audit queries can filter by
 * prefix: 0x0_ partition, 0x1_ capability, 0x2_ memory, 0x3_ communication, 0x4_ device,
 * 0x5_ proof, 0x6_ scheduler, 0x7_ recovery, 0x8_ boot, 0x9_ coherence graph, 0xA_ VMID.
 * Codes that RVM defines keep RVM's value; ours fill free values in the right group. A code is
 * never renumbered: it is part of the stored log format.
 *
 *   X(NAME, code, "DisplayName")
 */
#ifndef RVM_ACTION_H
#define RVM_ACTION_H

#include <stdint.h>

#define RVM_ACTION_LIST(X)                                                                         \
    /* 0x0_ partition lifecycle */                                                                 \
    X(PARTITION_CREATE, 0x01, "PartitionCreate")                                                   \
    X(PARTITION_DESTROY, 0x02, "PartitionDestroy")                                                 \
    X(PARTITION_SUSPEND, 0x03, "PartitionSuspend")                                                 \
    X(PARTITION_RESUME, 0x04, "PartitionResume")                                                   \
    X(PARTITION_SPLIT, 0x05, "PartitionSplit")                                                     \
    X(PARTITION_MERGE, 0x06, "PartitionMerge")                                                     \
    X(PARTITION_HIBERNATE, 0x07, "PartitionHibernate")                                             \
    X(PARTITION_RECONSTRUCT, 0x08, "PartitionReconstruct")                                         \
    X(PARTITION_MIGRATE, 0x09, "PartitionMigrate")                                                 \
    X(PARTITION_START, 0x0A, "PartitionStart")                                                     \
    X(HYPERCALL, 0x0B, "Hypercall") /* attempted kind of a hypercall refused before decoding */    \
    /* 0x1_ capabilities */                                                                        \
    X(CAP_GRANT, 0x10, "CapabilityGrant")                                                          \
    X(CAP_REVOKE, 0x11, "CapabilityRevoke")                                                        \
    X(CAP_DELEGATE, 0x12, "CapabilityDelegate")                                                    \
    X(CAP_ESCALATE, 0x13, "CapabilityEscalate")                                                    \
    X(CAP_ATTENUATE, 0x14, "CapabilityAttenuated")                                                 \
    X(CAP_EPOCH_REVOKE, 0x15, "CapabilityEpochRevoke")                                             \
    X(CAP_MINT, 0x16, "CapabilityMint")                                                            \
    X(CAP_EPOCH_ADVANCE, 0x17, "CapabilityEpochAdvance")                                           \
    /* 0x2_ memory */                                                                              \
    X(REGION_CREATE, 0x20, "RegionCreate")                                                         \
    X(REGION_DESTROY, 0x21, "RegionDestroy")                                                       \
    X(REGION_TRANSFER, 0x22, "RegionTransfer")                                                     \
    X(REGION_SHARE, 0x23, "RegionShare")                                                           \
    X(REGION_UNSHARE, 0x24, "RegionUnshare")                                                       \
    X(REGION_PROMOTE, 0x25, "RegionPromote")                                                       \
    X(REGION_DEMOTE, 0x26, "RegionDemote")                                                         \
    X(REGION_MAP, 0x27, "RegionMap")                                                               \
    X(REGION_UNMAP, 0x28, "RegionUnmap")                                                           \
    X(REGION_TIER_EPOCH, 0x29, "RegionTierEpoch")                                                  \
    /* 0x3_ communication */                                                                       \
    X(COMM_EDGE_CREATE, 0x30, "CommEdgeCreate")                                                    \
    X(COMM_EDGE_DESTROY, 0x31, "CommEdgeDestroy")                                                  \
    X(IPC_SEND, 0x32, "IpcSend")                                                                   \
    X(IPC_RECEIVE, 0x33, "IpcReceive")                                                             \
    X(ZERO_COPY_SHARE, 0x34, "ZeroCopyShare")                                                      \
    X(NOTIFICATION_SIGNAL, 0x35, "NotificationSignal")                                             \
    /* 0x4_ devices */                                                                             \
    X(DEVICE_LEASE_GRANT, 0x40, "DeviceLeaseGrant")                                                \
    X(DEVICE_LEASE_REVOKE, 0x41, "DeviceLeaseRevoke")                                              \
    X(DEVICE_LEASE_EXPIRE, 0x42, "DeviceLeaseExpire")                                              \
    X(DEVICE_LEASE_RENEW, 0x43, "DeviceLeaseRenew")                                                \
    X(DEVICE_REGISTER, 0x44, "DeviceRegister")                                                     \
    /* 0x5_ proofs and the security gate */                                                        \
    X(PROOF_VERIFIED_P1, 0x50, "ProofVerifiedP1")                                                  \
    X(PROOF_VERIFIED_P2, 0x51, "ProofVerifiedP2")                                                  \
    X(PROOF_VERIFIED_P3, 0x52, "ProofVerifiedP3")                                                  \
    X(PROOF_REJECTED, 0x53, "ProofRejected")                                                       \
    X(PROOF_ESCALATED, 0x54, "ProofEscalated")                                                     \
    /* 0x6_ scheduler */                                                                           \
    X(SCHED_EPOCH, 0x60, "SchedulerEpoch")                                                         \
    X(SCHED_MODE_SWITCH, 0x61, "SchedulerModeSwitch")                                              \
    X(TASK_SPAWN, 0x62, "TaskSpawn")                                                               \
    X(TASK_TERMINATE, 0x63, "TaskTerminate")                                                       \
    X(STRUCTURAL_SPLIT, 0x64, "StructuralSplit")                                                   \
    X(STRUCTURAL_MERGE, 0x65, "StructuralMerge")                                                   \
    X(CPU_ONLINE, 0x66, "CpuOnline")                                                               \
    X(CPU_OFFLINE, 0x67, "CpuOffline")                                                             \
    X(SCHED_PLACEMENT, 0x68, "SchedulerPlacement")                                                 \
    X(SCHED_REMOVE, 0x69, "SchedulerRemove")                                                       \
    X(SCHED_ENQUEUE, 0x6A, "SchedulerEnqueue")                                                     \
    X(SCHED_SWITCH, 0x6B, "SchedulerSwitch")                                                       \
    /* 0x7_ recovery */                                                                            \
    X(RECOVERY_ENTER, 0x70, "RecoveryEnter")                                                       \
    X(RECOVERY_EXIT, 0x71, "RecoveryExit")                                                         \
    X(CHECKPOINT_CREATED, 0x72, "CheckpointCreated")                                               \
    X(CHECKPOINT_RESTORED, 0x73, "CheckpointRestored")                                             \
    X(MINCUT_BUDGET_EXCEEDED, 0x74, "MinCutBudgetExceeded")                                        \
    X(DEGRADED_ENTER, 0x75, "DegradedModeEntered")                                                 \
    X(DEGRADED_EXIT, 0x76, "DegradedModeExited")                                                   \
    X(FAILURE_RESTART, 0x77, "FailureRestart")                                                     \
    X(FAILURE_RECONSTRUCT, 0x78, "FailureReconstruct")                                             \
    X(FAILURE_ROLLBACK, 0x79, "FailureMemoryRollback")                                             \
    X(FAILURE_CORE_RESTART, 0x7A, "FailureCoreRestart")                                            \
    X(STATE_DIGEST, 0x7B, "StateDigest") /* kernel epoch: SHA-256 prefix of the whole state */     \
    X(STATE_DIGEST_V2, 0x7C, "StateDigestV2") /* kernel epoch: the incremental (Merkle) digest */  \
    /* 0x8_ boot and attestation */                                                                \
    X(BOOT_ATTESTATION, 0x80, "BootAttestation")                                                   \
    X(BOOT_COMPLETE, 0x81, "BootComplete")                                                         \
    X(TEE_ATTESTATION, 0x82, "TeeAttestation")                                                     \
    X(BOOT_PHASE, 0x83, "BootPhase")                                                               \
    /* 0x9_ coherence graph */                                                                     \
    X(VECTOR_PUT, 0x90, "VectorPut")                                                               \
    X(VECTOR_DELETE, 0x91, "VectorDelete")                                                         \
    X(GRAPH_MUTATION, 0x92, "GraphMutation")                                                       \
    X(COHERENCE_RECOMPUTED, 0x93, "CoherenceRecomputed")                                           \
    /* 0xA_ VMIDs */                                                                               \
    X(VMID_RECLAIM, 0xA0, "VmidReclaim")                                                           \
    X(MIGRATION_TIMEOUT, 0xA1, "MigrationTimeout")                                                 \
    X(VMID_ASSIGN, 0xA2, "VmidAssign")                                                             \
    X(VMID_ROLLOVER, 0xA3, "VmidGenerationRollover")                                               \
    X(VMID_RELEASE, 0xA4, "VmidRelease")                                                           \
    /* 0xF_ test and demo traffic (never produced by a kernel operation) */                        \
    X(DEMO, 0xF0, "Demo")

enum rvm_action {
#define RVM_ACTION_ENUM_(name, code, display) RVM_ACT_##name = code,
    RVM_ACTION_LIST(RVM_ACTION_ENUM_)
#undef RVM_ACTION_ENUM_
};

/* Display name ("PartitionCreate"), or NULL for an unassigned code. */
const char *rvm_action_name(uint8_t kind);

#endif /* RVM_ACTION_H */
