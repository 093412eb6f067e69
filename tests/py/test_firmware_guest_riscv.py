"""Real S-mode guests on QEMU riscv64: scenarios/kernel-riscv-guest.scn under `rvmsim qemu`.

The firmware runs the scenario's guest instructions as a real S-mode program under the
partition's PMP image (firmware/riscv/guest.c). The hostile accesses lie outside every PMP region
of the partition, so the hart must fault them, and the kernel's FailureRestart records (reason 2,
guest memory; aux the faulting address) must be the simulator's, byte for byte; so must the
record of the CSR probe (`guest_probe`: S-mode reads mstatus, an illegal instruction; reason 1,
the guest crashed).

Independent oracles: the addresses come from the scenario text (wild accesses touch
pick * 4096 + offset, docs/scenario-format.md), the reason code from core/include/rvm/kernel.h's
enum (RVM_FAULT_CRASH = 1, RVM_FAULT_GUEST_MEMORY = 2), the simulator's run of the same scenario and seed (rvmsim
qemu compares the chains with rvmsim diff), and the trap counts the firmware prints on the UART
outside the witness framing (`guest: traps ...`), which say the traps really happened on the
hart: a store to the SiFive test device that PMP let through would end QEMU on the spot.
"""
import json
import re

import pytest

from test_firmware_boot import SOURCE_ROOT, build_firmware

SCENARIO = SOURCE_ROOT / "scenarios" / "kernel-riscv-guest.scn"
FAULT_CRASH = 1
FAULT_GUEST_MEMORY = 2
FAILURE_RESTART = "FailureRestart"


def wild_addresses(text):
    """pick * 4096 + offset of every wild guest_access line of the scenario, in order."""
    out = []
    for line in text.splitlines():
        line = line.split("#", 1)[0]
        if line.startswith("guest_access") and "wild=true" in line:
            args = dict(a.split("=", 1) for a in line.split()[1:])
            out.append(int(args.get("pick", "0"), 0) * 4096 + int(args.get("offset", "0"), 0))
    return out


@pytest.fixture(scope="module")
def firmware(tmp_path_factory):
    build = build_firmware("riscv64", tmp_path_factory)
    return build / "firmware" / "rvmfw-riscv64.elf"


def summary(capture):
    """The `guest: traps ... direct ... model ...` line as three dicts."""
    m = re.search(r"^guest: traps (.*) direct (.*) model (.*)$", capture, re.M)
    assert m, capture
    return [{k: int(v) for k, v in re.findall(r"(\S+)=(\d+)", part)} for part in m.groups()]


def test_hostile_accesses_trap_on_the_hart_as_in_the_simulator(rvmsim, firmware, tmp_path):
    db, keep = tmp_path / "q.db", tmp_path / "keep"
    proc = rvmsim("qemu", SCENARIO, "--arch", "riscv64", "--seed", 1, "--db", db,
                  "--keep", keep, "--firmware", firmware, timeout=120)
    assert re.search(r"^run=2 seed=1 records=\d+ digest=[0-9a-f]{64} result=pass$",
                     proc.stdout, re.M), proc.stdout + proc.stderr
    capture = (keep / "qemu.txt").read_text(errors="replace")
    assert "tape: ok" in capture

    # The records: QEMU's (run 2) and the simulator's (run 1) FailureRestarts.
    def restarts(run):
        out = rvmsim("show", "--db", db, "--run", run, "--kind", FAILURE_RESTART, "--json").stdout
        return [json.loads(line) for line in out.splitlines() if line.strip()]

    hw, sim = restarts(2), restarts(1)
    want = wild_addresses(SCENARIO.read_text())
    assert want == [0x100000, 0x1000, 0x1008]  # SiFive test device, boot ROM, a jump into it
    # show --json writes 64-bit fields as decimal strings (docs/json.md)
    assert [int(r["aux"]) for r in hw] == want + [0]
    assert [int(r["payload"]) & 0xffffffff for r in hw] == [FAULT_GUEST_MEMORY] * 3 + [FAULT_CRASH]
    boot, probed = hw[0]["target"], hw[3]["target"]
    assert [r["target"] for r in hw[:3]] == [boot] * 3 and probed != boot  # P, the second one
    assert [(r["seq"], r["chain"]) for r in hw] == [(r["seq"], r["chain"]) for r in sim]

    # The traps happened on the hart: two data aborts (mcause 7 store, 5 load), one fetch abort
    # (mcause 1), the ecall, the two permitted accesses (fetch of its own code, a load), and two
    # probes, which on RISC-V read mstatus from S-mode (illegal instruction, mcause 2): the
    # scenario's and the one the firmware makes after every replay. Nothing was applied without
    # a guest.
    # Each of the five access traps was checked against rv_pmp's model (rvm_rv_access_check):
    # cause and mtval equal.
    traps, direct, model = summary(capture)
    assert traps == {"hypercall": 1, "smc": 2, "data-abort": 2, "fetch-abort": 1, "done": 2,
                     "other": 0}
    assert direct == {"hypercall": 0, "access": 0, "fault": 0}
    assert model == {"checked": 5, "differs": 0}
