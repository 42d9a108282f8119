#!/usr/bin/env bash
# usage: bench_smoke.sh KRON_BENCH PYTHON — kron-bench runs its suites (small sizes) and writes
# complete JSON reports (every figure finite, statistics and machine state present); every case's
# cross-check fails the run when kron's result is perturbed (--inject-error), leaving no report;
# bad options give one clear line. No timing is asserted: speed is reported, never tested.
set -u
bench=$1; py=$2
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
cd "$work"
export KRON_FFTW_WISDOM=$work/wisdom.txt
fail() { echo "FAIL: $*"; exit 1; }
"$bench" --help | grep -q -- "--inject-error" || fail "--help"
declare -A all=([layout]="copy,transpose,fft" [linops]="copy,laplacian,compact,dst1,poisson_fftw,poisson_amg" [gp]="copy,kronecker_solve,hm_step" [nn]="copy,monarch,butterfly,fno")
for suite in layout linops gp nn; do
  mpirun -n 2 "$bench" --suite "$suite" --quick --json "$suite.json" > "$suite.txt" 2>&1 || { cat "$suite.txt"; fail "suite $suite failed"; }
  "$py" "$here/check_bench_json.py" "$suite.json" "$suite" "${all[$suite]}" || fail "$suite.json"
  grep -q "speedup" "$suite.txt" || fail "suite $suite printed no table"
  # Every case's cross-check catches a wrong result: non-zero exit, one error line, no report.
  for c in ${all[$suite]//,/ }; do
    [ "$c" = copy ] && continue
    out=$(mpirun -n 2 "$bench" --suite "$suite" --quick --cases "$c" --inject-error "$c" --json "inj_$c.json" 2>&1); rc=$?
    [ $rc -ne 0 ] || fail "$suite/$c: a perturbed result passed the cross-check"
    [ "$(echo "$out" | grep -c '^kron-bench: error: ')" = 1 ] || fail "$suite/$c: expected one error line: $out"
    [ ! -e "inj_$c.json" ] || fail "$suite/$c: a failed run left its report behind"
    echo "ok: $suite/$c injected error caught: $(echo "$out" | grep '^kron-bench: error:')"
  done
done
[ -s wisdom.txt ] || fail "no FFTW wisdom written to \$KRON_FFTW_WISDOM"
out=$(mpirun -n 2 "$bench" --suite nosuch 2>&1); rc=$?
[ $rc -ne 0 ] || fail "unknown suite exited 0"
[ "$(echo "$out" | grep -c 'kron-bench: error: command line: unknown suite .nosuch.')" = 1 ] || fail "unknown suite message: $out"
out=$(mpirun -n 1 "$bench" --suite layout --sizes 0 2>&1); rc=$?
[ $rc -ne 0 ] && echo "$out" | grep -q "option --sizes expects an integer >= 2, got '0'" || fail "bad --sizes: $out"
mpirun -n 2 "$bench" --suite layout --quick --cases fft --json cases.json > cases.txt 2>&1 || { cat cases.txt; fail "--cases fft"; }
"$py" "$here/check_bench_json.py" cases.json layout copy,fft || fail "--cases fft did not run exactly copy and fft"
out=$(mpirun -n 1 "$bench" --suite linops --cases lapalcian 2>&1); rc=$?
[ $rc -ne 0 ] && echo "$out" | grep -q "suite linops has no case 'lapalcian'" && echo "$out" | grep -q "copy, laplacian, compact" \
  || fail "unknown case: $out"
out=$(mpirun -n 1 "$bench" --suite linops --quick --cases poisson_amg -- -gamg_pc_gamg_treshold 0.1 2>&1); rc=$?
[ $rc -ne 0 ] && echo "$out" | grep -q "PETSc option -gamg_pc_gamg_treshold was not used" || fail "unused PETSc option: $out"
mpirun -n 2 "$bench" --suite linops --quick --cases poisson_amg --json amg.json -- -gamg_pc_gamg_threshold 0.05 > amg.txt 2>&1 \
  || { cat amg.txt; fail "PETSc option after --"; }
grep -q -- "-gamg_pc_gamg_threshold 0.05" amg.json || fail "the PETSc option given after -- is not logged in the report"
echo ok
