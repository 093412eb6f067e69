#!/usr/bin/env bash
# System benchmark for make bench: peak resident memory of `rvmsim demo --records N --db` (append,
# store and verify N witness records) and of `rvmsim verify --db` over the same store, at N and at
# N/10, as JSON lines in rvmbench's schema (value = peak RSS in MB from /usr/bin/time; ns_per_op =
# wall ns per record). A streaming path's memory does not depend on the log's length, so the
# figure at N may exceed the one at N/10 by at most MEMORY_MAX_GROWTH (default 1.2): the
# `*_rss_growth` rows carry that ratio, and the script exits 1 when a ratio is over the bound.
# Each SQLite connection caches up to 16 MiB of pages, so the bound is only checked when N/10 is
# at least 1,000,000 records (125 MB of store): below that the caches are still filling.
#   bench/system/memory.sh --json FILE [RECORDS]      (default 10,000,000: ~1.2 GB of store)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
[[ ${1:-} == --json ]] || { echo "usage: $0 --json FILE [RECORDS]" >&2; exit 2; }
json=$2
records=${3:-10000000}
max_growth=${MEMORY_MAX_GROWTH:-1.2}
rvmsim=${RVMSIM:-$root/build/cli/rvmsim}
build=$(cat "$root/build/meson-info/intro-projectinfo.json" 2>/dev/null | grep -o '"version": "[^"]*"' | cut -d'"' -f4 || echo unknown)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"

row() { # NAME VALUE VALUE_UNIT NS_PER_RECORD RECORDS DESCRIPTION
  printf '{"name":"%s","unit":"record","ns_per_op_min":%s,"ns_per_op_median":%s,"ns_per_op_max":%s,"ops_per_iter":1,"value":%s,"value_unit":"%s","records":%d,"build":"%s","description":"%s"}\n' \
    "$1" "$4" "$4" "$4" "$2" "$3" "$5" "$build" "$6" >>"$json"
}

# measure NAME N DESCRIPTION COMMAND...: a row with the command's peak RSS; sets $mb.
measure() {
  local name=$1 n=$2 description=$3
  shift 3
  /usr/bin/time -f '%M %e' -o "$tmp/time" "$@" >/dev/null
  local rss_kb wall_s ns
  read -r rss_kb wall_s <"$tmp/time"
  mb=$(awk -v k="$rss_kb" 'BEGIN { printf "%.1f", k / 1024 }')
  ns=$(awk -v s="$wall_s" -v n="$n" 'BEGIN { printf "%.1f", s * 1e9 / n }')
  echo "$name: peak RSS $mb MB, $wall_s s for $n records"
  row "$name" "$mb" "MB peak RSS" "$ns" "$n" "$description"
}

# demo_and_verify N SUFFIX: both figures for a store of N records; sets $demo_mb and $verify_mb.
demo_and_verify() {
  local n=$1 suffix=$2
  measure "demo_db_peak_rss$suffix" "$n" "rvmsim demo --records $n --db: append, store and verify" \
    "$rvmsim" demo --records "$n" --db "$tmp/demo.db"
  demo_mb=$mb
  measure "verify_db_peak_rss$suffix" "$n" "rvmsim verify --db over the demo's store of $n records" \
    "$rvmsim" verify --db "$tmp/demo.db"
  verify_mb=$mb
  rm -f "$tmp"/demo.db*
}

tenth=$((records / 10))
demo_and_verify "$tenth" _tenth
demo_tenth=$demo_mb verify_tenth=$verify_mb
demo_and_verify "$records" ""

failed=0
# growth NAME AT_N AT_TENTH: the ratio row, checked against the bound.
growth() {
  local ratio
  ratio=$(awk -v a="$2" -v b="$3" 'BEGIN { printf "%.3f", a / b }')
  row "$1" "$ratio" "x the peak RSS at $tenth records (bound $max_growth)" 0 "$records" \
    "peak RSS at $records records over the peak at $tenth: a streaming path stays near 1"
  if [ "$tenth" -lt 1000000 ]; then
    echo "$1: $ratio x (not checked: $tenth records do not fill the page caches)"
  elif awk -v r="$ratio" -v m="$max_growth" 'BEGIN { exit !(r > m) }'; then
    echo "$1: FAIL: $2 MB at $records records is $ratio x the $3 MB at $tenth (bound $max_growth x)"
    failed=1
  else
    echo "$1: $ratio x (bound $max_growth x)"
  fi
}
growth demo_db_rss_growth "$demo_mb" "$demo_tenth"
growth verify_db_rss_growth "$verify_mb" "$verify_tenth"
exit $failed
