#!/usr/bin/env bash
# System benchmark for make bench: sweep throughput of the standard smoke workload
# (scenarios/kernel-smoke.scn, through bench/sweep_rate.sh) at 1 and 2 worker processes, written
# as JSON lines in rvmbench's schema (value = seeds/s; ns_per_op = wall ns per seed).
#   bench/system/sweep.sh --json FILE [SEEDS]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
[[ ${1:-} == --json ]] || { echo "usage: $0 --json FILE [SEEDS]" >&2; exit 2; }
json=$2
seeds=${3:-100000}
build=$(cat "$root/build/meson-info/intro-projectinfo.json" 2>/dev/null | grep -o '"version": "[^"]*"' | cut -d'"' -f4 || echo unknown)
for jobs in 1 2; do
  line=$(RVMSIM=${RVMSIM:-$root/build/cli/rvmsim} bash "$root/bench/sweep_rate.sh" "$seeds" "$jobs" 3)
  echo "$line"
  rate=$(sed -n 's/^sweep_smoke: \([0-9]*\) seeds\/s.*/\1/p' <<<"$line")
  projected=$(sed -n 's/.*1,000,000 seeds in \([0-9.]*\) s.*/\1/p' <<<"$line")
  ns=$(awk -v r="$rate" 'BEGIN { printf "%.1f", 1e9 / r }')
  printf '{"name":"sweep_smoke_jobs%d","unit":"seed","ns_per_op_min":%s,"ns_per_op_median":%s,"ns_per_op_max":%s,"ops_per_iter":1,"value":%d,"value_unit":"seeds/s","projected_1M_s":%s,"build":"%s","description":"kernel smoke sweep with swarm faults, %d seeds, best of 3, %d worker process(es)"}\n' \
    "$jobs" "$ns" "$ns" "$ns" "$rate" "$projected" "$build" "$seeds" "$jobs" >>"$json"
done
