#!/bin/sh
# The library knows no model of the ablation, and the examples are built
# like a user's program from the public API only:
#   1. no model name of the ablation appears as a string under lib/ or include/;
#   2. examples/ includes only <...> headers (system or <lpc/...>, never the
#      library's internals) and its own headers inside examples/;
#   3. examples/ links liblpc (shared) and nothing of the library's objects:
#      no meson reference to lpc_objects, the static library or lib/, and no
#      built example program defines an lpc_ or lpci_ symbol itself.
set -eu
src=$1
build=$2
fail=0

models='"LPC" "LPC-Wide" "LPC-Narrow" "LPC-SCL" "LPC-NoPen" "LinPen" "NonlinPen" "SCL" "ArcFace" "CosFace" "NoPen"'
for m in $models; do
    if grep -rnF -- "$m" "$src/lib" "$src/include"; then
        echo "model name $m found in the library"
        fail=1
    fi
done

for f in $(find "$src/examples" -name '*.[ch]'); do
    dir=$(dirname "$f")
    grep -hoE '^[[:space:]]*#[[:space:]]*include[[:space:]]*[<"][^>"]+[>"]' "$f" |
        sed -E 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*//' > "$build/layering.inc" || true
    while read -r inc; do
        name=$(echo "$inc" | sed -E 's/^[<"](.*)[>"]$/\1/')
        case "$inc" in
        \<*)
            case "$name" in
            *internal* | lib/* | ../*) echo "$f: includes library internals $inc"; fail=1 ;;
            esac ;;
        \"*)
            real=$(realpath -m "$dir/$name")
            case "$real" in
            "$(realpath "$src/examples")"/*) [ -f "$real" ] || { echo "$f: $inc missing"; fail=1; } ;;
            *) echo "$f: includes $inc from outside examples/"; fail=1 ;;
            esac ;;
        esac
    done < "$build/layering.inc"
done
rm -f "$build/layering.inc"

if grep -rnE "lpc_objects|get_static_lib|'\.\./\.\./lib|include_directories\('\.\./lib|LPC_BUILDING_LIBRARY" \
        "$src/examples" --include=meson.build; then
    echo "an example links the library's objects or reaches lib/"
    fail=1
fi
n=0
for exe in $(find "$build/examples" -maxdepth 2 -type f -name 'lpc-*' -perm -u+x 2>/dev/null); do
    n=$((n + 1))
    if nm --defined-only "$exe" 2>/dev/null | awk '{print $NF}' | grep -E '^lpci?_'; then
        echo "$exe defines library symbols itself (links library objects)"
        fail=1
    fi
    readelf -d "$exe" | grep -q 'NEEDED.*liblpc\.so' || { echo "$exe does not link liblpc.so"; fail=1; }
done
[ $fail -eq 0 ] || exit 1
echo "layering: no model names in lib/ or include/; examples use <lpc/...> and liblpc.so only ($n programs checked)"
