"""Real guest traps on QEMU AArch64: the tape's hypercalls and hostile guest accesses are issued by
an EL1 guest under the partition's stage-2 tables, and what reaches the kernel is the trap.

The scenario (kernel-faults, faults none) has a guest store to an unmapped IPA and nine hostile
hypercalls. Oracles independent of the firmware: the operation tape read with tape_format.py
(written from docs/tape-format.md) says how many hypercalls and faulting accesses there are and
at which address; the simulator's run of the same scenario and seed, stored next to the QEMU run,
holds the records the trap must produce. The firmware's console line `guest: traps ...` (outside
the witness framing, docs/firmware.md) says what the hardware trapped, by exception class.
"""
import json
import re

import pytest

from tape_format import parse
from test_firmware_boot import SOURCE_ROOT, build_firmware

SCENARIO = SOURCE_ROOT / "scenarios" / "kernel-faults.scn"
SEED = 1
GUEST_FAULT = 0x161  # enum rvm_err RVM_ERR_GUEST_FAULT (core/include/rvm/error.h)
WRONG_STATE = 0x007
FAULT_GUEST_MEMORY = 2  # rvm_kernel_fault_reason: the payload's low half of a guest fault
FETCH = 2  # guest_access a0: 0 read, 1 write, 2 fetch


def guest_line(capture):
    for line in capture.splitlines():
        if line.startswith("guest: traps "):
            body = line[len("guest: traps "):]
            traps, rest = body.split(" direct ")
            direct, model = rest.split(" model ")
            parse_kv = lambda text: {k: int(v) for k, v in re.findall(r"([a-z-]+)=(\d+)", text)}
            return parse_kv(traps), parse_kv(direct), parse_kv(model)
    raise AssertionError("no guest summary line in the capture:\n" + capture[-2000:])


def records(rvmsim, db, run, kind):
    out = rvmsim("show", "--db", db, "--run", run, "--kind", kind, "--json").stdout
    return [json.loads(line) for line in out.splitlines()]


@pytest.fixture(scope="module")
def qemu_run(rvmsim, tmp_path_factory):
    build = build_firmware("aarch64", tmp_path_factory)
    tmp = tmp_path_factory.mktemp("guest")
    db, keep = tmp / "q.db", tmp / "keep"
    proc = rvmsim("qemu", SCENARIO, "--arch", "aarch64", "--seed", SEED, "--faults", "none",
                  "--db", db, "--keep", keep,
                  "--firmware", build / "firmware" / "rvmfw-aarch64.elf", timeout=120)
    runs = [int(m) for m in re.findall(r"^run=(\d+) ", proc.stdout, re.M)]
    assert len(runs) == 2, proc.stdout
    _, entries = parse((keep / "run.tape").read_bytes())
    calls = [e for e in entries if e["type"] == "call"]
    capture = (keep / "qemu.txt").read_text(errors="replace")
    return {"sim": runs[0], "qemu": runs[1], "db": db, "calls": calls, "capture": capture}


def test_every_hypercall_and_fault_trapped_on_the_hardware(qemu_run):
    traps, direct, model = guest_line(qemu_run["capture"])
    calls = qemu_run["calls"]
    hypercalls = [c for c in calls if c["entry"] == "hypercall"]
    faulting = [c for c in calls if c["entry"] == "guest_access" and c["expect"] == GUEST_FAULT]
    completed = [c for c in calls if c["entry"] == "guest_access" and c["expect"] == 0]
    assert len(hypercalls) == 9 and len(faulting) == 1  # what the scenario scripts
    # A hypercall is applied without a guest only on a CPU where nothing runs (WRONG_STATE).
    assert direct["hypercall"] <= sum(c["expect"] == WRONG_STATE for c in hypercalls)
    assert traps["hypercall"] + direct["hypercall"] == len(hypercalls)
    assert traps["hypercall"] >= 1
    assert direct["access"] == 0 and direct["fault"] == 0
    assert traps["data-abort"] == sum(c["args"][0] != FETCH for c in faulting)
    assert traps["fetch-abort"] == sum(c["args"][0] == FETCH for c in faulting)
    assert traps["done"] == len(completed)
    assert traps["smc"] == 1  # the guest's smc (PSCI SYSTEM_OFF) stopped at EL2
    assert traps["other"] == 0
    assert model["checked"] == traps["data-abort"] + traps["fetch-abort"]
    assert model["differs"] == 0


def test_the_trapped_fault_is_the_simulators_record(qemu_run, rvmsim):
    """The kernel got the faulting IPA from HPFAR_EL2/FAR_EL2: the FailureRestart it wrote
    carries it, byte for byte as in the simulator's run."""
    access = next(c for c in qemu_run["calls"]
                  if c["entry"] == "guest_access" and c["expect"] == GUEST_FAULT)
    ipa = access["args"][1]
    got = {}
    for side in ("sim", "qemu"):
        got[side] = [r for r in records(rvmsim, qemu_run["db"], qemu_run[side], "FailureRestart")
                     if int(r["aux"]) == ipa and int(r["payload"]) & 0xffffffff == FAULT_GUEST_MEMORY]
        assert len(got[side]) == 1, (side, hex(ipa))
    assert got["qemu"][0]["image"] == got["sim"][0]["image"]
    assert got["qemu"][0]["chain"] == got["sim"][0]["chain"]


def test_the_trapped_hypercalls_are_the_simulators_records(qemu_run, rvmsim):
    """Each hypercall's decode refusal (the hostile variants) comes from the registers the hvc
    trap delivered; the records equal the simulator's."""
    got = {side: [r for r in records(rvmsim, qemu_run["db"], qemu_run[side], "ProofRejected")
                  if "tried=Hypercall" in r.get("detail", "")]
           for side in ("sim", "qemu")}
    assert got["sim"], "the scenario's hostile hypercalls were not refused in the simulator"
    assert [r["image"] for r in got["qemu"]] == [r["image"] for r in got["sim"]]
