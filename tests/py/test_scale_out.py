"""Scale-out recipes over the `--shard K/N` / `merge` contract (contrib/scale-out/): GNU parallel
on the local slots, a Slurm array script and a Kubernetes Indexed Job. Each must cover every seed
exactly once and give the same verdict per seed as one sweep over the whole range; the
reference is that one sweep's store, read with Python's sqlite3.

The Slurm script and the Job's command run here with the environment their schedulers set
(SLURM_ARRAY_TASK_*, JOB_COMPLETION_INDEX); shellcheck and a YAML parser check their syntax
(sbatch and a Kubernetes API server are not available in CI)."""
import os
import shutil
import sqlite3
import subprocess

import pytest

RECIPES = "contrib/scale-out"
SEEDS = (1, 60)


def verdicts(db):
    con = sqlite3.connect(db)
    try:
        return con.execute("SELECT seed, result, hex(digest) FROM runs ORDER BY seed").fetchall()
    finally:
        con.close()


@pytest.fixture(scope="module")
def mixed(rvmsim, source_root, tmp_path_factory):
    """Smoke with a ring bit-flip fault: some seeds fail (safety), most pass."""
    d = tmp_path_factory.mktemp("scale")
    scn = d / "flip.scn"
    scn.write_text((source_root / "scenarios/smoke.scn").read_text()
                   .replace("faults default", "faults default\nenable ring_bitflip 1/400"))
    one = d / "one.db"
    rvmsim("sweep", scn, "--seeds", f"{SEEDS[0]}..{SEEDS[1]}", "--jobs", 2, "--db", one,
           "--no-progress", check=False)
    want = verdicts(one)
    assert [s for s, _, _ in want] == list(range(SEEDS[0], SEEDS[1] + 1))
    assert {r for _, r, _ in want} == {"pass", "safety"}, want
    return scn, want


def env_for(rvmsim, **extra):
    env = dict(os.environ, RVMSIM=os.path.abspath(rvmsim.path))
    env.update({k: str(v) for k, v in extra.items()})
    return env


@pytest.mark.skipif(shutil.which("parallel") is None, reason="GNU parallel (Debian: parallel)")
def test_gnu_parallel_recipe(rvmsim, source_root, mixed, tmp_path):
    scn, want = mixed
    out = tmp_path / "all.db"
    proc = subprocess.run([source_root / RECIPES / "parallel-sweep.sh", scn,
                           f"{SEEDS[0]}..{SEEDS[1]}", "5", out],
                          env=env_for(rvmsim, SLOTS=2), capture_output=True, text=True)
    failed = sum(1 for _, r, _ in want if r != "pass")
    assert proc.returncode == 1, proc.stdout + proc.stderr  # some seeds fail
    assert proc.stdout.strip() == f"{len(want) - failed} passed, {failed} failed in 5 shards"
    assert verdicts(out) == want  # every seed once, same result and digest


def shellcheck(path):
    if shutil.which("shellcheck"):
        proc = subprocess.run(["shellcheck", path], capture_output=True, text=True)
        assert proc.returncode == 0, proc.stdout


def test_slurm_array_script(rvmsim, source_root, mixed, tmp_path):
    scn, want = mixed
    script = source_root / RECIPES / "slurm-sweep.sbatch"
    shellcheck(script)
    assert "#SBATCH --job-name=" in script.read_text()
    results = tmp_path / "results"
    for task in range(10, 14):  # an array 10-13: four shards
        proc = subprocess.run(
            ["bash", script, scn, f"{SEEDS[0]}..{SEEDS[1]}", results],
            env=env_for(rvmsim, SLURM_ARRAY_TASK_ID=task, SLURM_ARRAY_TASK_MIN=10,
                        SLURM_ARRAY_TASK_MAX=13, SLURM_CPUS_PER_TASK=1),
            capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr  # failures found are results, not task errors
    shards = sorted(results.glob("shard-*.db"))
    assert [p.name for p in shards] == [f"shard-{k}.db" for k in range(4)]
    rvmsim("merge", "--db", tmp_path / "all.db", *shards)
    assert verdicts(tmp_path / "all.db") == want


def test_kubernetes_indexed_job(rvmsim, mixed, source_root, tmp_path):
    yaml = pytest.importorskip("yaml")
    scn, want = mixed
    job = yaml.safe_load((source_root / RECIPES / "k8s-sweep-job.yaml").read_text())
    assert (job["apiVersion"], job["kind"]) == ("batch/v1", "Job")
    spec = job["spec"]
    assert spec["completionMode"] == "Indexed"
    (c,) = spec["template"]["spec"]["containers"]
    env = {e["name"]: e["value"] for e in c["env"]}
    assert int(env["SHARDS"]) == spec["completions"] == spec["parallelism"]
    assert spec["template"]["spec"]["restartPolicy"] == "Never"
    mounts = {m["mountPath"] for m in c["volumeMounts"]}
    assert env["RESULTS"] in mounts
    # the pods' command, run here for each index with the corpus scenario swapped for ours
    results = tmp_path / "results"
    results.mkdir()
    shards = 3
    for index in range(shards):
        e = env_for(rvmsim, SCENARIO=scn, SEEDS=f"{SEEDS[0]}..{SEEDS[1]}", SHARDS=shards,
                    RESULTS=results, JOB_COMPLETION_INDEX=index)
        e["PATH"] = os.path.dirname(e["RVMSIM"]) + os.pathsep + e["PATH"]
        proc = subprocess.run(c["command"], env=e, capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
    rvmsim("merge", "--db", tmp_path / "all.db", *sorted(results.glob("shard-*.db")))
    assert verdicts(tmp_path / "all.db") == want
