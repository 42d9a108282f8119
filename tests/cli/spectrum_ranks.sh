#!/usr/bin/env bash
# usage: spectrum_ranks.sh KRON SOURCE_DIR PYTHON
# The example spectrum deck on 1, 2, 3 and 4 ranks (and both transpose methods) gives the same
# finite datasets within 1e-13; the fields (read with h5py) equal the analytic expressions in
# [nz][ny][nx] order and the spectrum equals the analytic Taylor-Green spectrum shell by shell;
# the spectrum read back from the written HDF5 file equals the one computed from the
# expressions; Parseval holds; the XDMF points at the written datasets.
set -u
kron=$1; src=$2; py=$3
here=$(cd "$(dirname "$0")" && pwd)
deck=$src/inputs/spectrum_taylor_green.toml
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
cd "$work"
fail() { echo "FAIL: $*"; exit 1; }
small=(grid.n=[24,20,16] log.timers=false)
for np in 1 2 3 4; do
  timeout 120 mpirun -n $np "$kron" "$deck" "${small[@]}" output.dir=np$np || fail "run on $np ranks failed"
done
timeout 120 mpirun -n 4 "$kron" "$deck" "${small[@]}" output.dir=np4w parallel.transpose=alltoallw \
  parallel.process_grid=[2,2] || fail "alltoallw run failed"
f=taylor_green_000000.h5
# The 'deck' attribute is the effective deck: the override applied, defaults filled in, and it
# reruns as a deck of its own.
"$py" - np1/$f > effective.toml <<'PY' || fail "no deck attribute"
import sys, h5py
d = h5py.File(sys.argv[1] if len(sys.argv) > 1 else "np1/taylor_green_000000.h5", "r").attrs["deck"]
print(d.decode() if isinstance(d, bytes) else d)
PY
grep -q '^n = \[24, 20, 16\]' effective.toml || fail "the deck attribute does not hold the override grid.n"
grep -q '^effort = ' effective.toml || fail "the deck attribute does not fill defaults"
timeout 60 mpirun -n 1 "$kron" effective.toml --validate > /dev/null || fail "the deck attribute does not validate as a deck"
"$py" "$here/check_taylor_green.py" np1/$f 0.05 || fail "np1 output against the analytic field and spectrum"
for d in np2 np3 np4 np4w; do
  "$py" "$here/h5compare.py" np1/$f $d/$f 1e-13 /fields/u /fields/v /fields/w /spectrum/E /spectrum/k /grid/x /grid/z \
    || fail "np1 and $d differ"
done
# Spectrum of the field read back from the file (4 ranks) = spectrum of the expressions.
timeout 120 mpirun -n 4 "$kron" "$deck" "${small[@]}" output.dir=fromfile spectrum.source=file \
  spectrum.file=np1/$f 'spectrum.datasets=["/fields/u","/fields/v","/fields/w"]' || fail "run from file failed"
"$py" "$here/h5compare.py" np1/$f fromfile/$f 1e-13 /spectrum/E || fail "spectrum from file differs"
for d in np1 np2 np3 np4 np4w fromfile; do
  "$py" "$here/summary_check.py" $d/summary.json 'parseval_relative_difference<1e-12' 'energy_physical>0.12687499' \
    'energy_physical<0.12687501' 'peak_rss_mib_max_rank>1' 'peak_rss_mib_all_ranks>1' || fail "$d/summary.json"
  grep -q 'taylor_green_000000.h5:/fields/u' $d/taylor_green.xdmf || fail "$d: XDMF does not reference /fields/u"
  [ -f $d/taylor_green_spectrum.csv ] || fail "$d: spectrum CSV missing"
  ls $d | grep -q '\.tmp$' && fail "$d: temporary file left behind"
done
"$py" -c "import h5py,sys; f=h5py.File('np3/$f','r'); sys.exit(0 if int(f.attrs['nranks'])==3 and 'taylor' in str(f.attrs['deck']) else 1)" \
  || fail "nranks or deck attribute wrong"
# The spectrum quickstart deck as shipped (64^3, 2 ranks): sin(2 pi x) cos(2 pi y) puts 1/8 in
# shell 1 (|k| = 2 pi sqrt 2, dk = 2 pi), 0.25 sin(2 pi (k0 z + x)) puts 1/32 * 1/2 in shell 4
# (|k| = 2 pi sqrt 17); total energy 0.140625; every other shell empty.
mkdir shipped && (cd shipped && timeout 120 mpirun -n 2 "$kron" "$src/inputs/spectrum_quickstart.toml" >log.txt 2>&1) \
  || { cat shipped/log.txt; fail "spectrum_quickstart.toml as shipped failed"; }
"$py" "$here/summary_check.py" shipped/out/spectrum_quickstart/summary.json 'energy_physical>0.140624999' \
  'energy_physical<0.140625001' 'parseval_relative_difference<1e-12' || fail "spectrum_quickstart summary"
"$py" - shipped/out/spectrum_quickstart/summary.json <<'PY' || fail "spectrum_quickstart shells"
import json, math, sys
s = json.load(open(sys.argv[1]))
want = {1: 0.125, 4: 0.015625}
for i, e in enumerate(s["E"]):
    if not math.isfinite(e) or abs(e * s["dk"] - want.get(i, 0.0)) > 1e-13:
        sys.exit("FAIL: shell %d: E dk = %r, expected %r" % (i, e * s["dk"], want.get(i, 0.0)))
PY
echo "ok: identical finite datasets on 1, 2, 3, 4 ranks (alltoallv and alltoallw), analytic field and spectrum, from-file spectrum identical, Parseval < 1e-12"
