#!/usr/bin/env bash
# System benchmark for make bench: the hardware half on QEMU (TCG). For the smoke workload's seed 1
# on each architecture, `rvmsim qemu` (simulator run + tape + QEMU boot + import + compare) is
# timed 5 times; reported: the process wall time per scenario (DESIGN §7: <= 200 ms), QEMU's
# boot to its first witness record on the UART (<= 100 ms) and boot to exit as rvmsim qemu
# measures them, QEMU's own CPU time (user + system: on a shared machine the wall times measure
# the load more than the run), the firmware's own replay time from the board's counter, and UART
# bytes per witness record. JSON lines in rvmbench's schema (median of 5); the load average is
# printed with the figures.
#   bench/system/qemu.sh --json FILE
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
[[ ${1:-} == --json ]] || { echo "usage: $0 --json FILE" >&2; exit 2; }
json=$2
rvmsim=${RVMSIM:-$root/build/cli/rvmsim}
build=$(cd "$root" && git describe --always --dirty --abbrev=12 2>/dev/null || echo unknown)
make -C "$root" --no-print-directory firmware >/dev/null
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for arch in aarch64 riscv64; do
  scn=$root/scenarios/kernel-smoke.scn
  if [[ $arch == riscv64 ]]; then
    sed 's/^target kernel /target kernel riscv=true /' "$scn" >"$tmp/smoke-riscv.scn"
    scn=$tmp/smoke-riscv.scn
  fi
  walls=() boots=() firsts=() cpus=() replays=()
  for i in 1 2 3 4 5; do
    rm -rf "$tmp/keep"
    t0=$(date +%s%N)
    out=$("$rvmsim" qemu "$scn" --arch "$arch" --seed 1 --keep "$tmp/keep")
    t1=$(date +%s%N)
    walls+=($(( (t1 - t0) / 1000 )))
    boots+=($(sed -n 's/^qemu: .* boot to exit \([0-9.]*\) s.*/\1/p' <<<"$out" | awk '{ printf "%d", $1 * 1e6 }'))
    firsts+=($(sed -n 's/^qemu: .* first record \([0-9.]*\) s.*/\1/p' <<<"$out" | awk '{ printf "%d", $1 * 1e6 }'))
    cpus+=($(sed -n 's/^qemu: .* QEMU cpu \([0-9.]*\) s.*/\1/p' <<<"$out" | awk '{ printf "%d", $1 * 1e6 }'))
    replays+=($(tr -d '\r' <"$tmp/keep/qemu.txt" | sed -n 's/^rvmfw: replayed in \([0-9]*\) us/\1/p'))
  done
  records=$(grep -c '^RVMW R' "$tmp/keep/qemu.txt")
  bytes=$(wc -c <"$tmp/keep/qemu.txt")
  median() { printf '%s\n' "$@" | sort -n | sed -n 3p; }
  wall=$(median "${walls[@]}") boot=$(median "${boots[@]}") replay=$(median "${replays[@]}")
  first=$(median "${firsts[@]}") cpu=$(median "${cpus[@]}")
  per_record=$(awk -v b="$bytes" -v r="$records" 'BEGIN { printf "%.1f", b / r }')
  load=$(cut -d' ' -f1 /proc/loadavg)
  echo "qemu_$arch: rvmsim qemu ${wall} us wall, QEMU boot-to-first-record ${first} us, boot-to-exit ${boot} us, QEMU cpu ${cpu} us, replay ${replay} us, ${per_record} UART bytes/record ($records records), load $load"
  for pair in "scenario_wall:$wall:rvmsim qemu (sim + tape + QEMU + import + compare) of the smoke seed 1" \
              "boot_to_first_record:$first:QEMU process, start to the first witness record on the UART, smoke seed 1" \
              "boot_to_exit:$boot:QEMU process, boot to exit, smoke seed 1" \
              "qemu_cpu:$cpu:QEMU process, user + system CPU time, smoke seed 1" \
              "replay:$replay:the firmware's replay of the tape, by the board's counter"; do
    IFS=: read -r what us desc <<<"$pair"
    ns=$(( us * 1000 ))
    printf '{"name":"qemu_%s_%s","unit":"run","ns_per_op_min":%d,"ns_per_op_median":%d,"ns_per_op_max":%d,"ops_per_iter":1,"value":%d,"value_unit":"us","uart_bytes_per_record":%s,"build":"%s","description":"%s, median of 5 (%s)"}\n' \
      "$arch" "$what" "$ns" "$ns" "$ns" "$us" "$per_record" "$build" "$desc" "$arch" >>"$json"
  done
done
