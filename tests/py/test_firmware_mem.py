"""firmware/common/mem.c against Python's own byte slicing, for every alignment and length up to a
few words: the word-at-a-time paths are only taken for some alignments, so each combination of
source offset, destination offset and length is checked, overlapping moves in both directions
included. The file is compiled for the host with the same flags the firmware build gives it, and
with its functions renamed so they cannot be confused with the C library's."""
import ctypes
import shutil
import subprocess

import pytest

from conftest import SOURCE_ROOT

NAMES = ["memcpy", "memmove", "memset", "memcmp"]
SPAN = 40  # bytes: five words, enough for head, body and tail at every offset


@pytest.fixture(scope="module")
def mem(tmp_path_factory):
    cc = shutil.which("gcc") or shutil.which("cc")
    if cc is None:
        pytest.skip("no host C compiler")
    lib = tmp_path_factory.mktemp("fwmem") / "libfwmem.so"
    renames = [f"-D{n}=fwtest_{n}" for n in NAMES]
    subprocess.run([cc, "-std=c11", "-O2", "-shared", "-fPIC", "-fno-builtin",
                    "-fno-tree-loop-distribute-patterns", "-Wall", "-Wextra", "-Werror",
                    *renames, "-I", str(SOURCE_ROOT / "firmware" / "common"),
                    str(SOURCE_ROOT / "firmware" / "common" / "mem.c"), "-o", str(lib)],
                   check=True)
    so = ctypes.CDLL(str(lib))
    for n in NAMES:
        getattr(so, f"fwtest_{n}").restype = ctypes.c_int if n == "memcmp" else ctypes.c_void_p
    return so


def pattern(n, salt):
    return bytes((i * 37 + salt) & 0xff for i in range(n))


def test_memcpy_every_alignment(mem):
    for so in range(8):
        for do in range(8):
            for n in range(SPAN):
                src = ctypes.create_string_buffer(pattern(SPAN + 8, 1), SPAN + 8)
                dst = ctypes.create_string_buffer(pattern(SPAN + 8, 99), SPAN + 8)
                want = bytearray(dst.raw)
                want[do:do + n] = src.raw[so:so + n]
                ret = mem.fwtest_memcpy(ctypes.byref(dst, do), ctypes.byref(src, so), n)
                assert ret == ctypes.addressof(dst) + do
                assert dst.raw == bytes(want), (so, do, n)


def test_memset_every_alignment(mem):
    for do in range(8):
        for n in range(SPAN):
            dst = ctypes.create_string_buffer(pattern(SPAN + 8, 5), SPAN + 8)
            want = bytearray(dst.raw)
            want[do:do + n] = bytes([0xa5]) * n
            mem.fwtest_memset(ctypes.byref(dst, do), 0x1a5, n)  # only the low byte counts
            assert dst.raw == bytes(want), (do, n)


def test_memmove_overlapping_both_ways(mem):
    for so in range(12):
        for do in range(12):
            for n in range(SPAN - 12):
                buf = ctypes.create_string_buffer(pattern(SPAN, 7), SPAN)
                want = bytearray(buf.raw)
                want[do:do + n] = buf.raw[so:so + n]
                mem.fwtest_memmove(ctypes.byref(buf, do), ctypes.byref(buf, so), n)
                assert buf.raw == bytes(want), (so, do, n)


def test_memcmp_sign_and_first_difference(mem):
    a = pattern(SPAN, 3)
    for i in range(SPAN):
        for delta in (1, -1):
            b = bytearray(a)
            b[i] = (b[i] + delta) & 0xff
            got = mem.fwtest_memcmp(a, bytes(b), SPAN)
            assert (got > 0) == (a[i] > b[i]) and got != 0, (i, delta)
            assert mem.fwtest_memcmp(a, bytes(b), i) == 0
