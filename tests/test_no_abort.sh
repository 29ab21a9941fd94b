#!/bin/sh
# The library never terminates the process: no abort(), assert() or exit()
# calls in lib/ except the entries of tests/abort-allowlist.txt
# ("path:line-substring" per line, '#' comments; ideally empty).
set -eu
src=$1
allow="$src/tests/abort-allowlist.txt"
hits=$(cd "$src" && grep -rnE '(^|[^A-Za-z0-9_])(abort|assert|exit|_Exit|quick_exit)[[:space:]]*\(' \
    --include='*.c' --include='*.h' lib || true)
bad=""
IFS='
'
for h in $hits; do
    file=${h%%:*}
    text=${h#*:*:}
    ok=0
    if [ -f "$allow" ]; then
        for a in $(grep -vE '^[[:space:]]*(#|$)' "$allow"); do
            [ "${a%%:*}" = "$file" ] && case "$text" in *"${a#*:}"*) ok=1 ;; esac
        done
    fi
    [ $ok = 1 ] || bad="$bad$h
"
done
[ -z "$bad" ] || { printf 'process-terminating calls in lib/ (not in tests/abort-allowlist.txt):\n%s' "$bad"; exit 1; }
echo "no abort/assert/exit in lib/"
