#!/usr/bin/env bash
# usage: inputs_shipped.sh KRON SOURCE_DIR PYTHON [gp|surrogate]
# Every deck in inputs/ and inputs/bwler/ (or, given gp or surrogate, in inputs/gp/ or inputs/surrogate/ alone) runs as shipped (no overrides, 2 ranks as scripts/run.sh does), in one
# fresh folder, in name order, and must give what its header promises:
#   # Expected as shipped (...): KEY ~ VALUE      (summary.json KEY within 1% of VALUE; also
#                                                  KEY < VALUE), and the run prints that value;
#   # Expected before that run: an error naming FILE   (a deck that reads another run's output:
#                                                  it is run again after all others).
set -u
kron=$1; src=$2; py=$3; sub=${4:-}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
cd "$work"
fail() { echo "FAIL: $*"; exit 1; }
# summary key -> the words the run prints just before the value
declare -A printed=([cg_iterations_mean]="CG iterations mean " [error_max]="solution.*: max " [energy_physical]="energy: physical " [error_relative_l2]="relative L2 error " [error_test_relative_l2]="relative L2 error " [mean_drift_max]="the mean of u kept to ")
check() {  # deck log
  local deck=$1 log=$2 line checks=() dir
  line=$(sed -n 's/^# Expected as shipped[^:]*: //p' "$deck")
  [ -n "$line" ] || fail "$deck has no '# Expected as shipped' line"
  dir=$(sed -n 's/^dir = "\(.*\)"/\1/p' "$deck")
  read -r key op value <<<"$line"
  "$py" "$here/summary_check.py" "$dir/summary.json" "$key$op$value" || fail "$deck: $(cat "$log")"
  v=$("$py" -c "import json; print('%g' % json.load(open('$dir/summary.json'))['$key'])")
  grep -q "${printed[$key]}$v" "$log" || fail "$deck: the run does not print $key = $v: $(cat "$log")"
}
again=()
limit=300  # seconds a deck may take
case "$sub" in
  gp)  # by name, each a minute's optimisation; a deck added to inputs/gp must be added here
    decks=()
    for n in advection2d.toml allen_cahn2d_smooth.toml allen_cahn_sin100.toml allen_cahn_sin6cos100.toml poisson_mix.toml poisson_sin100.toml poisson_sin500.toml \
             poisson2d_sin100.toml poisson2d_sin6cos20.toml \
             poisson_sin6cos100.toml poisson_xsin200.toml; do
      decks+=("$src/inputs/gp/$n")
    done
    [ "$(ls "$src"/inputs/gp/*.toml | wc -l)" -eq ${#decks[@]} ] || fail "inputs/gp has decks this list does not name" ;;
  surrogate)  # in the order a user runs them: data first; training takes minutes
    limit=900
    decks=("$src/inputs/surrogate/darcy_data.toml" "$src/inputs/surrogate/darcy_train.toml" "$src/inputs/surrogate/darcy_predict.toml"
           "$src/inputs/surrogate/burgers_data.toml" "$src/inputs/surrogate/burgers_train.toml" "$src/inputs/surrogate/burgers_predict.toml")
    [ "$(ls "$src"/inputs/surrogate/*.toml | wc -l)" -eq ${#decks[@]} ] || fail "inputs/surrogate has decks this list does not name" ;;
  "") decks=("$src"/inputs/*.toml "$src"/inputs/bwler/*.toml) ;;
  *) fail "unknown deck set '$sub'" ;;
esac
for deck in "${decks[@]}"; do
  name=$(basename "$deck" .toml)
  rc=0
  timeout $limit mpirun -n 2 "$kron" "$deck" >"$name.log" 2>&1 || rc=$?
  want_err=$(sed -n 's/^# Expected before that run: an error naming //p' "$deck" | sed 's/\.$//')
  if [ -n "$want_err" ] && [ $rc -ne 0 ]; then
    grep -q "error: .*$(basename "$want_err") writes" "$name.log" || fail "$deck: expected an error naming $want_err: $(cat "$name.log")"
    again+=("$deck")
    continue
  fi
  [ $rc -eq 0 ] || fail "$deck failed as shipped: $(cat "$name.log")"
  check "$deck" "$name.log"
done
for deck in "${again[@]}"; do
  name=$(basename "$deck" .toml)
  timeout 300 mpirun -n 2 "$kron" "$deck" >"$name.log" 2>&1 || fail "$deck failed after the deck it reads had run: $(cat "$name.log")"
  check "$deck" "$name.log"
done
[ -n "$sub" ] || [ ${#again[@]} -eq 1 ] || fail "expected spectrum_from_file.toml to need another run's output first"
echo ok
