/* SPDX-License-Identifier: MIT */
/*
 * Action names: every code of the stored log format (docs/witness-format.md section 4) has its
 * display name, and every other byte value has none. The expected table is written out by hand
 * from the format's list, not expanded from RVM_ACTION_LIST, so a renumbered code, a renamed
 * kind or a code that lost its case makes this test fail.
 */
#include "test_support.h"

#include "rvm/action.h"

struct named_code {
    uint8_t code;
    const char *name;
};

static const struct named_code format_kinds[] = {
    {0x01, "PartitionCreate"},
    {0x02, "PartitionDestroy"},
    {0x03, "PartitionSuspend"},
    {0x04, "PartitionResume"},
    {0x05, "PartitionSplit"},
    {0x06, "PartitionMerge"},
    {0x07, "PartitionHibernate"},
    {0x08, "PartitionReconstruct"},
    {0x09, "PartitionMigrate"},
    {0x0A, "PartitionStart"},
    {0x0B, "Hypercall"},
    {0x10, "CapabilityGrant"},
    {0x11, "CapabilityRevoke"},
    {0x12, "CapabilityDelegate"},
    {0x13, "CapabilityEscalate"},
    {0x14, "CapabilityAttenuated"},
    {0x15, "CapabilityEpochRevoke"},
    {0x16, "CapabilityMint"},
    {0x17, "CapabilityEpochAdvance"},
    {0x20, "RegionCreate"},
    {0x21, "RegionDestroy"},
    {0x22, "RegionTransfer"},
    {0x23, "RegionShare"},
    {0x24, "RegionUnshare"},
    {0x25, "RegionPromote"},
    {0x26, "RegionDemote"},
    {0x27, "RegionMap"},
    {0x28, "RegionUnmap"},
    {0x29, "RegionTierEpoch"},
    {0x30, "CommEdgeCreate"},
    {0x31, "CommEdgeDestroy"},
    {0x32, "IpcSend"},
    {0x33, "IpcReceive"},
    {0x34, "ZeroCopyShare"},
    {0x35, "NotificationSignal"},
    {0x40, "DeviceLeaseGrant"},
    {0x41, "DeviceLeaseRevoke"},
    {0x42, "DeviceLeaseExpire"},
    {0x43, "DeviceLeaseRenew"},
    {0x44, "DeviceRegister"},
    {0x50, "ProofVerifiedP1"},
    {0x51, "ProofVerifiedP2"},
    {0x52, "ProofVerifiedP3"},
    {0x53, "ProofRejected"},
    {0x54, "ProofEscalated"},
    {0x60, "SchedulerEpoch"},
    {0x61, "SchedulerModeSwitch"},
    {0x62, "TaskSpawn"},
    {0x63, "TaskTerminate"},
    {0x64, "StructuralSplit"},
    {0x65, "StructuralMerge"},
    {0x66, "CpuOnline"},
    {0x67, "CpuOffline"},
    {0x68, "SchedulerPlacement"},
    {0x69, "SchedulerRemove"},
    {0x6A, "SchedulerEnqueue"},
    {0x6B, "SchedulerSwitch"},
    {0x70, "RecoveryEnter"},
    {0x71, "RecoveryExit"},
    {0x72, "CheckpointCreated"},
    {0x73, "CheckpointRestored"},
    {0x74, "MinCutBudgetExceeded"},
    {0x75, "DegradedModeEntered"},
    {0x76, "DegradedModeExited"},
    {0x77, "FailureRestart"},
    {0x78, "FailureReconstruct"},
    {0x79, "FailureMemoryRollback"},
    {0x7A, "FailureCoreRestart"},
    {0x7B, "StateDigest"},
    {0x7C, "StateDigestV2"},
    {0x80, "BootAttestation"},
    {0x81, "BootComplete"},
    {0x82, "TeeAttestation"},
    {0x83, "BootPhase"},
    {0x90, "VectorPut"},
    {0x91, "VectorDelete"},
    {0x92, "GraphMutation"},
    {0x93, "CoherenceRecomputed"},
    {0xA0, "VmidReclaim"},
    {0xA1, "MigrationTimeout"},
    {0xA2, "VmidAssign"},
    {0xA3, "VmidGenerationRollover"},
    {0xA4, "VmidRelease"},
    {0xF0, "Demo"},
};

#define KIND_COUNT (sizeof(format_kinds) / sizeof(format_kinds[0]))

static const char *expected_name(unsigned code)
{
    for (size_t i = 0; i < KIND_COUNT; i++) { /* bound: KIND_COUNT */
        if (format_kinds[i].code == code) {
            return format_kinds[i].name;
        }
    }
    return NULL;
}

static void test_every_format_kind_has_its_name(void **state)
{
    (void)state;
    assert_int_equal(KIND_COUNT, 84);
    for (size_t i = 0; i < KIND_COUNT; i++) {
        const char *got = rvm_action_name(format_kinds[i].code);
        if (got == NULL || strcmp(got, format_kinds[i].name) != 0) {
            fail_msg("code 0x%02x: expected %s, got %s", format_kinds[i].code, format_kinds[i].name,
                     got == NULL ? "(none)" : got);
        }
    }
}

static void test_codes_outside_the_format_have_no_name(void **state)
{
    (void)state;
    unsigned unnamed = 0;
    for (unsigned code = 0; code <= 0xFFu; code++) {
        if (expected_name(code) != NULL) {
            continue;
        }
        unnamed++;
        const char *got = rvm_action_name((uint8_t)code);
        if (got != NULL) {
            fail_msg("code 0x%02x is not in the format but is named %s", code, got);
        }
    }
    assert_int_equal(unnamed, 256u - KIND_COUNT);
}

static void test_enum_values_match_the_format(void **state)
{
    (void)state;
    /* Spot checks of the enum the kernel records with, one per subsystem nibble. */
    assert_int_equal(RVM_ACT_PARTITION_CREATE, 0x01);
    assert_int_equal(RVM_ACT_CAP_EPOCH_ADVANCE, 0x17);
    assert_int_equal(RVM_ACT_REGION_TIER_EPOCH, 0x29);
    assert_int_equal(RVM_ACT_NOTIFICATION_SIGNAL, 0x35);
    assert_int_equal(RVM_ACT_DEVICE_REGISTER, 0x44);
    assert_int_equal(RVM_ACT_PROOF_REJECTED, 0x53);
    assert_int_equal(RVM_ACT_SCHED_SWITCH, 0x6B);
    assert_int_equal(RVM_ACT_STATE_DIGEST, 0x7B);
    assert_int_equal(RVM_ACT_STATE_DIGEST_V2, 0x7C);
    assert_int_equal(RVM_ACT_BOOT_PHASE, 0x83);
    assert_int_equal(RVM_ACT_COHERENCE_RECOMPUTED, 0x93);
    assert_int_equal(RVM_ACT_VMID_RELEASE, 0xA4);
    assert_int_equal(RVM_ACT_DEMO, 0xF0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_format_kind_has_its_name),
        cmocka_unit_test(test_codes_outside_the_format_have_no_name),
        cmocka_unit_test(test_enum_values_match_the_format),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
