#!/usr/bin/python3
"""Mutation fuzzing of scenario files through `rvmsim run`, under ASan + UBSan (TAP output).

Scenario files are hostile input: whatever a file says, rvmsim must answer with one of its exit
classes (0 pass, 1 expectation, 2 usage/parse error with `FILE:LINE:COL: message` or a named
refusal, 3 safety, 4 liveness) and never crash, trip a sanitizer, hang, or report an internal
error (6). Each corpus file in scenarios/ is mutated line by line (deleted, duplicated, swapped,
truncated or spliced lines; numbers replaced by boundary values; names swapped; garbage bytes)
and run with a seed and a fault mode drawn from the same seeded generator. One in four mutants
that run is run a second time and must give the same last line (determinism).

    fuzz_scenarios.py --rvmsim build-asan/cli/rvmsim [--mutants 24] [--seed 1] [--jobs 2]

Every mutant is reproducible from the printed seed; a failing mutant is kept in --keep DIR
(default: a temporary directory that is left in place on failure) with the command that fails.
"""
import argparse
import concurrent.futures
import os
import pathlib
import random
import re
import subprocess
import sys
import tempfile

BOUNDARY = ["0", "1", "2", "7", "8", "9", "63", "64", "65", "255", "256", "4095", "4096",
            "65535", "65536", "2147483647", "2147483648", "4294967295", "4294967296",
            "9223372036854775807", "9223372036854775808", "18446744073709551615",
            "18446744073709551616", "99999999999999999999999999", "-1", "0x", "0xffffffffffffffff",
            "0x10000000000000000", "1/0", "0/0", "1/1", "3/2", "18446744073709551615/1"]
GARBAGE = ["\x00", "\t", "\r", "\x7f", "\xff", "#", "@", "@+", "..", "=", "==", "  ", "\\",
           "é", "\ufffd", "expect", "none", "random", "end", "x" * 300]
NUMBER = re.compile(r"(?<![\w.])(?:0x[0-9a-fA-F]+|\d+)(?![\w])")
WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
ALLOWED = {0, 1, 2, 3, 4}


# Mostly mutations that keep a file parseable (so the engine and the targets see hostile but
# well-formed input); a few that break the syntax (so the parser sees the rest).
OPS = [0] * 2 + [1] * 2 + [2] * 2 + [3] + [4] * 8 + [5] * 3 + [6] + [7] * 3 + [8]


def mutate(rng, lines, donors):
    lines = list(lines) or [""]
    for _ in range(rng.choice([1, 1, 2, 3])):
        i = rng.randrange(len(lines))
        op = rng.choice(OPS)
        if op == 0 and len(lines) > 1:
            del lines[i]
        elif op == 1:
            lines.insert(i, lines[i])
        elif op == 2:
            j = rng.randrange(len(lines))
            lines[i], lines[j] = lines[j], lines[i]
        elif op == 3:
            lines[i] = lines[i][:rng.randrange(len(lines[i]) + 1)]
        elif op == 4:
            spots = list(NUMBER.finditer(lines[i]))
            if spots:
                m = rng.choice(spots)
                lines[i] = lines[i][:m.start()] + rng.choice(BOUNDARY) + lines[i][m.end():]
        elif op == 5:
            words = [w for line in lines for w in WORD.findall(line)]
            spots = list(WORD.finditer(lines[i]))
            if spots and words:
                m = rng.choice(spots)
                lines[i] = lines[i][:m.start()] + rng.choice(words) + lines[i][m.end():]
        elif op == 6:
            at = rng.randrange(len(lines[i]) + 1)
            lines[i] = lines[i][:at] + rng.choice(GARBAGE) + lines[i][at:]
        elif op == 7:
            donor = rng.choice(donors)
            if donor:
                lines.insert(i, rng.choice(donor))
        else:
            lines.insert(i, rng.choice(BOUNDARY) + " " + rng.choice(GARBAGE))
    return lines


def run(rvmsim, path, seed, faults, timeout):
    env = dict(os.environ,
               ASAN_OPTIONS="detect_leaks=1:abort_on_error=1",
               UBSAN_OPTIONS="halt_on_error=1:abort_on_error=1:print_stacktrace=1")
    cmd = [rvmsim, "run", str(path), "--seed", str(seed), "--faults", faults]
    try:
        p = subprocess.run(cmd, capture_output=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        return cmd, None, "", f"no answer within {timeout} s"
    return cmd, p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")


def judge(path, rc, out, err):
    """Why this outcome is wrong, or None."""
    if rc is None:
        return err
    if "Sanitizer" in err or "runtime error:" in err:
        return "sanitizer report"
    if rc not in ALLOWED:
        return f"exit {rc}" + (" (a signal)" if rc < 0 else "")
    if rc == 2 and not re.search(r" result=usage$", out.strip()):
        # refused when loaded: on stderr, naming the command and the file
        first = err.strip().splitlines()[0] if err.strip() else ""
        if not first.startswith(f"rvmsim: run: {path}"):
            return f"a refusal that does not name the file: {first!r}"
    elif not re.search(r"run=\d+ seed=\d+ records=\d+ digest=[0-9a-f]{64}", out):
        return "no run= seed= records= digest= line"
    return None


def fuzz_file(args, corpus, index, source):
    rng = random.Random(f"{args.seed}:{source.name}")
    lines = source.read_text().splitlines()
    donors = [p.read_text().splitlines() for p in corpus if p != source]
    counts, problems = {}, []
    for k in range(args.mutants):
        mutant = args.work / f"{source.stem}.m{k}.scn"
        text = "\n".join(mutate(rng, lines, donors)) + "\n"
        mutant.write_bytes(text.encode("utf-8", errors="surrogateescape"))
        seed = rng.randrange(1 << 32)
        faults = rng.choice(["none", "default", "swarm"])
        cmd, rc, out, err = run(args.rvmsim, mutant, seed, faults, args.timeout)
        why = judge(mutant, rc, out, err)
        if why is None and rc != 2 and rng.randrange(4) == 0:
            _, rc2, out2, _ = run(args.rvmsim, mutant, seed, faults, args.timeout)
            last = out.strip().splitlines()[-1:]
            if rc2 != rc or out2.strip().splitlines()[-1:] != last:
                why = f"not deterministic: exit {rc} then {rc2}"
        counts[rc] = counts.get(rc, 0) + 1
        if why is not None:
            problems.append(f"{why}: {' '.join(cmd)}\n{err[-1500:]}")
        else:
            mutant.unlink()
    return index, source.name, counts, problems


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rvmsim", required=True)
    ap.add_argument("--corpus", default=str(pathlib.Path(__file__).resolve().parents[2] /
                                            "scenarios"))
    ap.add_argument("--mutants", type=int, default=24, help="per corpus file")
    ap.add_argument("--seed", type=int, default=int(os.environ.get("RVM_FUZZ_SEED", "1")))
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--timeout", type=float, default=60.0, help="seconds per run")
    ap.add_argument("--keep", help="directory for the mutants (failing ones stay there)")
    args = ap.parse_args()
    corpus = sorted(pathlib.Path(args.corpus).glob("*.scn"))
    args.work = pathlib.Path(args.keep or tempfile.mkdtemp(prefix="rvm-scn-fuzz-"))
    args.work.mkdir(parents=True, exist_ok=True)
    print(f"1..{len(corpus)}")
    print(f"# seed {args.seed} (RVM_FUZZ_SEED or --seed reproduces), {args.mutants} mutants per "
          f"file, mutants in {args.work}")
    sys.stdout.flush()
    failed = 0
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        futures = [pool.submit(fuzz_file, args, corpus, i + 1, p) for i, p in enumerate(corpus)]
        for fut in concurrent.futures.as_completed(futures):
            index, name, counts, problems = fut.result()
            exits = ", ".join(f"exit {k}: {v}" for k, v in sorted(counts.items(),
                                                                  key=lambda kv: str(kv[0])))
            if problems:
                failed += 1
                print(f"not ok {index} - {name}: {len(problems)} of {args.mutants} mutants "
                      f"(seed {args.seed})")
                for p in problems[:3]:
                    print("\n".join("# " + line for line in p.splitlines()))
            else:
                print(f"ok {index} - {name}: {args.mutants} mutants ({exits})")
            sys.stdout.flush()
    if failed == 0 and not args.keep:
        for leftover in args.work.glob("*"):
            leftover.unlink()
        args.work.rmdir()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
