"""`rvmsim export --format bundle` and `rvmsim verify FILE` (docs/replay-store.md, Evidence
bundles): a bundle of a sealed run verifies sealed, one cut at any checkpoint verifies unsealed,
a flipped bit is tampered, and a raw log is "completeness unknown" unless its digest or count is
given.

Oracles are independent of rvmsim: the bundle is parsed with Python's struct from the layout the
documentation gives, digests come from hashlib, checkpoint MACs from hmac over the message of
docs/witness-format.md §3, Ed25519 signatures from the cryptography package, and the keys from
the seed as witness-format.md §3 derives them.
"""
import hashlib
import hmac
import json
import re
import struct

import pytest

MAGIC = b"RVMWBNDL"
RECORD = 64
CHECKPOINT = 208


def demo(rvmsim, db, records=1000, seed=1):
    out = rvmsim("demo", "--db", db, "--records", records, "--seed", seed).stdout
    return int(re.search(r"stored run (\d+) in", out).group(1))


def parse(data):
    """The bundle as (metadata dict, record images, checkpoints), from the documented layout."""
    assert data[:8] == MAGIC
    version, meta_len = struct.unpack_from("<II", data, 8)
    assert version == 1
    meta_text = data[16:16 + meta_len].decode()
    meta = dict(line.split("=", 1) for line in meta_text.splitlines())
    (count,) = struct.unpack_from("<Q", data, 16 + meta_len)
    off = 24 + meta_len
    records = [data[off + i * RECORD:off + (i + 1) * RECORD] for i in range(count)]
    off += count * RECORD
    (ncps,) = struct.unpack_from("<I", data, off)
    off += 4
    cps = []
    for i in range(ncps):
        b = data[off + i * CHECKPOINT:off + (i + 1) * CHECKPOINT]
        cps.append({"seq": struct.unpack_from("<Q", b)[0], "seal": b[8], "signed": b[9],
                    "digest": b[16:48], "chain": b[48:80], "hmac": b[80:112],
                    "pub": b[112:144], "sig": b[144:208]})
    assert off + ncps * CHECKPOINT == len(data)
    return meta, records, cps


def build(meta, records, cps):
    """A bundle from its parts, as the documentation lays it out."""
    text = "".join(f"{k}={v}\n" for k, v in meta.items()).encode()
    out = MAGIC + struct.pack("<II", 1, len(text)) + text + struct.pack("<Q", len(records))
    out += b"".join(records) + struct.pack("<I", len(cps))
    for c in cps:
        out += (struct.pack("<QBB6x", c["seq"], c["seal"], c["signed"]) + c["digest"] +
                c["chain"] + c["hmac"] + c["pub"] + c["sig"])
    return out


def mac_message(cp):
    seq = struct.pack("<Q", cp["seq"])
    if cp["seal"]:
        return b"rvm-seal" + seq + cp["digest"] + struct.pack("<Q", cp["seq"] + 1)
    return seq + cp["digest"]


def seed_hmac_key(seed):
    return hashlib.sha256(b"rvmsim hmac key" + struct.pack("<Q", seed)).digest()


@pytest.fixture(scope="module")
def sealed(rvmsim, tmp_path_factory):
    d = tmp_path_factory.mktemp("bundle")
    db = d / "demo.db"
    run = demo(rvmsim, db, records=1000, seed=1)
    rvmsim("export", "--db", db, "--run", run, "--format", "bundle", "-o", d / "run.bundle")
    rvmsim("export", "--db", db, "--run", run, "--format", "raw", "-o", d / "run.raw")
    return d, (d / "run.bundle").read_bytes(), (d / "run.raw").read_bytes()


def verify(rvmsim, path, *args):
    return rvmsim("verify", path, *args, check=False)


def test_sealed_bundle_verifies_sealed_and_matches_the_spec(rvmsim, sealed):
    d, data, raw = sealed
    meta, records, cps = parse(data)
    digest = hashlib.sha256(b"".join(records)).hexdigest()
    assert b"".join(records) == raw
    assert meta["digest"] == digest and int(meta["record_count"]) == len(records) == 1000
    assert meta["key_source"] == "seed" and meta["seed"] == "1" and meta["status"] == "complete"
    assert [c["seq"] for c in cps] == [255, 511, 767, 999] and cps[-1]["seal"] == 1
    from cryptography.hazmat.primitives.asymmetric.ed25519 import (Ed25519PrivateKey,
                                                                   Ed25519PublicKey)
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
    priv = Ed25519PrivateKey.from_private_bytes(
        hashlib.sha256(b"rvmsim ed25519 key" + struct.pack("<Q", 1)).digest())
    for c in cps:
        n = c["seq"] + 1
        assert c["digest"] == hashlib.sha256(b"".join(records[:n])).digest()
        assert c["hmac"] == hmac.new(seed_hmac_key(1), mac_message(c), hashlib.sha256).digest()
        assert c["signed"] == 1
        assert c["pub"] == priv.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        Ed25519PublicKey.from_public_bytes(c["pub"]).verify(c["sig"], mac_message(c))
    proc = verify(rvmsim, d / "run.bundle")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"sealed, digest {digest}" in proc.stdout
    assert "4 checkpoints" in proc.stdout and "4 Ed25519 signatures" in proc.stdout


@pytest.mark.parametrize("cut", [0, 1, 2])
def test_bundle_cut_at_a_checkpoint_is_unsealed(rvmsim, sealed, tmp_path, cut):
    """The attacker's truncation: drop everything after a periodic checkpoint and make the
    metadata agree (count, digest, chain): every remaining record and MAC verifies, but there is
    no seal, so the verdict is unsealed, never sealed."""
    _, data, _ = sealed
    meta, records, cps = parse(data)
    cp = cps[cut]
    n = cp["seq"] + 1
    kept = records[:n]
    meta.update(record_count=n, checkpoint_count=cut + 1,
                digest=hashlib.sha256(b"".join(kept)).hexdigest(), chain=cp["chain"].hex())
    path = tmp_path / "cut.bundle"
    path.write_bytes(build(meta, kept, cps[:cut + 1]))
    proc = verify(rvmsim, path)
    assert proc.returncode == 8, proc.stdout + proc.stderr
    assert "unsealed" in proc.stdout and "sealed, digest" not in proc.stdout
    # relabelling the periodic checkpoint as the seal breaks its MAC: tampered
    forged = dict(cp, seal=1)
    path.write_bytes(build(meta, kept, cps[:cut] + [forged]))
    proc = verify(rvmsim, path)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert f"tampered at seq {cp['seq']}" in proc.stdout


@pytest.mark.parametrize("where", ["record", "digest_meta", "hmac", "signature", "chain"])
def test_flipped_bit_is_tampered(rvmsim, sealed, tmp_path, where):
    _, data, _ = sealed
    meta, records, cps = parse(data)
    if where == "record":
        r = bytearray(records[500])
        r[40] ^= 0x04
        records[500] = bytes(r)
    elif where == "digest_meta":
        d = bytearray.fromhex(meta["digest"])
        d[0] ^= 0x01
        meta["digest"] = d.hex()
    else:
        field = {"hmac": "hmac", "signature": "sig", "chain": "chain"}[where]
        b = bytearray(cps[1][field])
        b[5] ^= 0x80
        cps[1] = dict(cps[1], **{field: bytes(b)})
    path = tmp_path / "flip.bundle"
    path.write_bytes(build(meta, records, cps))
    proc = verify(rvmsim, path)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "tampered" in proc.stdout


def test_sampled_bit_flips_across_the_file_are_detected(rvmsim, sealed, tmp_path):
    """Every 997th byte of the file (magic, records, checkpoints) and the last one. Metadata
    other than the checked fields (docs/replay-store.md) is not authenticated."""
    _, data, _ = sealed
    path = tmp_path / "flip.bundle"
    for pos in list(range(0, len(data), 997)) + [len(data) - 1]:
        flipped = bytearray(data)
        flipped[pos] ^= 1 << (pos % 8)
        path.write_bytes(bytes(flipped))
        proc = verify(rvmsim, path)
        assert proc.returncode != 0, f"byte {pos}: {proc.stdout}"


def test_truncated_file_is_not_sealed(rvmsim, sealed, tmp_path):
    _, data, _ = sealed
    path = tmp_path / "short.bundle"
    for size in (len(data) - CHECKPOINT, len(data) - 1, 24 + 200 * RECORD):
        path.write_bytes(data[:size])
        proc = verify(rvmsim, path)
        assert proc.returncode == 1, proc.stdout + proc.stderr


def test_external_key_bundle_needs_the_key(rvmsim, sealed, tmp_path):
    _, data, _ = sealed
    meta, records, cps = parse(data)
    meta["key_source"] = "external"
    path = tmp_path / "ext.bundle"
    path.write_bytes(build(meta, records, cps))
    assert verify(rvmsim, path).returncode == 2
    proc = verify(rvmsim, path, "--hmac-key", seed_hmac_key(1).hex())
    assert proc.returncode == 0 and "sealed" in proc.stdout, proc.stdout + proc.stderr
    proc = verify(rvmsim, path, "--hmac-key", seed_hmac_key(2).hex())
    assert proc.returncode == 1, proc.stdout + proc.stderr


def test_raw_log_completeness(rvmsim, sealed):
    d, _, raw = sealed
    path = d / "run.raw"
    digest = hashlib.sha256(raw).hexdigest()
    proc = verify(rvmsim, path)
    assert proc.returncode == 8, proc.stdout + proc.stderr
    assert "chain consistent, completeness unknown" in proc.stdout and digest in proc.stdout
    proc = verify(rvmsim, path, "--expect-digest", digest)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    proc = verify(rvmsim, path, "--expect-count", len(raw) // RECORD)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    wrong = hashlib.sha256(raw[:-RECORD]).hexdigest()
    proc = verify(rvmsim, path, "--expect-digest", wrong)
    assert proc.returncode == 1 and "tampered" in proc.stdout, proc.stdout + proc.stderr
    assert verify(rvmsim, path, "--expect-count", 999).returncode == 1


def test_raw_log_cut_or_damaged(rvmsim, sealed, tmp_path):
    _, _, raw = sealed
    path = tmp_path / "x.raw"
    cut = raw[:300 * RECORD]
    path.write_bytes(cut)
    # a prefix is chain consistent; only the expected digest exposes the cut
    assert verify(rvmsim, path).returncode == 8
    proc = verify(rvmsim, path, "--expect-digest", hashlib.sha256(raw).hexdigest())
    assert proc.returncode == 1
    path.write_bytes(raw[:300 * RECORD + 10])
    assert verify(rvmsim, path).returncode == 1
    flipped = bytearray(raw)
    flipped[123 * RECORD + 40] ^= 1
    path.write_bytes(bytes(flipped))
    proc = verify(rvmsim, path)
    assert proc.returncode == 1 and "tampered at seq 12" in proc.stdout, proc.stdout
    # dropping a record from the middle breaks the chain at that position
    path.write_bytes(raw[:50 * RECORD] + raw[51 * RECORD:])
    proc = verify(rvmsim, path)
    assert proc.returncode == 1 and "tampered at seq 50" in proc.stdout, proc.stdout


def test_verify_file_usage(rvmsim, sealed, tmp_path):
    d, _, _ = sealed
    assert verify(rvmsim, tmp_path / "missing.raw").returncode == 2
    assert rvmsim("verify", d / "run.raw", "--run", 1, check=False).returncode == 2
    assert rvmsim("verify", "--db", d / "demo.db", "--expect-count", 1,
                  check=False).returncode == 2
    proc = verify(rvmsim, d / "demo.db")  # a store given without --db
    assert proc.returncode == 2 and "--db" in proc.stderr, proc.stdout + proc.stderr
    (tmp_path / "empty").write_bytes(b"")
    assert verify(rvmsim, tmp_path / "empty").returncode == 2
    assert rvmsim("verify", d / "run.raw", "--expect-manifest", "00" * 32,
                  check=False).returncode == 2


def verify_json(rvmsim, path, *args):
    proc = rvmsim("verify", path, "--json", *args, check=False)
    docs = [json.loads(l) for l in proc.stdout.splitlines()]
    assert len(docs) == 1, proc.stdout
    assert docs[0]["exit_code"] == proc.returncode
    return docs[0]


def test_verify_file_json(rvmsim, sealed, tmp_path):
    """`verify FILE --json` (docs/json.md): digests from hashlib, counts from the spec's layout,
    verdicts and exit codes as the text output gives them."""
    d, data, raw = sealed
    digest = hashlib.sha256(raw).hexdigest()
    _, records, cps = parse(data)
    b = verify_json(rvmsim, d / "run.bundle")
    assert b == {"file": str(d / "run.bundle"), "kind": "bundle", "verdict": "sealed",
                 "exit_code": 0, "records": len(records), "checkpoints": len(cps),
                 "signatures": len(cps), "sealed": True, "key_pinned": True, "digest": digest,
                 "failed_seq": None, "reason": None}
    r = verify_json(rvmsim, d / "run.raw")
    assert (r["kind"], r["verdict"], r["exit_code"], r["records"], r["digest"], r["sealed"]) == \
        ("raw", "unsealed", 8, len(raw) // RECORD, digest, False)
    assert "completeness unknown" in r["reason"]
    r = verify_json(rvmsim, d / "run.raw", "--expect-digest", digest)
    assert (r["verdict"], r["exit_code"], r["reason"]) == ("as_expected", 0, None)
    r = verify_json(rvmsim, d / "run.raw", "--expect-count", 3)
    assert (r["verdict"], r["exit_code"], r["digest"]) == ("tampered", 1, None)
    assert r["reason"] == f"{len(raw) // RECORD} records, expected 3"
    flipped = bytearray(raw)
    flipped[123 * RECORD + 40] ^= 1
    (tmp_path / "f.raw").write_bytes(bytes(flipped))
    r = verify_json(rvmsim, tmp_path / "f.raw")
    # record 123's payload is covered by record 124's prev_link (witness-format.md §2)
    assert (r["verdict"], r["exit_code"], r["failed_seq"]) == ("tampered", 1, 124)
    meta, records, cps = parse(data)
    meta["key_source"] = "external"
    (tmp_path / "ext.bundle").write_bytes(build(meta, records, cps))
    r = verify_json(rvmsim, tmp_path / "ext.bundle")
    assert (r["kind"], r["verdict"], r["exit_code"]) == ("bundle", "needs_key", 2)
    (tmp_path / "empty").write_bytes(b"")
    r = verify_json(rvmsim, tmp_path / "empty")
    assert (r["kind"], r["verdict"], r["exit_code"]) == (None, "error", 2) and r["reason"]
