#!/usr/bin/env bash
# Build the hypercall decoder's libFuzzer target (tests/fuzz/fuzz_hypercall.c) with clang
# (-fsanitize=fuzzer,address,undefined) over core/, platform/ and the simulated platform, and run
# it briefly. One TAP result. Usage: run_fuzz_hypercall.sh SOURCE_ROOT WORKDIR SECONDS
# A crash leaves its input in WORKDIR (crash-*); reproduce with WORKDIR/fuzz_hypercall FILE.
set -u
root=$1 work=$2 seconds=${3:-5}
echo "1..1"
name="fuzz_hypercall (${seconds}s)"
command -v clang >/dev/null || { echo "not ok 1 - $name: clang not installed (scripts/deps.sh test)"; exit 1; }
mkdir -p "$work/corpus"
bin=$work/fuzz_hypercall
if ! clang -g -O1 -std=c11 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined \
      -fno-sanitize-recover=all -I"$root/core/include" -I"$root/core/src" -I"$root/host" \
      -I"$root/sim" -I"$root/sim/tlb" -I"$root/platform/common" -I"$root/platform/aarch64" \
      -I"$root/platform/riscv" "$root/tests/fuzz/fuzz_hypercall.c" "$root"/core/src/*.c \
      "$root"/platform/*/*.c "$root/sim/hal_platform.c" "$root/sim/hal_sim.c" \
      "$root/sim/tlb/a64_tlb.c" "$root/host/sink_memory.c" "$root/host/crypto_openssl.c" \
      -lcrypto -o "$bin" 2>"$work/build.log"; then
  echo "not ok 1 - $name: build failed"
  sed 's/^/# /' "$work/build.log" | head -40
  exit 1
fi
# seeds: VERSION on each architecture, then REGION_CREATE on the caller's own capability
# (x1 = result register 2 of VERSION, as the input format of fuzz_hypercall.c encodes it)
zeros() { head -c "$1" /dev/zero; }
for arch in 0 1; do
  { printf "\\$(printf %o $arch)"; printf '\0'; zeros 56;
    printf '\006\002\002'; zeros 6; printf '\000\001'; zeros 6; printf '\000\003'; zeros 6;
    printf '\000\001'; zeros 6; zeros 24; } >"$work/corpus/seed-$arch"
done
cd "$work" || exit 1
if ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
   "$bin" -max_total_time="$seconds" -max_len=1024 -seed=1 -print_final_stats=1 \
   corpus >"$work/fuzz.log" 2>&1; then
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/fuzz.log")
  echo "ok 1 - $name: ${runs:-?} inputs, no crash"
  exit 0
fi
echo "not ok 1 - $name: crash or sanitizer report (input saved in $work)"
tail -40 "$work/fuzz.log" | sed 's/^/# /'
exit 1
