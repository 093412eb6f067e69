#!/usr/bin/env bash
# Every C source and header must match .clang-format. One TAP result; offenders are listed.
# Fix with `make format`.
set -u
root=${1:-$(dirname "$0")/..}
cd "$root" || exit 2
echo "1..1"
command -v clang-format >/dev/null || { echo "not ok 1 - clang-format not installed"; exit 1; }
bad=() n=0
while IFS= read -r f; do
  n=$((n + 1))
  clang-format --dry-run --Werror "$f" >/dev/null 2>&1 || bad+=("$f")
done < <(find core platform host replay sim cli tests bench firmware -name '*.[ch]' 2>/dev/null | sort)
if ((${#bad[@]} == 0)); then
  echo "ok 1 - $n C files match .clang-format"
  exit 0
fi
echo "not ok 1 - ${#bad[@]} of $n C files need formatting (run: make format)"
printf '# %s\n' "${bad[@]}"
exit 1
