"""Every kernel-target scenario replayed on QEMU: the simulator records an operation tape, the
firmware replays it on both architectures, and the witness stream it prints must import, verify
and end with the simulator's record count and digest, byte for byte. Hostile tapes (truncated,
altered, re-sealed with an unknown entry, an out-of-range CPU or another guest RAM base) must
make QEMU exit non-zero with the named status on the console.

Oracles independent of the firmware: the simulator's own `records=N digest=HEX` for the run, the
importer's verification of the capture, hashlib for the re-sealed tapes' checksum
(docs/tape-format.md: SHA-256 of header bytes 0..479 and the body, stored at 480), and QEMU's exit
status. Boots run two at a time; the wall time and the slowest boot are printed (pytest -s).
"""
import concurrent.futures
import hashlib
import pathlib
import re
import struct
import subprocess
import time

import pytest

from test_firmware_boot import (ARCHES, BOOT_TIMEOUT, SOURCE_ROOT, build_firmware, qemu_command,
                                record_tape)

SEEDS = (1, 2, 3)
FAULTS = ("none", "swarm")
BOOT_WORKERS = 2  # the machine's cores are shared (helper brief)

# docs/tape-format.md
HEADER_BYTES = 512
CHECKSUM_AT = 480
CONFIG_AT = 40
RAM_BASE_FIELD = 3  # arch, ncpus, nvmids, ram_base, ...
CALL_TYPE = 1
ENTRY_CPU_AT = 8


def kernel_scenarios():
    """(scenario name, arch) for every `target kernel` scenario: riscv=true/1 ones on riscv64."""
    out = []
    for path in sorted((SOURCE_ROOT / "scenarios").glob("*.scn")):
        for line in path.read_text().splitlines():
            words = line.split()
            if words[:2] == ["target", "kernel"]:
                params = dict(w.split("=", 1) for w in words[2:] if "=" in w)
                riscv = params.get("riscv", "false") in ("true", "1")
                out.append((path.stem, "riscv64" if riscv else "aarch64"))
                break
    return out


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    """arch -> the default firmware image (both cross-built)."""
    return {arch: build_firmware(arch, tmp_path_factory) / "firmware" / f"rvmfw-{arch}.elf"
            for arch in sorted(ARCHES)}


def boot(arch, elf, tape, extra=()):
    start = time.monotonic()
    proc = subprocess.run(qemu_command(arch, elf, tape, extra), capture_output=True,
                          timeout=BOOT_TIMEOUT)
    return proc.returncode, proc.stdout.decode("ascii", "replace"), time.monotonic() - start


def imported(rvmsim, db, capture_path):
    """(records, digest, sealed) of the capture as `rvmsim import` and `rvmsim verify` see it. A run whose
    seal the simulator's sink refused under injected faults has no checkpoint over its last
    records on QEMU either, hence --allow-unsealed; the count and digest are compared all the
    same."""
    proc = rvmsim("import", "--db", db, "--format", "serial", "--allow-unsealed", capture_path)
    run = re.search(r"imported run (\d+)", proc.stdout).group(1)
    proc = rvmsim("verify", "--db", db, "--run", run, "--allow-unsealed")
    m = re.search(r"run \d+: ok: (\d+) records.*digest ([0-9a-f]{64})", proc.stdout)
    assert m, proc.stdout
    return int(m.group(1)), m.group(2), "unsealed" not in proc.stdout


def test_every_kernel_scenario_replays_identically(images, rvmsim, tmp_path):
    cases = []
    for scenario, arch in kernel_scenarios():
        for seed in SEEDS:
            for faults in FAULTS:
                tape = tmp_path / f"{scenario}-{seed}-{faults}.tape"
                records, digest = record_tape(rvmsim, tape, scenario, seed, faults)
                cases.append((scenario, arch, seed, faults, tape, records, digest))
    assert {arch for _, arch, *_ in cases} == set(ARCHES), "the corpus covers both arches"

    start = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(BOOT_WORKERS) as pool:
        boots = list(pool.map(lambda c: boot(c[1], images[c[1]], c[4]), cases))
    wall = time.monotonic() - start

    db = tmp_path / "corpus.db"
    problems = []
    sealed = 0
    for case, (status, capture, _) in zip(cases, boots):
        scenario, arch, seed, faults, tape, records, digest = case
        name = f"{scenario} seed={seed} faults={faults} ({arch})"
        if status != 0 or "tape: ok " not in capture:
            line = next((l for l in capture.splitlines() if l.startswith("tape: ")), "no status")
            problems.append(f"{name}: exit {status}, {line}")
            continue
        cap = tape.with_suffix(".capture")
        cap.write_text(capture)
        got = imported(rvmsim, db, cap)
        sealed += got[2]
        if got[:2] != (records, digest):
            problems.append(f"{name}: imported {got[:2]}, simulator {(records, digest)}")
    seconds = sorted(s for _, _, s in boots)
    print(f"\n{len(cases) - len(problems)}/{len(cases)} tapes identical on QEMU ({sealed} sealed); "
          f"{len(cases)} boots in {wall:.1f} s wall ({BOOT_WORKERS} at a time), "
          f"boot-to-exit median {seconds[len(seconds) // 2]:.2f} s, max {seconds[-1]:.2f} s")
    assert not problems, "\n".join(problems)


def reseal(tape):
    """Recompute the checksum of an altered tape (docs/tape-format.md)."""
    tape[CHECKSUM_AT:HEADER_BYTES] = hashlib.sha256(
        bytes(tape[:CHECKSUM_AT]) + bytes(tape[HEADER_BYTES:])).digest()
    return tape


def first_call(tape):
    """Offset of the first CALL entry of the body."""
    at = HEADER_BYTES
    while at < len(tape):
        kind, _code, length = struct.unpack_from("<HHI", tape, at)
        if kind == CALL_TYPE:
            return at
        at += length
    raise AssertionError("no CALL entry")


def truncated(tape):
    return tape[:len(tape) - 24]


def bad_checksum(tape):
    tape[-1] ^= 0x01
    return tape


def unknown_entry(tape):
    at = first_call(tape)
    struct.pack_into("<H", tape, at + 2, 0x7fff)
    return reseal(tape)


def cpu_out_of_range(tape):
    at = first_call(tape)
    struct.pack_into("<I", tape, at + ENTRY_CPU_AT, 63)
    return reseal(tape)


def other_ram_base(tape):
    at = CONFIG_AT + 8 * RAM_BASE_FIELD
    base = struct.unpack_from("<Q", tape, at)[0]
    struct.pack_into("<Q", tape, at, base + 0x10000)
    return reseal(tape)


HOSTILE = [
    (truncated, "truncated"),
    (bad_checksum, "bad-checksum"),
    (unknown_entry, "unknown-entry"),
    (cpu_out_of_range, "out-of-range"),
    (other_ram_base, "layout"),
]


@pytest.mark.parametrize("arch", sorted(ARCHES))
def test_hostile_tapes_exit_nonzero_with_their_status(images, rvmsim, tmp_path, arch):
    scenario = ARCHES[arch]["scenario"]
    good = tmp_path / "good.tape"
    record_tape(rvmsim, good, scenario)
    cases = []
    for alter, status in HOSTILE:
        path = tmp_path / f"{alter.__name__}.tape"
        path.write_bytes(bytes(alter(bytearray(good.read_bytes()))))
        cases.append((path, status))
    with concurrent.futures.ThreadPoolExecutor(BOOT_WORKERS) as pool:
        boots = list(pool.map(lambda c: boot(arch, images[arch], c[0]), cases))
    for (path, status), (code, capture, _) in zip(cases, boots):
        assert code != 0, (path.name, capture)
        assert re.search(rf"^tape: {status} at=\d+", capture, re.M), (path.name, capture)
        assert "RVMW E " not in capture and "tape: ok" not in capture, (path.name, capture)


def test_aarch64_refusal_exits_nonzero_with_and_without_semihosting(images, rvmsim, tmp_path):
    # PSCI (the panic device gives QEMU's status 1) and semihosting SYS_EXIT (FW_EXIT_FAILED),
    # and the semihosting build on a QEMU without -semihosting (falls back to PSCI)
    good = tmp_path / "good.tape"
    record_tape(rvmsim, good, ARCHES["aarch64"]["scenario"])
    bad = tmp_path / "bad.tape"
    bad.write_bytes(bytes(bad_checksum(bytearray(good.read_bytes()))))
    semihosting = images["aarch64"].with_name("rvmfw-aarch64-semihosting.elf")
    for elf, extra in ((images["aarch64"], []), (semihosting, ["-semihosting"]),
                       (semihosting, [])):
        code, capture, _ = boot("aarch64", elf, bad, extra)
        assert code == 1, (elf.name, extra, capture)
        assert re.search(r"^tape: bad-checksum at=0\r?$", capture, re.M), (elf.name, extra, capture)


def test_scenario_list_matches_the_files():
    # every kernel-target scenario is taken, each on the arch its `riscv` parameter names
    found = dict(kernel_scenarios())
    assert found.get("kernel-riscv") == "riscv64" and found.get("kernel-smoke") == "aarch64"
    assert all(pathlib.Path(SOURCE_ROOT / "scenarios" / f"{s}.scn").exists() for s in found)
