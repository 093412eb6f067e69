#!/usr/bin/python3
"""Behaviour regression between two builds: run the scenario corpus with a base build and the
current build and compare the record chains run by run.

    scripts/regress.py --base REV [--seeds 1..5] [--scenario FILE ...] [--faults none,swarm]
    scripts/regress.py --base-binary PATH ...

The base revision is checked out with `git worktree add --detach` under
<build-root>/regress-base/<sha> and its rvmsim built there (reused when already built; remove it
with `git worktree remove --force <dir>`, or pass --drop-worktree). Every case (scenario, seed,
fault mode) is run by each binary into that side's replay store (<out>/base.db, <out>/current.db)
and the two runs are compared with `rvmsim diff --db base.db RUN --db2 current.db RUN`.

Output: a TAP plan and one `ok`/`not ok` line per case, then for each divergent case the commands
that reproduce it with both binaries and the diff output, and last `N same, M diverged`.
Exit 0: every chain is the same; 1: something diverged; 2: usage error or the base did not build.
"""
import argparse
import pathlib
import re
import shlex
import shutil
import subprocess
import sys

SOURCE_ROOT = pathlib.Path(__file__).resolve().parents[1]
RUN_LINE = re.compile(r"^run=(\d+) seed=\d+ records=(\d+) digest=([0-9a-f]+) result=(\S+)", re.M)
DEFAULT_FAULTS = ("none", "swarm")


class UsageError(Exception):
    pass


def parse_seeds(text):
    seeds = []
    for part in text.split(","):
        m = re.fullmatch(r"(\d+)(?:\.\.(\d+))?", part.strip())
        if not m:
            raise UsageError(f"bad --seeds '{text}': expected A..B or a comma list of numbers")
        lo = int(m.group(1))
        hi = int(m.group(2)) if m.group(2) else lo
        if hi < lo:
            raise UsageError(f"bad --seeds '{text}': {hi} < {lo}")
        seeds.extend(range(lo, hi + 1))
    return seeds


def git(*args, check=True):
    proc = subprocess.run(["git", "-C", str(SOURCE_ROOT), *args], capture_output=True, text=True)
    if check and proc.returncode != 0:
        raise UsageError(f"git {' '.join(args)} failed:\n{proc.stderr.strip()}")
    return proc


def tail(text, lines=30):
    return "\n".join(text.splitlines()[-lines:])


def build_base(rev, build_root, jobs):
    """The base revision's rvmsim, built in its own worktree; returns (binary, worktree dir)."""
    proc = git("rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}", check=False)
    if proc.returncode != 0:
        raise UsageError(f"--base '{rev}' is not a commit in {SOURCE_ROOT}")
    sha = proc.stdout.strip()
    tree = build_root / "regress-base" / sha[:12]
    binary = tree / "build" / "cli" / "rvmsim"
    if not (tree / ".git").exists():
        tree.parent.mkdir(parents=True, exist_ok=True)
        git("worktree", "prune")
        git("worktree", "add", "--detach", str(tree), sha)
    if not (tree / "build" / "build.ninja").exists():
        proc = subprocess.run(["meson", "setup", str(tree / "build"), str(tree),
                               "--buildtype=debugoptimized"], capture_output=True, text=True)
        if proc.returncode != 0:
            raise UsageError(f"meson setup of base {sha[:12]} failed:\n"
                             f"{tail(proc.stdout + proc.stderr)}")
    proc = subprocess.run(["ninja", "-j", str(jobs), "-C", str(tree / "build"), "cli/rvmsim"],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise UsageError(f"building base {sha[:12]} failed:\n{tail(proc.stdout + proc.stderr)}")
    return binary, tree


def run_case(binary, scenario, seed, faults, db):
    proc = subprocess.run([str(binary), "run", str(scenario), "--seed", str(seed), "--faults",
                           faults, "--db", str(db)], capture_output=True, text=True)
    m = RUN_LINE.search(proc.stdout)
    return {"exit": proc.returncode, "run": m and m.group(1), "records": m and m.group(2),
            "digest": m and m.group(3), "result": m and m.group(4),
            "text": tail(proc.stdout + proc.stderr, 5)}


def compare(current_binary, base_db, base, current_db, current):
    """(same, summary, diff output) for one case run by both sides."""
    if not base["run"] or not current["run"]:
        same = (base["run"] is None and current["run"] is None and
                base["exit"] == current["exit"])
        summary = (f"neither side ran (exit {base['exit']})" if same else
                   f"base exit {base['exit']}, current exit {current['exit']}")
        return same, summary, f"base:\n{base['text']}\ncurrent:\n{current['text']}"
    proc = subprocess.run([str(current_binary), "diff", "--db", str(base_db), base["run"],
                           current["run"], "--db2", str(current_db)],
                          capture_output=True, text=True)
    out = proc.stdout + proc.stderr
    if proc.returncode == 0:
        return True, f"same chain ({current['records']} records, digest {current['digest'][:16]})", out
    if proc.returncode == 1:
        first = out.splitlines()[0] if out else "different"
        return False, f"{first} (base {base['result']}, current {current['result']})", out
    # The stores could not be compared (a base too old for the current store format): digests.
    same = (base["digest"], base["records"]) == (current["digest"], current["records"])
    summary = ("same digest (diff unavailable)" if same else
               f"digests differ: base {base['digest'][:16]} ({base['records']} records), "
               f"current {current['digest'][:16]} ({current['records']} records)")
    return same, summary, out


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    side = ap.add_mutually_exclusive_group(required=True)
    side.add_argument("--base", metavar="REV", help="git revision to compare against")
    side.add_argument("--base-binary", metavar="PATH", help="a prebuilt base rvmsim instead")
    ap.add_argument("--current-binary", metavar="PATH",
                    default=str(SOURCE_ROOT / "build" / "cli" / "rvmsim"))
    ap.add_argument("--seeds", default="1..5", help="A..B or a comma list (default 1..5)")
    ap.add_argument("--scenario", action="append", metavar="FILE",
                    help="scenario to run (repeatable; default every scenarios/*.scn)")
    ap.add_argument("--faults", default=",".join(DEFAULT_FAULTS),
                    help="comma list of fault modes (default none,swarm)")
    ap.add_argument("--build-root", default=str(SOURCE_ROOT / "build"),
                    help="base worktrees go to BUILD_ROOT/regress-base/<sha>")
    ap.add_argument("--out", metavar="DIR", help="where the stores go (default BUILD_ROOT/regress)")
    ap.add_argument("--jobs", type=int, default=2, help="ninja jobs for the base build")
    ap.add_argument("--drop-worktree", action="store_true",
                    help="remove the base worktree (and its build) at the end")
    try:
        args = ap.parse_args(argv)
    except SystemExit as e:
        return 0 if e.code == 0 else 2

    try:
        seeds = parse_seeds(args.seeds)
        faults = [f.strip() for f in args.faults.split(",") if f.strip()]
        for f in faults:
            if f not in ("none", "default", "swarm"):
                raise UsageError(f"bad fault mode '{f}': none, default or swarm")
        scenarios = ([pathlib.Path(s) for s in args.scenario] if args.scenario else
                     sorted((SOURCE_ROOT / "scenarios").glob("*.scn")))
        for s in scenarios:
            if not s.is_file():
                raise UsageError(f"no scenario file {s}")
        current_binary = pathlib.Path(args.current_binary)
        if not current_binary.is_file():
            raise UsageError(f"no current binary {current_binary}; build first (meson compile)")
        build_root = pathlib.Path(args.build_root)
        tree = None
        if args.base_binary:
            base_binary = pathlib.Path(args.base_binary)
            if not base_binary.is_file():
                raise UsageError(f"no base binary {base_binary}")
        else:
            print(f"# building base {args.base} under {build_root / 'regress-base'}", flush=True)
            base_binary, tree = build_base(args.base, build_root, args.jobs)
    except UsageError as e:
        print(f"regress: {e}", file=sys.stderr)
        return 2

    out = pathlib.Path(args.out) if args.out else build_root / "regress"
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    base_db, current_db = out / "base.db", out / "current.db"

    cases = [(s, seed, f) for s in scenarios for seed in seeds for f in faults]
    print(f"# base {base_binary}\n# current {current_binary}\n1..{len(cases)}", flush=True)
    diverged = []
    for number, (scenario, seed, fault) in enumerate(cases, 1):
        base = run_case(base_binary, scenario, seed, fault, base_db)
        current = run_case(current_binary, scenario, seed, fault, current_db)
        same, summary, detail = compare(current_binary, base_db, base, current_db, current)
        label = f"{scenario.name} seed={seed} faults={fault}"
        print(f"{'ok' if same else 'not ok'} {number} - {label}: {summary}", flush=True)
        if not same:
            diverged.append((number, scenario, seed, fault, base, current, detail))

    for number, scenario, seed, fault, base, current, detail in diverged:
        case = f"{shlex.quote(str(scenario))} --seed {seed} --faults {fault}"
        print(f"\n# --- case {number}: {scenario.name} seed={seed} faults={fault}")
        print(f"# reproduce (base):    {shlex.quote(str(base_binary))} run {case}")
        print(f"# reproduce (current): {shlex.quote(str(current_binary))} run {case}")
        if base["run"] and current["run"]:
            print(f"# compare: {shlex.quote(str(current_binary))} diff --db {base_db} {base['run']} "
                  f"{current['run']} --db2 {current_db}")
        print(detail.rstrip())

    if tree is not None and args.drop_worktree:
        git("worktree", "remove", "--force", str(tree), check=False)
    print(f"\n{len(cases) - len(diverged)} same, {len(diverged)} diverged")
    return 1 if diverged else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
