#!/bin/sh
# Every public function (scripts/list-api) is called somewhere in the Check
# suites (tests/*.c); tests/test_misuse.c is the catch-all for misuse calls.
set -eu
src=$1
missing=""
for f in $("$src/scripts/list-api"); do
    grep -qw -- "$f" "$src"/tests/*.c || missing="$missing $f"
done
[ -z "$missing" ] || { echo "public functions not exercised by any tests/*.c:"; echo "$missing" | tr ' ' '\n' | sed '/^$/d; s/^/  /'; exit 1; }
echo "api coverage: $("$src/scripts/list-api" | wc -l) public functions, all mentioned in tests/*.c"
