#!/usr/bin/env bash
# Both attack tables of issue #17, before and after the validation fixes, into docs/validation-attacks.md.
#
#   scripts/attack/all.sh BEFORE_WORKTREE AFTER_WORKTREE [OUTROOT]
#
# Each worktree must hold a release build (`swift build -c release --product fashionlab`). For example:
#   git worktree add ../wt-before b4d2292 && (cd ../wt-before && swift build -c release --product fashionlab)
#   swift build -c release --product fashionlab
#   scripts/attack/all.sh ../wt-before .
# Runs the "before" binary, then the "after" one (one after the other: each trains and evaluates), about
# 10 minutes for the before binary (its hangs are waited out: 120 s, and 90 s per download) and 2 for after.
set -eu
if [ $# -lt 2 ]; then echo "usage: $0 BEFORE_WORKTREE AFTER_WORKTREE [OUTROOT]" >&2; exit 2; fi
HERE=$(dirname "$(readlink -f "$0")")
BEFORE=$(readlink -f "$1"); AFTER=$(readlink -f "$2")
ROOT=${3:-$(mktemp -d /tmp/fashionlab-attacks.XXXXXX)}
PY=${PYTHON:-/work/main/.venv/bin/python}; [ -x "$PY" ] || PY=python3
label() {
    local rev; rev=$(git -C "$1" rev-parse --short HEAD)
    echo "\`$rev\` ($(git -C "$1" log -1 --format=%cs "$rev"), $(git -C "$1" log -1 --format=%s "$rev" | cut -c1-90)…), $("$1/.build/release/fashionlab" --version 2>/dev/null | head -1)"
}
for tree in "$BEFORE" "$AFTER"; do
    [ -x "$tree/.build/release/fashionlab" ] || { echo "no release build in $tree" >&2; exit 1; }
done
rm -rf "$ROOT/before" "$ROOT/after"; mkdir -p "$ROOT"
"$HERE/run.sh" "$BEFORE/.build/release/fashionlab" "$ROOT/before" | tee "$ROOT/before.md"
"$HERE/run.sh" "$AFTER/.build/release/fashionlab" "$ROOT/after" | tee "$ROOT/after.md"
mkdir -p "$AFTER/docs"
"$PY" "$HERE/combine.py" "$ROOT/before" "$ROOT/after" "$(label "$BEFORE")" "$(label "$AFTER")" > "$AFTER/docs/validation-attacks.md"
echo "wrote $AFTER/docs/validation-attacks.md (raw results in $ROOT)"
