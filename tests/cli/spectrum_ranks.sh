#!/usr/bin/env bash
# usage: spectrum_ranks.sh KRON SOURCE_DIR
# The example spectrum deck on 1, 2 and 4 ranks (and both transpose methods) gives the same
# datasets within 1e-13; the spectrum read back from the written HDF5 file equals the one
# computed from the expressions; Parseval holds; the XDMF points at the written datasets.
set -u
kron=$1; src=$2
deck=$src/inputs/spectrum_taylor_green.toml
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
cd "$work"
fail() { echo "FAIL: $*"; exit 1; }
small=(grid.n=[24,20,16] log.timers=false)
for np in 1 2 4; do
  timeout 120 mpirun -n $np "$kron" "$deck" "${small[@]}" output.dir=np$np || fail "run on $np ranks failed"
done
timeout 120 mpirun -n 4 "$kron" "$deck" "${small[@]}" output.dir=np4w parallel.transpose=alltoallw \
  parallel.process_grid=[2,2] || fail "alltoallw run failed"
f=taylor_green_000000.h5
for d in np2 np4 np4w; do
  for ds in /fields/u /fields/v /fields/w /spectrum/E /spectrum/k /grid/x /grid/z; do
    h5diff --delta=1e-13 np1/$f $d/$f $ds $ds >/dev/null || fail "$ds differs between np1 and $d: $(h5diff --delta=1e-13 np1/$f $d/$f $ds $ds | head -5)"
  done
done
# Spectrum of the field read back from the file (4 ranks) = spectrum of the expressions.
timeout 120 mpirun -n 4 "$kron" "$deck" "${small[@]}" output.dir=fromfile spectrum.source=file \
  spectrum.file=np1/$f 'spectrum.datasets=["/fields/u","/fields/v","/fields/w"]' || fail "run from file failed"
h5diff --delta=1e-13 np1/$f fromfile/$f /spectrum/E /spectrum/E >/dev/null || fail "spectrum from file differs"
for d in np1 np2 np4 np4w fromfile; do
  [ -f $d/summary.json ] || fail "$d/summary.json missing"
  p=$(grep -o '"parseval_relative_difference": [0-9.e+-]*' $d/summary.json | awk '{print $2}')
  awk -v p="$p" 'BEGIN { exit !(p < 1e-12) }' || fail "$d: Parseval relative difference $p"
  grep -q 'taylor_green_000000.h5:/fields/u' $d/taylor_green.xdmf || fail "$d: XDMF does not reference /fields/u"
  [ -f $d/taylor_green_spectrum.csv ] || fail "$d: spectrum CSV missing"
  ls $d | grep -q '\.tmp$' && fail "$d: temporary file left behind"
done
h5dump -a /nranks np4/$f | grep -q '(0): 4' || fail "nranks attribute wrong"
h5dump -a /deck np1/$f | grep -q 'taylor' || fail "deck attribute missing"
echo "ok: identical datasets on 1, 2, 4 ranks (alltoallv and alltoallw), from-file spectrum identical, Parseval < 1e-12"
