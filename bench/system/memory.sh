#!/usr/bin/env bash
# System benchmark for make bench: peak resident memory of `rvmsim demo --records N --db` (append,
# store and verify N witness records) and of `rvmsim verify --db` over the same store, as JSON
# lines in rvmbench's schema (value = peak RSS in MB from /usr/bin/time; ns_per_op = wall ns per
# record). A streaming path's figure does not grow with N; compare two N to see the slope.
#   bench/system/memory.sh --json FILE [RECORDS]      (default 10,000,000: ~1 GB of store)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
[[ ${1:-} == --json ]] || { echo "usage: $0 --json FILE [RECORDS]" >&2; exit 2; }
json=$2
records=${3:-10000000}
rvmsim=${RVMSIM:-$root/build/cli/rvmsim}
build=$(cat "$root/build/meson-info/intro-projectinfo.json" 2>/dev/null | grep -o '"version": "[^"]*"' | cut -d'"' -f4 || echo unknown)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# measure NAME DESCRIPTION COMMAND...: one JSON line with the command's peak RSS and wall time.
measure() {
  local name=$1 description=$2
  shift 2
  /usr/bin/time -f '%M %e' -o "$tmp/time" "$@" >/dev/null
  read -r rss_kb wall_s <"$tmp/time"
  local mb ns
  mb=$(awk -v k="$rss_kb" 'BEGIN { printf "%.1f", k / 1024 }')
  ns=$(awk -v s="$wall_s" -v n="$records" 'BEGIN { printf "%.1f", s * 1e9 / n }')
  echo "$name: peak RSS $mb MB, $wall_s s for $records records"
  printf '{"name":"%s","unit":"record","ns_per_op_min":%s,"ns_per_op_median":%s,"ns_per_op_max":%s,"ops_per_iter":1,"value":%s,"value_unit":"MB peak RSS","records":%d,"build":"%s","description":"%s"}\n' \
    "$name" "$ns" "$ns" "$ns" "$mb" "$records" "$build" "$description" >>"$json"
}

measure demo_db_peak_rss "rvmsim demo --records $records --db: append, store and verify" \
  "$rvmsim" demo --records "$records" --db "$tmp/demo.db"
measure verify_db_peak_rss "rvmsim verify --db over the demo's store of $records records" \
  "$rvmsim" verify --db "$tmp/demo.db"
