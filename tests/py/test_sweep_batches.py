"""A sweep worker keeps one engine and one kernel instance for all its seeds and resets them per
seed: a seed's outcome must not depend on which seeds the worker ran before it. The same kernel
smoke seeds (swarm faults) are swept with one worker (ascending batches), with three (batches
interleaved between workers), as two shards (every worker sees every other seed) and run one per
process with `rvmsim run`; per seed the result, record count, log digest, chain value and final
state digest must agree. The reference is the run in its own process, which has no history."""
import json
import os
import re
import sqlite3

SEEDS = (0, 149)
ALONE = range(0, 150, 10)  # the seeds also run one per process


def outcomes(db):
    con = sqlite3.connect(db)
    try:
        rows = con.execute("SELECT seed, result, record_count, hex(digest), hex(chain), outcome "
                           "FROM runs ORDER BY seed").fetchall()
    finally:
        con.close()
    got = {}
    for seed, result, records, digest, chain, outcome in rows:
        state = re.search(r"\bstate=([0-9a-f]{64})\b", outcome).group(1)
        assert seed not in got, f"seed {seed} stored twice in {db}"
        got[seed] = (result, records, digest.lower(), chain.lower(), state)
    return got


def sweep(rvmsim, scn, db, *extra):
    rvmsim("sweep", scn, "--seeds", f"{SEEDS[0]}..{SEEDS[1]}", "--faults", "swarm", "--db", db,
           "--no-progress", *extra, check=False)
    return outcomes(db)


def test_seed_outcome_independent_of_batches(rvmsim, source_root, tmp_path):
    scn = source_root / "scenarios/kernel-smoke.scn"
    one = sweep(rvmsim, scn, tmp_path / "one.db", "--jobs", 1)
    assert sorted(one) == list(range(SEEDS[0], SEEDS[1] + 1))
    three = sweep(rvmsim, scn, tmp_path / "three.db", "--jobs", 3)
    shards = {}
    for k in range(2):
        shards.update(sweep(rvmsim, scn, tmp_path / f"shard{k}.db", "--jobs", 2,
                            "--shard", f"{k}/2"))
    assert three == one
    assert shards == one
    for seed in ALONE:
        r = json.loads(rvmsim("run", scn, "--seed", seed, "--faults", "swarm", "--json",
                              check=False).stdout)
        assert (r["result"], r["records"], r["digest"], r["chain"], r["state"]) == one[seed], seed


def test_dying_worker_blames_its_seed(rvmsim, source_root):
    """A worker that dies is blamed on the seed it was running (one failure of class internal);
    the rest of its batch runs on the other worker."""
    scn = source_root / "scenarios/kernel-smoke.scn"
    env = dict(os.environ, RVMSIM_TEST_WORKER_CRASH="37")
    proc = rvmsim("sweep", scn, "--seeds", "0..99", "--jobs", 2, "--faults", "swarm",
                  "--no-progress", check=False, env=env)
    assert proc.returncode == 6, proc.stdout + proc.stderr
    assert re.findall(r"^FAIL seed=(\d+) (\S+) \[(\S+)\]", proc.stdout, re.M) == [
        ("37", "internal", "worker.crash")], proc.stdout
    assert "died of signal 9" in proc.stdout
    assert proc.stdout.rstrip().endswith("99 passed, 1 failed"), proc.stdout
