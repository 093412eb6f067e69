#!/usr/bin/env bash
# Build the store libFuzzer target (tests/fuzz/fuzz_store.c: damaged store files read as
# runs/verify/show/store check read them; raw logs and serial captures imported, then verified;
# bundles and raw logs given to `verify FILE`)
# with clang (-fsanitize=fuzzer,address,undefined) over core/, host/ and replay/; run it briefly.
# One TAP result. Usage: run_fuzz_store.sh SOURCE_ROOT BUILD_DIR WORKDIR SECONDS
# The seed corpus is made here: small stores written by BUILD_DIR's rvmsim (demo runs, sealed,
# one unsealed import), a raw log and a serial capture. A crash leaves its input in WORKDIR
# (crash-*); reproduce with WORKDIR/fuzz_store FILE.
set -u
root=$1 build=$2 work=$3 seconds=${4:-5}
echo "1..1"
name="fuzz_store (${seconds}s)"
command -v clang >/dev/null || { echo "not ok 1 - $name: clang not installed (scripts/deps.sh test)"; exit 1; }
mkdir -p "$work/corpus" "$work/seeds"
bin=$work/fuzz_store
if ! clang -g -O1 -std=c11 -D_GNU_SOURCE -DRVM_CORE_VERSION='"fuzz"' -DRVMSIM_PROJECT_VERSION='"fuzz"' \
      -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
      -I"$root/core/include" -I"$root/core/src" -I"$root/host" -I"$root/replay" -I"$build" \
      "$root/tests/fuzz/fuzz_store.c" "$root"/replay/*.c "$root"/host/*.c "$root"/core/src/*.c \
      -lsqlite3 -lcrypto -lpthread -o "$bin" 2>"$work/build.log"; then
  echo "not ok 1 - $name: build failed"
  sed 's/^/# /' "$work/build.log" | head -40
  exit 1
fi
rvmsim=$build/cli/rvmsim
if [ ! -s "$work/seeds/made" ]; then
  rm -f "$work"/seeds/*.db*
  "$rvmsim" demo --records 12 --checkpoint-interval 4 --seed 3 --db "$work/seeds/a.db" >/dev/null 2>&1
  "$rvmsim" export --db "$work/seeds/a.db" --run 1 --format raw -o "$work/seeds/a.raw" >/dev/null 2>&1
  "$rvmsim" import --db "$work/seeds/a.db" --seed 3 "$work/seeds/a.raw" >/dev/null 2>&1
  "$rvmsim" store repair --db "$work/seeds/a.db" >/dev/null 2>&1  # folds the WAL into the file
  { printf '\0'; cat "$work/seeds/a.db"; } >"$work/corpus/seed-store"
  { printf '\1'; cat "$work/seeds/a.raw"; } >"$work/corpus/seed-raw"
  { printf '\3'; cat "$work/seeds/a.raw"; } >"$work/corpus/seed-raw-seeded"
  "$rvmsim" demo --records 9 --checkpoint-interval 3 --seed 4 --serial "$work/seeds/s.txt" \
    >/dev/null 2>&1
  { printf '\2'; cat "$work/seeds/s.txt"; } >"$work/corpus/seed-serial"
  echo made >"$work/seeds/made"
fi
if [ ! -s "$work/corpus/seed-bundle" ]; then
  "$rvmsim" export --db "$work/seeds/a.db" --run 1 --format bundle -o "$work/seeds/a.bundle" \
    >/dev/null 2>&1
  { printf '\4'; cat "$work/seeds/a.bundle"; } >"$work/corpus/seed-bundle"
  { printf '\4'; cat "$work/seeds/a.raw"; } >"$work/corpus/seed-verify-raw"
fi
# The store files each input writes: on a memory file system when there is one, removed at exit.
scratch=$(mktemp -d /dev/shm/rvm-fuzz-store.XXXXXX 2>/dev/null || mktemp -d /tmp/rvm-fuzz-store.XXXXXX)
trap 'rm -rf "$scratch"' EXIT
export RVM_FUZZ_STORE_DIR=$scratch
cd "$work" || exit 1
if ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
   "$bin" -max_total_time="$seconds" -max_len=600000 -seed=1 -print_final_stats=1 \
   -rss_limit_mb=3000 corpus >"$work/fuzz.log" 2>&1; then
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/fuzz.log")
  echo "ok 1 - $name: ${runs:-?} inputs, no crash"
  exit 0
fi
echo "not ok 1 - $name: crash or sanitizer report (input saved in $work)"
tail -40 "$work/fuzz.log" | sed 's/^/# /'
exit 1
