#!/usr/bin/env bash
# Installs the Debian packages a make target needs, and only when some are missing.
# Idempotent: a second run with everything present does no apt work at all.
#   scripts/deps.sh build|test|bench|qemu|all
set -euo pipefail

build_pkgs=(meson ninja-build pkg-config gcc libc6-dev libsqlite3-dev libssl-dev git)
test_pkgs=(libcmocka-dev python3-pytest python3-networkx clang-format valgrind gcc-aarch64-linux-gnu gcc-riscv64-linux-gnu
           clang libclang-rt-14-dev llvm valgrind
           python3-cryptography  # Ed25519, an independent check of stored signatures
           spin cppcheck frama-c-base why3 z3 cvc4 gcovr  # the evidence gates (docs/evidence.md)
           parallel shellcheck python3-yaml)  # the scale-out recipes (contrib/scale-out)
bench_pkgs=(valgrind gnuplot-nox fonts-dejavu-core)
qemu_pkgs=(gcc-aarch64-linux-gnu gcc-riscv64-linux-gnu qemu-system-arm qemu-system-misc)

want=()
for group in "${@:-build}"; do
  case "$group" in
    build) want+=("${build_pkgs[@]}") ;;
    test)  want+=("${build_pkgs[@]}" "${test_pkgs[@]}" "${qemu_pkgs[@]}") ;;
    bench) want+=("${build_pkgs[@]}" "${bench_pkgs[@]}") ;;
    qemu)  want+=("${build_pkgs[@]}" "${qemu_pkgs[@]}") ;;
    all)   want+=("${build_pkgs[@]}" "${test_pkgs[@]}" "${bench_pkgs[@]}" "${qemu_pkgs[@]}") ;;
    *) echo "deps.sh: unknown group '$group' (use build, test, bench, qemu or all)" >&2; exit 2 ;;
  esac
done

missing=()
for pkg in $(printf '%s\n' "${want[@]}" | sort -u); do
  status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$pkg")
done

if ((${#missing[@]} == 0)); then
  exit 0
fi

echo "deps: installing ${missing[*]}" >&2
sudo_cmd=()
[[ $(id -u) -eq 0 ]] || sudo_cmd=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
