"""State digest versions in stored logs (docs/incremental-state-digest.md, "Versions"): the kernel
target's epochs carry StateDigestV2 (0x7C) records, and `rvmsim reconstruct` refuses a stored run
whose epochs carry version-1 StateDigest (0x7B) records with the reason and exit 2 instead of
reporting a divergence. The version-1 store is made here by rewriting the kind byte of the first
epoch record of a fresh run (offset 16 of the record image, docs/witness-format.md), which is what
such a record looks like to reconstruct; records before it still reconstruct."""
import re
import sqlite3

from conftest import SOURCE_ROOT

SMOKE = SOURCE_ROOT / "scenarios" / "kernel-smoke.scn"
STATE_DIGEST, STATE_DIGEST_V2 = 0x7B, 0x7C
KIND_OFFSET = 16


def first_epoch_record(db):
    with sqlite3.connect(db) as c:
        rows = list(c.execute("SELECT key, image FROM records ORDER BY key"))
    for seq, (key, image) in enumerate(rows):
        if image[KIND_OFFSET] in (STATE_DIGEST, STATE_DIGEST_V2):
            return seq, key, image
    raise AssertionError("no epoch record")


def test_epochs_carry_v2_and_v1_runs_are_refused_with_the_reason(rvmsim, tmp_path):
    db = tmp_path / "runs.db"
    out = rvmsim("run", SMOKE, "--seed", 3, "--db", db).stdout
    assert re.search(r"result=pass$", out.strip())
    seq, key, image = first_epoch_record(db)
    assert image[KIND_OFFSET] == STATE_DIGEST_V2
    assert rvmsim("reconstruct", "--db", db, "--run", 1, "--at", seq + 5).returncode == 0

    with sqlite3.connect(db) as c:
        old = bytearray(image)
        old[KIND_OFFSET] = STATE_DIGEST
        c.execute("UPDATE records SET kind = ?, image = ? WHERE key = ?",
                  (STATE_DIGEST, bytes(old), key))
    proc = rvmsim("reconstruct", "--db", db, "--run", 1, "--at", seq + 5, check=False)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert f"FAILED at seq {seq}: record {seq} is a version-1 StateDigest (0x7B)" in proc.stdout
    assert "rvmsim verify" in proc.stdout
    assert rvmsim("reconstruct", "--db", db, "--run", 1, "--at", seq - 1).returncode == 0
