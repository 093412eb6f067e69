#!/usr/bin/env bash
# Build a libFuzzer target with clang (-fsanitize=fuzzer,address,undefined) and run it briefly.
# One TAP result. Usage: run_fuzz.sh SOURCE_ROOT WORKDIR SECONDS
# A crash leaves its input in WORKDIR (crash-*); reproduce with WORKDIR/fuzz_wire_parse FILE.
set -u
root=$1 work=$2 seconds=${3:-5}
echo "1..1"
name="fuzz_wire_parse (${seconds}s)"
command -v clang >/dev/null || { echo "not ok 1 - $name: clang not installed (scripts/deps.sh test)"; exit 1; }
mkdir -p "$work/corpus"
bin=$work/fuzz_wire_parse
if ! clang -g -O1 -std=c11 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined \
      -fno-sanitize-recover=all -I"$root/core/include" -I"$root/replay" \
      "$root/tests/fuzz/fuzz_wire_parse.c" "$root/replay/wire_parse.c" "$root/core/src/wire.c" \
      -o "$bin" 2>"$work/build.log"; then
  echo "not ok 1 - $name: build failed"
  sed 's/^/# /' "$work/build.log"
  exit 1
fi
cd "$work" || exit 1
if ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
   "$bin" -max_total_time="$seconds" -max_len=4096 -seed=1 -print_final_stats=1 \
   corpus "$root/tests/fuzz/corpus_wire" >"$work/fuzz.log" 2>&1; then
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/fuzz.log")
  echo "ok 1 - $name: ${runs:-?} inputs, no crash"
  exit 0
fi
echo "not ok 1 - $name: crash or sanitizer report (input saved in $work)"
tail -40 "$work/fuzz.log" | sed 's/^/# /'
exit 1
