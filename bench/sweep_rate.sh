#!/usr/bin/env bash
# Seeds per second of a real sweep of the standard smoke workload (scenarios/kernel-smoke.scn,
# what `make run` sweeps; SMOKE=FILE to measure another) with swarm faults (worker processes,
# pipes, determinism re-runs included) and the projected time for 1,000,000 seeds. The figure is
# the best of REPEATS.
#   bench/sweep_rate.sh [SEEDS=200000] [JOBS=2] [REPEATS=3] [--json FILE]
# With DB=1 in the environment every repeat stores its sweep in a new replay store (--db: a
# summary row per seed, the full log of failing seeds) and the store's size per run is reported.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
rvmsim=${RVMSIM:-$root/build/cli/rvmsim}
smoke=${SMOKE:-$root/scenarios/kernel-smoke.scn}
seeds=${1:-200000}
jobs=${2:-2}
repeats=${3:-3}
json=
if [[ ${4:-} == --json ]]; then json=${5:?--json needs a file}; fi
best=0
dbargs=()
name=sweep_smoke
if [[ ${DB:-0} != 0 ]]; then
  dbdir=$(mktemp -d)
  trap 'rm -rf "$dbdir"' EXIT
  name=sweep_smoke_db
fi
for ((i = 0; i < repeats; i++)); do
  if [[ -n ${dbdir:-} ]]; then
    rm -f "$dbdir"/sweep.db*
    dbargs=(--db "$dbdir/sweep.db")
  fi
  start=$(date +%s.%N)
  out=$("$rvmsim" sweep "$smoke" --seeds "1..$seeds" --jobs "$jobs" \
        --faults swarm --no-progress "${dbargs[@]}" 2>/dev/null)
  end=$(date +%s.%N)
  last=$(tail -1 <<<"$out")
  [[ $last == "$seeds passed, 0 failed" ]] || { echo "sweep failed: $last" >&2; exit 1; }
  rate=$(awk -v n="$seeds" -v a="$start" -v b="$end" 'BEGIN { printf "%.0f", n / (b - a) }')
  ((rate > best)) && best=$rate
done
projected=$(awk -v r="$best" 'BEGIN { printf "%.1f", 1000000 / r }')
echo "$name: $best seeds/s with $jobs jobs (best of $repeats x $seeds seeds);" \
     "1,000,000 seeds in ${projected} s (target <= 600 s)"
if [[ -n ${dbdir:-} ]]; then
  bytes=$(cat "$dbdir"/sweep.db* | wc -c)
  echo "$name: store $bytes bytes for $seeds runs ($((bytes / seeds)) bytes per run)"
fi
if [[ -n $json ]]; then
  printf '{"name":"%s_seeds_per_s","jobs":%d,"seeds":%d,"seeds_per_s":%d,"projected_1M_s":%s}\n' \
    "$name" "$jobs" "$seeds" "$best" "$projected" >>"$json"
fi
