"""--json of every rvmsim command that reports something, parsed with Python's json module and
checked against values from independent sources: hashlib over the exported log for digests,
Python's struct for record fields, Python's sqlite3 for what the store holds, the action names
parsed from core/include/rvm/action.h, and byte comparison of exported logs for divergences.

Conventions checked everywhere (docs/json.md): 64-bit values are decimal strings (a seed of
2^64 - 1 survives a JSON reader that holds numbers as doubles), options/outcome/fault details are
objects, and strings with quotes, backslashes, control characters or invalid UTF-8 still parse.
"""
import hashlib
import json
import re
import shutil
import sqlite3
import struct
import subprocess

import pytest

RECORD = 64
MAX_SEED = 18446744073709551615  # 2^64 - 1: a double rounds it to 18446744073709551616


def lines(text):
    return [json.loads(l) for l in text.splitlines() if l.strip()]


def one(text):
    docs = lines(text)
    assert len(docs) == 1, text
    return docs[0]


def export_raw(rvmsim, db, run, path):
    rvmsim("export", "--db", db, "--run", run, "--format", "raw", "-o", path)
    return path.read_bytes()


def action_names(source_root):
    text = (source_root / "core/include/rvm/action.h").read_text()
    return {int(code, 16): name
            for code, name in re.findall(r'X\(\w+,\s*(0x[0-9A-Fa-f]+),\s*"(\w+)"\)', text)}


def sql(path, statement, *params):
    con = sqlite3.connect(path)
    try:
        return con.execute(statement, params).fetchall()
    finally:
        con.close()


@pytest.fixture
def smoke(source_root):
    return source_root / "scenarios" / "kernel-smoke.scn"


@pytest.fixture
def bitflip(source_root):
    # every seed fails: safety [witness.chain] (the file says expect-exit: 3)
    return source_root / "scenarios" / "oracle-ring-bitflip.scn"


def test_run_json_max_seed_and_digest(rvmsim, tmp_path, smoke):
    db = tmp_path / "a.db"
    r = one(rvmsim("run", smoke, "--seed", MAX_SEED, "--db", db, "--json").stdout)
    raw = export_raw(rvmsim, db, r["run"], tmp_path / "a.raw")
    assert r["seed"] == str(MAX_SEED) and int(r["seed"]) == MAX_SEED
    assert (r["result"], r["exit_code"], r["failure"]) == ("pass", 0, None)
    assert r["records"] == len(raw) // RECORD
    assert r["digest"] == hashlib.sha256(raw).hexdigest()
    assert r["faults"] == "swarm"  # the scenario's `faults` line
    assert r["reproduce"].endswith(f"run {smoke} --seed {MAX_SEED} --faults swarm")
    for k in ("time_ns",):
        assert isinstance(r[k], str) and r[k].isdigit()


def test_run_json_failure_object(rvmsim, tmp_path, bitflip):
    proc = rvmsim("run", bitflip, "--seed", 9, "--json", check=False)
    assert proc.returncode == 3
    r = one(proc.stdout)
    assert (r["result"], r["exit_code"]) == ("safety", 3)
    f = r["failure"]
    assert (f["class"], f["invariant"], f["phase"]) == ("safety", "witness.chain", "workload")
    assert f["line"] == 11 and f["step"] == 3  # `flush`, the third operation, on line 11
    assert "WITNESS_LINK" in f["detail"]


def test_strings_with_quotes_control_characters_and_bad_utf8(rvmsim, tmp_path, smoke):
    """A path is the one string a user controls fully: it reaches scenario, reproduce, command."""
    name = 'q"uo\\te\ttab\x01ctl\x1fé'
    odd = tmp_path / name
    shutil.copy(smoke, odd)
    db = tmp_path / "s.db"
    r = one(rvmsim("run", odd, "--seed", 3, "--db", db, "--json").stdout)
    assert r["scenario"] == str(odd)
    row = one(rvmsim("runs", "--db", db, "--json").stdout)
    assert f"'{odd}'" in row["command"]  # shell-quoted as one word
    # bytes that are not UTF-8 become U+FFFD instead of breaking the document
    bad = tmp_path.as_posix().encode() + b"/bad\xff\xfe.scn"
    with open(bad, "wb") as f:
        f.write(smoke.read_bytes())
    proc = subprocess.run([rvmsim.path.encode(), b"run", bad, b"--seed", b"3", b"--json"],
                          capture_output=True)
    r = json.loads(proc.stdout.decode("utf-8"))
    assert r["scenario"].endswith("/bad\ufffd\ufffd.scn")


def test_runs_json_objects_and_filters(rvmsim, tmp_path, smoke, bitflip):
    db = tmp_path / "r.db"
    rvmsim("run", smoke, "--seed", MAX_SEED, "--db", db)
    rvmsim("run", bitflip, "--seed", 2, "--db", db, check=False)
    rvmsim("run", smoke, "--seed", 5, "--db", db, "--epoch", 32)
    rows = lines(rvmsim("runs", "--db", db, "--json").stdout)
    assert [r["run"] for r in rows] == [1, 2, 3]
    assert [r["seed"] for r in rows] == [str(MAX_SEED), "2", "5"]
    stored = sql(db, "SELECT id, seed, hex(digest), result FROM runs ORDER BY id")
    for r, (rid, seed, digest, result) in zip(rows, stored):
        assert int(r["seed"]) == seed % 2**64  # SQLite keeps it as a signed 64-bit integer
        assert r["digest"] == digest.lower() and r["result"] == result
    assert rows[0]["options"] == {"faults": "swarm", "nwnm_every": "1", "epoch": "64"}
    assert rows[2]["options"]["epoch"] == "32"
    assert rows[0]["outcome"]["origin"] == "run" and rows[0]["outcome"]["phase"] == "final"
    assert rows[1]["outcome"]["invariant"] == "witness.chain"
    # filters and the narrow table
    assert [r["run"] for r in lines(rvmsim("runs", "--db", db, "--json", "--result", "pass")
                                    .stdout)] == [1, 3]
    assert [r["run"] for r in lines(rvmsim("runs", "--db", db, "--json", "--result", "fail")
                                    .stdout)] == [2]
    assert [r["run"] for r in lines(rvmsim("runs", "--db", db, "--json", "--limit", 2)
                                    .stdout)] == [1, 2]
    table = rvmsim("runs", "--db", db).stdout.splitlines()
    assert table[0].split() == ["run", "result", "seed", "records", "source", "target", "content"]
    assert max(map(len, table)) <= 100  # was ~190 columns
    assert "(no run matches)" in rvmsim("runs", "--db", db, "--result", "liveness").stdout


def test_show_json_records_match_the_exported_log(rvmsim, tmp_path, smoke, source_root):
    db = tmp_path / "w.db"
    rvmsim("run", smoke, "--seed", 11, "--db", db)
    raw = export_raw(rvmsim, db, 1, tmp_path / "w.raw")
    names = action_names(source_root)
    recs = lines(rvmsim("show", "--db", db, "--run", 1, "--json").stdout)
    assert len(recs) == len(raw) // RECORD
    for i, r in enumerate(recs):
        img = raw[i * RECORD:(i + 1) * RECORD]
        seq, ts, kind, tier, flags, _, actor, target, cap = struct.unpack_from("<QQBBBBIQI", img)
        payload, = struct.unpack_from("<Q", img, 36)
        aux, = struct.unpack_from("<Q", img, 52)
        assert (r["seq"], r["timestamp_ns"], r["kind_code"], r["kind"]) == \
            (seq, str(ts), kind, names.get(kind))
        assert (r["target"], r["payload"], r["aux"], r["actor"], r["cap_hash"]) == \
            (str(target), str(payload), str(aux), actor, cap)
        assert r["image"] == img.hex()


def test_show_faults_and_failures(rvmsim, tmp_path, smoke, bitflip):
    db = tmp_path / "f.db"
    rvmsim("run", smoke, "--seed", 1, "--db", db)
    rvmsim("run", bitflip, "--seed", 1, "--db", db, check=False)
    want = sql(db, "SELECT seq, time_ns, site, detail FROM faults WHERE run = 1 ORDER BY id")
    assert want, "kernel-smoke with swarm faults fires faults"
    got = lines(rvmsim("show", "--db", db, "--run", 1, "--faults", "--json").stdout)
    assert [(g["seq"], int(g["time_ns"]), g["site"]) for g in got] == [w[:3] for w in want]
    for g, w in zip(got, want):
        assert g["detail"] == dict(kv.split("=", 1) for kv in w[3].split())
    table = rvmsim("show", "--db", db, "--run", 1, "--faults").stdout.splitlines()
    assert table[0].split() == ["seq", "time_ns", "site", "detail"] and len(table) == len(want) + 1
    fails = lines(rvmsim("show", "--db", db, "--run", 2, "--failures", "--json").stdout)
    assert [(f["oracle"], f["seq"]) for f in fails] == \
        sql(db, "SELECT oracle, seq FROM invariant_failures WHERE run = 2")
    assert fails[0]["oracle"] == "witness.chain"
    assert "(no invariant failed in run 1)" in \
        rvmsim("show", "--db", db, "--run", 1, "--failures").stdout
    last = rvmsim("show", "--db", db, "--run", 1).stdout.splitlines()[-1]
    assert f"holds {len(want)} fired fault" in last


def test_kinds_table_names_every_action(rvmsim, tmp_path, smoke, source_root):
    db = tmp_path / "k.db"
    rvmsim("run", smoke, "--seed", 4, "--db", db)
    names = action_names(source_root)
    assert dict(sql(db, "SELECT code, name FROM kinds")) == names
    raw = export_raw(rvmsim, db, 1, tmp_path / "k.raw")
    kinds = [raw[i + 16] for i in range(0, len(raw), RECORD)]
    for name in ("VmidAssign", "ProofRejected"):
        want = sum(1 for k in kinds if names.get(k) == name)
        assert sql(db, "SELECT count(*) FROM records_named WHERE run = 1 AND kind_name = ?",
                   name) == [(want,)]


def test_diff_json(rvmsim, tmp_path, smoke):
    db = tmp_path / "d.db"
    rvmsim("run", smoke, "--seed", 1, "--db", db)
    rvmsim("run", smoke, "--seed", 2, "--db", db)
    a = export_raw(rvmsim, db, 1, tmp_path / "1.raw")
    b = export_raw(rvmsim, db, 2, tmp_path / "2.raw")
    first = next(i for i in range(min(len(a), len(b)) // RECORD)
                 if a[i * RECORD:(i + 1) * RECORD] != b[i * RECORD:(i + 1) * RECORD])
    proc = rvmsim("diff", "--db", db, 1, 2, "--json", check=False)
    assert proc.returncode == 1
    d = one(proc.stdout)
    assert (d["verdict"], d["first_divergence"]) == ("diverged", first)
    assert d["a"]["records"] == len(a) // RECORD and d["b"]["records"] == len(b) // RECORD
    assert d["a"]["digest"] == hashlib.sha256(a).hexdigest()
    assert d["a_record"]["image"] == a[first * RECORD:(first + 1) * RECORD].hex()
    assert d["b_record"]["image"] == b[first * RECORD:(first + 1) * RECORD].hex()
    same = one(rvmsim("diff", "--db", db, 1, 1, "--json").stdout)
    assert (same["verdict"], same["first_divergence"], same["a_record"] if "a_record" in same
            else None) == ("identical", None, None)


def test_verify_json(rvmsim, tmp_path, smoke):
    db = tmp_path / "v.db"
    rvmsim("run", smoke, "--seed", 6, "--db", db)
    raw = export_raw(rvmsim, db, 1, tmp_path / "v.raw")
    v, m = lines(rvmsim("verify", "--db", db, "--json").stdout)
    assert (v["run"], v["verdict"], v["records"], v["sealed"]) == (1, "sealed", len(raw) // RECORD,
                                                                   True)
    # the store manifest's object ends the output (its hashes: tests/py/test_store_manifest.py)
    assert (m["manifest"]["verdict"], m["manifest"]["entries"], m["manifest"]["runs"]) == \
        ("ok", 1, 1)
    assert v["digest"] == hashlib.sha256(raw).hexdigest() and v["failed_seq"] is None
    # damage record 20's image: verification names seq 20
    key = (1 << 40) | 20
    img = bytearray(sql(db, "SELECT image FROM records WHERE key = ?", key)[0][0])
    img[40] ^= 1
    con = sqlite3.connect(db)
    con.execute("UPDATE records SET image = ? WHERE key = ?", (bytes(img), key))
    con.commit()
    con.close()
    proc = rvmsim("verify", "--db", db, "--json", check=False)
    assert proc.returncode == 1
    v, m = lines(proc.stdout)
    assert m["manifest"]["verdict"] == "ok"  # a record's image is not part of the manifest
    assert (v["verdict"], v["failed_seq"], v["digest"]) == ("tampered", 20, None)
    assert v["reason"]


def test_merge_json(rvmsim, tmp_path, smoke):
    a, b, out = tmp_path / "a.db", tmp_path / "b.db", tmp_path / "out.db"
    rvmsim("sweep", smoke, "--seeds", "1..6", "--shard", "0/2", "--db", a, "--jobs", 1)
    rvmsim("sweep", smoke, "--seeds", "1..6", "--shard", "1/2", "--db", b, "--jobs", 1)
    m = one(rvmsim("merge", "--db", out, a, b, "--json").stdout)
    assert (m["merged_inputs"], m["added"], m["exit_code"]) == (2, 6, 0)
    assert [(i["path"], i["status"], i["runs"], i["summary"]) for i in m["inputs"]] == \
        [(str(a), "merged", 3, 3), (str(b), "merged", 3, 3)]
    assert sorted(s for (s,) in sql(out, "SELECT seed FROM runs")) == [1, 2, 3, 4, 5, 6]
    again = one(rvmsim("merge", "--db", out, a, "--json").stdout)
    assert (again["added"], again["inputs"][0]["duplicates"]) == (0, 3)


def test_targets_json(rvmsim):
    docs = lines(rvmsim("targets", "--json").stdout)
    text = rvmsim("targets").stdout
    assert [d["name"] for d in docs] == re.findall(r"^target (\w+):", text, re.M)
    for d in docs:
        block = text.split(f"target {d['name']}:")[1].split("\ntarget ")[0]
        assert [o["name"] for o in d["operations"]] == re.findall(r"^    op (\w+)", block, re.M)
        assert [f["name"] for f in d["faults"]] == re.findall(r"^    fault (\w+)", block, re.M)
        for p in d["params"]:
            assert f" {p['name']}={p['default']} ({p['min']}..{p['max']})" in block
    assert one(rvmsim("targets", "witness", "--json").stdout)["name"] == "witness"


def test_sweep_json_groups_and_max_failures(rvmsim, bitflip, smoke):
    proc = rvmsim("sweep", bitflip, "--seeds", "1..30", "--jobs", 2, "--json", check=False)
    assert proc.returncode == 3
    s = one(proc.stdout)
    assert (s["runs"], s["passed"], s["failed"], s["exit_code"]) == (30, 0, 30, 3)
    assert s["seeds"] == {"first": "1", "last": "30"}
    assert [f["seed"] for f in s["failures"]] == [str(i) for i in range(1, 31)]
    (g,) = s["groups"]
    assert (g["class"], g["invariant"], g["count"]) == ("safety", "witness.chain", 30)
    assert g["first_seeds"] == [str(i) for i in range(1, 9)]
    assert g["shortest"]["seed"] == "1"  # all equally short: the lowest seed
    assert g["shortest"]["shrink"].endswith(
        f"shrink {bitflip} --seed 1 --faults none -o shrunk-seed-1.scn")
    proc = rvmsim("sweep", bitflip, "--seeds", "1..5000", "--jobs", 2, "--max-failures", 3,
                  "--json", check=False)
    s = one(proc.stdout)
    assert s["stopped_at_max_failures"] and 3 <= s["failed"] < 5000 and s["runs"] < 5000
    ok = one(rvmsim("sweep", smoke, "--seeds", f"{MAX_SEED - 3}..{MAX_SEED}", "--json").stdout)
    assert (ok["failed"], ok["groups"], ok["seeds"]["last"]) == (0, [], str(MAX_SEED))


def test_sweep_text_report_is_grouped(rvmsim, bitflip):
    out = rvmsim("sweep", bitflip, "--seeds", "1..40", "--jobs", 2, check=False).stdout
    assert "failures by class and invariant (40 failing runs, 1 kind):" in out
    assert "  40 x safety [witness.chain]: seeds 1 2 3 4 5 6 7 8 ..." in out
    assert re.search(r"^    shrink: +\S+ shrink \S+ --seed 1 --faults none -o shrunk-seed-1\.scn$",
                     out, re.M)
    assert out.rstrip().endswith("0 passed, 40 failed")
