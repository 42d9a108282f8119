#!/usr/bin/env bash
# usage: poisson_ranks.sh KRON SOURCE_DIR PYTHON
# The example Poisson/Helmholtz/diffusion/heat decks (small grids) give the same finite solution
# on 1, 2, 3 and 4 ranks and on every process-grid shape within 1e-12, each within an error bound
# of its own (about twice what its scheme gives on this grid: a solver that loses accuracy, or
# returns NaN, fails), with residuals at rounding level, and write HDF5 + XDMF.
set -u
kron=$1; src=$2; py=$3
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
cd "$work"
fail() { echo "FAIL: $*"; exit 1; }
run() {  # name deck np [overrides...]
  local name=$1 deck=$2 np=$3; shift 3
  timeout 120 mpirun -n $np "$kron" "$src/inputs/$deck" log.timers=false output.dir=$name "$@" >$name.log 2>&1 \
    || { cat $name.log; fail "$name failed"; }
}
# deck -> the summary checks its 1-rank run must pass (measured errors on these grids, x ~2).
declare -A checks=(
  [quickstart.toml]="error_max<1.2e-4 error_l2<3e-5 residual_relative<1e-12"
  [poisson_neumann.toml]="error_max<4e-3 error_l2<1.1e-3 compatibility_defect<1e-12"
  [helmholtz_periodic.toml]="error_max<6e-5 error_l2<3e-5 residual_relative<1e-12"
  [poisson_chebyshev.toml]="error_max<1e-11 error_l2<1e-12 residual_relative<1e-10"
  [diffusion.toml]="error_max<6e-3 error_l2<2e-3 iterations<=40 iterations>=5 residual_relative<1e-12 converged_reason=CONVERGED_RTOL"
  [heat.toml]="error_max<3.3e-3 error_l2<1.1e-3 steps==6"
)
for deck in quickstart.toml poisson_neumann.toml helmholtz_periodic.toml poisson_chebyshev.toml diffusion.toml heat.toml; do
  base=${deck%.toml}
  small=(grid.n=[20,18,16])
  [ $deck = poisson_chebyshev.toml ] && small=(grid.n=[14,12,10])
  # Krylov to rounding level, so that 1e-12 agreement is not an iteration-count accident.
  [ $deck = diffusion.toml ] && small+=(diffusion.rtol=1e-14 diffusion.max_it=400)
  [ $deck = heat.toml ] && small+=(heat.t_end=0.3 heat.dt=0.05 heat.output_every=0)
  run ${base}_np1 $deck 1 "${small[@]}"
  run ${base}_np2 $deck 2 "${small[@]}"
  run ${base}_np3 $deck 3 "${small[@]}"
  run ${base}_np4 $deck 4 "${small[@]}"
  run ${base}_np4_14 $deck 4 "${small[@]}" parallel.process_grid=[1,4]
  h5=$(cd ${base}_np1 && ls *.h5 | sort | tail -1)
  for d in np2 np3 np4 np4_14; do
    "$py" "$here/h5compare.py" ${base}_np1/$h5 ${base}_$d/$h5 1e-12 /fields/u || fail "$deck: 1 rank and $d differ"
  done
  for d in np1 np2 np3 np4; do
    # shellcheck disable=SC2086
    "$py" "$here/summary_check.py" ${base}_$d/summary.json ${checks[$deck]} || fail "$deck: $d summary"
  done
  ls ${base}_np1/*.xdmf >/dev/null || fail "$deck: no XDMF"
done
# The quickstart's error is what compact6 gives (well below the fd2 error of the same grid).
run fd2 quickstart.toml 1 grid.n=[20,18,16] 'poisson.scheme=["fd2"]'
e6=$("$py" -c "import json; print(json.load(open('quickstart_np1/summary.json'))['error_max'])")
"$py" "$here/summary_check.py" fd2/summary.json "error_max>$("$py" -c "print(100 * $e6)")" || fail "compact6 error $e6 is not far below fd2's"
echo ok
