"""The bare-metal firmware under QEMU: cross-build both images, boot them, import and verify the
witness stream they print on the UART, and check that an unhandled exception ends the run at once
with a failure status.

Oracles independent of the firmware: the record layout and the boot sequence from
core/include/rvm/kernel.h (seven BootPhase records 0x83 with target = phase, then BootComplete
0x81), zlib.crc32 for the frame checksums, hashlib/hmac for the log digest and the checkpoint
HMAC with the seed's key (docs/replay-store.md), the from-the-spec SHA-256 compression of
sha256_model.py for the chain value, and QEMU's own exit status. docs/firmware.md describes the
commands this test runs.
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
                 "-cpu", "cortex-a53", "-nographic", "-nic", "none",
                 "-device", "pvpanic-pci", "-action", "panic=exit-failure", "-kernel"],
        "platform": "qemu-virt-aarch64",
    },
    "riscv64": {
        "gcc": "riscv64-linux-gnu-gcc",
        "qemu": ["qemu-system-riscv64", "-M", "virt", "-nographic", "-bios"],
        "platform": "qemu-virt-riscv64",
    },
}
SEED = 1  # cross/*.ini set no firmware_seed: firmware/meson.build's default
BOOT_TIMEOUT = 30  # seconds; a boot takes well under one (docs/firmware.md)
FAULT_LIMIT = 10  # seconds an unhandled exception may take to end the run, QEMU start included
EXIT_FAILURE_PVPANIC = 1  # QEMU's status for -action panic=exit-failure
EXIT_EXCEPTION = 3  # firmware/common/arch.h FW_EXIT_EXCEPTION, carried by semihosting / SiFive test


def missing_tools(arch):
    tools = ["meson", "ninja", ARCHES[arch]["gcc"], ARCHES[arch]["qemu"][0]]
    return [t for t in tools if shutil.which(t) is None]


@pytest.fixture(scope="module", params=sorted(ARCHES))
def firmware(request, tmp_path_factory):
    """(arch, build directory) with the firmware images of `arch` cross-built."""
    arch = request.param
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
    return arch, build


def image(firmware, variant=""):
    arch, build = firmware
    path = build / "firmware" / f"rvmfw-{arch}{variant}.elf"
    assert path.exists(), f"{path} was not built"
    return path


def boot(firmware, variant="", extra=()):
    arch, _ = firmware
    cmd = ARCHES[arch]["qemu"][:-1] + list(extra) + [ARCHES[arch]["qemu"][-1],
                                                     str(image(firmware, variant))]
    start = time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, timeout=BOOT_TIMEOUT)
    return proc.returncode, proc.stdout.decode("ascii", "replace"), time.monotonic() - start


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


def test_boot_streams_a_sealed_verifiable_log(firmware, rvmsim, tmp_path):
    arch, _ = firmware
    status, capture, _ = boot(firmware)
    assert status == 0, capture
    fr = frames(capture)
    assert [t for t, _ in fr] == ["H"] + ["R"] * 8 + ["C", "E"], capture

    header = dict(f.split("=", 1) for f in fr[0][1][1:])
    assert fr[0][1][0] == "1"
    assert header["platform"] == ARCHES[arch]["platform"]
    assert header["seed"] == str(SEED)

    # kernel.h: boot phases 0..6 as BootPhase (0x83, target = phase), then BootComplete (0x81)
    images = [bytes.fromhex(f[1]) for t, f in fr if t == "R"]
    for seq, img in enumerate(images):
        assert struct.unpack_from("<Q", img, 0)[0] == seq
    assert [img[16] for img in images] == [0x83] * 7 + [0x81]
    phase_targets = [struct.unpack_from("<Q", img, 24)[0] for img in images[:7]]
    assert phase_targets == list(range(7)), [img.hex() for img in images]

    # the checkpoint over the whole log: digest, chain and HMAC with the seed's key
    log = b"".join(images)
    digest = hashlib.sha256(log).hexdigest()
    state = IV
    for img in images:
        state = compress(state, img)
    seq, cp_digest, cp_chain, cp_hmac = fr[-2][1]
    assert int(seq, 16) == 7 and cp_digest == digest and cp_chain == state_bytes(state).hex()
    key = hashlib.sha256(b"rvmsim hmac key" + struct.pack("<Q", SEED)).digest()
    msg = struct.pack("<Q", 7) + bytes.fromhex(digest)
    assert cp_hmac == hmac.new(key, msg, hashlib.sha256).hexdigest()
    assert fr[-1][1] == ["%016x" % 8, digest]

    import_and_verify(rvmsim, tmp_path, capture)


def test_aarch64_semihosting_build_exits_zero_and_verifies(firmware, rvmsim, tmp_path):
    if firmware[0] != "aarch64":
        pytest.skip("semihosting is an Arm exit method")
    for extra in (["-semihosting"], []):
        status, capture, _ = boot(firmware, "-semihosting", extra)
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


def test_unhandled_exception_exits_nonzero_quickly(firmware, rvmsim, tmp_path):
    arch, _ = firmware
    for variant, extra, expected in fault_cases(arch):
        status, capture, seconds = boot(firmware, variant, extra)
        assert status == expected, (variant, extra, capture)
        assert seconds < FAULT_LIMIT, (variant, extra, seconds)
        assert "unhandled exception" in capture, capture
        if arch == "aarch64":
            # the probe reads 0xff0000000000, outside the identity map: a data abort at EL2
            # (EC 0x25) with FAR_EL2 naming the address
            assert "ec=0x0000000000000025" in capture and "far=0x0000ff0000000000" in capture
        else:
            assert "mcause=0x0000000000000002" in capture  # illegal instruction (`unimp`)
        # the run died before sealing: the stream has no end frame and the import says so
        assert "RVMW E " not in capture
        cap = tmp_path / "fault.txt"
        cap.write_text(capture)
        proc = rvmsim("import", "--db", tmp_path / "fault.db", "--format", "serial", cap,
                      check=False)
        assert proc.returncode != 0 and "end frame" in proc.stderr, proc.stderr
