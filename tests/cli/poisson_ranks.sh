#!/usr/bin/env bash
# usage: poisson_ranks.sh KRON SOURCE_DIR
# The example Poisson/Helmholtz/diffusion/heat decks (small grids) give the same solution on 1, 2 and 4 ranks
# and on every process-grid shape within 1e-12, report their errors, and write HDF5 + XDMF.
set -u
kron=$1; src=$2
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
cd "$work"
fail() { echo "FAIL: $*"; exit 1; }
run() {  # name deck np [overrides...]
  local name=$1 deck=$2 np=$3; shift 3
  timeout 120 mpirun -n $np "$kron" "$src/inputs/$deck" log.timers=false output.dir=$name "$@" >$name.log 2>&1 \
    || { cat $name.log; fail "$name failed"; }
}
for deck in quickstart.toml poisson_neumann.toml helmholtz_periodic.toml poisson_chebyshev.toml diffusion.toml heat.toml; do
  base=${deck%.toml}
  small=(grid.n=[20,18,16])
  [ $deck = poisson_chebyshev.toml ] && small=(grid.n=[14,12,10])
  # Krylov to rounding level, so that 1e-12 agreement is not an iteration-count accident.
  [ $deck = diffusion.toml ] && small+=(diffusion.rtol=1e-14 diffusion.max_it=400)
  [ $deck = heat.toml ] && small+=(heat.t_end=0.3 heat.dt=0.05 heat.output_every=0)
  run ${base}_np1 $deck 1 "${small[@]}"
  run ${base}_np2 $deck 2 "${small[@]}"
  run ${base}_np4 $deck 4 "${small[@]}"
  run ${base}_np4_14 $deck 4 "${small[@]}" parallel.process_grid=[1,4]
  h5=$(cd ${base}_np1 && ls *.h5 | sort | tail -1)
  for d in np2 np4 np4_14; do
    h5diff --delta=1e-12 ${base}_np1/$h5 ${base}_$d/$h5 /fields/u /fields/u >/dev/null \
      || fail "$deck: /fields/u differs between 1 rank and $d: $(h5diff --delta=1e-12 ${base}_np1/$h5 ${base}_$d/$h5 /fields/u /fields/u | head -3)"
  done
  grep -q '"error_max"' ${base}_np1/summary.json || fail "$deck: summary.json has no error_max"
  ls ${base}_np1/*.xdmf >/dev/null || fail "$deck: no XDMF"
done
# The quickstart's error is what compact6 gives (well below the fd2 error of the same grid).
e6=$(grep -o '"error_max": [0-9.e+-]*' quickstart_np1/summary.json | awk '{print $2}')
run fd2 quickstart.toml 1 grid.n=[20,18,16] 'poisson.scheme=["fd2"]'
e2=$(grep -o '"error_max": [0-9.e+-]*' fd2/summary.json | awk '{print $2}')
awk -v a="$e6" -v b="$e2" 'BEGIN { exit !(a < b / 100) }' || fail "compact6 error $e6 is not far below fd2 error $e2"
echo ok
