"""The replay store end to end: demo -> SQLite -> runs / verify / diff / show / export / import /
reconstruct, and every kind of bad input the issue lists.

Oracles are independent of rvmsim: hashlib and the sha256sum tool for digests, the from-the-spec
SHA-256 compression of sha256_model.py for chain values, Python's struct for the record layout,
zlib.crc32 and hmac for the serial framing and checkpoints, the action names parsed from
core/include/rvm/action.h, Python's own sqlite3 module to read and tamper with databases, and
plain byte comparison of exported logs for the first divergence.
"""
import hashlib
import hmac
import json
import math
import os
import re
import shutil
import sqlite3
import struct
import subprocess
import zlib

import pytest
from conftest import SOURCE_ROOT

from sha256_model import IV, compress, state_bytes
from manifest_model import forge_manifest

RECORD = 64


# ------------------------------------------------------------------------------------------------
# helpers

def demo(rvmsim, db, *args, records=1000, seed=1, check=True):
    proc = rvmsim("demo", "--db", db, "--records", records, "--seed", seed, *args, check=check)
    if not check:
        return proc
    m = re.search(r"stored run (\d+) in", proc.stdout)
    assert m, proc.stdout
    digest = re.search(r"digest=([0-9a-f]{64})", proc.stdout).group(1)
    return int(m.group(1)), digest


def export_raw(rvmsim, db, run, path):
    rvmsim("export", "--db", db, "--run", run, "--format", "raw", "-o", path)
    return path.read_bytes()


def decode(rec):
    seq, ts, kind, tier, flags, res0, actor, target, cap = struct.unpack_from("<QQBBBBIQI", rec, 0)
    payload, = struct.unpack_from("<Q", rec, 36)
    aux, = struct.unpack_from("<Q", rec, 52)
    # 64-bit fields are decimal strings in JSON (docs/json.md); seq is a count, a number
    return dict(seq=seq, timestamp_ns=str(ts), kind_code=kind, proof_tier=tier, flags=flags,
                actor=actor, target=str(target), cap_hash=cap, payload=str(payload),
                prev_link=rec[44:52].hex(), aux=str(aux))


def records_of(raw):
    assert len(raw) % RECORD == 0
    return [raw[i:i + RECORD] for i in range(0, len(raw), RECORD)]


def first_difference(a, b):
    """First record index where two raw logs differ (the shorter one's length if one is a
    prefix of the other), or None when they are equal."""
    ra, rb = records_of(a), records_of(b)
    for i, (x, y) in enumerate(zip(ra, rb)):
        if x != y:
            return i
    return None if len(ra) == len(rb) else min(len(ra), len(rb))


def action_names(source_root):
    text = (source_root / "core/include/rvm/action.h").read_text()
    return {int(code, 16): name
            for code, name in re.findall(r'X\(\w+,\s*(0x[0-9A-Fa-f]+),\s*"(\w+)"\)', text)}


def db_snapshot(path):
    """Everything stored, as one digest (Python's own sqlite3 module)."""
    con = sqlite3.connect(path)
    try:
        text = "\n".join(con.iterdump())
    finally:
        con.close()
    return hashlib.sha256(text.encode()).hexdigest()


def sql(path, statement, *params):
    con = sqlite3.connect(path)
    try:
        cur = con.execute(statement, params)
        rows = cur.fetchall()
        con.commit()
        return rows
    finally:
        con.close()


def key(run, seq):
    return (run << 40) | seq


def seed_hmac_key(seed):
    return hashlib.sha256(b"rvmsim hmac key" + struct.pack("<Q", seed)).digest()


def frame(body):
    """A serial frame line per docs/replay-store.md: body, space, CRC-32 of body, newline."""
    return f"{body} {zlib.crc32(body.encode()):08x}\n"


def reframe(line):
    """Recompute the CRC of an edited frame line."""
    body = line.rstrip("\n").rsplit(" ", 1)[0]
    return frame(body)


def run_rc(proc):
    assert proc.returncode >= 0, f"killed by signal {-proc.returncode}\n{proc.stderr}"
    return proc.returncode


# ------------------------------------------------------------------------------------------------
# demo -> store -> runs / verify / export / show

def test_demo_store_runs_and_verify(rvmsim, tmp_path):
    db = tmp_path / "a.db"
    run, digest = demo(rvmsim, db)
    assert run == 1
    rows = [json.loads(l) for l in rvmsim("runs", "--db", db, "--json").stdout.splitlines()]
    assert len(rows) == 1
    r = rows[0]
    version = rvmsim("--version").stdout.split(" ", 1)[1].strip()
    assert (r["status"], r["source"], r["platform"], r["result"], r["seed"]) == \
        ("complete", "demo", "sim", "pass", "1")
    assert r["records"] == 1000 and r["checkpoints"] == 4  # every 256 records, and the seal
    assert r["digest"] == digest
    assert r["build_id"] == version
    assert r["options"]["records"] == "1000" and r["options"]["epoch"] == "256"
    table = rvmsim("runs", "--db", db, "--wide").stdout
    assert digest in table and "complete" in table
    out = rvmsim("verify", "--db", db).stdout
    assert f"run 1: ok: 1000 records, 4 checkpoints (HMAC-SHA256, 4 Ed25519 signatures), " \
           f"sealed, digest {digest}" in out


def test_export_raw_is_the_digest(rvmsim, tmp_path):
    db = tmp_path / "a.db"
    run, digest = demo(rvmsim, db, "--export", tmp_path / "demo.raw", records=777, seed=9)
    raw = export_raw(rvmsim, db, run, tmp_path / "x.raw")
    assert len(raw) == 777 * RECORD
    assert hashlib.sha256(raw).hexdigest() == digest
    assert raw == (tmp_path / "demo.raw").read_bytes()  # the memory sink's copy
    tool = shutil.which("sha256sum")
    if tool:
        out = subprocess.run([tool, tmp_path / "x.raw"], capture_output=True, text=True,
                             check=True).stdout
        assert out.split()[0] == digest


def test_export_jsonl_and_show_decode_the_records(rvmsim, tmp_path, source_root):
    db = tmp_path / "a.db"
    run, _ = demo(rvmsim, db, records=300, seed=4)
    raw = export_raw(rvmsim, db, run, tmp_path / "x.raw")
    rvmsim("export", "--db", db, "--run", run, "--format", "jsonl", "-o", tmp_path / "x.jsonl")
    lines = (tmp_path / "x.jsonl").read_text().splitlines()
    names = action_names(source_root)
    state = list(IV)
    assert len(lines) == 300
    for rec, line in zip(records_of(raw), lines):
        obj = json.loads(line)
        want = decode(rec)
        for k, v in want.items():
            assert obj[k] == v, (k, obj)
        assert obj["kind"] == names.get(want["kind_code"])
        assert obj["image"] == rec.hex()
        state = compress(state, rec)
        assert obj["chain"] == state_bytes(state).hex()
    # show --json prints the same objects
    shown = rvmsim("show", "--db", db, "--run", run, "--json").stdout.splitlines()
    assert shown == lines
    # the table: a header and one aligned row per record, kinds by name
    table = rvmsim("show", "--db", db, "--run", run, "--from", 10, "--count", 5).stdout
    rows = table.splitlines()
    assert rows[0].split()[:4] == ["seq", "time_ns", "kind", "tier"]
    assert [int(r.split()[0]) for r in rows[1:]] == [10, 11, 12, 13, 14]
    assert len({r.index(r.split()[2]) for r in rows[1:]}) == 1  # kind column aligned
    for r, rec in zip(rows[1:], records_of(raw)[10:15]):
        assert r.split()[2] == names[rec[16]]


def test_show_filters(rvmsim, tmp_path):
    db = tmp_path / "a.db"
    run, _ = demo(rvmsim, db, records=2000, seed=5)
    recs = [decode(r) for r in records_of(export_raw(rvmsim, db, run, tmp_path / "x.raw"))]

    def seqs(*args):
        out = rvmsim("show", "--db", db, "--run", run, "--json", *args).stdout.splitlines()
        return [json.loads(l)["seq"] for l in out]

    rejected = [r["seq"] for r in recs if r["kind_code"] == 0x53]
    assert rejected and seqs("--kind", "ProofRejected") == rejected
    assert seqs("--kind", "0x53") == rejected == seqs("--kind", "proofrejected")
    mine = [r["seq"] for r in recs if r["kind_code"] == 0x53 and r["actor"] == 3]
    assert seqs("--kind", "ProofRejected", "--actor", 3) == mine
    assert seqs("--actor", 3, "--from", 1000, "--count", 4) == \
        [r["seq"] for r in recs if r["actor"] == 3 and r["seq"] >= 1000][:4]
    assert seqs("--from", 1998) == [1998, 1999]
    assert "(no records match)" in rvmsim("show", "--db", db, "--run", run, "--count", 0).stdout
    proc = rvmsim("show", "--db", db, "--run", run, "--kind", "NoSuchKind", check=False)
    assert proc.returncode == 2 and "--kind 'NoSuchKind'" in proc.stderr


# ------------------------------------------------------------------------------------------------
# diff

@pytest.mark.parametrize("prefix", [0, 1, 577, 999])
def test_diff_finds_the_first_divergence(rvmsim, tmp_path, prefix):
    db = tmp_path / "a.db"
    a, _ = demo(rvmsim, db, "--shared-prefix", prefix, "--prefix-seed", 1, seed=2)
    b, _ = demo(rvmsim, db, "--shared-prefix", prefix, "--prefix-seed", 1, seed=3)
    expect = first_difference(export_raw(rvmsim, db, a, tmp_path / "a.raw"),
                              export_raw(rvmsim, db, b, tmp_path / "b.raw"))
    assert expect == prefix  # the demo's shared prefix is what the bytes say
    proc = rvmsim("diff", "--db", db, a, b, check=False)
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout.startswith(f"first divergence at seq {expect}\n")
    lookups = int(re.search(r"bisection: (\d+) lookups", proc.stdout).group(1))
    assert lookups <= 2 * math.ceil(math.log2(1000)) + 7
    # the divergent record side by side, and the records around it
    assert f"record {expect} side by side:" in proc.stdout
    assert re.search(rf"^A +{expect} ", proc.stdout, re.M)
    assert re.search(rf"^B +{expect} ", proc.stdout, re.M)
    if expect > 0:
        assert re.search(rf"^A=B +{expect - 1} ", proc.stdout, re.M)


def test_diff_runs_of_different_lengths_and_across_databases(rvmsim, tmp_path):
    db, db2 = tmp_path / "a.db", tmp_path / "b.db"
    long_run, _ = demo(rvmsim, db, records=1000)
    short_run, _ = demo(rvmsim, db, records=600)
    same, _ = demo(rvmsim, db2, records=1000)
    raw_long = export_raw(rvmsim, db, long_run, tmp_path / "l.raw")
    raw_short = export_raw(rvmsim, db, short_run, tmp_path / "s.raw")
    assert first_difference(raw_long, raw_short) == 600
    for x, y in [(long_run, short_run), (short_run, long_run)]:
        proc = rvmsim("diff", "--db", db, x, y, check=False)
        assert proc.returncode == 1
        assert proc.stdout.startswith("first divergence at seq 600\n")
        assert "(run ended after 600 records)" in proc.stdout
    proc = rvmsim("diff", "--db", db, long_run, same, "--db2", db2)
    assert proc.stdout.startswith("identical: run 1 in ")
    lookups = int(re.search(r"bisection: (\d+) lookups", proc.stdout).group(1))
    assert lookups <= 7  # equal last chain values settle it at once


def test_diff_refuses_inconsistent_stored_chain(rvmsim, tmp_path):
    db = tmp_path / "a.db"
    a, _ = demo(rvmsim, db)
    b, _ = demo(rvmsim, db)
    sql(db, "UPDATE records SET chain = zeroblob(32) WHERE key >= ? AND key < ?",
        key(b, 400), key(b + 1, 0))
    proc = rvmsim("diff", "--db", db, a, b, check=False)
    assert proc.returncode == 1
    assert "seq 400" in proc.stderr and "rvmsim verify" in proc.stderr


# ------------------------------------------------------------------------------------------------
# import: raw and serial round trips

def test_import_raw_round_trip(rvmsim, tmp_path):
    db, db2 = tmp_path / "a.db", tmp_path / "b.db"
    run, digest = demo(rvmsim, db)
    export_raw(rvmsim, db, run, tmp_path / "x.raw")
    out = rvmsim("import", "--db", db2, tmp_path / "x.raw", "--seed", 1).stdout
    assert f"imported run 1 from {tmp_path / 'x.raw'}: 1000 records verified" in out
    assert digest in out and "unsealed" in out
    assert "verify reports the run unsealed, exit 8, unless --allow-unsealed" in out
    proc = rvmsim("verify", "--db", db2, check=False)
    assert proc.returncode == 8 and "run 1: unsealed: no seal" in proc.stdout
    assert "ok: 1000 records" in rvmsim("verify", "--db", db2, "--allow-unsealed").stdout
    assert rvmsim("diff", "--db", db, run, 1, "--db2", db2).stdout.startswith("identical")
    r = json.loads(rvmsim("runs", "--db", db2, "--json").stdout)
    assert (r["source"], r["seed"], r["digest"]) == ("import-raw", "1", digest)


def test_import_serial_round_trip(rvmsim, tmp_path):
    db, db2 = tmp_path / "a.db", tmp_path / "b.db"
    run, digest = demo(rvmsim, db, "--serial", tmp_path / "cap.txt", records=1000, seed=7)
    proc = rvmsim("import", "--db", db2, "--format", "serial", tmp_path / "cap.txt")
    assert "1000 records verified, 4 checkpoints (4 Ed25519 signatures), sealed" in proc.stdout
    assert digest in proc.stdout
    assert "skipped 2 console lines that are not frames (first at line 1)" in proc.stderr
    assert "run 1: ok: 1000 records, 4 checkpoints" in rvmsim("verify", "--db", db2).stdout
    assert rvmsim("diff", "--db", db, run, 1, "--db2", db2).stdout.startswith("identical")
    r = json.loads(rvmsim("runs", "--db", db2, "--json").stdout)
    assert (r["source"], r["platform"], r["seed"], r["checkpoints"]) == \
        ("import-serial", "sim", "7", 4)
    strict = rvmsim("import", "--db", db2, "--format", "serial", "--strict", tmp_path / "cap.txt",
                    check=False)
    assert strict.returncode == 2 and ":1: not a frame" in strict.stderr
    as_raw = rvmsim("import", "--db", db2, tmp_path / "cap.txt", check=False)
    assert as_raw.returncode in (1, 2) and "looks like a serial capture: --format serial" in \
        as_raw.stderr


def test_serial_capture_matches_the_documented_framing(rvmsim, tmp_path):
    """An independent reader of the capture, written from docs/replay-store.md."""
    db = tmp_path / "a.db"
    seed = 11
    run, digest = demo(rvmsim, db, "--serial", tmp_path / "cap.txt", "--checkpoint-interval", 100,
                       records=250, seed=seed)
    raw = export_raw(rvmsim, db, run, tmp_path / "x.raw")
    images, checkpoints, end, header = [], [], None, None
    for line in (tmp_path / "cap.txt").read_text().splitlines():
        if not line.startswith("RVMW "):
            continue
        body, crc = line.rsplit(" ", 1)
        assert int(crc, 16) == zlib.crc32(body.encode())
        kind, *fields = body.split(" ")[1:]
        if kind == "H":
            header = dict(f.split("=", 1) for f in fields[1:])
            assert fields[0] == "1"
        elif kind == "R":
            image = bytes.fromhex(fields[1])
            assert int(fields[0], 16) == struct.unpack_from("<Q", image)[0] == len(images)
            images.append(image)
        elif kind in "CS":
            checkpoints.append([kind, int(fields[0], 16)] + [bytes.fromhex(f) for f in fields[1:]])
        else:
            end = (int(fields[0], 16), fields[1])
    assert header["seed"] == str(seed) and header["platform"] == "sim"
    assert b"".join(images) == raw
    assert end == (250, digest)
    assert [c[:2] for c in checkpoints] == [["C", 99], ["C", 199], ["S", 249]]
    key_bytes = seed_hmac_key(seed)
    for kind, seq, cp_digest, chain, mac, pub, sig in checkpoints:
        assert cp_digest == hashlib.sha256(raw[:RECORD * (seq + 1)]).digest()
        state = list(IV)
        for rec in images[:seq + 1]:
            state = compress(state, rec)
        assert chain == state_bytes(state)
        msg = struct.pack("<Q", seq) + cp_digest
        if kind == "S":  # the seal: docs/witness-format.md §3
            msg = b"rvm-seal" + msg + struct.pack("<Q", seq + 1)
        assert mac == hmac.new(key_bytes, msg, hashlib.sha256).digest()
        assert len(pub) == 32 and len(sig) == 64


# ------------------------------------------------------------------------------------------------
# bad serial captures: precise errors, nothing stored

def serial_case(lines, name):
    """Apply one named corruption to the capture's lines; returns (lines, extra args, exit,
    message regex). Line numbers are 1-based; line 1 is console text, line 2 the header, line 3
    record 0, so record k is on line k + 3 while no checkpoint precedes it."""
    rec = lambda k: k + 3  # noqa: E731
    L = list(lines)
    if name == "flipped hex digit":
        s = L[rec(10) - 1]
        i = 40
        L[rec(10) - 1] = s[:i] + ("0" if s[i] != "0" else "1") + s[i + 1:]
        return L, [], 2, rf":{rec(10)}: corrupted line: checksum"
    if name == "truncated mid-line":
        text = "".join(L[:rec(20) - 1]) + L[rec(20) - 1][:70]
        return [text], [], 2, rf":{rec(20)}: truncated: the capture ends inside a frame"
    if name == "no end frame":
        return [l for l in L if not l.startswith("RVMW E")], [], 2, r"no end frame"
    if name == "missing record":
        del L[rec(10) - 1]
        return L, [], 2, rf":{rec(10)}: records 10..10 missing \(record 11 arrived\)"
    if name == "duplicated record":
        L.insert(rec(10), L[rec(10) - 1])
        return L, [], 2, rf":{rec(10) + 1}: record 10 again"
    if name == "garbage line, strict":
        L.insert(rec(5) - 1, "\x00\x01garbage %$#\n")
        return L, ["--strict"], 2, rf":1: not a frame"
    if name == "frame marker mid-line":
        L[rec(5) - 1] = "boot: " + L[rec(5) - 1]
        return L, [], 2, rf":{rec(5)}: a frame marker in the middle of a line"
    if name == "changed payload, valid crc":
        s = L[rec(10) - 1]
        i = len("RVMW R ") + 16 + 1 + 2 * 40  # a payload byte of the image
        s = s[:i] + ("0" if s[i] != "0" else "1") + s[i + 1:]
        L[rec(10) - 1] = reframe(s)
        return L, [], 1, rf":{rec(11)}: record 11: witness record prev_link does not match"
    if name == "forged checkpoint hmac":
        i = next(j for j, l in enumerate(L) if l.startswith("RVMW C"))
        f = L[i].split(" ")
        f[5] = "00" * 32
        L[i] = reframe(" ".join(f))
        return L, [], 1, rf":{i + 1}: checkpoint at seq 255: witness checkpoint signature is invalid"
    if name == "forged checkpoint chain":
        i = next(j for j, l in enumerate(L) if l.startswith("RVMW C"))
        f = L[i].split(" ")
        f[4] = "11" * 32
        L[i] = reframe(" ".join(f))
        return L, [], 1, rf":{i + 1}: checkpoint at seq 255: witness log digest does not match"
    if name == "forged ed25519 signature":
        i = next(j for j, l in enumerate(L) if l.startswith("RVMW C"))
        f = L[i].split(" ")
        f[7] = "ab" * 64
        L[i] = reframe(" ".join(f))
        return L, [], 1, rf":{i + 1}: checkpoint at seq 255: Ed25519 signature is invalid"
    if name == "wrong end digest":
        i = next(j for j, l in enumerate(L) if l.startswith("RVMW E"))
        f = L[i].split(" ")
        f[3] = "00" * 32
        L[i] = reframe(" ".join(f))
        return L, [], 1, rf":{i + 1}: the end frame's digest is not the digest"
    if name == "wrong --seed":
        return L, ["--seed", 2], 2, r":2: the capture says seed 1 but --seed 2 was given"
    if name == "no header":
        del L[1]
        return L, [], 2, r":2: R frame before the header frame"
    if name == "header without seed":
        L[1] = reframe(re.sub(r" seed=\d+", "", L[1]))
        i = next(j for j, l in enumerate(L) if l.startswith("RVMW C"))
        return L, [], 2, rf":{i + 1}: checkpoint at seq 255 cannot be authenticated"
    if name == "seal missing":
        i = max(j for j, l in enumerate(L) if l.startswith("RVMW S"))
        del L[i]
        return L, [], 8, r"unsealed: the log has no seal \(final checkpoint\) after its last record " \
            r"\(999\)"
    raise AssertionError(name)


SERIAL_CASES = ["flipped hex digit", "truncated mid-line", "no end frame", "missing record",
                "duplicated record", "garbage line, strict", "frame marker mid-line",
                "changed payload, valid crc", "forged checkpoint hmac", "forged checkpoint chain",
                "forged ed25519 signature", "wrong end digest", "wrong --seed", "no header",
                "header without seed", "seal missing"]


@pytest.fixture(scope="module")
def capture_and_store(rvmsim, tmp_path_factory):
    d = tmp_path_factory.mktemp("serial")
    db = d / "store.db"
    demo(rvmsim, db, "--serial", d / "cap.txt", records=1000, seed=1)
    demo(rvmsim, db, records=50, seed=2)
    return (d / "cap.txt").read_text().splitlines(keepends=True), db


@pytest.mark.parametrize("case", SERIAL_CASES)
def test_bad_serial_capture_is_refused_and_stores_nothing(rvmsim, tmp_path, capture_and_store,
                                                          case):
    lines, db_orig = capture_and_store
    db = tmp_path / "store.db"
    shutil.copy(db_orig, db)
    before = db_snapshot(db)
    bad, extra, code, message = serial_case(lines, case)
    (tmp_path / "bad.txt").write_text("".join(bad))
    proc = rvmsim("import", "--db", db, "--format", "serial", tmp_path / "bad.txt", *extra,
                  check=False)
    assert run_rc(proc) == code, proc.stderr
    assert re.search(message, proc.stderr), proc.stderr
    assert "nothing imported" in proc.stderr or code == 2
    assert db_snapshot(db) == before


def test_unsealed_serial_capture_with_allow_unsealed(rvmsim, tmp_path, capture_and_store):
    lines, _ = capture_and_store
    bad, _, _, _ = serial_case(lines, "seal missing")
    (tmp_path / "c.txt").write_text("".join(bad))
    db = tmp_path / "x.db"
    out = rvmsim("import", "--db", db, "--format", "serial", "--allow-unsealed",
                 tmp_path / "c.txt").stdout
    assert "3 checkpoints" in out and "unsealed" in out
    assert rvmsim("verify", "--db", db, check=False).returncode == 8
    assert "ok" in rvmsim("verify", "--db", db, "--allow-unsealed").stdout


def test_console_noise_between_frames_is_reported_not_fatal(rvmsim, tmp_path, capture_and_store):
    lines, _ = capture_and_store
    noisy = list(lines)
    noisy.insert(100, "guest 3: hello from EL1\n")
    noisy.insert(200, "\n")
    (tmp_path / "n.txt").write_text("".join(noisy))
    proc = rvmsim("import", "--db", tmp_path / "x.db", "--format", "serial", tmp_path / "n.txt")
    assert "skipped 4 console lines that are not frames (first at line 1)" in proc.stderr


# ------------------------------------------------------------------------------------------------
# bad raw files

@pytest.mark.parametrize("case", ["wrong size", "empty", "flipped payload", "flipped sequence",
                                  "missing file", "directory"])
def test_bad_raw_file_is_refused_and_stores_nothing(rvmsim, tmp_path, capture_and_store, case):
    _, db_orig = capture_and_store
    db = tmp_path / "store.db"
    shutil.copy(db_orig, db)
    before = db_snapshot(db)
    raw = export_raw(rvmsim, db, 1, tmp_path / "good.raw")
    path = tmp_path / "bad.raw"
    if case == "wrong size":
        path.write_bytes(raw[:130])
        code, msg = 2, r"size 130 is not a multiple of 64 bytes \(2 whole records and 2 stray"
    elif case == "empty":
        path.write_bytes(b"")
        code, msg = 2, r"empty file"
    elif case == "flipped payload":
        b = bytearray(raw)
        b[7 * RECORD + 40] ^= 0x04
        path.write_bytes(bytes(b))
        code, msg = 1, r"record 8 \(byte offset 512\): witness record prev_link does not match"
    elif case == "flipped sequence":
        b = bytearray(raw)
        b[3 * RECORD] ^= 0x01
        path.write_bytes(bytes(b))
        code, msg = 1, r"record 3 \(byte offset 192\): witness record has an unexpected sequence"
    elif case == "missing file":
        code, msg = 2, r"cannot read .*bad.raw: No such file"
    else:
        path.mkdir()
        code, msg = 2, r"not a regular file"
    proc = rvmsim("import", "--db", db, path, check=False)
    assert run_rc(proc) == code, proc.stderr
    assert re.search(msg, proc.stderr), proc.stderr
    assert db_snapshot(db) == before


# ------------------------------------------------------------------------------------------------
# bad databases

COMMANDS = [
    ["runs"], ["verify"], ["verify", "--run", "1"], ["show", "--run", "1"],
    ["export", "--run", "1", "--format", "raw", "-o", "OUT"], ["diff", "1", "1"],
    ["reconstruct", "--run", "1", "--at", "0"],
]


def make_bad_db(path, kind, good):
    if kind == "random bytes":
        path.write_bytes(bytes((i * 97 + 13) % 256 for i in range(8192)))
        return r"not an SQLite database"
    if kind == "missing":
        return r"cannot open"
    if kind == "foreign sqlite":
        sql(path, "CREATE TABLE t (x)")
        return r"not an rvmsim replay store"
    if kind == "empty file":
        path.write_bytes(b"")
        return r"empty database"
    shutil.copy(good, path)
    if kind == "newer schema":
        sql(path, "PRAGMA user_version = 7")
        return r"newer rvmsim \(schema version 7; this build reads versions up to 5\)"
    if kind == "older schema":
        sql(path, "PRAGMA user_version = 0")
        return r"schema version 0 is older than this build's \(5\)"
    raise AssertionError(kind)


@pytest.mark.parametrize("kind", ["random bytes", "missing", "foreign sqlite", "empty file",
                                  "newer schema", "older schema"])
def test_unusable_database_is_a_clear_error_for_every_command(rvmsim, tmp_path, kind,
                                                              capture_and_store):
    _, good = capture_and_store
    path = tmp_path / "bad.db"
    message = make_bad_db(path, kind, good)
    before = path.read_bytes() if path.exists() else None
    for cmd in COMMANDS:
        args = [str(tmp_path / "out.raw") if a == "OUT" else a for a in cmd]
        proc = rvmsim(args[0], "--db", path, *args[1:], check=False)
        assert run_rc(proc) == 2, (cmd, proc.stderr)
        assert re.search(message, proc.stderr), (cmd, proc.stderr)
    # import (a writer) refuses too, and alters nothing
    (tmp_path / "one.raw").write_bytes(b"")
    proc = rvmsim("import", "--db", path, tmp_path / "one.raw", check=False)
    if kind not in ("missing", "empty file"):
        assert run_rc(proc) == 2 and re.search(message, proc.stderr), proc.stderr
        assert (path.read_bytes() if path.exists() else None) == before


def test_truncated_database_fails_without_crashing(rvmsim, tmp_path):
    db = tmp_path / "a.db"
    demo(rvmsim, db, records=20000)
    sql(db, "PRAGMA wal_checkpoint(TRUNCATE)")
    size = db.stat().st_size
    assert size > 1_000_000
    with open(db, "r+b") as f:
        f.truncate(size // 2)
    for cmd in (["verify"], ["runs"], ["show", "--run", "1", "--from", "19990"],
                ["diff", "1", "1"], ["export", "--run", "1", "--format", "raw", "-o",
                                     str(tmp_path / "o.raw")]):
        proc = rvmsim(cmd[0], "--db", db, *cmd[1:], check=False)
        rc = run_rc(proc)
        if cmd[0] == "runs":
            continue  # the runs table may survive the cut
        assert rc in (1, 2), (cmd, proc.stdout, proc.stderr)
        assert re.search(r"malformed|unreadable|missing|no record", proc.stdout + proc.stderr), \
            (cmd, proc.stdout, proc.stderr)
    assert not (tmp_path / "o.raw").exists()


# ------------------------------------------------------------------------------------------------
# tampered stores: verify names the first bad sequence number

def transplant_signature(rvmsim, db, tmp_path):
    """A valid Ed25519 signature over run 1's checkpoint, but by another run's key: a run with
    seed 5 whose records are run 1's (shared prefix = every record)."""
    other = tmp_path / "other.db"
    demo(rvmsim, other, "--shared-prefix", 1000, "--prefix-seed", 1, seed=5)
    pub, sig = sql(other, "SELECT ed25519_pub, ed25519_sig FROM checkpoints WHERE seq = 255")[0]
    sql(db, "UPDATE checkpoints SET ed25519_pub = ?, ed25519_sig = ? WHERE run = 1 AND seq = 255",
        pub, sig)


def flip_image(db, seq):
    img = bytearray(sql(db, "SELECT image FROM records WHERE key = ?", key(1, seq))[0][0])
    img[40] ^= 0x01
    sql(db, "UPDATE records SET image = ? WHERE key = ?", bytes(img), key(1, seq))


TAMPER = {
    "image bit": (lambda db, r, t: flip_image(db, 500),
                  r"at seq 500: record: stored chain value disagrees with the recomputed chain"),
    "chain column": (lambda db, r, t: sql(db, "UPDATE records SET chain = zeroblob(32) WHERE key = ?",
                                          key(1, 500)),
                     r"at seq 500: record: stored chain value disagrees"),
    "kind column": (lambda db, r, t: sql(db, "UPDATE records SET kind = kind + 1 WHERE key = ?",
                                         key(1, 42)),
                    r"at seq 42: record: stored kind column"),
    "actor column": (lambda db, r, t: sql(db, "UPDATE records SET actor = 99 WHERE key = ?",
                                          key(1, 43)),
                     r"at seq 43: record: stored actor column"),
    "deleted record": (lambda db, r, t: sql(db, "DELETE FROM records WHERE key = ?", key(1, 300)),
                       r"at seq 300: record: missing from the store"),
    "extra record": (lambda db, r, t: sql(
        db, "INSERT INTO records SELECT ?, kind, actor, target, image, chain FROM records "
            "WHERE key = ?", key(1, 1000), key(1, 999)),
        r"at seq 1000: record: stored beyond the run's end"),
    "forged hmac": (lambda db, r, t: sql(
        db, "UPDATE checkpoints SET hmac = zeroblob(32) WHERE run = 1 AND seq = 511"),
        r"at seq 511: checkpoint: witness checkpoint signature is invalid"),
    "forged digest": (lambda db, r, t: sql(
        db, "UPDATE checkpoints SET digest = zeroblob(32) WHERE run = 1 AND seq = 511"),
        r"at seq 511: checkpoint: witness checkpoint signature is invalid"),
    "forged chain": (lambda db, r, t: sql(
        db, "UPDATE checkpoints SET chain = zeroblob(32) WHERE run = 1 AND seq = 511"),
        r"at seq 511: checkpoint: witness log digest does not match"),
    "forged signature": (lambda db, r, t: sql(
        db, "UPDATE checkpoints SET ed25519_sig = zeroblob(64) WHERE run = 1 AND seq = 767"),
        r"at seq 767: checkpoint: Ed25519 signature is invalid"),
    "signature by another key": (lambda db, r, t: transplant_signature(r, db, t),
                                 r"at seq 255: checkpoint: Ed25519 public key is not the run's key"),
    "malformed checkpoint": (lambda db, r, t: sql(
        db, "UPDATE checkpoints SET hmac = zeroblob(31) WHERE run = 1 AND seq = 511"),
        r"tampered: .*run 1 checkpoint at seq 511 is malformed"),
    "seal deleted": (lambda db, r, t: sql(db, "DELETE FROM checkpoints WHERE run = 1 AND seq = 999"),
                     r"tampered: the run records 4 checkpoints but the store holds 3"),
    "recorded digest": (lambda db, r, t: sql(db, "UPDATE runs SET digest = zeroblob(32) WHERE id = 1"),
                        r"tampered at seq 999: the run's recorded digest disagrees"),
    "record count": (lambda db, r, t: sql(db, "UPDATE runs SET record_count = 998 WHERE id = 1"),
                     r"tampered at seq 999: checkpoint: witness log is shorter than its checkpoint"),
    "seed": (lambda db, r, t: sql(db, "UPDATE runs SET seed = 2 WHERE id = 1"),
             r"at seq 255: checkpoint: witness checkpoint signature is invalid"),
    "image size": (lambda db, r, t: sql(db, "UPDATE records SET image = zeroblob(63) WHERE key = ?",
                                        key(1, 7)),
                   r"at seq 7: record: stored image is 63 bytes, not 64"),
}


@pytest.fixture(scope="module")
def two_runs(rvmsim, tmp_path_factory):
    d = tmp_path_factory.mktemp("two")
    db = d / "two.db"
    demo(rvmsim, db, records=1000, seed=1)
    demo(rvmsim, db, records=500, seed=2)
    return db


@pytest.mark.parametrize("name", sorted(TAMPER))
def test_tampered_store_fails_verification_at_the_right_seq(rvmsim, tmp_path, two_runs, name):
    db = tmp_path / "t.db"
    shutil.copy(two_runs, db)
    tamper, message = TAMPER[name]
    tamper(db, rvmsim, tmp_path)
    for jobs in ("1", "2"):
        proc = rvmsim("verify", "--db", db, "--jobs", jobs, check=False)
        assert run_rc(proc) == 1, proc.stdout + proc.stderr
        assert re.search(r"^run 1: " + ".*" + message, proc.stdout, re.M), proc.stdout
        assert re.search(r"^run 2: ok: 500 records", proc.stdout, re.M)  # the other run is fine
        assert "1 of 2 runs tampered" in proc.stderr
    assert rvmsim("verify", "--db", db, "--run", 2).returncode == 0


def test_run_left_running_is_unsealed_not_tampered(rvmsim, tmp_path, two_runs):
    db = tmp_path / "t.db"
    shutil.copy(two_runs, db)
    sql(db, "UPDATE runs SET status = 'running' WHERE id = 1")
    proc = rvmsim("verify", "--db", db, check=False)
    # a complete run turned back to running contradicts the store manifest
    assert proc.returncode == 1 and "manifest: tampered: run 1 is listed complete by manifest " \
        "entry 0 but the store says running" in proc.stdout, proc.stdout
    forge_manifest(db)  # what a killed writer leaves: a running run is in no manifest entry
    proc = rvmsim("verify", "--db", db, check=False)
    assert proc.returncode == 8, proc.stdout + proc.stderr
    assert re.search(r"^run 1: unsealed: the run is incomplete \(status 'running'\)", proc.stdout,
                     re.M), proc.stdout
    assert re.search(r"^run 2: ok: 500 records.*, sealed,", proc.stdout, re.M)
    assert "1 of 2 runs unsealed" in proc.stderr


def cut_store_at(db, run, seq):
    """The attack of issue 16 finding 1: cut run `run` after record `seq` (where a checkpoint
    ends) and make the run row agree, every remaining MAC intact."""
    sql(db, "DELETE FROM records WHERE key > ? AND key < ?", key(run, seq), key(run + 1, 0))
    sql(db, "DELETE FROM checkpoints WHERE run = ? AND (seq > ? OR seal = 1)", run, seq)
    sql(db, "UPDATE runs SET record_count = ?, checkpoint_count = (SELECT count(*) FROM "
            "checkpoints WHERE run = ?), digest = (SELECT digest FROM checkpoints WHERE run = ? "
            "AND seq = ?), chain = (SELECT chain FROM checkpoints WHERE run = ? AND seq = ?) "
            "WHERE id = ?", seq + 1, run, run, seq, run, seq, run)


def test_store_cut_at_every_checkpoint_is_unsealed_never_sealed(rvmsim, tmp_path):
    good = tmp_path / "good.db"
    demo(rvmsim, good, "--checkpoint-interval", 64, records=700, seed=3)
    seqs = [s for (s,) in sql(good, "SELECT seq FROM checkpoints WHERE run = 1 AND seal = 0 "
                                    "ORDER BY seq")]
    assert seqs == list(range(63, 700, 64))
    assert sql(good, "SELECT seq FROM checkpoints WHERE seal = 1") == [(699,)]
    for seq in seqs:
        db = tmp_path / f"cut{seq}.db"
        shutil.copy(good, db)
        cut_store_at(db, 1, seq)
        proc = rvmsim("verify", "--db", db, check=False)
        # the store manifest still lists the run's full record count
        assert proc.returncode == 1 and f"manifest: tampered: run 1 differs from its manifest " \
            f"entry 0: 700 records in the manifest, {seq + 1} in the store" in proc.stdout
        assert f"run 1: unsealed: no seal (final checkpoint) after the last record" in proc.stdout
        # an attacker who also rewrites the manifest: the run is still never sealed
        forge_manifest(db)
        proc = rvmsim("verify", "--db", db, check=False)
        assert proc.returncode == 8, (seq, proc.stdout, proc.stderr)
        assert f"run 1: unsealed: no seal (final checkpoint) after the last record" in proc.stdout
        assert "sealed," not in proc.stdout
        # every record present still verifies
        out = rvmsim("verify", "--db", db, "--allow-unsealed").stdout
        assert f"run 1: ok: {seq + 1} records" in out and ", unsealed," in out


def test_kernel_run_cut_at_every_checkpoint_is_unsealed(rvmsim, tmp_path):
    """The reproduction of issue 16 finding 1, at every checkpoint of the run."""
    good = tmp_path / "k.db"
    rvmsim("run", SOURCE_ROOT / "scenarios" / "kernel-smoke.scn", "--seed", 7, "--faults", "swarm",
           "--db", good)
    assert rvmsim("verify", "--db", good).returncode == 0
    seqs = [s for (s,) in sql(good, "SELECT seq FROM checkpoints WHERE run = 1 AND seal = 0")]
    assert seqs
    for seq in seqs:
        db = tmp_path / f"k{seq}.db"
        shutil.copy(good, db)
        cut_store_at(db, 1, seq)
        proc = rvmsim("verify", "--db", db, check=False)
        assert proc.returncode == 1 and "run 1: unsealed:" in proc.stdout, (seq, proc.stdout)
        assert "manifest: tampered: run 1 differs from its manifest entry 0" in proc.stdout
        forge_manifest(db)
        proc = rvmsim("verify", "--db", db, check=False)
        assert proc.returncode == 8 and "run 1: unsealed:" in proc.stdout, (seq, proc.stdout)


def test_serial_capture_cut_at_every_checkpoint_with_forged_end_is_unsealed(
        rvmsim, tmp_path, capture_and_store):
    lines, _ = capture_and_store
    cps = [i for i, l in enumerate(lines) if l.startswith("RVMW C")]
    assert len(cps) == 3
    for i in cps:
        records = [l for l in lines[:i] if l.startswith("RVMW R")]
        images = b"".join(bytes.fromhex(l.split(" ")[3]) for l in records)
        end = reframe("RVMW E %016x %s 0" % (len(records), hashlib.sha256(images).hexdigest()))
        (tmp_path / "c.txt").write_text("".join(lines[:i + 1]) + end)
        db = tmp_path / f"s{i}.db"
        proc = rvmsim("import", "--db", db, "--format", "serial", tmp_path / "c.txt", check=False)
        assert proc.returncode == 8 and "unsealed: the log has no seal" in proc.stderr, \
            proc.stderr
        assert rvmsim("import", "--db", db, "--format", "serial", "--allow-unsealed",
                      tmp_path / "c.txt").returncode == 0
        proc = rvmsim("verify", "--db", db, check=False)
        assert proc.returncode == 8 and "run 1: unsealed:" in proc.stdout


def test_serial_capture_cut_with_a_checkpoint_relabelled_as_seal_is_tampered(
        rvmsim, tmp_path, capture_and_store):
    """Issue 16 finding 1, serial form, the attacker's other move: cut after a periodic
    checkpoint, relabel that frame `S` (CRC recomputed) and forge the end frame. The seal's MAC
    covers a tag and the record count (witness-format.md §3), so the relabelled checkpoint's MAC
    fails: tampered, exit 1, nothing stored, never sealed."""
    lines, _ = capture_and_store
    cps = [i for i, l in enumerate(lines) if l.startswith("RVMW C")]
    for i in cps:
        records = [l for l in lines[:i] if l.startswith("RVMW R")]
        images = b"".join(bytes.fromhex(l.split(" ")[3]) for l in records)
        seal = reframe("RVMW S" + lines[i][len("RVMW C"):])
        end = reframe("RVMW E %016x %s 0" % (len(records), hashlib.sha256(images).hexdigest()))
        (tmp_path / "c.txt").write_text("".join(lines[:i]) + seal + end)
        db = tmp_path / f"t{i}.db"
        for extra in ([], ["--allow-unsealed"]):
            proc = rvmsim("import", "--db", db, "--format", "serial", *extra, tmp_path / "c.txt",
                          check=False)
            assert proc.returncode == 1, (i, extra, proc.stdout, proc.stderr)
            assert "sealed" not in proc.stdout.replace("unsealed", "")
        assert not db.exists() or sql(db, "SELECT count(*) FROM runs") == [(0,)]


def test_external_key_runs_need_the_key(rvmsim, tmp_path, two_runs):
    db = tmp_path / "t.db"
    shutil.copy(two_runs, db)
    sql(db, "UPDATE runs SET key_source = 'external' WHERE id = 1")
    forge_manifest(db)  # as if it had been stored so (the manifest covers key_source)
    proc = rvmsim("verify", "--db", db, "--run", 1, check=False)
    assert proc.returncode == 2 and "give --hmac-key" in proc.stderr
    good = seed_hmac_key(1).hex()
    out = rvmsim("verify", "--db", db, "--run", 1, "--hmac-key", good).stdout
    assert "run 1: ok: 1000 records" in out
    proc = rvmsim("verify", "--db", db, "--run", 1, "--hmac-key", "00" * 32, check=False)
    assert proc.returncode == 1 and "signature is invalid" in proc.stdout


@pytest.mark.parametrize("cmd", [["verify", "--run", "9"], ["show", "--run", "9"],
                                 ["export", "--run", "9", "--format", "raw", "-o", "/dev/null"],
                                 ["diff", "1", "9"], ["reconstruct", "--run", "9", "--at", "0"]])
def test_missing_run_is_a_usage_error(rvmsim, two_runs, cmd):
    proc = rvmsim(cmd[0], "--db", two_runs, *cmd[1:], check=False)
    assert run_rc(proc) == 2
    assert "no run 9" in proc.stderr


# ------------------------------------------------------------------------------------------------
# reconstruct

@pytest.fixture()
def epoch_db(rvmsim, tmp_path):
    db = tmp_path / "r.db"
    demo(rvmsim, db, "--epoch", 100, records=1000, seed=3)
    return db


@pytest.mark.parametrize("at,matched,boundary", [(0, 0, False), (99, 1, True), (150, 1, False),
                                                 (999, 10, True)])
def test_reconstruct_reproduces_records_and_state(rvmsim, epoch_db, at, matched, boundary):
    out = rvmsim("reconstruct", "--db", epoch_db, "--run", 1, "--at", at).stdout
    assert f"reconstructed to seq {at} with the demo replayer: records 0..{at} identical" in out
    assert f"{matched} recorded state digest" in out
    assert ("recorded there, equal" in out) == boundary
    stored = sql(epoch_db, "SELECT count(*) FROM state_digests WHERE run = 1")[0][0]
    assert stored == 10


RECONSTRUCT_TAMPER = {
    "state digest changed": ("UPDATE state_digests SET digest = zeroblob(32) WHERE seq = 199",
                             500, 1, r"state digest at seq 199 differs"),
    "state digest deleted": ("DELETE FROM state_digests WHERE seq = 299", 500, 1,
                             r"state digest at seq 299 \(an epoch boundary\) that the store does not"),
    "state digest added": ("INSERT INTO state_digests VALUES (1, 250, zeroblob(32))", 500, 1,
                           r"the store has a state digest at seq 250 that the replay does not"),
    "options changed": ("UPDATE runs SET options = replace(options, 'epoch=100', 'epoch=50')",
                        500, 1, r"seq 49 \(an epoch boundary\) that the store does not have"),
    "options garbage": ("UPDATE runs SET options = 'records=x'", 5, 1,
                        r"cannot be re-executed: the stored demo options"),
    "seed missing": ("UPDATE runs SET seed = NULL", 5, 1, r"no stored seed"),
    "seed changed": ("UPDATE runs SET seed = 4", 5, 1, r"record 0 differs"),
    "no replayer": ("UPDATE runs SET source = 'import-serial'", 5, 2, r"no replayer"),
}


@pytest.mark.parametrize("name", sorted(RECONSTRUCT_TAMPER))
def test_reconstruct_fails_closed(rvmsim, epoch_db, name):
    statement, at, code, message = RECONSTRUCT_TAMPER[name]
    sql(epoch_db, statement)
    proc = rvmsim("reconstruct", "--db", epoch_db, "--run", 1, "--at", at, check=False)
    assert run_rc(proc) == code, proc.stdout + proc.stderr
    assert re.search(message, proc.stdout + proc.stderr), proc.stdout + proc.stderr


def test_reconstruct_names_the_first_differing_record(rvmsim, epoch_db):
    img = bytearray(sql(epoch_db, "SELECT image FROM records WHERE key = ?", key(1, 400))[0][0])
    img[50] ^= 0x80
    sql(epoch_db, "UPDATE records SET image = ? WHERE key = ?", bytes(img), key(1, 400))
    assert rvmsim("reconstruct", "--db", epoch_db, "--run", 1, "--at", 399).returncode == 0
    proc = rvmsim("reconstruct", "--db", epoch_db, "--run", 1, "--at", 600, check=False)
    assert proc.returncode == 1
    assert "reconstruction FAILED at seq 400: record 400 differs" in proc.stdout


def test_reconstruct_bounds(rvmsim, epoch_db):
    proc = rvmsim("reconstruct", "--db", epoch_db, "--run", 1, "--at", 1000, check=False)
    assert proc.returncode == 2 and "--at must be 0..999" in proc.stderr


def test_copies_of_a_run_with_more_checkpoints_than_a_writer_holds(rvmsim, tmp_path):
    """A checkpoint and a state digest after every record: a merge and a bundle's verify add them
    after all the records, more than the writer keeps pending, so it writes them as it goes."""
    db = tmp_path / "many.db"
    _, digest = demo(rvmsim, db, "--checkpoint-interval", 1, "--epoch", 1, records=3000)
    cps = sql(db, "SELECT seq, seal, hmac, ed25519_sig FROM checkpoints ORDER BY seq, seal")
    states = sql(db, "SELECT seq, digest FROM state_digests ORDER BY seq")
    assert len(cps) == 3001 and len(states) == 3000  # one per record, and the seal
    merged = tmp_path / "merged.db"
    rvmsim("merge", "--db", merged, db)
    assert sql(merged, "SELECT seq, seal, hmac, ed25519_sig FROM checkpoints ORDER BY seq, seal") \
        == cps
    assert sql(merged, "SELECT seq, digest FROM state_digests ORDER BY seq") == states
    assert "run 1: ok: 3000 records, 3001 checkpoints" in rvmsim("verify", "--db", merged).stdout
    bundle = tmp_path / "many.bundle"
    rvmsim("export", "--db", db, "--run", 1, "--format", "bundle", "-o", bundle)
    out = rvmsim("verify", bundle).stdout
    assert "ok: bundle, 3000 records, 3001 checkpoints" in out and digest in out


# ------------------------------------------------------------------------------------------------
# usage

@pytest.mark.parametrize("cmd", ["runs", "verify", "diff", "show", "export", "import",
                                 "reconstruct"])
def test_each_command_has_help_and_requires_db(rvmsim, cmd):
    assert f"usage: rvmsim {cmd}" in rvmsim(cmd, "--help").stdout
    proc = rvmsim(cmd, check=False)
    assert proc.returncode == 2 and "usage" in proc.stderr
    proc = rvmsim(cmd, "--no-such-option", check=False)
    assert proc.returncode == 2
