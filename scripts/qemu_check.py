#!/usr/bin/python3
"""Every corpus scenario the tape can express, on QEMU, compared with the simulator.

    qemu_check.py --rvmsim BUILD/cli/rvmsim [--seeds 1..3] [--faults none,swarm] [--jobs 2]
                  [--scenario FILE ...]

For each scenario of scenarios/ that runs the kernel target, on the architecture its `target`
line names (riscv=1: riscv64, else aarch64), for each seed and fault mode: `rvmsim qemu` records
the simulator's tape, boots the firmware with it and compares the chains. Scenarios the tape
cannot express are listed with the reason, never skipped silently. Prints TAP, a summary line
`N passed, M failed` and exits non-zero on any divergence.

Each capture's `guest: traps ...` console line (docs/firmware.md "Real guests") is summed into
a comment line before the summary; a run whose guest trapped with an unexpected class (`other`)
or whose aborts differ from the platform model's prediction (`differs`) fails even when its
chain is identical.
"""
import argparse
import concurrent.futures
import pathlib
import re
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parent.parent


def target_line(path):
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line.startswith("target "):
            return line
    return "target witness"


def plan(scenarios):
    """(runnable: [(path, arch)], simulator_only: [(path, reason)])"""
    runnable, only = [], []
    for path in scenarios:
        line = target_line(path)
        name = line.split()[1] if len(line.split()) > 1 else "witness"
        if name != "kernel":
            only.append((path, f"target {name}: exercises the witness log alone, there is no "
                               "kernel to put on hardware"))
            continue
        riscv = re.search(r"\briscv=(1|true|yes|on)\b", line) is not None
        runnable.append((path, "riscv64" if riscv else "aarch64"))
    return runnable, only


def build_firmware(build, arch):
    out = build / f"firmware-{arch}"
    steps = []
    if not (out / "build.ninja").exists():
        steps.append(["meson", "setup", str(out), "--cross-file", str(ROOT / "cross" / f"{arch}.ini")])
    steps.append(["ninja", "-C", str(out)])
    for cmd in steps:
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
        if proc.returncode != 0:
            sys.stdout.write("".join(f"# {line}\n" for line in
                                     (proc.stdout + proc.stderr).splitlines()[-20:]))
            return False
    return True


def guest_counts(capture):
    """{'trap hypercall': n, ..., 'direct access': n, 'model differs': n} from the firmware's
    `guest: traps ... direct ... model ...` line; {} without one."""
    for line in capture.splitlines():
        if line.startswith("guest: traps "):
            counts, part = {}, "trap"
            for word in line.split()[2:]:
                if "=" not in word:
                    part = word
                    continue
                key, _, value = word.partition("=")
                counts[f"{part} {key}"] = int(value)
            return counts
    return {}


def seeds_of(text):
    lo, _, hi = text.partition("..")
    return range(int(lo), int(hi or lo) + 1)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rvmsim", required=True)
    ap.add_argument("--seeds", default="1..3")
    ap.add_argument("--faults", default="none,swarm")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--timeout", type=int, default=120)
    ap.add_argument("--scenario", action="append", type=pathlib.Path)
    ap.add_argument("--build-firmware", metavar="BUILD",
                    help="first (re)build the firmware images in BUILD/firmware-ARCH")
    args = ap.parse_args()

    scenarios = args.scenario or sorted((ROOT / "scenarios").glob("*.scn"))
    runnable, only = plan(scenarios)
    for path, reason in only:
        print(f"# simulator only: {path.name}: {reason}")
    if args.build_firmware:
        for arch in sorted({a for _, a in runnable}):
            if not build_firmware(pathlib.Path(args.build_firmware), arch):
                print(f"Bail out! the {arch} firmware does not build")
                print("# 0 passed, 1 failed")
                return 1
    jobs = [(p, a, s, f) for p, a in runnable for s in seeds_of(args.seeds)
            for f in args.faults.split(",")]

    keep_root = tempfile.TemporaryDirectory(prefix="qemu-check-")

    def one(numbered):
        n, (path, arch, seed, faults) = numbered
        keep = pathlib.Path(keep_root.name) / str(n)
        proc = subprocess.run([args.rvmsim, "qemu", str(path), "--arch", arch, "--seed", str(seed),
                               "--faults", faults, "--timeout", str(args.timeout),
                               "--keep", str(keep)],
                              capture_output=True, text=True)
        capture = keep / "qemu.txt"
        guest = guest_counts(capture.read_text(errors="replace")) if capture.exists() else None
        return (path, arch, seed, faults), proc, guest

    passed = failed = 0
    totals = {}
    print(f"1..{len(jobs)}")
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        for n, (job, proc, guest) in enumerate(pool.map(one, enumerate(jobs)), 1):
            path, arch, seed, faults = job
            last = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else ""
            name = f"{path.name} {arch} seed {seed} faults {faults}"
            for key, value in (guest or {}).items():
                totals[key] = totals.get(key, 0) + value
            odd = guest and (guest.get("trap other", 0) or guest.get("model differs", 0))
            if proc.returncode == 0 and odd:
                failed += 1
                print(f"not ok {n} - {name}: identical chain, but the guest's traps: "
                      f"other={guest.get('trap other', 0)} "
                      f"model differs={guest.get('model differs', 0)}")
                print(f"#   reproduce: {args.rvmsim} qemu {path} --arch {arch} --seed {seed} "
                      f"--faults {faults} --keep DIR; grep -a '^guest' DIR/qemu.txt")
            elif proc.returncode == 0:
                passed += 1
                print(f"ok {n} - {name}: {last}")
            else:
                failed += 1
                print(f"not ok {n} - {name}: exit {proc.returncode}: {last}")
                for line in (proc.stdout + proc.stderr).splitlines()[-15:]:
                    print(f"#   {line}")
                print(f"#   reproduce: {args.rvmsim} qemu {path} --arch {arch} --seed {seed} "
                      f"--faults {faults}")
    keep_root.cleanup()
    if totals:
        print("# real guest traps: " + " ".join(f"{k.replace(' ', ':')}={v}"
                                                  for k, v in totals.items()))
    print(f"# {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
