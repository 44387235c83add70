#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# callgraph.sh [DIR] - which core file calls which: every external (not
# static) function ctags finds defined in one DIR/*.c file and called
# (NAME followed by "(", outside comments and string literals) in another
# is an edge "caller -> callee".  Prints the edges, then fails if two files
# call each other (the core is layered: docs/architecture.md).
set -eu
dir=${1:-libkdcom}
defs=$(mktemp)
trap 'rm -f "$defs"' EXIT
ctags -x --c-kinds=f --extras=-F "$dir"/*.c | awk '{ print $1, $4 }' > "$defs"
edges=$(for f in "$dir"/*.c; do
    while read -r fn file; do
        [ "$file" = "$f" ] && continue
        if grep -v '^ *\*\|^ */\*' "$f" | sed 's/"[^"]*"//g' |
            grep -q "\\b$fn *("; then
            echo "$(basename "$f" .c) -> $(basename "$file" .c)"
        fi
    done < "$defs"
done | sort -u)
echo "$edges"
bad=$(echo "$edges" | awk '{ e[$1 " " $3] = 1 }
    END { for (k in e) { split(k, p, " ");
          if ((p[2] " " p[1]) in e && p[1] < p[2]) print p[1] " <-> " p[2] } }')
if [ -n "$bad" ]; then
    echo "callgraph: files that call each other:" $bad
    exit 1
fi
echo "callgraph: no two files in $dir/ call each other"
