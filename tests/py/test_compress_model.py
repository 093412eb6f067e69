"""The core's image compressor against a plain Python model of its rule (tests/py/lz_model.py).

Seeded random inputs shaped like region contents (zero pages with scattered words, runs, short
periods, repeats far back, small alphabets, random bytes) and short edge lengths, each with a
random image capacity around the sizes where LZ, stored and NO_SPACE change over. The image bytes,
the checkpoint hash and the result code must match exactly.

The driver is tests/tools/compress_cli.c; meson passes its path in RVM_COMPRESS_CLI. By hand:
    RVM_COMPRESS_CLI=build/tests/compress_cli /usr/bin/python3 -m pytest tests/py -k compress_model
"""
import os
import pathlib
import random
import struct
import subprocess

import pytest

import lz_model
from conftest import SOURCE_ROOT

CASES = 1000


@pytest.fixture(scope="module")
def compress_cli():
    path = os.environ.get("RVM_COMPRESS_CLI") or str(SOURCE_ROOT / "build" / "tests" /
                                                    "compress_cli")
    if not pathlib.Path(path).exists():
        pytest.fail(f"compress_cli not found at {path}; build first or set RVM_COMPRESS_CLI")
    return path


def seed():
    s = int(os.environ.get("RVM_TEST_SEED", "0") or "0", 0) or 4096
    print(f"compress model: seed {s} (reproduce with RVM_TEST_SEED={s})")
    return s


def sparse_page(rng, n):
    raw = bytearray(n)
    for _ in range(rng.randrange(0, 24)):
        at = rng.randrange(0, n)
        word = rng.randbytes(rng.choice((1, 2, 4, 8)))
        raw[at:at + len(word)] = word
    return bytes(raw[:n])


def runs(rng, n):
    out = bytearray()
    while len(out) < n:
        out += bytes([rng.choice((0, 0xFF, rng.randrange(256)))]) * rng.randrange(1, 300)
    return bytes(out[:n])


def periodic(rng, n):
    unit = rng.randbytes(rng.randrange(1, 40))
    out = bytearray((unit * (n // len(unit) + 1))[:n])
    for _ in range(rng.randrange(0, 6)):
        out[rng.randrange(n)] = rng.randrange(256)
    return bytes(out)


def far_repeat(rng, n):
    block = rng.randbytes(rng.randrange(8, 200))
    gap = rng.randrange(0, max(1, n - 2 * len(block)))
    filler = rng.choice((bytes(gap), rng.randbytes(gap)))
    return (block + filler + block + rng.randbytes(n))[:n]


def small_alphabet(rng, n):
    alphabet = rng.randbytes(rng.randrange(1, 5))
    return bytes(rng.choice(alphabet) for _ in range(n))


SHAPES = [
    lambda rng, n: bytes(n),
    sparse_page,
    runs,
    periodic,
    far_repeat,
    small_alphabet,
    lambda rng, n: rng.randbytes(n),
]


def cases(rng):
    for n in range(1, 40):  # below and around MIN_MATCH and the 8-byte compare
        shape = rng.choice(SHAPES)
        yield shape(rng, n), rng.choice((n + 64, n + 63, 65, 64, 2 * n + 128))
    for _ in range(CASES):
        n = rng.choice((rng.randrange(1, 600), 4096, 8192, rng.randrange(4000, 70000)))
        raw = rng.choice(SHAPES)(rng, n)
        bound = n + 64
        cap = rng.choice((bound, bound, bound - 1, 64 + n // 2, 64 + rng.randrange(1, n + 1),
                          rng.randrange(0, 80)))
        yield raw, cap


def run_cli(cli, records):
    stdin = b"".join(struct.pack("<II", len(raw), cap) + raw for raw, cap in records)
    out = subprocess.run([cli], input=stdin, capture_output=True, check=True).stdout
    results, at = [], 0
    for _ in records:
        (err,) = struct.unpack_from("<i", out, at)
        at += 4
        if err != lz_model.OK:
            results.append((err, None, None))
            continue
        (length,) = struct.unpack_from("<I", out, at)
        at += 4
        image = out[at:at + length]
        at += length
        results.append((err, image, out[at:at + 32]))
        at += 32
    assert at == len(out)
    return results


def test_compressor_matches_model(compress_cli):
    rng = random.Random(seed())
    records = list(cases(rng))
    got = run_cli(compress_cli, records)
    methods = set()
    for i, ((raw, cap), core) in enumerate(zip(records, got)):
        want = lz_model.compress(raw, cap)
        assert core == want, f"case {i}: {len(raw)} bytes, cap {cap}"
        if want[1] is not None:
            methods.add(want[1][5])
    assert methods == {0, 1}, "both the stored and the LZ form were exercised"
    errors = {lz_model.compress(raw, cap)[0] for raw, cap in records}
    assert lz_model.ERR_NO_SPACE in errors
