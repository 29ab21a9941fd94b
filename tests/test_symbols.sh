#!/bin/sh
# The shared library exports exactly the lpc_* functions declared LPC_API in
# include/lpc/, under version node LPC_0, and has SONAME liblpc.so.<SOVERSION>.
set -eu
src=$1
build=$2
so=$(find "$build/lib" -maxdepth 1 -name 'liblpc.so.*.*' -type f | head -1)
[ -n "$so" ] || { echo "liblpc.so not built"; exit 1; }
sover=$(sed -n 's/^#define LPC_SOVERSION \([0-9]*\).*/\1/p' "$src/include/lpc/version.h")
soname=$(readelf -d "$so" | sed -n 's/.*SONAME.*\[\(.*\)\]/\1/p')
[ "$soname" = "liblpc.so.$sover" ] || { echo "SONAME is '$soname', expected liblpc.so.$sover"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
nm -D --defined-only "$so" | awk '{print $NF}' | grep -v '^LPC_0$' | sed 's/@.*//' | sort -u > "$tmp/exported"
grep -hoE 'LPC_API[^;(]*\(' "$src"/include/lpc/*.h | grep -oE 'lpc_[a-z0-9_]+ *\($' | tr -d ' (' | sort -u > "$tmp/declared"
bad=$(grep -v '^lpc_' "$tmp/exported" || true)
[ -z "$bad" ] || { echo "exported without the lpc_ prefix:"; echo "$bad"; exit 1; }
if ! diff -u "$tmp/declared" "$tmp/exported"; then
    echo "exported symbols differ from the LPC_API declarations (- declared only, + exported only)"
    exit 1
fi
nm -D --defined-only "$so" | grep -q ' LPC_0$' || { echo "version node LPC_0 missing"; exit 1; }
echo "symbols: $(wc -l < "$tmp/exported") exported, SONAME $soname"
