"""The store manifest (docs/replay-store.md, "Store manifest"): a hash-chained list of the finished
runs that `verify --db` and `store check` hold against the runs table.

Oracle: the byte layout of the doc, rebuilt here with hashlib and struct over the rows Python's
sqlite3 reads; every stored entry hash and the head `verify` prints must equal it. The attacks are
SQL edits of the file (an attacker with write access), each checked for the verdict the doc
promises, including the one the manifest cannot catch alone (cutting it back consistently),
which a pinned head does.
"""
import re
import shutil
import sqlite3

import pytest

from conftest import SOURCE_ROOT
from manifest_model import RUN_COLUMNS, entry_hash, forge_manifest, run_digests

SMOKE = SOURCE_ROOT / "scenarios" / "smoke.scn"


def sql(path, statement, *params):
    con = sqlite3.connect(path)
    try:
        rows = con.execute(statement, params).fetchall()
        con.commit()
        return rows
    finally:
        con.close()


def script(path, text):
    con = sqlite3.connect(path)
    con.executescript(text)
    con.commit()
    con.close()


def expected_manifest(db):
    """Recompute every entry hash. The add of a run still in the store is recomputed from its
    row; the add of a run dropped later (its row is gone) takes the stored digests, whose drop
    entry must repeat them; every hash is recomputed from the previous one."""
    rows = {r[0]: r[1:] for r in sql(db, f"SELECT id, {RUN_COLUMNS} FROM runs")}
    entries = sql(db, "SELECT seq, op, run, ref, full, identity, run_digest, hash FROM manifest "
                      "ORDER BY seq")
    live_add = {}
    for seq, op, run, *_ in entries:
        if op == "add":
            live_add[run] = seq
        else:
            del live_add[run]
    prev, live, out = bytes(32), {}, []
    for seq, op, run, ref, full, identity, run_digest, stored in entries:
        if op == "add" and live_add.get(run) == seq:
            ident, rd, is_full = run_digests(rows[run])
            live[run] = (ident, rd, is_full)
        elif op == "add":
            ident, rd, is_full = identity, run_digest, bool(full)
            live[run] = (ident, rd, is_full)
        else:
            ident, rd, is_full = live.pop(run)
            assert live[ref][0] == ident and (identity, run_digest) == (ident, rd)
        h = entry_hash(seq, prev, op, run, ref, is_full, ident, rd)
        out.append((seq, op, run, ref, h, stored))
        prev = h
    assert sorted(live) == sorted(live_add)
    return out, prev, live


def manifest_line(stdout):
    m = re.search(r"^manifest: (\w+): (.*)$", stdout, re.M)
    assert m, stdout
    return m.group(1), m.group(2)


def verify(rvmsim, db, *args):
    return rvmsim("verify", "--db", db, *args, check=False)


@pytest.fixture(scope="module")
def store(rvmsim, tmp_path_factory):
    """Two full simulator runs, a demo run, three sweep summaries and a re-run (a drop)."""
    db = tmp_path_factory.mktemp("manifest") / "m.db"
    rvmsim("run", SMOKE, "--seed", 3, "--db", db)
    rvmsim("run", SMOKE, "--seed", 4, "--db", db)
    rvmsim("demo", "--db", db, "--records", 300, "--seed", 1)
    rvmsim("sweep", SMOKE, "--seeds", "1..3", "--db", db, "--jobs", 1)
    rvmsim("run", SMOKE, "--seed", 3, "--db", db)  # idempotent: added, then dropped
    return db


def copy(store, tmp_path, name="t.db"):
    db = tmp_path / name
    shutil.copy(store, db)
    return db


def test_untouched_store_verifies_and_every_entry_hash_is_independent(rvmsim, store):
    ops = [r[0] for r in sql(store, "SELECT op FROM manifest ORDER BY seq")]
    assert ops == ["add"] * 7 + ["drop"]
    entries, head, live = expected_manifest(store)
    for seq, op, run, ref, h, stored in entries:
        assert h == stored, (seq, op, run)
    assert sorted(live) == [r[0] for r in sql(store, "SELECT id FROM runs ORDER BY id")]
    assert sql(store, "SELECT run, ref FROM manifest WHERE op = 'drop'") == [(7, 1)]
    proc = verify(rvmsim, store)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    verdict, text = manifest_line(proc.stdout)
    assert verdict == "ok" and text == f"8 entries, 6 runs, head {head.hex()}"
    check = rvmsim("store", "check", "--db", store, check=False)
    assert check.returncode == 0 and f"manifest: ok: 8 entries, 6 runs, head {head.hex()}" \
        in check.stdout
    pinned = verify(rvmsim, store, "--expect-manifest", head.hex())
    assert pinned.returncode == 0 and "extends the pinned head (8 entries; 0 added since)" \
        in pinned.stdout


def test_deleting_a_run_is_detected(rvmsim, store, tmp_path):
    db = copy(store, tmp_path)
    script(db, "DELETE FROM records WHERE key BETWEEN 2 << 40 AND (3 << 40) - 1;"
               "DELETE FROM checkpoints WHERE run = 2; DELETE FROM state_digests WHERE run = 2;"
               "DELETE FROM faults WHERE run = 2; DELETE FROM runs WHERE id = 2")
    proc = verify(rvmsim, db)
    assert proc.returncode == 1
    assert manifest_line(proc.stdout) == (
        "tampered", "run 2 is in the manifest (entry 1) but not in the store: it was deleted")
    assert "the set of runs was changed" in proc.stderr
    check = rvmsim("store", "check", "--db", db, check=False)
    assert check.returncode == 1 and "manifest: tampered: run 2 is in the manifest" in check.stdout


def test_downgrading_a_full_run_to_a_summary_is_detected(rvmsim, store, tmp_path):
    db = copy(store, tmp_path)
    script(db, "UPDATE runs SET content = 'summary' WHERE id = 1;"
               "DELETE FROM records WHERE key BETWEEN 1 << 40 AND (2 << 40) - 1;"
               "DELETE FROM checkpoints WHERE run = 1; DELETE FROM state_digests WHERE run = 1")
    proc = verify(rvmsim, db)
    assert proc.returncode == 1
    verdict, text = manifest_line(proc.stdout)
    assert verdict == "tampered"
    assert text.startswith("run 1 differs from its manifest entry 0: full in the manifest, "
                           "summary in the store (downgraded)"), text


def test_swapping_two_runs_is_detected(rvmsim, store, tmp_path):
    db = copy(store, tmp_path)
    script(db, "UPDATE runs SET id = 100 WHERE id = 1; UPDATE runs SET id = 1 WHERE id = 2;"
               "UPDATE runs SET id = 2 WHERE id = 100")
    proc = verify(rvmsim, db)
    assert proc.returncode == 1
    verdict, text = manifest_line(proc.stdout)
    assert verdict == "tampered" and text.startswith("run 1 differs from its manifest entry 0"), \
        text


def test_replacing_a_run_by_another_is_detected(rvmsim, store, tmp_path):
    """Run 2's row and log replaced by another seed's complete, sealed run from another store."""
    other = tmp_path / "other.db"
    rvmsim("run", SMOKE, "--seed", 9, "--db", other)
    script(other, "UPDATE runs SET id = 2; UPDATE checkpoints SET run = 2;"
                  "UPDATE records SET key = key + (1 << 40)")
    db = copy(store, tmp_path)
    con = sqlite3.connect(db)
    con.execute("ATTACH ? AS o", (str(other),))
    con.executescript(
        "DELETE FROM records WHERE key BETWEEN 2 << 40 AND (3 << 40) - 1;"
        "DELETE FROM checkpoints WHERE run = 2; DELETE FROM state_digests WHERE run = 2;"
        "DELETE FROM faults WHERE run = 2; DELETE FROM runs WHERE id = 2;"
        "INSERT INTO runs SELECT * FROM o.runs; INSERT INTO records SELECT * FROM o.records;"
        "INSERT INTO checkpoints SELECT * FROM o.checkpoints;")
    con.commit()
    con.close()
    proc = verify(rvmsim, db)
    assert "run 2: ok:" in proc.stdout and ", sealed," in proc.stdout  # the run itself verifies
    assert proc.returncode == 1
    verdict, text = manifest_line(proc.stdout)
    assert verdict == "tampered" and text.startswith("run 2 differs from its manifest entry 1"), \
        text


def test_reordering_or_editing_entries_is_detected(rvmsim, store, tmp_path):
    db = copy(store, tmp_path)
    script(db, "UPDATE manifest SET seq = 100 WHERE seq = 1; UPDATE manifest SET seq = 1 "
               "WHERE seq = 2; UPDATE manifest SET seq = 2 WHERE seq = 100")
    proc = verify(rvmsim, db)
    assert proc.returncode == 1
    assert manifest_line(proc.stdout)[1].startswith(
        "manifest entry 1 does not follow from the entries before it")
    db = copy(store, tmp_path, "e.db")
    script(db, "UPDATE manifest SET full = 0 WHERE seq = 0")
    assert verify(rvmsim, db).returncode == 1
    db = copy(store, tmp_path, "g.db")
    script(db, "DELETE FROM manifest WHERE seq = 3")
    proc = verify(rvmsim, db)
    assert proc.returncode == 1
    assert manifest_line(proc.stdout)[1].startswith("manifest entry 3 is missing")


def test_a_dropped_run_must_be_a_duplicate_of_the_one_kept(rvmsim, store, tmp_path):
    """An attacker appending a well-formed drop entry (hash chained correctly) for a unique run."""
    db = copy(store, tmp_path)
    (seq, prev), = sql(db, "SELECT seq, hash FROM manifest ORDER BY seq DESC LIMIT 1")
    full, identity, rd = sql(db, "SELECT full, identity, run_digest FROM manifest WHERE run = 2 "
                                 "AND op = 'add'")[0]
    h = entry_hash(seq + 1, prev, "drop", 2, 1, full, identity, rd)
    sql(db, "INSERT INTO manifest VALUES (?, 'drop', 2, 1, ?, 0, NULL, ?, ?, ?)", seq + 1, full,
        identity, rd, h)
    script(db, "DELETE FROM records WHERE key BETWEEN 2 << 40 AND (3 << 40) - 1;"
               "DELETE FROM checkpoints WHERE run = 2; DELETE FROM runs WHERE id = 2")
    proc = verify(rvmsim, db)
    assert proc.returncode == 1
    assert "which is not the same run" in manifest_line(proc.stdout)[1]


def test_cutting_the_manifest_back_is_detected_only_against_a_pinned_head(rvmsim, store,
                                                                         tmp_path):
    head = manifest_line(verify(rvmsim, store).stdout)[1].rsplit(" ", 1)[1]
    # cut: the entries from summary run 6's add on (seq 5: add 6, add 7, drop 7) and run 6
    db = copy(store, tmp_path)
    script(db, "DELETE FROM manifest WHERE seq >= 5; DELETE FROM faults WHERE run = 6;"
               "DELETE FROM runs WHERE id = 6")
    assert sql(db, "SELECT count(*) FROM manifest")[0][0] == 5
    proc = verify(rvmsim, db)
    assert proc.returncode == 0 and manifest_line(proc.stdout)[0] == "ok", proc.stdout
    proc = verify(rvmsim, db, "--expect-manifest", head)
    assert proc.returncode == 1
    assert manifest_line(proc.stdout) == (
        "tampered", "the pinned manifest head is not in the manifest: it was cut back or "
                    "rewritten")
    # a whole manifest recomputed by the attacker after deleting a run from the middle
    db = copy(store, tmp_path, "r.db")
    script(db, "DELETE FROM faults WHERE run = 4; DELETE FROM runs WHERE id = 4")
    forge_manifest(db)
    assert verify(rvmsim, db).returncode == 0
    assert verify(rvmsim, db, "--expect-manifest", head).returncode == 1
    # a pin of an earlier head still holds after runs are added
    db = copy(store, tmp_path, "a.db")
    rvmsim("run", SMOKE, "--seed", 12, "--db", db)
    proc = verify(rvmsim, db, "--expect-manifest", head)
    assert proc.returncode == 0 and "extends the pinned head (8 entries; 1 added since)" \
        in proc.stdout


def test_migration_from_version_4_builds_the_manifest(rvmsim, store, tmp_path):
    db = copy(store, tmp_path)
    script(db, "DROP TABLE manifest; UPDATE meta SET value = '4' WHERE key = 'schema_version';"
               "PRAGMA user_version = 4")
    proc = verify(rvmsim, db)
    assert proc.returncode == 0
    assert manifest_line(proc.stdout)[0] == "none"
    assert verify(rvmsim, db, "--expect-manifest", "00" * 32).returncode == 1
    rvmsim("run", SMOKE, "--seed", 20, "--db", db)  # a writer migrates it
    assert sql(db, "PRAGMA user_version") == [(5,)]
    assert sql(db, "SELECT op, run FROM manifest ORDER BY seq") == \
        [("add", i) for i in range(1, 8)]
    entries, head, _ = expected_manifest(db)
    assert all(h == stored for *_, h, stored in entries)
    proc = verify(rvmsim, db)
    assert proc.returncode == 0 and manifest_line(proc.stdout) == \
        ("ok", f"7 entries, 7 runs, head {head.hex()}")


def test_merge_and_import_extend_the_manifest(rvmsim, store, tmp_path):
    out = tmp_path / "out.db"
    rvmsim("merge", "--db", out, store)
    rvmsim("merge", "--db", out, store)  # duplicates: nothing added
    assert sql(out, "SELECT op FROM manifest ORDER BY seq") == [("add",)] * 6
    raw = tmp_path / "r.raw"
    rvmsim("export", "--db", store, "--run", 3, "--format", "raw", "-o", raw)
    rvmsim("import", "--db", out, raw, "--allow-unsealed")
    assert sql(out, "SELECT op, run FROM manifest ORDER BY seq DESC LIMIT 1") == [("add", 7)]
    entries, head, _ = expected_manifest(out)
    assert all(h == stored for *_, h, stored in entries)
    proc = verify(rvmsim, out, "--allow-unsealed")
    assert proc.returncode == 0 and manifest_line(proc.stdout) == \
        ("ok", f"7 entries, 7 runs, head {head.hex()}")


def test_verify_json_ends_with_the_manifest(rvmsim, store):
    import json
    docs = [json.loads(l) for l in verify(rvmsim, store, "--json").stdout.splitlines()]
    _, head, _ = expected_manifest(store)
    assert docs[-1] == {"manifest": {"verdict": "ok", "entries": 8, "runs": 6,
                                     "head": head.hex(), "pinned_entries": None, "problems": 0,
                                     "reason": None}}
    assert all("run" in d for d in docs[:-1])


def test_merge_replacing_a_summary_by_the_full_run_drops_the_summary(rvmsim, tmp_path):
    out, full = tmp_path / "o.db", tmp_path / "i.db"
    rvmsim("sweep", SMOKE, "--seeds", "1..3", "--db", out, "--jobs", 1)
    rvmsim("run", SMOKE, "--seed", 2, "--db", full)
    sql(full, "UPDATE runs SET source = 'sweep'")  # the same run as the sweep's summary of seed 2
    proc = rvmsim("merge", "--db", out, full)
    assert "1 summaries replaced by full runs" in proc.stdout
    assert sql(out, "SELECT op, run, ref, full FROM manifest ORDER BY seq") == \
        [("add", 1, 0, 0), ("add", 2, 0, 0), ("add", 3, 0, 0), ("add", 4, 0, 1),
         ("drop", 2, 4, 0)]
    entries, head, live = expected_manifest(out)
    assert all(h == stored for *_, h, stored in entries) and sorted(live) == [1, 3, 4]
    proc = verify(rvmsim, out)
    assert proc.returncode == 0 and manifest_line(proc.stdout) == \
        ("ok", f"5 entries, 3 runs, head {head.hex()}")
