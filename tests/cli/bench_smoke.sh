#!/usr/bin/env bash
# usage: bench_smoke.sh KRON_BENCH — kron-bench runs its suites (small sizes), writes valid JSON
# whose correctness cross-checks pass, and rejects bad options with one clear line. No timing
# is asserted: speed is reported by kron-bench, never tested.
set -u
bench=$1
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
cd "$work"
fail() { echo "FAIL: $*"; exit 1; }
"$bench" --help | grep -q -- "--suite" || fail "--help"
for suite in ${SUITES:-layout}; do
  mpirun -n 2 "$bench" --suite "$suite" --quick --json "$suite.json" > "$suite.txt" 2>&1 || { cat "$suite.txt"; fail "suite $suite failed"; }
  grep -q "\"suite\": \"$suite\"" "$suite.json" && grep -q '"speedup_vs_baseline"' "$suite.json" && tail -c 2 "$suite.json" | grep -q '}' \
    || fail "$suite.json is not a complete report"
  grep -q "speedup" "$suite.txt" || fail "suite $suite printed no table"
done
out=$(mpirun -n 2 "$bench" --suite nosuch 2>&1); rc=$?
[ $rc -ne 0 ] || fail "unknown suite exited 0"
[ "$(echo "$out" | grep -c 'kron-bench: error: command line: unknown suite .nosuch.')" = 1 ] || fail "unknown suite message: $out"
out=$(mpirun -n 1 "$bench" --suite layout --sizes 0 2>&1); rc=$?
[ $rc -ne 0 ] && echo "$out" | grep -q "option --sizes expects an integer >= 2, got '0'" || fail "bad --sizes: $out"
mpirun -n 2 "$bench" --suite layout --quick --cases copy,fft --json cases.json > cases.txt 2>&1 || { cat cases.txt; fail "--cases copy,fft"; }
grep -q 'fft r2c' cases.json && ! grep -q 'transpose' cases.json || fail "--cases copy,fft did not run exactly those cases"
out=$(mpirun -n 1 "$bench" --suite linops --cases lapalcian 2>&1); rc=$?
[ $rc -ne 0 ] && echo "$out" | grep -q "suite linops has no case 'lapalcian'" && echo "$out" | grep -q "copy, laplacian, compact, poisson" \
  || fail "unknown case: $out"
[ ! -e nosuch.json ] || fail "left a file behind"
echo ok
