"""The simulator's runs in the replay store: `rvmsim run --db`, `sweep --db`, `merge`, and
verify / diff / show / export / reconstruct on simulator runs.

Oracles are independent of rvmsim: hashlib for digests and the state digests of the witness
target (recomputed from the exported records and the documented encoding), the from-the-spec
SHA-256 compression of sha256_model.py for chain values, Python's hmac and the `cryptography`
package's Ed25519 for checkpoints, Python's own sqlite3 to read and tamper with stores (and to
build a schema-version-1 store from the frozen version-1 DDL), and byte comparison of exported
logs for first divergences. Seeds are fixed and printed.
"""
import hashlib
import hmac
import json
import re
import shutil
import sqlite3
import struct
import subprocess

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import (Ed25519PrivateKey,
                                                              Ed25519PublicKey)
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from conftest import SOURCE_ROOT
from manifest_model import forge_manifest
from sha256_model import IV, compress, state_bytes

SMOKE = SOURCE_ROOT / "scenarios" / "smoke.scn"
RECORD = 64
LAST = re.compile(r"run=(\d+) seed=(\d+) records=(\d+) digest=([0-9a-f]{64}) result=(\w+)")


# ------------------------------------------------------------------------------------------------
# helpers

def sql(path, statement, *params):
    con = sqlite3.connect(path)
    try:
        rows = con.execute(statement, params).fetchall()
        con.commit()
        return rows
    finally:
        con.close()


def run_db(rvmsim, scenario, db, seed, *args, check=True):
    print(f"seed {seed}")
    proc = rvmsim("run", scenario, "--seed", seed, "--db", db, *args, check=check)
    m = LAST.fullmatch(proc.stdout.strip().splitlines()[-1])
    assert m, proc.stdout
    return {"run": int(m.group(1)), "seed": int(m.group(2)), "records": int(m.group(3)),
            "digest": m.group(4), "result": m.group(5), "proc": proc}


def images_of(db, run):
    rows = sql(db, "SELECT key, image FROM records WHERE key >= ? AND key < ? ORDER BY key",
               run << 40, (run + 1) << 40)
    assert [k & ((1 << 40) - 1) for k, _ in rows] == list(range(len(rows)))
    return [img for _, img in rows]


def chains(images):
    state, out = list(IV), []
    for img in images:
        state = compress(state, img)
        out.append(state_bytes(state))
    return out


def export_raw(rvmsim, db, run, path):
    rvmsim("export", "--db", db, "--run", run, "--format", "raw", "-o", path)
    return path.read_bytes()


def seed_keys(seed):
    le = struct.pack("<Q", seed)
    return (hashlib.sha256(b"rvmsim hmac key" + le).digest(),
            Ed25519PrivateKey.from_private_bytes(hashlib.sha256(b"rvmsim ed25519 key" + le)
                                                 .digest()))


def scenario_param(text, name):
    m = re.search(rf"^target witness\b.*\b{name}=(\d+)", text, re.M)
    return int(m.group(1))


def witness_state_digest(images, n, checkpoint_interval):
    """The witness target's state digest after n records, from the documented encoding:
    SHA-256("rvmsim sim state 1" || LE64(n) || its hash(): LE64 appended, LE64 last timestamp,
    LE64 next periodic checkpoint, chain words LE32)."""
    chain = chains(images[:n])[-1]
    words = [int.from_bytes(chain[4 * i:4 * i + 4], "big") for i in range(8)]
    last_ts = struct.unpack_from("<Q", images[n - 1], 8)[0]
    k = checkpoint_interval
    next_cp = (n // k + 1) * k if k else 0
    body = struct.pack("<QQQ", n, last_ts, next_cp) + b"".join(struct.pack("<I", w) for w in words)
    return hashlib.sha256(b"rvmsim sim state 1" + struct.pack("<Q", n) + body).digest()


@pytest.fixture(scope="module")
def flip_scenario(tmp_path_factory):
    """The smoke workload with a fault that damages the ring: some seeds fail (safety)."""
    p = tmp_path_factory.mktemp("flip") / "flip.scn"
    p.write_text(SMOKE.read_text().replace("faults default",
                                           "faults default\nenable ring_bitflip 1/400"))
    return p


@pytest.fixture(scope="module")
def sweep_db(rvmsim, flip_scenario, tmp_path_factory):
    db = tmp_path_factory.mktemp("sweep") / "sweep.db"
    proc = rvmsim("sweep", flip_scenario, "--seeds", "1..40", "--jobs", "2", "--db", db,
                  check=False)
    assert proc.returncode == 3, proc.stdout + proc.stderr
    return db


# ------------------------------------------------------------------------------------------------
# run --db: everything about the run, checked against independent computations

def test_run_db_stores_the_whole_run(rvmsim, tmp_path):
    db = tmp_path / "a.db"
    seed = 11
    s = run_db(rvmsim, SMOKE, db, seed)
    faults = int(re.search(r"faults=(\d+)", s["proc"].stdout).group(1))
    text = SMOKE.read_text()
    assert sql(db, "PRAGMA user_version") == [(5,)]
    row = sql(db, "SELECT r.status, r.content, r.source, r.key_source, r.platform, r.target, "
                  "r.seed, r.options, r.result, r.exit_code, r.record_count, r.build_id, "
                  "r.command, s.text, r.scenario_sha256 FROM runs r JOIN scenarios s "
                  "ON s.sha256 = r.scenario_sha256 WHERE r.id = ?", s["run"])[0]
    version = rvmsim("--version").stdout.split(" ", 1)[1].strip()
    assert row[:13] == ("complete", "full", "run", "seed", "sim", "witness", seed,
                        "faults=default nwnm_every=1 epoch=64", "pass", 0, s["records"], version,
                        f"rvmsim run {SMOKE} --seed {seed} --faults default")
    assert row[13] == text and row[14] == hashlib.sha256(text.encode()).digest()

    images = images_of(db, s["run"])
    assert len(images) == s["records"]
    assert hashlib.sha256(b"".join(images)).hexdigest() == s["digest"]
    ch = chains(images)
    stored = [c for (c,) in sql(db, "SELECT chain FROM records WHERE key >= ? AND key < ? "
                                    "ORDER BY key", s["run"] << 40, (s["run"] + 1) << 40)]
    assert stored == ch
    assert sql(db, "SELECT digest, chain FROM runs WHERE id = ?", s["run"])[0] == \
        (hashlib.sha256(b"".join(images)).digest(), ch[-1])
    # decoded columns
    for (k, kind, actor, target, img) in sql(db, "SELECT key, kind, actor, target, image FROM "
                                                 "records WHERE key >= ? AND key < ?",
                                             s["run"] << 40, (s["run"] + 1) << 40):
        assert (kind, actor, target & (2**64 - 1)) == \
            (img[16], struct.unpack_from("<I", img, 20)[0], struct.unpack_from("<Q", img, 24)[0])

    # checkpoints: HMAC and Ed25519 with the seed's keys, over LE64(seq) || digest
    hkey, signer = seed_keys(seed)
    pub = signer.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    # (the seal over "rvm-seal" || LE64(seq) || digest || LE64(count): docs/witness-format.md §3)
    cps = sql(db, "SELECT seq, digest, chain, hmac, ed25519_pub, ed25519_sig, seal "
                  "FROM checkpoints WHERE run = ? ORDER BY seq, seal", s["run"])
    assert cps and cps[-1][0] == s["records"] - 1 and cps[-1][6] == 1  # sealed
    assert [c[6] for c in cps].count(1) == 1
    assert len(cps) == sql(db, "SELECT checkpoint_count FROM runs WHERE id = ?", s["run"])[0][0]
    for seq, digest, chain, mac, p, sig, seal in cps:
        assert digest == hashlib.sha256(b"".join(images[:seq + 1])).digest()
        assert chain == ch[seq]
        msg = struct.pack("<Q", seq) + digest
        if seal:
            msg = b"rvm-seal" + msg + struct.pack("<Q", seq + 1)
        assert mac == hmac.new(hkey, msg, hashlib.sha256).digest()
        assert p == pub
        Ed25519PublicKey.from_public_bytes(p).verify(sig, msg)  # raises when invalid

    # fired faults and state digests at the epoch boundaries
    assert sql(db, "SELECT count(*) FROM faults WHERE run = ?", s["run"]) == [(faults,)]
    assert sql(db, "SELECT count(*) FROM invariant_failures WHERE run = ?", s["run"]) == [(0,)]
    n = s["records"]
    states = sql(db, "SELECT seq, digest FROM state_digests WHERE run = ? ORDER BY seq", s["run"])
    # smoke steps append at most one record each, so boundaries fall at 63, 127, ... and the end
    assert [q for q, _ in states] == sorted({k * 64 - 1 for k in range(1, n // 64 + 1)} | {n - 1})
    k = scenario_param(text, "checkpoint")
    for seq, digest in states:
        assert digest == witness_state_digest(images, seq + 1, k), seq

    out = rvmsim("verify", "--db", db).stdout
    assert f"run {s['run']}: ok: {n} records, {len(cps)} checkpoints (HMAC-SHA256, {len(cps)} " \
           f"Ed25519 signatures), sealed, digest {s['digest']}" in out


@pytest.mark.parametrize("faults", ["none", "default", "swarm"])
def test_storing_does_not_change_the_run(rvmsim, tmp_path, faults):
    """State digests and the store are read-only: the same seed gives the same run with or
    without --db, whatever the epoch."""
    for seed in (2, 3, 2**63 + 5):
        print(f"seed {seed}")
        plain = rvmsim("run", SMOKE, "--seed", seed, "--faults", faults).stdout.splitlines()
        stored = rvmsim("run", SMOKE, "--seed", seed, "--faults", faults, "--db",
                        tmp_path / f"{faults}.db", "--epoch", 1).stdout.splitlines()
        assert plain[:-1] == stored[:-1]
        assert re.sub(r"^run=\d+ ", "", plain[-1]) == re.sub(r"^run=\d+ ", "", stored[-1])


@pytest.mark.parametrize("epoch", [0, 1, 17])
def test_epoch_option_places_state_digests(rvmsim, tmp_path, epoch):
    db = tmp_path / "e.db"
    s = run_db(rvmsim, SMOKE, db, 4, "--epoch", epoch)
    n = s["records"]
    seqs = [q for (q,) in sql(db, "SELECT seq FROM state_digests WHERE run = 1 ORDER BY seq")]
    want = {n - 1} | ({k * epoch - 1 for k in range(1, n // epoch + 1)} if epoch else set())
    assert seqs == sorted(want)
    assert sql(db, "SELECT options FROM runs") == [(f"faults=default nwnm_every=1 epoch={epoch}",)]
    assert f"--epoch {epoch}" in sql(db, "SELECT command FROM runs")[0][0]
    assert rvmsim("reconstruct", "--db", db, "--run", 1, "--at", n - 1).returncode == 0


def test_sampled_oracle_option_is_stored_and_replayed(rvmsim, tmp_path):
    db = tmp_path / "n.db"
    s = run_db(rvmsim, SMOKE, db, 9, "--nwnm-every", 3, "--faults", "swarm")
    assert sql(db, "SELECT options, command FROM runs") == \
        [("faults=swarm nwnm_every=3 epoch=64",
          f"rvmsim run {SMOKE} --seed 9 --faults swarm --nwnm-every 3")]
    assert rvmsim("reconstruct", "--db", db, "--run", 1, "--at", s["records"] - 1).returncode == 0


def test_commands_work_on_simulator_runs_as_on_demo_runs(rvmsim, tmp_path):
    db = tmp_path / "a.db"
    a = run_db(rvmsim, SMOKE, db, 21)
    b = run_db(rvmsim, SMOKE, db, 22)
    c = run_db(rvmsim, SMOKE, db, 21)  # the same seed again: the same log, stored once
    assert c["run"] == a["run"] and c["digest"] == a["digest"]
    raw_a = export_raw(rvmsim, db, a["run"], tmp_path / "a.raw")
    raw_b = export_raw(rvmsim, db, b["run"], tmp_path / "b.raw")
    assert hashlib.sha256(raw_a).hexdigest() == a["digest"]
    assert rvmsim("diff", "--db", db, a["run"], c["run"]).stdout.startswith("identical")
    first = next(i for i in range(min(len(raw_a), len(raw_b)) // RECORD)
                 if raw_a[i * RECORD:(i + 1) * RECORD] != raw_b[i * RECORD:(i + 1) * RECORD])
    proc = rvmsim("diff", "--db", db, a["run"], b["run"], check=False)
    assert proc.returncode == 1 and f"first divergence at seq {first}" in proc.stdout
    rows = [json.loads(l) for l in rvmsim("show", "--db", db, "--run", a["run"], "--json")
            .stdout.splitlines()]
    assert [bytes.fromhex(r["image"]) for r in rows] == \
        [raw_a[i:i + RECORD] for i in range(0, len(raw_a), RECORD)]
    jl = tmp_path / "a.jsonl"
    rvmsim("export", "--db", db, "--run", a["run"], "--format", "jsonl", "-o", jl)
    assert [json.loads(l)["image"] for l in jl.read_text().splitlines()] == \
        [r["image"] for r in rows]
    rj = [json.loads(l) for l in rvmsim("runs", "--db", db, "--json").stdout.splitlines()]
    assert [(r["content"], r["target"], r["source"]) for r in rj] == [("full", "witness", "run")] * 2
    assert rj[0]["outcome"]["steps"] == "300" and rj[0]["outcome"]["phase"] == "final"


def test_a_failing_run_is_stored_with_its_damage(rvmsim, tmp_path, flip_scenario):
    """A fault flipped a bit in the ring: the log is stored as the sink received it (raw), the
    failed invariant and the fault are recorded, and verify names the damaged record."""
    db = tmp_path / "f.db"
    for seed in range(1, 20):
        s = run_db(rvmsim, flip_scenario, db, seed, check=False)
        if s["result"] == "safety":
            break
    else:
        pytest.fail("no failing seed in 1..19")
    assert s["proc"].returncode == 3
    run = s["run"]
    images = images_of(db, run)
    # the first record that does not continue the chain, found with the model
    bad = None
    state, prev = list(IV), b"\0" * 8
    for i, img in enumerate(images):
        if struct.unpack_from("<Q", img, 0)[0] != i or img[44:52] != prev:
            bad = i
            break
        state = compress(state, img)
        prev = state_bytes(state)[:8]
    inv = sql(db, "SELECT oracle, message FROM invariant_failures WHERE run = ?", run)
    assert len(inv) == 1 and inv[0][0].startswith("witness.")
    assert sql(db, "SELECT count(*) FROM faults WHERE run = ? AND site = 'ring_bitflip'",
               run)[0][0] >= 1
    assert sql(db, "SELECT result, exit_code, content FROM runs WHERE id = ?", run) == \
        [("safety", 3, "full")]
    proc = rvmsim("verify", "--db", db, "--run", run, "--allow-unsealed", check=False)
    if bad is not None:
        assert proc.returncode == 1
        assert f"tampered at seq {bad}: record:" in proc.stdout, proc.stdout
    # and the damage reproduces: reconstruct re-executes the seed, fault included
    assert rvmsim("reconstruct", "--db", db, "--run", run, "--at", len(images) - 1).returncode == 0


# ------------------------------------------------------------------------------------------------
# reconstruct of simulator runs

@pytest.fixture
def smoke_db(rvmsim, tmp_path):
    db = tmp_path / "r.db"
    s = run_db(rvmsim, SMOKE, db, 31, "--epoch", 32)
    return db, s


def test_reconstruct_replays_every_boundary(rvmsim, smoke_db, tmp_path):
    db, s = smoke_db
    n = s["records"]
    images = images_of(db, 1)
    k = scenario_param(SMOKE.read_text(), "checkpoint")
    states = dict(sql(db, "SELECT seq, digest FROM state_digests WHERE run = 1"))
    for at in sorted(states) + [0, 40, n // 2]:
        proc = rvmsim("reconstruct", "--db", db, "--run", 1, "--at", at)
        want = sum(1 for q in states if q <= at)
        assert f"{want} recorded state digest" in proc.stdout
        assert f"(chain {chains(images[:at + 1])[-1].hex()})" in proc.stdout
        digest = re.search(rf"state digest at seq {at}: ([0-9a-f]{{64}})", proc.stdout).group(1)
        if at in states:
            assert bytes.fromhex(digest) == states[at] and "recorded there, equal" in proc.stdout
        else:
            # a smoke step appends at most one record: the state after record `at` is the
            # witness target's state after at + 1 records
            assert bytes.fromhex(digest) == witness_state_digest(images, at + 1, k)
    # the stored scenario text is what replays, not the file
    copy = tmp_path / "copy.scn"
    shutil.copy(SMOKE, copy)
    t = run_db(rvmsim, copy, db, 31, "--epoch", 32)
    copy.unlink()
    assert rvmsim("reconstruct", "--db", db, "--run", t["run"], "--at", n - 1).returncode == 0


def test_reconstruct_fails_at_a_tampered_state_digest(rvmsim, smoke_db):
    db, s = smoke_db
    seqs = [q for (q,) in sql(db, "SELECT seq FROM state_digests WHERE run = 1 ORDER BY seq")]
    target = seqs[1]
    sql(db, "UPDATE state_digests SET digest = zeroblob(32) WHERE run = 1 AND seq = ?", target)
    assert rvmsim("reconstruct", "--db", db, "--run", 1, "--at", target - 1).returncode == 0
    proc = rvmsim("reconstruct", "--db", db, "--run", 1, "--at", s["records"] - 1, check=False)
    assert proc.returncode == 1
    assert f"reconstruction FAILED at seq {target}: state digest at seq {target} differs" in \
        proc.stdout, proc.stdout


def test_reconstruct_fails_at_a_tampered_record(rvmsim, smoke_db):
    db, s = smoke_db
    seq = 45
    img = bytearray(sql(db, "SELECT image FROM records WHERE key = ?", (1 << 40) | seq)[0][0])
    img[40] ^= 0x01  # a payload bit
    sql(db, "UPDATE records SET image = ? WHERE key = ?", bytes(img), (1 << 40) | seq)
    assert rvmsim("reconstruct", "--db", db, "--run", 1, "--at", seq - 1).returncode == 0
    proc = rvmsim("reconstruct", "--db", db, "--run", 1, "--at", seq + 10, check=False)
    assert proc.returncode == 1
    assert f"reconstruction FAILED at seq {seq}: record {seq} differs" in proc.stdout


@pytest.mark.parametrize("name,statement,message", [
    ("state digest added", "INSERT INTO state_digests VALUES (1, 40, zeroblob(32))",
     r"FAILED at seq 40: the store has a state digest at seq 40 that the replay does not"),
    ("state digest removed", "DELETE FROM state_digests WHERE seq = 63",
     r"FAILED at seq 63: the replay produces a state digest at seq 63 \(an epoch boundary\)"),
    ("epoch changed", "UPDATE runs SET options = replace(options, 'epoch=32', 'epoch=16')",
     r"FAILED at seq 15: the replay produces a state digest at seq 15"),
    ("options garbage", "UPDATE runs SET options = 'faults=sometimes'",
     r"stored options 'faults=sometimes' cannot be replayed"),
    ("unknown option", "UPDATE runs SET options = options || ' turbo=1'",
     r"unknown or repeated option 'turbo'"),
    ("seed changed", "UPDATE runs SET seed = 32", r"FAILED at seq 0: record 0 differs"),
    ("scenario changed", "UPDATE scenarios SET text = replace(text, 'append  40', 'append  41')",
     r"FAILED at seq \d+: record \d+ differs"),
    ("scenario broken", "UPDATE scenarios SET text = 'target nothing'",
     r"stored scenario does not parse with this build"),
    ("target mismatch", "UPDATE runs SET target = 'kernel'",
     r"the run says target kernel but its scenario names witness"),
])
def test_reconstruct_of_simulator_runs_fails_closed(rvmsim, smoke_db, name, statement, message):
    db, s = smoke_db
    sql(db, statement)
    proc = rvmsim("reconstruct", "--db", db, "--run", 1, "--at", s["records"] - 1, check=False)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert re.search(message, proc.stdout + proc.stderr), proc.stdout + proc.stderr


# ------------------------------------------------------------------------------------------------
# sweep --db: a summary for every run, the full log of failing runs

def test_sweep_db_summaries_and_failing_logs(rvmsim, sweep_db, flip_scenario):
    rows = sql(sweep_db, "SELECT id, seed, content, result, record_count, digest, source, options, "
                         "command FROM runs ORDER BY seed")
    assert [r[1] for r in rows] == list(range(1, 41))
    for run, seed, content, result, count, digest, source, options, command in rows:
        assert source == "sweep" and options == "faults=default nwnm_every=1 epoch=64"
        assert command == f"rvmsim run {flip_scenario} --seed {seed} --faults default"
        assert content == ("summary" if result == "pass" else "full"), (seed, result)
        if content == "summary":
            assert not images_of(sweep_db, run)
            assert not sql(sweep_db, "SELECT 1 FROM checkpoints WHERE run = ?", run)
            # the summary's digest is the one `rvmsim run` of that seed produces
        else:
            images = images_of(sweep_db, run)
            assert hashlib.sha256(b"".join(images)).digest() == digest
            assert sql(sweep_db, "SELECT count(*) FROM invariant_failures WHERE run = ?", run) \
                == [(1,)]
    passing = [r for r in rows if r[3] == "pass"]
    assert passing and len(passing) < len(rows)
    for run, seed, *_ in passing[:3]:
        print(f"seed {seed}")
        out = rvmsim("run", flip_scenario, "--seed", seed).stdout
        digest = LAST.fullmatch(out.strip().splitlines()[-1]).group(4)
        assert sql(sweep_db, "SELECT hex(digest) FROM runs WHERE id = ?", run)[0][0] == \
            digest.upper()
    # a sweep's scenario text is stored once
    assert sql(sweep_db, "SELECT count(*) FROM scenarios") == [(1,)]


def test_commands_say_clearly_when_a_run_is_a_summary(rvmsim, sweep_db, flip_scenario, tmp_path):
    summary = sql(sweep_db, "SELECT id, seed FROM runs WHERE content = 'summary' ORDER BY id")
    full = sql(sweep_db, "SELECT id FROM runs WHERE content = 'full'")
    run, seed = summary[0]
    for cmd in (["verify", "--run", run], ["show", "--run", run],
                ["export", "--run", run, "--format", "raw", "-o", tmp_path / "x.raw"],
                ["reconstruct", "--run", run, "--at", 0]):
        proc = rvmsim(cmd[0], "--db", sweep_db, *cmd[1:], check=False)
        assert proc.returncode == 2, (cmd, proc.stdout, proc.stderr)
        assert f"run {run} stores only a summary" in proc.stderr
        assert f"--seed {seed} --faults default --db {sweep_db}" in proc.stderr
    assert not (tmp_path / "x.raw").exists()
    # verify over the whole store checks the full runs and counts the summaries
    out = rvmsim("verify", "--db", sweep_db, "--allow-unsealed", check=False).stdout
    assert f"{len(summary)} summary-only runs not verified" in out
    assert len(re.findall(r"^run \d+: (ok|tampered|unsealed)", out, re.M)) == len(full)
    # diff: a summary compares by digest, or says it cannot locate the divergence
    proc = rvmsim("diff", "--db", sweep_db, summary[0][0], summary[1][0], check=False)
    assert proc.returncode == 1
    assert "different:" in proc.stdout and "cannot be located" in proc.stdout
    other = tmp_path / "again.db"
    rvmsim("sweep", flip_scenario, "--seeds", f"{seed}..{seed}", "--db", other)
    proc = rvmsim("diff", "--db", sweep_db, run, 1, "--db2", other)
    assert proc.stdout.startswith("identical:") and "compared by log digest" in proc.stdout


# ------------------------------------------------------------------------------------------------
# sharding and merge

def seed_map(db):
    return {seed: (content, result, digest) for seed, content, result, digest in
            sql(db, "SELECT seed, content, result, digest FROM runs")}


@pytest.fixture(scope="module")
def shards(rvmsim, flip_scenario, tmp_path_factory):
    d = tmp_path_factory.mktemp("shards")
    whole = d / "whole.db"
    rvmsim("sweep", flip_scenario, "--seeds", "100..159", "--jobs", "2", "--db", whole,
           check=False)
    parts = []
    for k in range(3):
        db = d / f"shard{k}.db"
        rvmsim("sweep", flip_scenario, "--seeds", "100..159", "--jobs", "1", "--shard", f"{k}/3",
               "--db", db, check=False)
        parts.append(db)
    return whole, parts


def test_merge_lists_every_seed_once(rvmsim, shards, tmp_path):
    whole, parts = shards
    out = tmp_path / "merged.db"
    proc = rvmsim("merge", "--db", out, *parts)
    assert proc.stdout.strip().splitlines()[-1] == f"merged 3 of 3 inputs into {out}: 60 runs added"
    seeds = [s for (s,) in sql(out, "SELECT seed FROM runs")]
    assert sorted(seeds) == list(range(100, 160))  # every seed once
    assert seed_map(out) == seed_map(whole)  # whichever machine and shard ran it
    # full runs came over with their records, checkpoints (signatures included) and states
    for (seed,) in sql(out, "SELECT seed FROM runs WHERE content = 'full'"):
        src = next(p for p in parts if sql(p, "SELECT 1 FROM runs WHERE seed = ?", seed))
        (a,) = sql(src, "SELECT id FROM runs WHERE seed = ?", seed)[0]
        (b,) = sql(out, "SELECT id FROM runs WHERE seed = ?", seed)[0]
        assert images_of(src, a) == images_of(out, b)
        q = "SELECT seq, digest, chain, hmac, ed25519_pub, ed25519_sig FROM checkpoints " \
            "WHERE run = ? ORDER BY seq"
        assert sql(src, q, a) == sql(out, q, b)
        q = "SELECT seq, digest FROM state_digests WHERE run = ? ORDER BY seq"
        assert sql(src, q, a) == sql(out, q, b)
        q = "SELECT seq, time_ns, site, detail FROM faults WHERE run = ? ORDER BY id"
        assert sql(src, q, a) == sql(out, q, b)
        va = rvmsim("verify", "--db", src, "--run", a, "--allow-unsealed", check=False)
        vb = rvmsim("verify", "--db", out, "--run", b, "--allow-unsealed", check=False)
        assert va.returncode == vb.returncode
        # the run's verdict line (the manifest line after it names each store's own head)
        assert va.stdout.splitlines()[0].split(":", 1)[1] == \
            vb.stdout.splitlines()[0].split(":", 1)[1]
        assert rvmsim("reconstruct", "--db", out, "--run", b, "--at", 0).returncode == 0
    # merging a shard again adds nothing
    before = sql(out, "SELECT count(*) FROM runs")
    proc = rvmsim("merge", "--db", out, parts[1])
    assert "0 runs added" in proc.stdout and "20 already present" in proc.stdout
    assert sql(out, "SELECT count(*) FROM runs") == before
    proc = rvmsim("merge", "--db", out, out, check=False)
    assert proc.returncode == 2 and "is the output database itself" in proc.stderr


def test_shards_can_share_one_store(rvmsim, tmp_path):
    """Two shards writing into one new file at once: both create-or-open it, take turns through
    SQLite's lock, and the store lists every seed once."""
    db = tmp_path / "shared.db"
    procs = [subprocess.Popen([rvmsim.path, "sweep", SMOKE, "--seeds", "1..3000", "--jobs", "1",
                               "--shard", f"{k}/2", "--db", db, "--no-progress"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for k in range(2)]
    for p in procs:
        out, err = p.communicate(timeout=600)
        assert p.returncode == 0, err
        assert out.strip().splitlines()[-1] == "1500 passed, 0 failed"
    assert sorted(s for (s,) in sql(db, "SELECT seed FROM runs")) == list(range(1, 3001))


def db_bytes(path):
    sql(path, "PRAGMA wal_checkpoint(TRUNCATE)")
    return path.read_bytes()


def test_merge_refuses_a_conflicting_seed(rvmsim, shards, tmp_path):
    _, parts = shards
    out = tmp_path / "m.db"
    rvmsim("merge", "--db", out, parts[0])
    bad = tmp_path / "bad.db"
    shutil.copy(parts[0], bad)
    # the same seed, another result: as if a machine ran it differently
    sql(bad, "UPDATE runs SET digest = zeroblob(32) WHERE id = (SELECT min(id) FROM runs "
             "WHERE content = 'summary')")
    (seed,) = sql(bad, "SELECT seed FROM runs WHERE digest = zeroblob(32)")[0]
    before = db_bytes(out)
    proc = rvmsim("merge", "--db", out, bad, check=False)
    assert proc.returncode == 1
    assert f"(seed {seed}) conflicts with run" in proc.stderr and "nothing of it" in proc.stderr
    assert db_bytes(out) == before


def test_merge_refuses_a_run_that_does_not_copy_faithfully(rvmsim, shards, tmp_path):
    _, parts = shards
    src = next(p for p in parts if sql(p, "SELECT 1 FROM runs WHERE content = 'full'"))
    bad = tmp_path / "bad.db"
    shutil.copy(src, bad)
    (run,) = sql(bad, "SELECT min(id) FROM runs WHERE content = 'full'")[0]
    img = bytearray(sql(bad, "SELECT image FROM records WHERE key = ?", (run << 40) | 2)[0][0])
    img[40] ^= 0x10
    sql(bad, "UPDATE records SET image = ? WHERE key = ?", bytes(img), (run << 40) | 2)
    out = tmp_path / "m.db"
    rvmsim("merge", "--db", out, parts[(parts.index(src) + 1) % 3])
    before = db_bytes(out)
    proc = rvmsim("merge", "--db", out, bad, check=False)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert f"run {run}: its stored records do not give its recorded digest" in proc.stderr
    assert db_bytes(out) == before


def test_merge_bad_inputs_are_usage_errors_and_change_nothing(rvmsim, shards, tmp_path):
    _, parts = shards
    out = tmp_path / "m.db"
    rvmsim("merge", "--db", out, parts[0])
    junk = tmp_path / "junk.db"
    junk.write_bytes(bytes((i * 89 + 7) % 256 for i in range(8192)))
    foreign = tmp_path / "foreign.db"
    sql(foreign, "CREATE TABLE t (x)")
    before = db_bytes(out)
    for bad, message in ((junk, "not an SQLite database"), (foreign, "not an rvmsim replay store"),
                         (tmp_path / "missing.db", "cannot open")):
        proc = rvmsim("merge", "--db", out, bad, check=False)
        assert proc.returncode == 2 and message in proc.stderr, proc.stderr
    assert db_bytes(out) == before
    # a bad input among good ones: the good ones are merged, the exit code says what went wrong
    proc = rvmsim("merge", "--db", out, junk, parts[1], check=False)
    assert proc.returncode == 2 and "merged 1 of 2 inputs" in proc.stdout
    assert sql(out, "SELECT count(*) FROM runs") == [(40,)]
    for args in ([], ["--db", out]):
        assert rvmsim("merge", *args, check=False).returncode == 2


def test_merge_leaves_out_incomplete_runs(rvmsim, shards, tmp_path):
    _, parts = shards
    bad = tmp_path / "crashed.db"
    shutil.copy(parts[2], bad)
    sql(bad, "UPDATE runs SET status = 'running' WHERE id = 3")
    out = tmp_path / "m.db"
    proc = rvmsim("merge", "--db", out, bad, check=False)
    assert proc.returncode == 1 and "1 incomplete run (status running" in proc.stderr
    assert sql(out, "SELECT count(*) FROM runs") == [(19,)]


def test_merge_replaces_a_summary_with_the_full_run(rvmsim, tmp_path):
    """The same run stored as a summary in one store and in full in another: the full log wins."""
    a, b = tmp_path / "a.db", tmp_path / "b.db"
    rvmsim("sweep", SMOKE, "--seeds", "7..9", "--db", a, "--jobs", "1")
    s = run_db(rvmsim, SMOKE, b, 8)
    sql(b, "UPDATE runs SET source = 'sweep', command = NULL")  # the sweep's identity
    out = tmp_path / "m.db"
    rvmsim("merge", "--db", out, a)
    proc = rvmsim("merge", "--db", out, b)
    assert "1 summaries replaced by full runs" in proc.stdout
    assert sql(out, "SELECT seed, content FROM runs ORDER BY seed") == \
        [(7, "summary"), (8, "full"), (9, "summary")]
    (run,) = sql(out, "SELECT id FROM runs WHERE seed = 8")[0]
    assert hashlib.sha256(b"".join(images_of(out, run))).hexdigest() == s["digest"]


# ------------------------------------------------------------------------------------------------
# schema version 2: a version-1 store is read as it is and migrated by writers

V1_DDL = """
CREATE TABLE meta (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE runs (
  id INTEGER PRIMARY KEY,
  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
  status TEXT NOT NULL CHECK (status IN ('running', 'complete', 'aborted')),
  source TEXT NOT NULL,
  key_source TEXT NOT NULL CHECK (key_source IN ('seed', 'external', 'none')),
  command TEXT, scenario TEXT,
  scenario_sha256 BLOB CHECK (scenario_sha256 IS NULL OR length(scenario_sha256) = 32),
  seed INTEGER, build_id TEXT, core_version TEXT, platform TEXT, options TEXT, result TEXT,
  exit_code INTEGER, record_count INTEGER NOT NULL DEFAULT 0,
  checkpoint_count INTEGER NOT NULL DEFAULT 0,
  digest BLOB CHECK (digest IS NULL OR length(digest) = 32),
  chain BLOB CHECK (chain IS NULL OR length(chain) = 32));
CREATE TABLE records (key INTEGER PRIMARY KEY, kind INTEGER NOT NULL, actor INTEGER NOT NULL,
  target INTEGER NOT NULL, image BLOB NOT NULL, chain BLOB NOT NULL);
CREATE VIEW record_view AS SELECT key >> 40 AS run, key & 1099511627775 AS seq, kind, actor,
  target, image, chain FROM records;
CREATE TABLE checkpoints (run INTEGER NOT NULL, seq INTEGER NOT NULL, digest BLOB NOT NULL,
  chain BLOB NOT NULL, hmac BLOB NOT NULL, ed25519_pub BLOB, ed25519_sig BLOB,
  PRIMARY KEY (run, seq)) WITHOUT ROWID;
CREATE TABLE state_digests (run INTEGER NOT NULL, seq INTEGER NOT NULL, digest BLOB NOT NULL,
  PRIMARY KEY (run, seq)) WITHOUT ROWID;
CREATE TABLE faults (run INTEGER NOT NULL, id INTEGER NOT NULL, seq INTEGER NOT NULL,
  time_ns INTEGER NOT NULL, site TEXT NOT NULL, detail TEXT, PRIMARY KEY (run, id)) WITHOUT ROWID;
CREATE TABLE invariant_failures (run INTEGER NOT NULL, id INTEGER NOT NULL, seq INTEGER NOT NULL,
  time_ns INTEGER NOT NULL, oracle TEXT NOT NULL, message TEXT, PRIMARY KEY (run, id))
  WITHOUT ROWID;
"""

V1_RUN_COLUMNS = ("id, created_at, status, source, key_source, command, scenario, "
                  "scenario_sha256, seed, build_id, core_version, platform, options, result, "
                  "exit_code, record_count, checkpoint_count, digest, chain")


def make_v1(path, source_db):
    """A version-1 store (the frozen DDL of docs/replay-store.md, version 1) holding the runs
    of a version-2 store, the scenario text inline as version 1 kept it."""
    con = sqlite3.connect(path)
    con.executescript("PRAGMA page_size = 65536; PRAGMA journal_mode = WAL;" + V1_DDL)
    con.execute("PRAGMA application_id = 1381387607")
    con.execute("PRAGMA user_version = 1")
    con.execute("INSERT INTO meta VALUES ('schema_version', '1'), ('created_by', 'test')")
    con.execute("ATTACH DATABASE ? AS src", (str(source_db),))
    cols = V1_RUN_COLUMNS.replace("scenario,", "(SELECT text FROM src.scenarios WHERE "
                                  "sha256 = r.scenario_sha256),", 1)
    con.execute(f"INSERT INTO runs ({V1_RUN_COLUMNS}) SELECT {cols} FROM src.runs r")
    for t in ("records", "state_digests", "faults", "invariant_failures"):
        con.execute(f"INSERT INTO {t} SELECT * FROM src.{t}")
    # version 1 had no seals (witness format 1): the periodic checkpoints only
    con.execute("INSERT INTO checkpoints SELECT run, seq, digest, chain, hmac, ed25519_pub, "
                "ed25519_sig FROM src.checkpoints WHERE seal = 0")
    con.execute("UPDATE runs SET checkpoint_count = (SELECT count(*) FROM checkpoints c "
                "WHERE c.run = runs.id)")
    con.commit()
    con.execute("DETACH DATABASE src")
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()


def test_version_1_store_is_read_as_is_and_migrated_by_writers(rvmsim, tmp_path):
    v2 = tmp_path / "v2.db"
    s = run_db(rvmsim, SMOKE, v2, 41)
    v1 = tmp_path / "v1.db"
    make_v1(v1, v2)
    before = db_bytes(v1)
    # readers: every command works and the file is not modified
    proc = rvmsim("verify", "--db", v1, check=False)
    assert proc.returncode == 8 and "run 1: unsealed: no seal" in proc.stdout, proc.stdout
    out = rvmsim("verify", "--db", v1, "--allow-unsealed").stdout
    assert f"run 1: ok: {s['records']} records" in out and "unsealed" in out
    rj = json.loads(rvmsim("runs", "--db", v1, "--json").stdout)
    assert (rj["content"], rj["target"], rj["outcome"]) == ("full", None, None)
    assert rvmsim("reconstruct", "--db", v1, "--run", 1, "--at", s["records"] - 1).returncode == 0
    assert rvmsim("diff", "--db", v1, 1, 1, "--db2", v2).stdout.startswith("identical")
    export_raw(rvmsim, v1, 1, tmp_path / "v1.raw")
    assert db_bytes(v1) == before
    # a writer migrates it (one transaction) and adds its run
    t = run_db(rvmsim, SMOKE, v1, 42)
    assert t["run"] == 2
    assert sql(v1, "PRAGMA user_version") == [(5,)]
    assert sql(v1, "SELECT value FROM meta WHERE key = 'schema_version'") == [("5",)]
    assert sql(v1, "SELECT id, content, scenario IS NOT NULL FROM runs ORDER BY id") == \
        [(1, "full", 1), (2, "full", 0)]
    proc = rvmsim("verify", "--db", v1, check=False)
    assert proc.returncode == 8 and "run 1: unsealed:" in proc.stdout
    assert re.search(r"run 2: ok: .*, sealed,", proc.stdout), proc.stdout
    # and the migrated store merges like any other
    m = tmp_path / "m.db"
    rvmsim("merge", "--db", m, v1)
    assert sql(m, "SELECT count(*) FROM runs") == [(2,)]


def test_newer_schema_is_refused_by_every_command(rvmsim, tmp_path):
    db = tmp_path / "n.db"
    run_db(rvmsim, SMOKE, db, 1)
    sql(db, "PRAGMA user_version = 6")
    for args in (["run", SMOKE, "--db", db], ["sweep", SMOKE, "--seeds", "1..2", "--db", db],
                 ["merge", "--db", tmp_path / "o.db", db], ["merge", "--db", db, tmp_path / "x"]):
        proc = rvmsim(*args, check=False)
        assert proc.returncode == 2, args
        assert "newer rvmsim (schema version 6; this build reads versions up to 5)" in proc.stderr


def test_a_run_whose_sink_never_took_the_tail_stores_every_record(rvmsim, tmp_path, source_root):
    """Issue: a run that stopped before its sink took the last records stored only what was
    drained, so the store disagreed with the digest `run` printed. kernel-devices seed 2 with
    swarm faults ends with the simulated sink stalled: nothing was drained at all."""
    db = tmp_path / "tail.db"
    out = rvmsim("run", source_root / "scenarios" / "kernel-devices.scn", "--seed", "2",
                 "--faults", "swarm", "--db", db, check=False).stdout.splitlines()[-1]
    records = int(out.split("records=")[1].split()[0])
    digest = out.split("digest=")[1].split()[0]
    raw = tmp_path / "tail.raw"
    rvmsim("export", "--db", db, "--run", "1", "--format", "raw", "-o", raw)
    data = raw.read_bytes()
    assert len(data) == 64 * records and records > 0
    assert hashlib.sha256(data).hexdigest() == digest


def test_sweep_whose_store_fills_up_stops_and_fails(rvmsim, tmp_path, source_root):
    """Issue: the final commit's result was ignored, so a store on a full disk gave "3000 passed"
    and exit 0 with the runs lost. A 1 MB tmpfs holds the schema but not 3,000 run rows."""
    mnt = tmp_path / "small"
    mnt.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1000k", "tmpfs", str(mnt)],
                      capture_output=True).returncode != 0:
        pytest.skip("cannot mount a small tmpfs here (needs root)")
    try:
        proc = rvmsim("sweep", source_root / "scenarios" / "kernel-smoke.scn", "--seeds",
                      "1..3000", "--db", mnt / "s.db", check=False)
        assert proc.returncode == 2, proc.stdout + proc.stderr
        assert "database or disk is full" in proc.stderr
    finally:
        subprocess.run(["umount", str(mnt)], capture_output=True)


def test_export_writes_a_fifo_in_place(rvmsim, tmp_path, source_root):
    """Issue: export renamed a temporary file over its target, so `-o /dev/null` as root
    replaced /dev/null. A FIFO shows it safely: it must still be a FIFO, and its reader gets the
    records."""
    import os
    import stat
    import threading
    db = tmp_path / "e.db"
    out = rvmsim("run", source_root / "scenarios" / "kernel-boot.scn", "--db", db).stdout
    records = int(out.splitlines()[-1].split("records=")[1].split()[0])
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()), daemon=True)
    reader.start()
    proc = rvmsim("export", "--db", db, "--run", "1", "--format", "raw", "-o", fifo, check=False)
    reader.join(timeout=30)
    assert proc.returncode == 0, proc.stderr
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    assert len(got) == 1 and len(got[0]) == 64 * records


def test_export_to_stdout(rvmsim, tmp_path, source_root):
    db = tmp_path / "o.db"
    s = run_db(rvmsim, source_root / "scenarios" / "kernel-boot.scn", db, 1)
    proc = subprocess.run([rvmsim.path, "export", "--db", str(db), "--run", "1", "--format",
                           "raw", "-o", "-"], capture_output=True)
    assert proc.returncode == 0, proc.stderr
    assert len(proc.stdout) == 64 * s["records"]
    assert hashlib.sha256(proc.stdout).hexdigest() == s["digest"]
    assert not (tmp_path / "-").exists()


def test_store_check_and_repair_of_a_run_left_running(rvmsim, tmp_path):
    """Issue 16 finding 5: a killed writer left its run `running` forever, so every later verify
    and merge failed and nothing could mark it aborted or reclaim the space."""
    db = tmp_path / "h.db"
    run_db(rvmsim, SMOKE, db, 1)
    run_db(rvmsim, SMOKE, db, 2)
    sql(db, "UPDATE runs SET status = 'running' WHERE id = 2")  # what a kill -9 leaves:
    forge_manifest(db)  # a run still running, never listed in the store manifest
    proc = rvmsim("store", "check", "--db", db, check=False)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "integrity: ok" in proc.stdout and "runs: 2 (1 running, 0 aborted)" in proc.stdout
    assert re.search(r"^running: 2 ", proc.stdout, re.M)
    proc = rvmsim("verify", "--db", db, check=False)
    assert proc.returncode == 8 and "run 2: unsealed: the run is incomplete" in proc.stdout
    assert rvmsim("merge", "--db", tmp_path / "m1.db", db, check=False).returncode == 1

    out = rvmsim("store", "repair", "--db", db).stdout
    assert out.startswith("marked 1 run aborted; pages ")
    assert sql(db, "SELECT id, status FROM runs ORDER BY id") == [(1, "complete"), (2, "aborted")]
    assert rvmsim("store", "check", "--db", db).stdout.count("(0 running, 1 aborted)") == 1
    proc = rvmsim("verify", "--db", db, check=False)
    assert proc.returncode == 8 and "run 2: unsealed: the run is aborted" in proc.stdout
    proc = rvmsim("merge", "--db", tmp_path / "m2.db", db)
    assert "1 aborted run left out" in proc.stderr
    assert sql(tmp_path / "m2.db", "SELECT count(*) FROM runs") == [(1,)]


def test_store_check_reports_damage(rvmsim, tmp_path):
    db = tmp_path / "d.db"
    run_db(rvmsim, SMOKE, db, 1)
    sql(db, "PRAGMA wal_checkpoint(TRUNCATE)")
    (root,), = sql(db, "SELECT rootpage FROM sqlite_schema WHERE name = 'records'")
    data = bytearray(db.read_bytes())
    page = 65536
    data[(root - 1) * page:(root - 1) * page + 4000] = b"\xa5" * 4000  # the B-tree page header
    db.write_bytes(bytes(data))
    proc = rvmsim("store", "check", "--db", db, check=False)
    assert proc.returncode in (1, 2), proc.stdout + proc.stderr
    assert "integrity: ok" not in proc.stdout


def test_store_on_read_only_media(rvmsim, tmp_path):
    """Issue 16 finding 5: reading a store on read-only media failed ("unable to open database
    file"), and a store that cannot be written must be exit 2 with the reason."""
    mnt = tmp_path / "ro"
    mnt.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(mnt)],
                      capture_output=True).returncode != 0:
        pytest.skip("cannot mount a tmpfs here (needs root)")
    try:
        db = mnt / "r.db"
        s = run_db(rvmsim, SMOKE, db, 1)
        assert subprocess.run(["mount", "-o", "remount,ro", str(mnt)]).returncode == 0
        out = rvmsim("verify", "--db", db).stdout
        assert f"run 1: ok: {s['records']} records" in out and ", sealed," in out
        assert rvmsim("runs", "--db", db).returncode == 0
        assert rvmsim("show", "--db", db, "--run", 1, "--count", 2).returncode == 0
        assert rvmsim("store", "check", "--db", db).returncode == 0
        for args in (["run", SMOKE, "--db", db], ["sweep", SMOKE, "--seeds", "1..2", "--db", db],
                     ["store", "repair", "--db", db]):
            proc = rvmsim(*args, check=False)
            assert proc.returncode == 2, (args, proc.stdout, proc.stderr)
            assert "cannot be written" in proc.stderr, proc.stderr
    finally:
        subprocess.run(["umount", str(mnt)], capture_output=True)


def test_rerunning_seeds_into_a_store_is_idempotent(rvmsim, tmp_path):
    """Issue 16 finding 5: re-running a seed range into a store duplicated its rows silently.
    The same identity (scenario, seed, options, target) with the same result and digest is one
    row; the command reports the run that holds it."""
    db = tmp_path / "i.db"
    a = run_db(rvmsim, SMOKE, db, 1)
    b = run_db(rvmsim, SMOKE, db, 1)
    assert a["run"] == b["run"] == 1 and a["digest"] == b["digest"]
    c = run_db(rvmsim, SMOKE, db, 1, "--faults", "none")
    assert c["run"] == 2  # other options: another identity
    for _ in range(2):
        rvmsim("sweep", SMOKE, "--seeds", "1..4", "--db", db)
    rows = sql(db, "SELECT seed, content, options FROM runs ORDER BY id")
    assert len(rows) == len(set(rows)), rows
    # seed 1 of the sweep is the run above unless the sweep's options differ
    seeds = sorted(r[0] for r in rows)
    assert seeds.count(2) == 1 and seeds.count(3) == 1 and seeds.count(4) == 1
    assert rvmsim("verify", "--db", db).returncode == 0
