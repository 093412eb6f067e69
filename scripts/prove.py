#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Frama-C WP proof gate for selected core modules.

The proofs check the real core sources, not copies: for each module the sources are copied into a
scratch tree and the ACSL annotations from proofs/*.acsl files are inserted in front of anchor
lines of the real code (each anchor must match exactly one line, or the gate fails). Loop
invariants have to sit inside the functions they describe, which is why they are inserted rather
than kept in a header. The module's harness, proofs/*_proof.c, includes the annotated source and
adds the lemma functions that state cross-function properties.

WP runs with -wp-rte (no undefined behaviour) on the listed functions; every goal must be proved
by z3 or cvc4. Prints `proved / total` per function and per module; exits non-zero on any
unproved goal, a missing anchor, a frama-c failure or a report it cannot parse.

Annotation file format: blocks separated by lines `@@ <file> :: <anchor>` where <file> is a path
below core/ and <anchor> is the stripped text of the source line the block goes in front of
(`<anchor> @@N` picks the N-th of several identical lines; `@@ <file> :: ^` puts the block after the file's last #include line). A block headed `@@= ` replaces
its anchor line instead; it is used only where Frama-C cannot parse a line of an unproved function.
"""
import argparse
import concurrent.futures
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# module -> (harness in proofs/, ACSL files in proofs/, functions WP proves)
MODULES = {
    "buddy-alloc": (
        "buddy_proof.c",
        ["buddy.acsl"],
        [
            "rvm_buddy_alloc",
            "rvm_buddy_prepare_alloc",
            "rvm_buddy_order_for_pages",
        ],
    ),
    "buddy-pages": (
        "buddy_proof.c",
        ["buddy.acsl", "buddy_shift.acsl"],
        [
            "rvm_buddy_locate_",
            "rvm_buddy_free",
            "rvm_buddy_prepare_free",
            "rvm_buddy_commit_free",
            "rvm_buddy_allocation_order",
            "rvm_buddy_commit_alloc",
            "rvm_hpa",
            "proof_alloc_never_hands_out_allocated",
        ],
    ),
    "nonce": (
        "nonce_proof.c",
        ["nonce.acsl"],
        [
            "nonce_bit",
            "nonce_fresh",
            "rvm_proof_nonce_fresh",
            "clear_positions",
            "rvm_proof_nonce_mark",
            "proof_marked_nonce_is_refused",
        ],
    ),
    "bounds": (
        "bounds_proof.c",
        ["bounds.acsl"],
        ["rvm_add_u64", "rvm_mul_u64", "rvm_is_pow2_u64", "ranges_overlap", "proof_overlap_exact"],
    ),
    "witness": (
        "witness_proof.c",
        ["witness.acsl"],
        ["ring_free", "has_room", "rvm_witness_reserve", "rvm_witness_append"],
    ),
    "cap": (
        "cap_proof.c",
        ["cap.acsl"],
        [
            "gen_live",
            "rvm_cap_get",
            "rvm_cap_resolve",
            "link_index",
            "rvm_cap_handle",
            "rvm_cap_no_handle",
            "unlink_from_parent",
            "subtree_count",
            "rvm_cap_commit_revoke",
        ],
    ),
}


class GateError(Exception):
    pass


def parse_annotations(path):
    blocks = []
    current = None
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("@@ ") or line.startswith("@@= "):
                replace = line.startswith("@@= ")
                head = line[4 if replace else 3:].rstrip("\n")
                if " :: " not in head:
                    raise GateError(f"{path}: bad block header: {line.strip()}")
                target, anchor = head.split(" :: ", 1)
                current = (target.strip(), anchor.strip(), [], replace)
                blocks.append(current)
            elif current is not None:
                current[2].append(line)
            elif line.strip() and not line.startswith("#"):
                raise GateError(f"{path}: text before the first @@ header")
    return blocks


def insert_blocks(text, blocks, name):
    lines = text.splitlines(keepends=True)
    inserts = {}
    replaced = set()
    for anchor, body, replace in blocks:
        if anchor == "^":
            idx = max((i for i, l in enumerate(lines) if l.startswith("#include")), default=-1) + 1
        else:
            text, nth = anchor, 0
            if " @@" in anchor:  # `<line> @@N`: the N-th of several identical lines
                text, _, n = anchor.rpartition(" @@")
                nth = int(n)
            hits = [i for i, l in enumerate(lines) if l.strip() == text]
            if nth:
                if len(hits) < nth:
                    raise GateError(f"{name}: anchor has {len(hits)} matches, not {nth}: {text}")
                idx = hits[nth - 1]
            elif len(hits) != 1:
                raise GateError(f"{name}: anchor matches {len(hits)} lines (need 1): {anchor}")
            else:
                idx = hits[0]
        inserts.setdefault(idx, []).extend(body)
        if replace:
            replaced.add(idx)
    out = []
    for i, l in enumerate(lines + [""]):
        out.extend(inserts.get(i, []))
        if i not in replaced:
            out.append(l)
    return "".join(out)


def prepare_tree(module, scratch):
    core = os.path.join(ROOT, "core")
    tree = os.path.join(scratch, "core")
    shutil.copytree(core, tree)
    per_file = {}
    for name in MODULES[module][1]:
        annot = os.path.join(ROOT, "proofs", name)
        for target, anchor, body, replace in parse_annotations(annot):
            per_file.setdefault(target, []).append((anchor, body, replace))
    for target, blocks in per_file.items():
        path = os.path.join(tree, target)
        if not os.path.isfile(path):
            raise GateError(f"{module}: no such core file: {target}")
        with open(path, encoding="utf-8") as f:
            text = f.read()
        with open(path, "w", encoding="utf-8") as f:
            f.write(insert_blocks(text, blocks, target))
    return tree


def run_module(module, args, scratch, out):
    harness_name, _, functions = MODULES[module]
    tree = prepare_tree(module, scratch)
    harness = os.path.join(ROOT, "proofs", harness_name)
    report = os.path.join(scratch, f"{module}.json")
    cmd = [
        "frama-c",
        "-cpp-extra-args=-I{} -I{}".format(os.path.join(tree, "include"), os.path.join(tree, "src")),
        harness,
        "-machdep",
        "gcc_x86_64",
        "-c11",
        "-wp",
        "-wp-rte",
        "-wp-prover",
        args.provers,
        "-wp-timeout",
        str(args.timeout),
        "-wp-par",
        "1",
        "-wp-fct",
        ",".join(functions),
        "-wp-report-json",
        report,
    ]
    env = dict(os.environ)
    env.setdefault("WHY3CONFIG", args.why3_config)
    started = time.monotonic()
    proc = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    elapsed = time.monotonic() - started
    log_path = os.path.join(args.log_dir, f"{module}.log")
    with open(log_path, "w", encoding="utf-8") as f:
        f.write(" ".join(cmd) + "\n" + proc.stdout)
    if proc.returncode != 0:
        raise GateError(f"{module}: frama-c exited {proc.returncode} (log: {log_path})")
    if "[kernel] User Error" in proc.stdout or "user error" in proc.stdout.lower():
        raise GateError(f"{module}: frama-c reported an error (log: {log_path})")
    try:
        with open(report, encoding="utf-8") as f:
            data = json.load(f)
        per_fn = data["wp:functions"]
    except (OSError, ValueError, KeyError) as e:
        raise GateError(f"{module}: cannot read the WP report: {e} (log: {log_path})")
    total = proved = 0
    unproved = []
    rows = []
    for fn in functions:
        goals = per_fn.get(fn)
        if not goals:
            raise GateError(f"{module}: no goals reported for {fn} (log: {log_path})")
        fn_total = fn_valid = 0
        for goal, res in goals.items():
            if goal.startswith("wp:"):
                continue  # per-function aggregate, not a goal
            main = res.get("wp:main")
            if main is None or "total" not in main:
                raise GateError(f"{module}: goal {goal} has no summary")
            fn_total += main["total"]
            fn_valid += main.get("valid", 0)
            if main.get("valid", 0) != main["total"]:
                unproved.append(goal)
        rows.append((fn, fn_valid, fn_total))
        total += fn_total
        proved += fn_valid
    for fn, v, t in rows:
        print(f"  {fn:44s} {v:4d} / {t:<4d}{'' if v == t else '  UNPROVED'}", file=out)
    print(f"{module}: {proved} / {total} goals proved in {elapsed:.1f} s", file=out)
    for g in unproved:
        print(f"  unproved: {g}", file=out)
    return proved, total, unproved


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("modules", nargs="*", default=list(MODULES))
    ap.add_argument("--provers", default="z3,cvc4")
    ap.add_argument("--timeout", type=int, default=20)
    ap.add_argument("--jobs", type=int, default=2, help="modules proved side by side")
    ap.add_argument("--log-dir", default=None, help="where frama-c logs go (default: a temp dir)")
    args = ap.parse_args()
    if shutil.which("frama-c") is None or shutil.which("why3") is None:
        print("prove: frama-c and why3 are required (apt-get install frama-c-base why3 z3 cvc4)")
        return 2
    with tempfile.TemporaryDirectory(prefix="rvm-prove-") as scratch:
        args.log_dir = args.log_dir or scratch
        os.makedirs(args.log_dir, exist_ok=True)
        args.why3_config = os.path.join(scratch, "why3.conf")
        subprocess.run(["why3", "config", "detect", "-C", args.why3_config],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        for module in args.modules:
            if module not in MODULES:
                print(f"prove: unknown module {module}")
                return 2

        def one(module):
            # each module runs WP on one core; modules run side by side (--jobs of them)
            buf = io.StringIO()
            try:
                with tempfile.TemporaryDirectory(dir=scratch) as mscratch:
                    p, t, unproved = run_module(module, args, mscratch, buf)
                return module, p, t, bool(unproved), buf.getvalue()
            except GateError as e:
                return module, 0, 0, True, buf.getvalue() + f"prove: FAIL {e}\n"

        grand_p = grand_t = 0
        failed = []
        with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
            results = list(pool.map(one, args.modules))
        for module, p, t, bad, text in results:
            print(text, end="")
            grand_p += p
            grand_t += t
            if bad:
                failed.append(module)
        print(f"all modules: {grand_p} / {grand_t} goals proved")
        if failed:
            print(f"prove: FAIL ({', '.join(failed)})")
            return 1
        print("prove: OK")
        return 0


if __name__ == "__main__":
    sys.exit(main())
