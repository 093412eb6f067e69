#!/usr/bin/env python3
"""Model-check models/smp_sched.pml with spin and fail on any violation.

For each property: spin -a, gcc pan.c, ./pan -a [-f] -N <property>. pan exits 0 even when it
finds a violation, so the verdict comes from its output: the run passes only with `errors: 0`,
no assertion violation, no acceptance cycle and a complete search (no depth or memory limit hit).
Then the planted variant (-DPLANTED_SKIP_FLUSH: VMID reuse without the TLB invalidation) must
violate vmid_clean; if it does not, the gate itself is broken and the check fails too.

Prints TAP (one line per run) and a summary of the planted-bug counterexample.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import time

# property -> extra pan flags; the live ones need weak fairness (-f), docs/evidence.md says why.
PROPERTIES = {"exclusive": [], "vmid_clean": [], "live": ["-f"], "live_steady": ["-f"]}
PLANTED_PROPERTY = "vmid_clean"
INCOMPLETE = ("max search depth too small", "out of memory", "search not completed")


def run(cmd, cwd):
    return subprocess.run(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, check=False)


def build(model, workdir, defines, spin, cc):
    """spin -a + gcc in workdir; returns the path of pan or raises RuntimeError."""
    os.makedirs(workdir, exist_ok=True)
    local = os.path.join(workdir, os.path.basename(model))
    shutil.copyfile(model, local)
    r = run([spin] + ["-D" + d for d in defines] + ["-a", os.path.basename(local)], workdir)
    if r.returncode != 0 or not os.path.exists(os.path.join(workdir, "pan.c")):
        raise RuntimeError("spin -a failed:\n" + r.stdout)
    r = run([cc, "-O2", "-DMEMLIM=2048", "-w", "-o", "pan", "pan.c"], workdir)
    if r.returncode != 0:
        raise RuntimeError("gcc pan.c failed:\n" + r.stdout)
    return local


def verify(workdir, prop, flags, depth):
    """Runs pan for one property; returns (violated, complete, figures, output)."""
    start = time.monotonic()
    r = run(["./pan", "-a"] + flags + ["-m%d" % depth, "-N", prop], workdir)
    seconds = time.monotonic() - start
    out = r.stdout
    m = re.search(r"errors: (\d+)", out)
    errors = int(m.group(1)) if m else -1
    violated = (errors != 0 or "assertion violated" in out or "acceptance cycle" in out)
    complete = m is not None and not any(s in out for s in INCOMPLETE)
    states = re.search(r"(\d+) states, stored", out)
    figures = "%s states, %.1f s" % (states.group(1) if states else "?", seconds)
    return violated, complete, figures, out


def normalise_guard(text):
    """A d_step guard as spin prints it in a trail and as the source writes it, made comparable."""
    for name, value in (("K_RUNNING", "2"), ("K_SUSPENDED", "3"), ("K_FREE", "0")):
        text = text.replace(name, value)
    return re.sub(r"[()\s]", "", text)


def trail_summary(model_copy, workdir, defines, spin):
    """The counterexample as kernel steps: one per atomic step (a d_step) of a process. Steps are
    recognised by their guard text (spin's trail line numbers drift after multi-line macros)."""
    r = run([spin] + ["-D" + d for d in defines] + ["-t", "-p", os.path.basename(model_copy)],
            workdir)
    with open(model_copy, encoding="utf-8") as f:
        source = f.read()
    labels = {}
    for guard, action in re.findall(r"d_step \{ (.*?) -> (.*?) \}", source):
        labels[normalise_guard(guard)] = action.strip()
    steps = []
    seen = set()
    for entry in r.stdout.split("\n"):
        m = re.match(r"\s*(\d+):\s+proc\s+(\d+) \((\w+):\d+\) \S+ \(state \d+\)\s+\[(.*)\]",
                     entry)
        if not m or (m.group(1), m.group(2)) in seen:
            continue
        seen.add((m.group(1), m.group(2)))
        action = labels.get(normalise_guard(m.group(4)))
        if action is None:
            continue
        # init starts cpu(0), cpu(1), admin as processes 1, 2, 3
        who = "cpu%d" % (int(m.group(2)) - 1) if m.group(3) == "cpu" else m.group(3)
        steps.append("%s: %s" % (who, action))
    final = re.findall(r"^\s*(cur\[\d\]|vload\[\d\]|vpart\[\d\]|tlb\[\d\]) = (\d+)", r.stdout,
                       re.MULTILINE)
    return steps, final


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default=os.path.join(os.path.dirname(__file__), "..", "models",
                                                    "smp_sched.pml"))
    ap.add_argument("--workdir", default="build/model")
    ap.add_argument("--spin", default="spin")
    ap.add_argument("--cc", default="gcc")
    ap.add_argument("--depth", type=int, default=2000000, help="pan -m (search depth limit)")
    ap.add_argument("--define", action="append", default=[],
                    help="extra spin -D for every run, e.g. NGEN=2")
    ap.add_argument("--property", action="append", choices=sorted(PROPERTIES),
                    help="check only these (default: all)")
    ap.add_argument("--skip-planted", action="store_true")
    args = ap.parse_args()

    if shutil.which(args.spin) is None or shutil.which(args.cc) is None:
        print("1..0 # SKIP spin or %s not installed" % args.cc)
        return 77

    props = args.property or list(PROPERTIES)
    total = len(props) + (0 if args.skip_planted else 1)
    print("1..%d" % total)
    failed = 0
    n = 0
    try:
        build(args.model, os.path.join(args.workdir, "model"), args.define, args.spin, args.cc)
    except RuntimeError as e:
        print("Bail out! %s" % e)
        return 1
    for prop in props:
        n += 1
        violated, complete, figures, out = verify(os.path.join(args.workdir, "model"), prop,
                                                  PROPERTIES[prop], args.depth)
        ok = not violated and complete
        failed += 0 if ok else 1
        why = "" if ok else (" (violated)" if violated else " (search incomplete)")
        print("%s %d - %s: %s%s" % ("ok" if ok else "not ok", n, prop, figures, why))
        if not ok:
            print("# " + out.replace("\n", "\n# "))

    if not args.skip_planted:
        n += 1
        defines = args.define + ["PLANTED_SKIP_FLUSH"]
        wd = os.path.join(args.workdir, "planted")
        try:
            copy = build(args.model, wd, defines, args.spin, args.cc)
        except RuntimeError as e:
            print("Bail out! %s" % e)
            return 1
        # -i: keep searching for shorter counterexamples, so the trail is one a reader can follow
        violated, _, figures, out = verify(wd, PLANTED_PROPERTY,
                                           PROPERTIES[PLANTED_PROPERTY] + ["-i"], args.depth)
        failed += 0 if violated else 1
        print("%s %d - planted PLANTED_SKIP_FLUSH violates %s: %s" %
              ("ok" if violated else "not ok", n, PLANTED_PROPERTY, figures))
        if violated:
            steps, final = trail_summary(copy, wd, defines, args.spin)
            print("# shortest counterexample found: %d kernel steps after boot:" % len(steps))
            for s in steps[-12:]:
                print("#   " + s)
            print("# final state: " + ", ".join("%s=%s" % kv for kv in final))
        else:
            print("# the planted defect went unnoticed: the gate cannot be trusted")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
