"""Shared by the planted-bug tests: build a variant of rvmsim with -Dplanted_bug=BUG in its own
directory under the build root (the normal build stays clean), and check that a swarm sweep finds
the bug by one invariant alone and that shrink reduces it to a scenario of at most 10 operations
which fails on the variant and passes on the clean build."""
import os
import pathlib
import re
import subprocess

from conftest import SOURCE_ROOT
from test_shrink import count_ops


def build(bug):
    build_root = pathlib.Path(os.environ.get("RVM_BUILD_ROOT", SOURCE_ROOT / "build"))
    bdir = build_root / "planted" / bug
    if not (bdir / "build.ninja").exists():
        subprocess.run(["meson", "setup", str(bdir), str(SOURCE_ROOT), "--buildtype=debugoptimized",
                        f"-Dplanted_bug={bug}"], check=True, capture_output=True)
    # ninja, not meson compile: it re-runs meson on a changed tree before it looks the target up.
    proc = subprocess.run(["ninja", "-C", str(bdir), "cli/rvmsim"], capture_output=True,
                          text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return bdir / "cli" / "rvmsim"


def sweep_finds_and_shrink_reduces(planted, rvmsim, tmp_path, scenario, seeds, invariant):
    sweep = subprocess.run([str(planted), "sweep", str(scenario), "--seeds", seeds, "--jobs", "2",
                            "--faults", "swarm", "--recheck-every", "0", "--no-progress"],
                           capture_output=True, text=True)
    assert sweep.returncode == 3, sweep.stdout[-2000:] + sweep.stderr
    fails = re.findall(r"^FAIL seed=(\d+) safety \[(\S+)\]", sweep.stdout, re.M)
    assert fails
    assert all(inv == invariant for _, inv in fails), set(i for _, i in fails)
    seed = min(int(s) for s, _ in fails)

    out = tmp_path / "planted-min.scn"
    proc = subprocess.run([str(planted), "shrink", str(scenario), "--seed", str(seed), "--faults",
                           "swarm", "-o", str(out)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert count_ops(out) <= 10, out.read_text()
    bad = subprocess.run([str(planted), "run", str(out)], capture_output=True, text=True)
    assert bad.returncode == 3 and f"[{invariant}]" in bad.stdout, bad.stdout
    assert rvmsim("run", out, check=False).returncode == 0  # the clean build passes it
