#!/usr/bin/env bash
# usage: expect_error.sh KRON NP REGEX DECK [args...]
# Runs kron on a copy of DECK's folder and checks: a non-zero exit, exactly one 'kron:' line on
# stderr, that it matches REGEX, no nested parentheses in it, and that the run left no file behind (no partial output).
set -u
kron=$1; np=$2; regex=$3; deck=$4; shift 4
src=$(cd "$(dirname "$deck")" && pwd)
work=$(mktemp -d); log=$(mktemp)
trap 'rm -rf "$work" "$log"' EXIT
cp -r "$src"/. "$work"/
cd "$work"
before=$(find . | sort)
timeout 120 mpirun --quiet -n "$np" "$kron" "$(basename "$deck")" "$@" >/dev/null 2>"$log"
rc=$?
after=$(find . | sort)
fail() { echo "FAIL: $*"; echo "--- stderr:"; cat "$log"; exit 1; }
[ $rc -ne 0 ] || fail "exit code 0, expected failure"
[ $rc -ne 124 ] || fail "timed out (hang?)"
lines=$(grep -c '^kron:' "$log")
[ "$lines" -eq 1 ] || fail "expected exactly one 'kron:' line, got $lines"
grep '^kron:' "$log" | grep -q -E "^kron: error: .*$regex" || fail "message does not match /$regex/"
# One level of parentheses at most: "what (hint)", never "(did you mean x? (see y))".
# (Text in double quotes, an expression as written, is not counted.)
depth=$(grep '^kron:' "$log" | awk '{d=0; m=0; q=0; for (i=1; i<=length($0); i++) {c=substr($0,i,1); if (c=="\"") q=!q; else if (q) continue; else if (c=="(") {d++; if (d>m) m=d} else if (c==")") d--} print m}')
[ "$depth" -le 1 ] || fail "nested parentheses in the message"
[ "$before" = "$after" ] || fail "files were left behind: $(diff <(echo "$before") <(echo "$after") | grep '^>')"
echo "ok: rc=$rc: $(grep '^kron:' "$log")"
