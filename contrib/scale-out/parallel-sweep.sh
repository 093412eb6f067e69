#!/usr/bin/env bash
# One sweep split into N shards run by GNU parallel on the local job slots, then merged into one
# store that lists every seed exactly once (the `--shard K/N` / `merge` contract, docs/simulator.md).
#
#   contrib/scale-out/parallel-sweep.sh SCENARIO A..B SHARDS OUT.db [SWEEP OPTIONS...]
#
# Each shard is `rvmsim sweep SCENARIO --seeds A..B --shard K/SHARDS --jobs 1 --db shard-K.db`;
# parallel runs as many at once as there are CPUs (SLOTS=n to change that; `parallel -S` hosts
# work too when the shard stores land on a shared directory). Extra options (--faults swarm,
# --max-failures N, ...) go to every shard. RVMSIM names the binary (default: rvmsim on PATH).
# Exit: 0 when every seed passed; 1 when some failed (their full logs are in OUT.db:
# `rvmsim runs --db OUT.db --result fail`); 2 for a usage error; 6 when a shard or the merge
# failed to run.
set -euo pipefail

if [[ $# -lt 4 ]]; then
  sed -n '5,6p' "$0" | sed 's/^# *//' >&2
  exit 2
fi
scenario=$1 seeds=$2 shards=$3 out=$4
shift 4
rvmsim=${RVMSIM:-rvmsim}
work=$(mktemp -d "${TMPDIR:-/tmp}/rvmsim-shards.XXXXXX")
trap 'rm -rf "$work"' EXIT

# exit codes of a sweep that ran to the end: 0 pass, 1/3/4 failures found, 5 non-determinism
seq 0 $((shards - 1)) |
  parallel --will-cite --halt never --jobs "${SLOTS:-100%}" --joblog "$work/joblog" \
    "$rvmsim" sweep "$scenario" --seeds "$seeds" --shard "{}/$shards" --jobs 1 --no-progress \
    --db "$work/shard-{}.db" "$@" ">" "$work/shard-{}.log" "2>&1" || true

worst=0
while read -r _ _ _ _ _ _ exitval signal command; do
  if [[ $signal != 0 || ! $exitval =~ ^(0|1|3|4|5)$ ]]; then
    echo "parallel-sweep: a shard did not finish (exit $exitval, signal $signal): $command" >&2
    cat "$work"/shard-*.log >&2
    exit 6
  fi
  ((exitval > worst)) && worst=$exitval
done < <(tail -n +2 "$work/joblog")

shard_dbs=()
for ((k = 0; k < shards; k++)); do shard_dbs+=("$work/shard-$k.db"); done
"$rvmsim" merge --db "$out" "${shard_dbs[@]}" >&2 || exit 6
grep -h "passed, .* failed" "$work"/shard-*.log |
  awk '{p += $1; f += $3} END {printf "%d passed, %d failed in %d shards\n", p, f, NR}'
((worst == 0)) || exit 1
