#!/usr/bin/env bash
# usage: render.sh KRON SOURCE_DIR PYTHON — the headless rendering docs/output.md documents works
# as typed: xvfb-run -a pvpython scripts/render.py on kron's XDMF output (3D slice and a 2D grid)
# writes a PNG of the right size and prints the field's range, which must lie within the range
# of the data in the HDF5 file (read with h5py).
set -u
kron=$1; src=$2; py=$3
if ! command -v pvpython >/dev/null || ! command -v xvfb-run >/dev/null; then
  echo "SKIPPED: pvpython or xvfb-run is missing (scripts/test.sh installs paraview and xvfb)"
  exit 77
fi
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
cd "$work"
fail() { echo "FAIL: $*"; exit 1; }
q=(log.level=warn log.timers=false)
mpirun -n 2 "$kron" "$src/inputs/quickstart.toml" "${q[@]}" grid.n=[32,32,32] output.dir=out/quickstart || fail "quickstart run"
mpirun -n 2 "$kron" "$src/inputs/spectrum_2d.toml" "${q[@]}" output.dir=s2 || fail "2D run"
cmd=$(grep -m1 '^xvfb-run -a pvpython scripts/render.py out/quickstart' "$src/docs/output.md")
[ -n "$cmd" ] || fail "docs/output.md has no render command"
ln -s "$src/scripts" scripts
# Xvfb can lose the race to the first connection on a loaded machine ("bad X server
# connection"): that alone is retried, up to five attempts with growing pauses; only the last
# attempt's output decides whether to retry.
run_x() {  # log command...
  local log=$1; shift
  for i in 1 2 3 4 5; do
    (eval "$*") > attempt.log 2>&1 && { cat attempt.log >> "$log"; return 0; }
    cat attempt.log >> "$log"
    grep -q "bad X server connection" attempt.log || return 1
    sleep $((2 * i))
  done
  return 1
}
run_x render.log "$cmd" || fail "the documented command failed: $cmd: $(cat render.log)"
run_x render.log xvfb-run -a pvpython scripts/render.py s2/spectrum_2d.xdmf u s2.png || fail "2D render: $(cat render.log)"
"$py" - quickstart_u.png out/quickstart/quickstart_000000.h5 s2.png s2/spectrum_2d_000000.h5 render.log <<'PY' || fail "$(cat render.log)"
import re, struct, sys
import h5py
log = open(sys.argv[5]).read()
for png, h5 in ((sys.argv[1], sys.argv[2]), (sys.argv[3], sys.argv[4])):
    head = open(png, "rb").read(24)
    assert head[:8] == b"\x89PNG\r\n\x1a\n", png + " is not a PNG"
    w, h = struct.unpack(">II", head[16:24])
    assert (w, h) == (1000, 800), "%s is %dx%d" % (png, w, h)
    m = re.search(re.escape(png) + r": u on .*range \[([-0-9.e+]+), ([-0-9.e+]+)\]", log)
    assert m, "no range printed for " + png
    lo, hi = float(m.group(1)), float(m.group(2))
    u = h5py.File(h5)["/fields/u"][...]
    tol = 1e-5 * abs(u).max()  # the range is printed with 6 digits
    assert u.min() - tol <= lo < hi <= u.max() + tol, "range [%g, %g] outside the data's [%g, %g]" % (lo, hi, u.min(), u.max())
    print("ok:", png, w, h, lo, hi)
PY
echo ok
