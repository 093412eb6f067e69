#!/usr/bin/python3
"""Instruction-count regression gate for the core workloads (make bench-check).

Wall-clock time on a shared 2-core machine varies run to run; instruction counts under
valgrind's callgrind do not (same binary, same inputs => same count). For each gated workload
this runs `rvmbench --only NAME --fixed N` under callgrind at two iteration counts N1 < N2 and
takes (Ir(N2) - Ir(N1)) / (N2 - N1): instructions per iteration, with process start-up, set-up
and tear-down cancelled out. It compares that with bench/baseline/callgrind.json and fails when a
workload costs more than the tolerance above its baseline.

    bench/check.py --rvmbench build/bench/rvmbench            # gate (exit 1 on regression)
    bench/check.py --rvmbench build/bench/rvmbench --update   # rewrite the baseline, print the diff

Under valgrind, OpenSSL takes its portable SHA-256 path (valgrind does not offer SHA-NI to the
guest), so witness figures are not the native instruction mix; they are still exact and stable,
which is what a gate needs.
"""
import argparse
import concurrent.futures
import json
import os
import pathlib
import re
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parents[1]
BASELINE = ROOT / "bench" / "baseline" / "callgrind.json"
# Gated: the core's own workloads (deterministic, in-memory). System-level workloads (sweeps,
# SQLite) are reported by `make bench` but not gated: their counts depend on the filesystem.
GATED_PREFIXES = ("witness_", "sha256_compress_portable", "p1_", "p2_", "security_gate",
                  "partition_switch", "buddy_", "coherence_", "cut_pressure", "mincut_", "ema_",
                  "cap_", "sched_", "region_", "tier_", "compress_", "graph_", "platform_", "sim_",
                  "kernel_")
# Each measurement runs about this much native work, so a 300 µs min-cut and a 40 ns append both
# cost a fraction of a second under callgrind (~50-100x slower than native).
NATIVE_NS_PER_RUN = 200_000
MAX_ITERS = 4000


def list_workloads(rvmbench):
    out = subprocess.run([rvmbench, "--list"], capture_output=True, text=True, check=True).stdout
    rows = {}
    for line in out.splitlines():
        name, unit, ops, _desc = line.split("\t", 3)
        rows[name] = {"unit": unit, "ops_per_iter": int(ops)}
    return rows


def callgrind_ir(rvmbench, name, iters):
    with tempfile.TemporaryDirectory() as tmp:
        out = pathlib.Path(tmp) / "cg.out"
        proc = subprocess.run(
            ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", rvmbench, "--only",
             name, "--fixed", str(iters)],
            capture_output=True, text=True)
        if proc.returncode != 0:
            raise RuntimeError(f"{name}: callgrind run failed:\n{proc.stderr[-2000:]}")
        for line in out.read_text().splitlines():
            m = re.match(r"^(?:summary|totals):\s+(\d+)", line)
            if m:
                return int(m.group(1))
    raise RuntimeError(f"{name}: no instruction total in callgrind output")


def native_ns_per_iter(rvmbench):
    """One quick native timing pass over every workload, used only to size callgrind runs."""
    with tempfile.TemporaryDirectory() as tmp:
        out = pathlib.Path(tmp) / "quick.jsonl"
        subprocess.run([rvmbench, "--repeats", "1", "--min-sample-ms", "2", "--json", str(out)],
                       capture_output=True, text=True, check=True)
        rows = [json.loads(l) for l in out.read_text().splitlines() if l.strip()]
    return {r["name"]: r["ns_per_op_median"] * r["ops_per_iter"] for r in rows}


def iterations_for(ns_per_iter):
    return max(1, min(MAX_ITERS, int(NATIVE_NS_PER_RUN / max(ns_per_iter, 1.0))))


def measure(rvmbench, name, n1):
    """Instructions per iteration: the difference of two runs cancels start-up and set-up."""
    n2 = 3 * n1
    a = callgrind_ir(rvmbench, name, n1)
    b = callgrind_ir(rvmbench, name, n2)
    return (b - a) / (n2 - n1)


def measure_all(rvmbench, names, fixed_iters):
    """Measure every workload. Iteration counts come from the baseline when it has them, so a
    workload with periodic costs is always averaged over the same window; new workloads are
    sized from a quick native timing pass."""
    need_sizing = [n for n in names if n not in fixed_iters]
    sizes = native_ns_per_iter(rvmbench) if need_sizing else {}
    iters = {n: fixed_iters.get(n) or iterations_for(sizes.get(n, 1000.0)) for n in names}
    jobs = os.cpu_count() or 2
    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = {n: pool.submit(measure, rvmbench, n, iters[n]) for n in names}
        return {n: f.result() for n, f in futures.items()}, iters


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rvmbench", default=str(ROOT / "build" / "bench" / "rvmbench"))
    ap.add_argument("--tolerance", type=float, default=0.02,
                    help="allowed growth over baseline, as a fraction (default 0.02 = 2%%)")
    ap.add_argument("--update", action="store_true", help="rewrite the baseline with this build")
    ap.add_argument("--resize", action="store_true",
                    help="with --update: size every workload's iteration count again from a "
                         "native timing pass (by default the baseline's counts are kept, so the "
                         "figures stay comparable; only new workloads are sized)")
    ap.add_argument("--only", action="append", help="gate only these workloads (repeatable)")
    ap.add_argument("--tap", action="store_true",
                    help="print TAP (one result per workload) for meson test; a workload "
                         "without a baseline fails")
    args = ap.parse_args()
    if args.tap:
        return run_tap(args)

    workloads = list_workloads(args.rvmbench)
    names = [n for n in sorted(workloads) if n.startswith(GATED_PREFIXES)]
    if args.only:
        names = [n for n in names if n in args.only]
    baseline = json.loads(BASELINE.read_text()) if BASELINE.exists() else {"workloads": {}}
    base = baseline.get("workloads", {})

    results, regressions, missing = {}, [], []
    # A count sized from a timing pass depends on the machine's load; a workload whose iterations
    # differ (one seed each) would then average over another window and move for no reason.
    fixed = {} if args.resize else baseline.get("iterations", {})
    measured, iters = measure_all(args.rvmbench, names, fixed)
    print(f"{'workload':40} {'baseline':>14} {'now':>14} {'change':>9}  instructions per iteration")
    for name in names:
        ir = measured[name]
        results[name] = round(ir, 1)
        old = base.get(name)
        if old is None:
            print(f"{name:40} {'(new)':>14} {ir:14.1f} {'':>9}")
            missing.append(name)
            continue
        change = (ir - old) / old if old else 0.0
        flag = ""
        if change > args.tolerance:
            flag = "  REGRESSION"
            regressions.append((name, old, ir, change))
        elif change < -args.tolerance:
            flag = "  faster (update the baseline to lock it in)"
        print(f"{name:40} {old:14.1f} {ir:14.1f} {change:+8.2%}{flag}")
    for name in sorted(set(base) - set(names)):
        print(f"{name:40} {base[name]:14.1f} {'(gone)':>14}")

    if args.update:
        doc = {
            "what": "callgrind instructions per iteration of each gated rvmbench workload; "
                    "regenerate with `make bench-baseline`",
            "tolerance_default": args.tolerance,
            "workloads": results,
            "iterations": {n: iters[n] for n in results},
        }
        BASELINE.parent.mkdir(parents=True, exist_ok=True)
        BASELINE.write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n")
        print(f"\nbaseline written: {BASELINE.relative_to(ROOT)} ({len(results)} workloads)")
        subprocess.run(["git", "-C", str(ROOT), "--no-pager", "diff", "--stat", "--",
                        str(BASELINE)])
        return 0

    if regressions:
        print(f"\n{len(regressions)} workload(s) cost more than {args.tolerance:.0%} above baseline:")
        for name, old, ir, change in regressions:
            print(f"  {name}: {old:.1f} -> {ir:.1f} instructions/iteration ({change:+.2%})")
        print("If the cost is intended, run `make bench-baseline` and commit the new baseline.")
        return 1
    if missing:
        print(f"\nnote: {len(missing)} workload(s) have no baseline yet; `make bench-baseline` adds them")
    print(f"\nbench-check: {len(names)} workloads within {args.tolerance:.0%} of baseline")
    return 0


def run_tap(args):
    workloads = list_workloads(args.rvmbench)
    names = [n for n in sorted(workloads) if n.startswith(GATED_PREFIXES)]
    doc = json.loads(BASELINE.read_text()) if BASELINE.exists() else {}
    base = doc.get("workloads", {})
    measured, _ = measure_all(args.rvmbench, names, doc.get("iterations", {}))
    print(f"1..{len(names)}")
    failed = 0
    for i, name in enumerate(names, 1):
        ir = measured[name]
        old = base.get(name)
        if old is None:
            print(f"not ok {i} - {name}: no baseline (run `make bench-baseline`)")
            failed += 1
            continue
        change = (ir - old) / old if old else 0.0
        ok = change <= args.tolerance
        failed += not ok
        print(f"{'ok' if ok else 'not ok'} {i} - {name}: {ir:.1f} instructions/iteration, "
              f"baseline {old:.1f} ({change:+.2%}, tolerance {args.tolerance:.0%})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
