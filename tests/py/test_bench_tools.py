"""rvmbench's result handling and bench/report.py's account of where an RVM figure comes from.

Timing values are never checked (they depend on the machine and its load); what is checked is
what the tools do with them: --json appends one line per workload and call, a result whose
repeats disagree is refused and left out of the JSON, and the report names the source of every
RVM figure and warns when that source's CPU is not the CPU of the run.
"""
import json
import os
import pathlib
import subprocess

import pytest

SOURCE_ROOT = pathlib.Path(os.environ.get("RVM_SOURCE_ROOT",
                                          pathlib.Path(__file__).resolve().parents[2]))
BUILD_ROOT = pathlib.Path(os.environ.get("RVM_BUILD_ROOT", SOURCE_ROOT / "build"))
RVMBENCH = BUILD_ROOT / "bench" / "rvmbench"
REPORT = SOURCE_ROOT / "bench" / "report.py"
PEERS = json.loads((SOURCE_ROOT / "bench" / "peers" / "rvm.json").read_text())
# A fast workload with no set-up cost worth mentioning.
WORKLOAD = "floor_p1_one_word"


def rvmbench(*args):
    if not RVMBENCH.exists():
        pytest.fail(f"{RVMBENCH} not built")
    return subprocess.run([str(RVMBENCH), "--only", WORKLOAD, "--min-sample-ms", "1", *args],
                          capture_output=True, text=True, timeout=120)


def test_json_appends_one_line_per_call_with_the_load_average(tmp_path):
    out = tmp_path / "bench.jsonl"
    for _ in range(2):
        proc = rvmbench("--repeats", "1", "--max-spread", "1000", "--json", str(out))
        assert proc.returncode == 0, proc.stdout + proc.stderr
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["name"] for r in rows] == [WORKLOAD, WORKLOAD]
    for r in rows:
        assert r["ns_per_op_min"] <= r["ns_per_op_median"] <= r["ns_per_op_max"]
        assert r["load_average_1m"] >= 0  # /proc/loadavg is readable on Linux


def test_disagreeing_repeats_are_refused_and_left_out_of_the_json(tmp_path):
    # --max-spread 0 accepts only a median equal to the minimum, to the last bit: 5 timed
    # samples of at least 1 ms never agree that closely.
    out = tmp_path / "bench.jsonl"
    proc = rvmbench("--repeats", "5", "--max-spread", "0", "--json", str(out))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "REFUSED: median/min above 1 + --max-spread" in proc.stdout
    assert "1 result(s) refused" in proc.stderr
    assert not out.exists() or out.read_text() == ""


def report(tmp_path, rows):
    tmp_path.mkdir(parents=True, exist_ok=True)
    jsonl = tmp_path / "in.jsonl"
    jsonl.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "out"
    proc = subprocess.run(["/usr/bin/python3", str(REPORT), str(out), str(jsonl)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout, (out / "report.md").read_text(), json.loads((out / "latest.json").read_text())


def row(name, cpu):
    return {"name": name, "unit": "iteration", "ns_per_op_min": 10.0, "ns_per_op_median": 10.0,
            "ns_per_op_max": 10.0, "ops_per_iter": 1, "build": "test", "compiler": "test",
            "flags": "test", "cpu": cpu, "load_average_1m": 1.5}


def test_report_names_the_source_of_each_rvm_figure(tmp_path):
    peer = PEERS["benchmarks"]["partition_switch"]
    source = PEERS["sources"][peer["source"]]
    stdout, md, latest = report(tmp_path, [row("partition_switch", "Some CPU")])
    line = next(l for l in md.splitlines() if l.startswith("| partition_switch |"))
    assert f"`{peer['source']}`" in line
    assert source["machine"] in md and source["revision"] in md and source["measured"] in md
    assert source["machine"] in stdout
    assert "1-minute load average when the figures were taken: 1.5 to 1.5" in md
    evaluation = latest["results"][0]["evaluation"]
    assert evaluation["peer_source"] == peer["source"]
    assert evaluation["peer_ns"] == peer[peer.get("compare", "median")]
    assert latest["peer_sources"][peer["source"]] == source


def test_report_warns_when_the_rvm_figures_come_from_another_cpu(tmp_path):
    vendor = PEERS["sources"][PEERS["benchmarks"]["partition_switch"]["source"]]["cpu_vendor"]
    other = "Intel Xeon" if vendor == "AMD" else "AMD EPYC"
    _, same_md, _ = report(tmp_path / "same", [row("partition_switch", f"{vendor} CPU")])
    _, other_md, _ = report(tmp_path / "other", [row("partition_switch", other)])
    assert "Another CPU" not in same_md
    assert "**Another CPU**" in other_md


def test_report_compares_the_statistic_a_figure_names(tmp_path):
    """A figure with `compare` (here the fastest sample of a loaded machine) is compared by that
    statistic, not by its median; one without it by its median."""
    with_compare = PEERS["benchmarks"]["partition_switch"]
    assert with_compare["compare"] == "min" and with_compare["min"] != with_compare["median"]
    plain = PEERS["benchmarks"]["mincut_4node"]
    assert "compare" not in plain
    _, _, latest = report(tmp_path, [row("partition_switch", "AMD EPYC"), row("mincut_4node", "AMD EPYC")])
    ns = {r["name"]: r["evaluation"]["peer_ns"] for r in latest["results"]}
    assert ns["partition_switch"] == with_compare["min"]
    assert ns["mincut_4node"] == plain["median"]


def test_report_divides_by_the_floor_a_target_names(tmp_path):
    """A target with `floor` is divided by that workload's median of the same run; within 5 % of
    it the report says "at floor". Floor names come from targets.json, the ratios from the rows."""
    targets = json.loads((REPORT.parent / "targets.json").read_text())["workloads"]
    gate_floor = targets["security_gate_check_p2"]["floor"]
    p1_floor = targets["p1_verify"]["floor"]
    rows = {"security_gate_check_p2": 52.0, gate_floor: 40.0, "p1_verify": 0.84, p1_floor: 0.82,
            "partition_switch": 10.0}
    stdout, md, latest = report(tmp_path, [dict(row(n, "AMD EPYC"), ns_per_op_median=v, ns_per_op_min=v,
                                                 ns_per_op_max=v) for n, v in rows.items()])
    ev = {r["name"]: r["evaluation"] for r in latest["results"]}
    assert ev["security_gate_check_p2"]["floor"] == gate_floor
    assert abs(ev["security_gate_check_p2"]["vs_floor"] - 1.3) < 1e-9
    assert not ev["security_gate_check_p2"]["at_floor"]
    assert ev["p1_verify"]["at_floor"]  # 0.84 / 0.82 = 1.024
    assert ev["partition_switch"]["vs_floor"] is None  # its target names no floor
    gate_line = next(l for l in md.splitlines() if l.startswith("| security_gate_check_p2 |"))
    assert f"1.30× {gate_floor} (40.00 ns) |" in gate_line
    p1_line = next(l for l in md.splitlines() if l.startswith("| p1_verify |"))
    assert f"1.02× {p1_floor} (0.82 ns), at floor |" in p1_line
    assert f"report: p1_verify is 1.02× {p1_floor} (0.82 ns), at floor" in stdout
