"""Drive the rvmsim simulator from Python and get its results as parsed JSON.

    from rvmsim import Rvmsim
    sim = Rvmsim()                                  # $RVMSIM, else `rvmsim` on PATH, else the
                                                    # build/cli/rvmsim of the source tree
    r = sim.run("scenarios/kernel-smoke.scn", seed=7, db="runs.db")
    r["result"], r["digest"], int(r["seed"])
    s = sim.sweep("scenarios/kernel-smoke.scn", seeds=(1, 500), jobs=2)
    for g in s["groups"]: print(g["count"], g["invariant"], g["shortest"]["shrink"])
    sim.runs("runs.db", result="fail")              # list of run objects

Every method runs one `rvmsim ... --json` command and returns what docs/json.md describes for it
(64-bit values stay decimal strings, as in the JSON). A run or sweep that *finds* a failure is
a result, not an error: its exit status is in the result's `exit_code`. Anything else that exits
non-zero (a usage error, a missing file, an unusable store) raises RvmsimError with the status
and stderr. The pytest plugin (rvmsim.pytest_plugin) registers fixtures built on this.
"""
import json
import os
import pathlib
import shutil
import subprocess

__all__ = ["Rvmsim", "RvmsimError", "find_binary"]

# exit statuses that report what a run found rather than a failure to run it
RESULT_EXITS = {0, 1, 3, 4, 5}


class RvmsimError(RuntimeError):
    """rvmsim exited with a status that is not a result (usage, I/O, internal error)."""

    def __init__(self, args, returncode, stdout, stderr):
        self.command = [str(a) for a in args]
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr
        super().__init__(f"{' '.join(self.command)} exited {returncode}: {stderr.strip()}")


def find_binary():
    """$RVMSIM, else `rvmsim` on PATH, else build/cli/rvmsim next to this package's source tree."""
    env = os.environ.get("RVMSIM")
    if env:
        return env
    on_path = shutil.which("rvmsim")
    if on_path:
        return on_path
    in_tree = pathlib.Path(__file__).resolve().parents[2] / "build" / "cli" / "rvmsim"
    if in_tree.exists():
        return str(in_tree)
    raise FileNotFoundError("rvmsim not found: set RVMSIM, put it on PATH, or build the tree")


def _json_lines(text):
    return [json.loads(line) for line in text.splitlines() if line.strip()]


class Rvmsim:
    """One rvmsim binary. Calling the object runs raw arguments (a subprocess.CompletedProcess)."""

    def __init__(self, path=None):
        self.path = str(path) if path is not None else find_binary()

    def __call__(self, *args, check=True, **kw):
        proc = subprocess.run([self.path, *map(str, args)], capture_output=True, text=True, **kw)
        if check and proc.returncode != 0:
            raise AssertionError(f"rvmsim {' '.join(map(str, args))} exited {proc.returncode}\n"
                                 f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}")
        return proc

    def _json(self, args, results=RESULT_EXITS, many=False):
        proc = subprocess.run([self.path, *map(str, args), "--json"], capture_output=True,
                              text=True)
        if proc.returncode not in results or (not proc.stdout.strip() and not many):
            raise RvmsimError([self.path, *args], proc.returncode, proc.stdout, proc.stderr)
        docs = _json_lines(proc.stdout)
        return docs if many else docs[0]

    def run(self, scenario, seed=None, faults=None, db=None, epoch=None, tape=None):
        """One run: the `run --json` object (result, failure, digest, reproduce, ...)."""
        args = ["run", scenario]
        args += ["--seed", seed] if seed is not None else []
        args += ["--faults", faults] if faults is not None else []
        args += ["--db", db] if db is not None else []
        args += ["--epoch", epoch] if epoch is not None else []
        args += ["--tape", tape] if tape is not None else []
        return self._json(args)

    def sweep(self, scenario, seeds, jobs=None, faults=None, db=None, shard=None,
              max_failures=None, recheck_every=None):
        """Seeds seeds[0]..seeds[1]: the `sweep --json` object (groups, failures, counts)."""
        args = ["sweep", scenario, "--seeds", f"{seeds[0]}..{seeds[1]}", "--no-progress"]
        args += ["--jobs", jobs] if jobs is not None else []
        args += ["--faults", faults] if faults is not None else []
        args += ["--db", db] if db is not None else []
        args += ["--shard", f"{shard[0]}/{shard[1]}"] if shard is not None else []
        args += ["--max-failures", max_failures] if max_failures is not None else []
        args += ["--recheck-every", recheck_every] if recheck_every is not None else []
        # an interrupted sweep (128 + signal) still reports what it ran
        return self._json(args, results=RESULT_EXITS | {130, 143})

    def runs(self, db, result=None, limit=None):
        args = ["runs", "--db", db]
        args += ["--result", result] if result is not None else []
        args += ["--limit", limit] if limit is not None else []
        return self._json(args, results={0}, many=True)

    def show(self, db, run, faults=False, failures=False, **filters):
        """Records of a run (filters: from_, count, kind, actor), or its faults / failures."""
        args = ["show", "--db", db, "--run", run]
        if faults:
            args.append("--faults")
        if failures:
            args.append("--failures")
        for name, value in filters.items():
            args += [f"--{name.rstrip('_')}", value]
        return self._json(args, results={0}, many=True)

    def verify(self, db, run=None):
        """One object per run; its verdict is sealed, unsealed (exit 8) or tampered (exit 1)."""
        args = ["verify", "--db", db] + (["--run", run] if run is not None else [])
        return [d for d in self._json(args, results={0, 1, 8}, many=True) if "manifest" not in d]

    def verify_manifest(self, db, expect=None):
        """The store manifest's object of `verify --json` (verdict ok, tampered or absent, head,
        entries, runs); `expect` is a head printed earlier (--expect-manifest)."""
        args = ["verify", "--db", db] + (["--expect-manifest", expect] if expect else [])
        docs = self._json(args, results={0, 1, 8}, many=True)
        return next(d["manifest"] for d in docs if "manifest" in d)

    def diff(self, db, run_a, run_b, db2=None):
        args = ["diff", "--db", db, run_a, run_b] + (["--db2", db2] if db2 is not None else [])
        return self._json(args, results={0, 1})

    def merge(self, out, *inputs):
        return self._json(["merge", "--db", out, *inputs], results={0, 1})

    def targets(self, name=None):
        docs = self._json(["targets"] + ([name] if name else []), results={0}, many=True)
        return docs[0] if name else docs
