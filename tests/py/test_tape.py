"""The operation tape (docs/tape-format.md): what `rvmsim run --tape` writes, read by an
independent decoder (tape_format.py), and replayed on the host by the firmware's own interpreter
(tests/tools/tape_replay_host) with the portable crypto provider. A replay that ends with the
simulator's record count and log digest proves the tape carries everything the kernel depended
on; altered tapes must stop the replay with the named reason.
"""
import hashlib
import os
import pathlib
import re
import struct
import subprocess

import pytest

import tape_format

ROOT = pathlib.Path(__file__).resolve().parents[2]
KERNEL_SCENARIOS = sorted(p for p in (ROOT / "scenarios").glob("*.scn")
                          if re.search(r"^target kernel\b", p.read_text(), re.M))
RUN_LINE = re.compile(r"records=(\d+) digest=([0-9a-f]{64})")


@pytest.fixture(scope="session")
def replay_host():
    path = os.environ.get("RVM_TAPE_REPLAY") or str(ROOT / "build" / "tests" / "tape_replay_host")
    if not os.path.exists(path):
        pytest.fail(f"tape_replay_host not found at {path}; build first or set RVM_TAPE_REPLAY")
    return path


def record(rvmsim, tmp_path, scenario, seed, faults):
    tape = tmp_path / f"{scenario.stem}-{seed}-{faults}.tape"
    proc = rvmsim("run", scenario, "--seed", seed, "--faults", faults, "--tape", tape,
                  check=False)
    assert tape.exists(), proc.stderr
    records, digest = RUN_LINE.search(proc.stdout.splitlines()[-1]).groups()
    return tape, int(records), digest


def replay(replay_host, tape, *mode):
    proc = subprocess.run([replay_host, str(tape), *mode], capture_output=True, text=True)
    fields = dict(kv.split("=", 1) for kv in proc.stdout.split() if "=" in kv)
    return proc.returncode, fields


def test_kernel_scenarios_exist():
    assert len(KERNEL_SCENARIOS) >= 10


@pytest.mark.parametrize("faults", ["none", "swarm"])
@pytest.mark.parametrize("scenario", KERNEL_SCENARIOS, ids=lambda p: p.stem)
def test_host_replay_gives_the_simulators_chain(rvmsim, replay_host, tmp_path, scenario, faults):
    for seed in (1, 2, 3):
        tape, records, digest = record(rvmsim, tmp_path, scenario, seed, faults)
        rc, got = replay(replay_host, tape)
        assert rc == 0 and got["status"] == "ok", (scenario.name, seed, got)
        assert (int(got["records"]), got["digest"]) == (records, digest), (scenario.name, seed)


@pytest.mark.parametrize("scenario", KERNEL_SCENARIOS, ids=lambda p: p.stem)
def test_trapped_hypercalls_give_the_simulators_chain(rvmsim, replay_host, tmp_path, scenario):
    """The interpreter's real-guest path (firmware/common/guest.h): every hypercall on a CPU
    with a partition goes through the machine's trap and the kernel decodes the registers the
    trap delivered; a guest fault takes the address the machine's fault reported."""
    tape, records, digest = record(rvmsim, tmp_path, scenario, 1, "swarm")
    _, entries = tape_format.parse(tape.read_bytes())
    hypercalls = sum(e["type"] == "call" and e["entry"] == "hypercall" for e in entries)
    rc, got = replay(replay_host, tape, "traps")
    assert rc == 0 and got["status"] == "ok", (scenario.name, got)
    assert (int(got["records"]), got["digest"]) == (records, digest), scenario.name
    assert int(got["trapped"]) + int(got["direct"]) == hypercalls


@pytest.mark.parametrize("mode,entry", [("traps-skew-hypercall", "hypercall"),
                                        ("traps-skew-fault", "guest_fault")])
def test_a_trap_that_differs_from_the_tape_stops_the_replay(rvmsim, replay_host, tmp_path, mode,
                                                           entry):
    tape, _, _ = record(rvmsim, tmp_path, ROOT / "scenarios" / "kernel-faults.scn", 1, "none")
    _, entries = tape_format.parse(tape.read_bytes())
    first = next(i for i, e in enumerate(entries) if e["type"] == "call" and e["entry"] == entry)
    rc, got = replay(replay_host, tape, mode)
    assert rc == 1 and got["status"] == "hal-mismatch" and got["entry"] == entry, got
    assert int(got["at"]) == first + 1  # `at` counts the entries read, this one included
    want, have = int(got["want"]), int(got["got"])
    call = entries[first]
    if entry == "hypercall":
        assert (want, have) == (call["args"][1] - (1 << 64 if call["args"][1] >> 63 else 0),
                                (call["args"][1] ^ 1) - (1 << 64 if call["args"][1] >> 63 else 0))
    else:
        assert (want, have) == (call["args"][0], call["args"][0] + 8)


def test_independent_decoder_agrees_with_the_run(rvmsim, tmp_path):
    tape, records, digest = record(rvmsim, tmp_path, ROOT / "scenarios" / "kernel-smoke.scn", 7,
                                   "swarm")
    header, entries = tape_format.parse(tape.read_bytes())
    assert header["seed"] == 7
    assert header["end_records"] == records and header["end_digest"] == digest
    assert entries[-1] == {"type": "end", "records": records, "digest": digest}
    calls = [e for e in entries if e["type"] == "call"]
    assert [c["entry"] for c in calls[:3]] == ["boot_phase"] * 3
    assert calls[-1]["entry"] == "witness_seal"
    # the kernel target's defaults for this scenario, read from the header alone
    assert header["config"]["ncpus"] == 2 and header["config"]["max_partitions"] == 8
    assert len(header["witness_key"]) == 32
    # every answer follows a call; the kernel's own clock questions dominate
    assert entries[0]["type"] in ("answer", "call")
    assert sum(e["type"] == "answer" and e["hook"] == "clock_now_ns" for e in entries) > 10


def test_witness_target_has_no_tape(rvmsim, tmp_path):
    proc = rvmsim("run", ROOT / "scenarios" / "smoke.scn", "--tape", tmp_path / "t", check=False)
    assert proc.returncode == 2
    assert "no tape written" in proc.stderr
    assert not (tmp_path / "t").exists()


def reseal(data):
    data = bytearray(data)
    data[480:512] = hashlib.sha256(bytes(data[:480]) + bytes(data[512:])).digest()
    return bytes(data)


def entry_offsets(data):
    pos, out = 512, []
    while pos < len(data):
        etype, code, length = struct.unpack_from("<HHI", data, pos)
        out.append((pos, etype, code, length))
        pos += length
    return out


def test_altered_tapes_stop_with_their_reason(rvmsim, replay_host, tmp_path):
    tape, _, _ = record(rvmsim, tmp_path, ROOT / "scenarios" / "kernel-caps.scn", 1, "none")
    data = tape.read_bytes()
    offsets = entry_offsets(data)
    calls = [o for o in offsets if o[1] == 1]
    answers = [o for o in offsets if o[1] == 2]

    def check(name, altered, status):
        path = tmp_path / f"{name}.tape"
        path.write_bytes(altered)
        rc, got = replay(replay_host, path)
        assert rc != 0 and got.get("status") == status, (name, got)

    check("truncated", data[:-8], "truncated")
    flipped = bytearray(data)
    flipped[600] ^= 1
    check("checksum", bytes(flipped), "bad-checksum")
    # a call recorded with another result
    pos = calls[len(calls) // 2][0]
    wrong = bytearray(data)
    struct.pack_into("<i", wrong, pos + 20, struct.unpack_from("<i", data, pos + 20)[0] - 1)
    check("result", reseal(wrong), "result-mismatch")
    # an answer removed from the middle: the next question finds another answer or a call
    pos, _, _, length = answers[len(answers) // 2]
    cut = bytearray(data[:pos] + data[pos + length:])
    struct.pack_into("<QQ", cut, 16, len(cut) - 512, struct.unpack_from("<Q", data, 24)[0] - 1)
    rc, got = replay(replay_host, _write(tmp_path / "cut.tape", reseal(cut)))
    assert rc != 0 and got["status"] in ("answer-missing", "answer-mismatch", "hal-mismatch",
                                          "result-mismatch"), got
    # an unknown entry point and a CPU the configuration does not have
    unknown = bytearray(data)
    struct.pack_into("<H", unknown, calls[3][0] + 2, 999)
    check("unknown", reseal(unknown), "unknown-entry")
    cpu = bytearray(data)
    struct.pack_into("<I", cpu, calls[3][0] + 8, 64)
    check("cpu", reseal(cpu), "out-of-range")


def _write(path, data):
    path.write_bytes(data)
    return path


def test_qemu_refuses_a_scenario_of_the_other_architecture(rvmsim, tmp_path):
    # the check needs no QEMU boot: any readable file stands in for the firmware image
    proc = rvmsim("qemu", ROOT / "scenarios" / "kernel-smoke.scn", "--arch", "riscv64",
                  "--firmware", rvmsim.path, check=False)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "use --arch aarch64" in proc.stderr
    proc = rvmsim("qemu", ROOT / "scenarios" / "kernel-smoke.scn", "--arch", "x86",
                  check=False)
    assert proc.returncode == 2 and "--arch must be aarch64 or riscv64" in proc.stderr
    proc = rvmsim("qemu", ROOT / "scenarios" / "kernel-smoke.scn", "--arch", "aarch64",
                  "--firmware", tmp_path / "none.elf", check=False)
    assert proc.returncode == 2 and "make firmware" in proc.stderr
