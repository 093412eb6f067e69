#!/bin/bash
# cppcheck over the freestanding C folders given (default: core platform), relative to the
# source root in $1; folders that do not exist are skipped. Exits non-zero on any finding.
#
# Checks: warning, portability and style. Each finding is fixed in the code or suppressed inline
# (`/* cppcheck-suppress <id> */` on the line before) with a comment saying why it is wrong.
# The byte-order macros are what gcc and clang predefine: core/include/rvm/bytes.h refuses to
# compile without them, and cppcheck does not know them, so without -D it would skip every file.
set -euo pipefail
root=${1:-.}
shift || true
[ $# -gt 0 ] || set -- core platform
command -v cppcheck >/dev/null 2>&1 || { echo "1..0 # SKIP cppcheck not installed"; exit 77; }
cd "$root"
dirs=""
for d in "$@"; do
    if [ -d "$d" ]; then dirs="$dirs $d"; else echo "# $d: absent, skipped"; fi
done
[ -n "$dirs" ] || { echo "1..0 # SKIP no folder to check"; exit 77; }
echo "1..1"
# shellcheck disable=SC2086 # $dirs is a list of folders
if cppcheck --std=c11 --language=c --enable=warning,portability,style --inline-suppr \
    --error-exitcode=1 -q -j 2 -I core/include \
    -D__BYTE_ORDER__=1234 -D__ORDER_LITTLE_ENDIAN__=1234 -D__ORDER_BIG_ENDIAN__=4321 \
    -D__GNUC__=12 -D__x86_64__ $dirs 2>&1 | sed 's/^/# /'; then
    echo "ok 1 - cppcheck:$dirs"
else
    echo "not ok 1 - cppcheck:$dirs"
    exit 1
fi
