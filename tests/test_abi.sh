#!/bin/sh
# The library's ABI is compatible with the committed baseline abi/liblpc.abi:
# additions pass, an incompatible change fails unless the baseline was
# regenerated together with an LPC_SOVERSION bump (doc/abi.md).
set -eu
src=$1
build=$2
command -v abidiff >/dev/null || { echo "abigail-tools not installed: skipped"; exit 77; }
base="$src/abi/liblpc.abi"
[ -f "$base" ] || { echo "no baseline $base: run scripts/abi-update"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$src/scripts/abi-update" --dump "$build/abi-debug" "$tmp/current.abi"
soname() { sed -n "s/.*soname='\([^']*\)'.*/\1/p" "$1" | head -1; }
if [ "$(soname "$base")" != "$(soname "$tmp/current.abi")" ]; then
    echo "SONAME is $(soname "$tmp/current.abi") but the baseline records $(soname "$base"):"
    echo "regenerate the baseline with scripts/abi-update in the same change as the LPC_SOVERSION bump"
    exit 1
fi
rc=0
abidiff --no-show-locs "$base" "$tmp/current.abi" > "$tmp/diff" 2>&1 || rc=$?
cat "$tmp/diff"
# abidiff flags only removed symbols as incompatible (bit 8); a changed
# signature or type is bit 4 like an addition, so the summary decides.
changed=$(grep -E 'changes summary: .*[1-9][0-9]* (Removed|Changed)' "$tmp/diff" || true)
if [ $((rc & 8)) -ne 0 ] || [ -n "$changed" ]; then
    echo "incompatible ABI change against abi/liblpc.abi: bump LPC_SOVERSION and run scripts/abi-update (doc/abi.md)"
    exit 1
fi
if [ $((rc & 3)) -ne 0 ]; then
    echo "abidiff failed (exit $rc)"
    exit 1
fi
[ $((rc & 4)) -ne 0 ] && echo "compatible ABI additions: run scripts/abi-update to record them" || echo "ABI unchanged"
exit 0
