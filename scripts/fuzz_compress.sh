#!/usr/bin/env bash
# Build the codec's libFuzzer target with clang (ASan + UBSan) and fuzz it briefly.
#   fuzz_compress.sh SOURCE_ROOT OUT_DIR [SECONDS]
# Prints TAP; reports a skip when clang cannot build a libFuzzer binary.
set -u
root=$1 out=$2 secs=${3:-10}
mkdir -p "$out/corpus"
echo "1..1"
bin="$out/fuzz_compress"
if ! clang -std=c11 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
     -I"$root/core/include" "$root/tests/fuzz/fuzz_compress.c" "$root/core/src/compress.c" \
     "$root/core/src/sha256.c" "$root/core/src/crypto_portable.c" -o "$bin" 2>"$out/build.log"; then
  echo "ok 1 # SKIP clang/libFuzzer unavailable (see $out/build.log)"
  exit 0
fi
if "$bin" -max_total_time="$secs" -max_len=4096 -print_final_stats=1 "$out/corpus" \
     >"$out/fuzz.log" 2>&1; then
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$out/fuzz.log" | grep -o '[0-9]*$')
  echo "ok 1 - codec fuzzed for ${secs}s, ${runs:-?} inputs, no crash"
  exit 0
fi
echo "not ok 1 - fuzzer found a crash; see $out/fuzz.log"
tail -n 40 "$out/fuzz.log" | sed 's/^/# /'
exit 1
