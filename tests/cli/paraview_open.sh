#!/usr/bin/env bash
# usage: paraview_open.sh KRON SOURCE_DIR PVPYTHON — the example decks' XDMF output (3D, 2D,
# several components) opens in ParaView with the right points and arrays.
set -u
kron=$1; src=$2; pv=${3:-}
if [ -z "$pv" ] || [ ! -x "$pv" ]; then
  echo "SKIPPED: pvpython (ParaView) is not installed, so ParaView's XDMF reader was not tried on kron's output;"
  echo "SKIPPED: apt-get install paraview python3-paraview (scripts/test.sh does) and reconfigure to run it."
  exit 77
fi
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
cd "$work"
fail() { echo "FAIL: $*"; exit 1; }
q=(log.level=warn log.timers=false)
mpirun -n 2 "$kron" "$src/inputs/quickstart.toml" "${q[@]}" grid.n=[20,18,16] output.dir=q || fail "quickstart run"
mpirun -n 2 "$kron" "$src/inputs/spectrum_taylor_green.toml" "${q[@]}" grid.n=[24,20,16] output.dir=tg || fail "taylor-green run"
mpirun -n 2 "$kron" "$src/inputs/spectrum_2d.toml" "${q[@]}" output.dir=s2 || fail "2D run"
here=$(dirname "$0")
"$pv" "$here/paraview_open.py" q/quickstart.xdmf 5760 u,f,error || fail "quickstart.xdmf"
"$pv" "$here/paraview_open.py" tg/taylor_green.xdmf 7680 u,v,w || fail "taylor_green.xdmf"
"$pv" "$here/paraview_open.py" s2/spectrum_2d.xdmf 8192 u || fail "spectrum_2d.xdmf"
echo ok
