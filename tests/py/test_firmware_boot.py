"""The bare-metal firmware under QEMU: cross-build both images, boot them with an operation tape
recorded by the simulator, import and verify the witness stream they print on the UART, and check
that an unhandled exception ends the run at once with a failure status.

Oracles independent of the firmware: zlib.crc32 for the frame checksums, hashlib/hmac for the log
digest and the final checkpoint's HMAC with the seed's key (docs/replay-store.md), the
from-the-spec SHA-256 compression of sha256_model.py for the chain value, the simulator's own
record count and digest for the same scenario and seed, and QEMU's exit status.
docs/firmware.md describes the commands this test runs; test_firmware_tape.py replays the whole
kernel-target corpus.
"""
import hashlib
import hmac
import os
import pathlib
import re
import shutil
import struct
import subprocess
import time
import zlib

import pytest

from sha256_model import IV, compress, state_bytes

SOURCE_ROOT = pathlib.Path(os.environ.get("RVM_SOURCE_ROOT",
                                          pathlib.Path(__file__).resolve().parents[2]))
BUILD_ROOT = pathlib.Path(os.environ.get("RVM_BUILD_ROOT", SOURCE_ROOT / "build"))

ARCHES = {
    "aarch64": {
        "gcc": "aarch64-linux-gnu-gcc",
        "qemu": ["qemu-system-aarch64", "-M", "virt,virtualization=on,gic-version=2",
                 "-cpu", "cortex-a53", "-m", "1G", "-nographic", "-nic", "none",
                 "-device", "pvpanic-pci", "-action", "panic=exit-failure", "-kernel"],
        "platform": "qemu-aarch64",
        # firmware/aarch64/board_qemu_virt.c: tape window and the loader's length word
        "tape_base": 0x50000000,
        "tape_length_addr": 0x4ffff000,
        "scenario": "kernel-boot",
    },
    "riscv64": {
        "gcc": "riscv64-linux-gnu-gcc",
        "qemu": ["qemu-system-riscv64", "-M", "virt", "-m", "1G", "-nographic", "-bios"],
        "platform": "qemu-riscv64",
        "tape_base": 0x90000000,
        "tape_length_addr": 0x8ffff000,
        "scenario": "kernel-riscv",
    },
}
SEED = 1
BOOT_TIMEOUT = 60  # seconds; a boot takes well under one (docs/firmware.md)
FAULT_LIMIT = 10  # seconds an unhandled exception may take to end the run, QEMU start included
EXIT_FAILURE_PVPANIC = 1  # QEMU's status for -action panic=exit-failure
EXIT_EXCEPTION = 3  # firmware/common/arch.h FW_EXIT_EXCEPTION, carried by semihosting / SiFive test


def missing_tools(arch):
    tools = ["meson", "ninja", ARCHES[arch]["gcc"], ARCHES[arch]["qemu"][0]]
    return [t for t in tools if shutil.which(t) is None]


def build_firmware(arch, tmp_path_factory):
    """The build directory with the firmware images of `arch` cross-built (skips without tools)."""
    missing = missing_tools(arch)
    if missing:
        pytest.skip(f"firmware for {arch} needs {', '.join(missing)} (scripts/deps.sh qemu)")
    build = BUILD_ROOT / f"firmware-{arch}" if BUILD_ROOT.is_dir() else \
        tmp_path_factory.mktemp(f"firmware-{arch}")
    if not (build / "build.ninja").exists():
        subprocess.run(["meson", "setup", str(build), "--cross-file",
                        str(SOURCE_ROOT / "cross" / f"{arch}.ini")],
                       cwd=SOURCE_ROOT, check=True, capture_output=True, text=True)
    proc = subprocess.run(["meson", "compile", "-C", str(build)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return build


@pytest.fixture(scope="module", params=sorted(ARCHES))
def firmware(request, tmp_path_factory):
    """(arch, build directory) with the firmware images of `arch` cross-built."""
    return request.param, build_firmware(request.param, tmp_path_factory)


def image(firmware, variant=""):
    arch, build = firmware
    path = build / "firmware" / f"rvmfw-{arch}{variant}.elf"
    assert path.exists(), f"{path} was not built"
    return path


def qemu_command(arch, elf, tape, extra=()):
    """The QEMU command line that boots `elf` with `tape` in the board's tape window."""
    a = ARCHES[arch]
    length = pathlib.Path(tape).stat().st_size
    return a["qemu"][:-1] + list(extra) + [
        a["qemu"][-1], str(elf),
        "-device", f"loader,file={tape},addr={a['tape_base']:#x},force-raw=on",
        "-device", f"loader,addr={a['tape_length_addr']:#x},data={length},data-len=8"]


def boot(firmware, tape, variant="", extra=()):
    arch, _ = firmware
    start = time.monotonic()
    proc = subprocess.run(qemu_command(arch, image(firmware, variant), tape, extra),
                          capture_output=True, timeout=BOOT_TIMEOUT)
    return proc.returncode, proc.stdout.decode("ascii", "replace"), time.monotonic() - start


def record_tape(rvmsim, path, scenario, seed=SEED, faults="none"):
    """Run `scenario` in the simulator with a tape: (records, digest) of the run."""
    proc = rvmsim("run", SOURCE_ROOT / "scenarios" / f"{scenario}.scn", "--seed", seed,
                  "--faults", faults, "--tape", path, check=False)
    m = re.search(r"records=(\d+) digest=([0-9a-f]{64})", proc.stdout)
    assert m and path.exists(), proc.stdout + proc.stderr
    return int(m.group(1)), m.group(2)


@pytest.fixture
def tape(firmware, rvmsim, tmp_path):
    """(path, records, digest) of the arch's small boot scenario, seed SEED."""
    path = tmp_path / "boot.tape"
    records, digest = record_tape(rvmsim, path, ARCHES[firmware[0]]["scenario"])
    return path, records, digest


def frames(capture):
    """The frame lines of a capture, each checked against its CRC-32, as (type, fields)."""
    out = []
    for line in capture.splitlines():
        line = line.rstrip("\r")
        if not line.startswith("RVMW "):
            continue
        body, crc = line.rsplit(" ", 1)
        assert int(crc, 16) == zlib.crc32(body.encode()), line
        parts = body.split(" ")
        out.append((parts[1], parts[2:]))
    return out


def import_and_verify(rvmsim, tmp_path, capture):
    cap = tmp_path / "capture.txt"
    cap.write_text(capture)
    db = tmp_path / "fw.db"
    proc = rvmsim("import", "--db", db, "--format", "serial", cap)
    assert "sealed" in proc.stdout and "unsealed" not in proc.stdout, proc.stdout
    run = re.search(r"imported run (\d+)", proc.stdout).group(1)
    proc = rvmsim("verify", "--db", db, "--run", run)
    assert "ok" in proc.stdout, proc.stdout


def test_boot_streams_a_sealed_verifiable_log(firmware, tape, rvmsim, tmp_path):
    arch, _ = firmware
    path, records, sim_digest = tape
    status, capture, _ = boot(firmware, path)
    assert status == 0, capture
    fr = frames(capture)
    types = [t for t, _ in fr]
    assert types[0] == "H" and types[-1] == "E" and types.count("R") == records, capture
    assert "tape: ok " in capture and f" records={records}" in capture, capture

    header = dict(f.split("=", 1) for f in fr[0][1][1:])
    assert fr[0][1][0] == "1"
    assert header["platform"] == ARCHES[arch]["platform"]
    assert header["seed"] == str(SEED) and header["program"] == "tape"

    images = [bytes.fromhex(f[1]) for t, f in fr if t == "R"]
    for seq, img in enumerate(images):
        assert struct.unpack_from("<Q", img, 0)[0] == seq

    # the final checkpoint covers the whole log: digest, chain and HMAC with the seed's key
    log = b"".join(images)
    digest = hashlib.sha256(log).hexdigest()
    assert digest == sim_digest
    state = IV
    for img in images:
        state = compress(state, img)
    seals = [f for t, f in fr if t == "S"]
    assert len(seals) == 1 and fr[-2][0] == "S", capture  # the seal ends the log
    seq, cp_digest, cp_chain, cp_hmac = seals[0]
    assert int(seq, 16) == records - 1 and cp_digest == digest
    assert cp_chain == state_bytes(state).hex()
    key = hashlib.sha256(b"rvmsim hmac key" + struct.pack("<Q", SEED)).digest()
    # the seal's message, docs/witness-format.md §3
    msg = b"rvm-seal" + struct.pack("<Q", records - 1) + bytes.fromhex(digest) + \
        struct.pack("<Q", records)
    assert cp_hmac == hmac.new(key, msg, hashlib.sha256).hexdigest()
    assert fr[-1][1] == ["%016x" % records, digest]

    import_and_verify(rvmsim, tmp_path, capture)


def test_aarch64_semihosting_build_exits_zero_and_verifies(firmware, tape, rvmsim, tmp_path):
    if firmware[0] != "aarch64":
        pytest.skip("semihosting is an Arm exit method")
    for extra in (["-semihosting"], []):
        status, capture, _ = boot(firmware, tape[0], "-semihosting", extra)
        assert status == 0, (extra, capture)
        assert "RVMW E " in capture
    import_and_verify(rvmsim, tmp_path, capture)


def fault_cases(arch):
    """(image variant, extra QEMU arguments, expected status)"""
    if arch == "riscv64":
        return [("-fault", [], EXIT_EXCEPTION)]
    return [
        ("-fault", [], EXIT_FAILURE_PVPANIC),
        ("-fault", ["-semihosting"], EXIT_FAILURE_PVPANIC),
        ("-semihosting-fault", [], EXIT_FAILURE_PVPANIC),
        ("-semihosting-fault", ["-semihosting"], EXIT_EXCEPTION),
    ]


def test_unhandled_exception_exits_nonzero_quickly(firmware, tape, rvmsim, tmp_path):
    arch, _ = firmware
    for variant, extra, expected in fault_cases(arch):
        status, capture, seconds = boot(firmware, tape[0], variant, extra)
        assert status == expected, (variant, extra, capture)
        assert seconds < FAULT_LIMIT, (variant, extra, seconds)
        assert "unhandled exception" in capture, capture
        if arch == "aarch64":
            # the probe reads 0xff0000000000, outside the identity map: a data abort at EL2
            # (EC 0x25) with FAR_EL2 naming the address
            assert "ec=0x0000000000000025" in capture and "far=0x0000ff0000000000" in capture
        else:
            assert "mcause=0x0000000000000002" in capture  # illegal instruction (`unimp`)
        # the run died after the replay, before its end frame: the import says so
        assert "RVMW E " not in capture
        cap = tmp_path / "fault.txt"
        cap.write_text(capture)
        proc = rvmsim("import", "--db", tmp_path / "fault.db", "--format", "serial", cap,
                      check=False)
        assert proc.returncode != 0 and "end frame" in proc.stderr, proc.stderr
