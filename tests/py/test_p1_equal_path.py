"""P1's equal-path property, measured mechanically.

tests/p1_probe calls rvm_proof_p1_pass (the P1 decision) 1000 times with one kind of input. Under valgrind's callgrind,
collecting only inside that function (--toggle-collect) and per instruction (--dump-instr), we
get for every instruction address of P1 how many times it executed. Passing input and every kind
of failing input must give the SAME profile (not only the same total): the same instructions,
each the same number of times, so no branch depended on whether or why the check failed.

The probe's deliberately early-returning copy (probe_branchy_p1) must give DIFFERENT profiles for
a pass and a failure: proof that the measurement notices a path difference when there is one.
"""
import os
import pathlib
import shutil
import subprocess

import pytest

SOURCE_ROOT = pathlib.Path(os.environ.get("RVM_SOURCE_ROOT",
                                          pathlib.Path(__file__).resolve().parents[2]))
BUILD_ROOT = pathlib.Path(os.environ.get("RVM_BUILD_ROOT", SOURCE_ROOT / "build"))
PROBE = BUILD_ROOT / "tests" / "p1_probe"
CALLS = 1000
FAIL_MODES = ["range", "stale", "free", "holder", "type", "object", "rights", "all"]


def profile(mode, function, tmp_path):
    """{instruction address: executions} inside `function`, and callgrind's total."""
    if shutil.which("valgrind") is None:
        pytest.fail("valgrind is not installed (scripts/deps.sh test group)")
    if not PROBE.exists():
        pytest.fail(f"{PROBE} not built")
    out = tmp_path / f"callgrind.{mode}.{function}"
    proc = subprocess.run(
        ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}",
         f"--toggle-collect={function}", "--dump-instr=yes", "--dump-line=no",
         "--compress-pos=no", "--compress-strings=no", str(PROBE), mode, str(CALLS)],
        capture_output=True, text=True)
    assert proc.returncode == 0, f"p1_probe {mode}: {proc.stdout}{proc.stderr}"
    counts, total, in_fn, skip_next = {}, None, False, False
    for line in out.read_text().splitlines():
        if line.startswith("summary:"):
            total = int(line.split()[1])
        elif line.startswith("fn="):
            in_fn = line[3:].strip() == function
        elif line.startswith("calls="):
            skip_next = True  # the next cost line is the callee's inclusive cost
        elif line[:2] == "0x":
            if skip_next:
                skip_next = False
                continue
            if not in_fn:
                continue
            addr, ir = line.split()[:2]
            counts[int(addr, 16)] = counts.get(int(addr, 16), 0) + int(ir)
    assert total is not None, "callgrind wrote no summary"
    return counts, total


def test_p1_executes_the_same_instructions_for_pass_and_every_failure(tmp_path):
    base, base_total = profile("pass", "rvm_proof_p1_pass", tmp_path)
    assert base_total > 0 and sum(base.values()) == base_total
    # every instruction of the path ran once per call
    assert set(base.values()) == {CALLS}, base
    per_call = base_total // CALLS
    for mode in FAIL_MODES:
        counts, total = profile(mode, "rvm_proof_p1_pass", tmp_path)
        assert total == base_total, f"{mode}: {total} instructions vs {base_total} when passing"
        assert counts == base, f"{mode}: a different instruction path than when passing"
    print(f"P1: {per_call} instructions per call for pass and {len(FAIL_MODES)} failure kinds")


def test_the_measurement_sees_a_branchy_p1(tmp_path):
    passing, pass_total = profile("branchy-pass", "probe_branchy_p1", tmp_path)
    failing, fail_total = profile("branchy-fail", "probe_branchy_p1", tmp_path)
    assert pass_total > 0 and fail_total > 0
    assert passing != failing
    assert pass_total != fail_total
