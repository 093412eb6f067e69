#!/usr/bin/python3
"""Turn benchmark JSON lines into the results make bench publishes.

    bench/report.py RESULTS_DIR JSONL...

Reads the JSON lines written by `rvmbench --json` (and by any system benchmark that writes the
same schema: name, unit, ns_per_op_min, ns_per_op_median, ns_per_op_max, ops_per_iter, plus
optional "value"/"value_unit" for rates), bench/targets.json and bench/peers/rvm.json, and writes:
  RESULTS_DIR/latest.json   every figure with build, compiler, flags, CPU, peer and target
  RESULTS_DIR/latest.csv    the same, one row per workload
  RESULTS_DIR/report.md     a Markdown table: figure, DESIGN §7 target, RVM's figure and where it
                            was measured (machine, date, revision, build), verdict
  RESULTS_DIR/*.png         gnuplot charts (if gnuplot is installed)
"""
import csv
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]


def load_lines(paths):
    rows = {}
    for path in paths:
        for line in pathlib.Path(path).read_text().splitlines():
            if line.strip():
                row = json.loads(line)
                rows[row["name"]] = row
    return rows


def fmt_ns(ns):
    if ns is None:
        return ""
    if ns >= 1e6:
        return f"{ns / 1e6:,.2f} ms"
    if ns >= 1e4:
        return f"{ns / 1e3:,.1f} µs"
    if ns >= 100:
        return f"{ns:,.0f} ns"
    return f"{ns:.2f} ns"


# A workload whose target names a "floor" (the least any implementation of its work does on this
# machine, a workload of the same run) is "at floor" when its median is within this fraction
# above the floor's median.
FLOOR_TOLERANCE = 0.05


def evaluate(name, row, targets, peers, rows):
    spec = targets.get(name, {})
    units = spec.get("units_per_peer_iter", 1)
    ours = row["ns_per_op_median"] * units if "ns_per_op_median" in row else None
    peer_name = spec.get("peer")
    peer_row = peers.get(peer_name, {}) if peer_name else {}
    peer = peer_row.get(peer_row.get("compare", "median"))  # "compare" names another statistic
    target = spec.get("target_ns")
    if target is None and spec.get("peer_factor") and peer:
        target = peer * spec["peer_factor"]
    verdict = ""
    if "value" in row and "target_value" in spec:
        verdict = "met" if row["value"] >= spec["target_value"] else "missed"
    elif target is not None and ours is not None:
        verdict = "met" if ours <= target else "missed"
    speedup = (peer / ours) if (peer and ours) else None
    floor_name = spec.get("floor")
    floor_row = rows.get(floor_name, {}) if floor_name else {}
    floor = floor_row["ns_per_op_median"] * units if "ns_per_op_median" in floor_row else None
    vs_floor = (ours / floor) if (floor and ours) else None
    return {
        "workload": name,
        "unit": row.get("unit", ""),
        "per": f"{units} {row.get('unit', '')}" if units != 1 else row.get("unit", ""),
        "ours_ns": ours,
        "ours_min_ns": row["ns_per_op_min"] * units if "ns_per_op_min" in row else None,
        "value": row.get("value"),
        "value_unit": row.get("value_unit"),
        "target_ns": target,
        "target_text": spec.get("target", ""),
        "peer": peer_name,
        "peer_ns": peer,
        "peer_source": peer_row.get("source", "") if peer is not None else "",
        "speedup_vs_peer": speedup,
        "floor": floor_name if floor is not None else None,
        "floor_ns": floor,
        "vs_floor": vs_floor,
        "at_floor": vs_floor is not None and vs_floor <= 1 + FLOOR_TOLERANCE,
        "verdict": verdict,
    }


def cpu_vendor(cpu):
    for vendor in ("AMD", "Intel", "ARM"):
        if vendor.lower() in cpu.lower():
            return vendor
    return None


def source_lines(evaluated, sources, meta):
    """Where each RVM figure in the table comes from, with a warning for another CPU's figure."""
    used = sorted({e["peer_source"] for e in evaluated if e["peer_source"]})
    if not used:
        return []
    ours = cpu_vendor(meta["cpu"])
    lines = ["", "RVM figures by source (bench/peers/rvm.json):", ""]
    for name in used:
        src = sources.get(name, {})
        count = sum(1 for e in evaluated if e["peer_source"] == name)
        lines.append(f"- `{name}` ({count} figures): {src.get('machine', 'machine not recorded')}; "
                     f"measured {src.get('measured', '?')}; {src.get('revision', 'revision not recorded')}; "
                     f"built with {src.get('build', '?')}; {src.get('how', '')}")
        theirs = src.get("cpu_vendor")
        if ours and theirs and ours != theirs:
            lines.append(f"  - **Another CPU**: these RVM figures were measured on {theirs}, this run on "
                         f"{meta['cpu']}; the ratios against them compare two machines.")
    return lines


def floor_text(e):
    if e["vs_floor"] is None:
        return ""
    text = f"{e['vs_floor']:.2f}× {e['floor']} ({fmt_ns(e['floor_ns'])})"
    return text + ", at floor" if e["at_floor"] else text


def write_markdown(path, evaluated, meta, sources):
    lines = [
        "# Benchmark report",
        "",
        f"Build `{meta['build']}`, {meta['compiler']}, flags `{meta['flags']}`, CPU {meta['cpu']}.",
        "Figures are medians over repeats (`make bench`); RVM's are criterion medians from",
        "bench/peers/rvm.json (or the statistic its `compare` field names, such as the fastest",
        "sample of a run taken under load), each with the source (machine, date, revision) named in",
        "the table and listed below it. Times are per RVM iteration where an RVM bench is named.",
        "\"vs floor\" divides our median by the median of the floor workload the target names (the",
        f"least any implementation of that work does here, same run); within {FLOOR_TOLERANCE:.0%} of it is \"at floor\".",
        meta.get("load_text", ""),
        "",
        "| workload | per | ours (median) | target (DESIGN §7) | RVM | RVM source | vs RVM | vs floor | |",
        "|---|---|---:|---|---:|---|---:|---|---|",
    ]
    for e in evaluated:
        ours = fmt_ns(e["ours_ns"]) if e["value"] is None else f"{e['value']:,.0f} {e['value_unit']}"
        target = e["target_text"] or ""
        peer = f"{fmt_ns(e['peer_ns'])} ({e['peer']})" if e["peer_ns"] else ""
        source = f"`{e['peer_source']}`" if e["peer_source"] else ""
        speed = f"{e['speedup_vs_peer']:.1f}×" if e["speedup_vs_peer"] else ""
        mark = {"met": "✅", "missed": "❌"}.get(e["verdict"], "")
        lines.append(f"| {e['workload']} | {e['per']} | {ours} | {target} | {peer} | {source} | {speed} | "
                     f"{floor_text(e)} | {mark} |")
    lines += source_lines(evaluated, sources, meta)
    path.write_text("\n".join(lines) + "\n")


def gnuplot(script):
    if shutil.which("gnuplot") is None:
        print("report: gnuplot not installed; charts skipped", file=sys.stderr)
        return
    subprocess.run(["gnuplot"], input=script, text=True, check=True)


def chart_ns_per_op(out_dir, evaluated):
    data = out_dir / "ns_per_op.dat"
    # Workloads with an RVM counterpart or a DESIGN target: the comparison users look for. The
    # full list is in report.md.
    rows = [e for e in evaluated if e["ours_ns"] is not None and e["value"] is None
            and (e["peer_ns"] is not None or e["target_ns"] is not None)]
    with data.open("w") as f:
        for e in rows:
            f.write(f"\"{e['workload']}\" {e['ours_ns']:.3f} {e['peer_ns'] or 'NaN'}\n")
    width = max(900, 48 * len(rows) + 250)
    gnuplot(f"""
set terminal pngcairo noenhanced size {width},650 font "DejaVu Sans,10"
set output "{out_dir / 'ns_per_op.png'}"
set title "Time per iteration: rvmsim and RVM (lower is better; log scale; RVM sources in report.md)"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set logscale y
set ylabel "ns per iteration (log scale)"
set xtics rotate by -45 scale 0
set key outside top center horizontal
set grid ytics
set bmargin 14
set rmargin 12
plot "{data}" using 2:xtic(1) title "rvmsim (median)" lc rgb "#1f77b4", \\
     "" using 3 title "RVM (criterion median, or the statistic bench/peers/rvm.json compares)" lc rgb "#ff7f0e"
""")


def series_points(rows, spec, value_of):
    pattern = re.compile(spec["pattern"])
    return sorted((int(m.group(1)), value_of(r)) for n, r in rows.items()
                  if (m := pattern.match(n)))


def chart_mincut(out_dir, rows, spec):
    points = series_points(rows, spec, lambda r: r["ns_per_op_median"])
    if not points:
        return
    data = out_dir / "mincut_scaling.dat"
    data.write_text("".join(f"{x} {y:.3f}\n" for x, y in points))
    x0, y0 = points[0]
    gnuplot(f"""
set terminal pngcairo noenhanced size 800,500 font "DejaVu Sans,10"
set output "{out_dir / 'mincut_scaling.png'}"
set title "{spec['title']} (log-log)"
set xlabel "nodes (live partitions)"
set ylabel "ns per global min-cut (median)"
set logscale xy
set xtics ({", ".join(str(x) for x, _ in points)})
set grid
set key top left
f(x) = {y0} * (x / {x0}.0) ** 3
plot "{data}" using 1:2 with linespoints lw 2 pt 7 title "rvmsim Stoer-Wagner", \
     f(x) with lines dt 2 lc rgb "gray40" title "n^3 through the first point"
""")


def chart_sweep(out_dir, rows, spec):
    points = series_points(rows, spec, lambda r: r.get("value", 0.0))
    if not points:
        return
    data = out_dir / "sweep_throughput.dat"
    data.write_text("".join(f"{x} {y:.1f}\n" for x, y in points))
    x0, y0 = points[0]
    gnuplot(f"""
set terminal pngcairo noenhanced size 800,500 font "DejaVu Sans,10"
set output "{out_dir / 'sweep_throughput.png'}"
set title "{spec['title']}"
set xlabel "worker processes (--jobs)"
set ylabel "seeds per second"
set xrange [0.5:{points[-1][0] + 0.5}]
set yrange [0:*]
set xtics 1
set grid ytics
set key top left
set style fill solid 0.7 border -1
set boxwidth 0.5
plot "{data}" using 1:2 with boxes lc rgb "#1f77b4" title "rvmsim smoke sweep (measured)", \
     "" using 1:2:(sprintf("%.0f", $2)) with labels offset 0,1 notitle, \
     {y0 / x0} * x with lines dt 2 lc rgb "gray40" title "linear scaling from 1 job"
""")


def main():
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    out_dir = pathlib.Path(sys.argv[1])
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = load_lines(sys.argv[2:])
    if not rows:
        print("report: no benchmark results", file=sys.stderr)
        return 1
    targets = json.loads((ROOT / "bench" / "targets.json").read_text())
    peer_file = json.loads((ROOT / "bench" / "peers" / "rvm.json").read_text())
    peers, sources = peer_file["benchmarks"], peer_file.get("sources", {})
    # Metadata from a row the harness wrote (system benchmarks carry less of it).
    any_row = next((r for r in rows.values() if "compiler" in r), next(iter(rows.values())))
    meta = {k: any_row.get(k, "unknown") for k in ("build", "compiler", "flags", "cpu")}
    loads = [r["load_average_1m"] for r in rows.values() if r.get("load_average_1m", -1) >= 0]
    if loads:
        meta["load_text"] = (f"1-minute load average when the figures were taken: {min(loads):.1f} to "
                             f"{max(loads):.1f} (this machine has {os.cpu_count()} CPUs).")

    evaluated = [evaluate(n, rows[n], targets["workloads"], peers, rows) for n in sorted(rows)]
    (out_dir / "latest.json").write_text(json.dumps(
        {"meta": meta, "peer_sources": sources, "results": [dict(rows[e["workload"]], **{"evaluation": e}) for e in evaluated]},
        indent=2) + "\n")
    with (out_dir / "latest.csv").open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(evaluated[0].keys()))
        w.writeheader()
        w.writerows(evaluated)
    write_markdown(out_dir / "report.md", evaluated, meta, sources)
    for line in source_lines(evaluated, sources, meta):
        if line:
            print(f"report: {line.lstrip('- ')}")

    chart_ns_per_op(out_dir, evaluated)
    charts = targets.get("charts", {})
    if "mincut_scaling" in charts:
        chart_mincut(out_dir, rows, charts["mincut_scaling"])
    if "sweep_throughput" in charts:
        chart_sweep(out_dir, rows, charts["sweep_throughput"])
    for e in evaluated:
        if e["vs_floor"] is not None:
            print(f"report: {e['workload']} is {floor_text(e)}")
    missed = [e["workload"] for e in evaluated if e["verdict"] == "missed"]
    print(f"report: {len(evaluated)} workloads -> {out_dir}/report.md"
          f"{'; targets missed: ' + ', '.join(missed) if missed else ''}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
