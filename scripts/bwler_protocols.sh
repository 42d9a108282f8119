#!/usr/bin/env bash
# The BWLer comparison table: every bwler and bwler_plane deck in inputs/bwler/, minimised
# exactly (direct least squares / Gauss-Newton) and by the paper's first-order protocols on the
# same loss (Adam with lr 1e-3 and clipping, L-BFGS through PETSc TAO), each first-order run
# given SECONDS of wall time (default 60). Prints case x method: relative L2 error on the test
# grid, loss, iterations, wall time, condition estimate. Decks on time slabs (Burgers) are fitted
# by the first-order protocols as one space-time slab of 41 x 160 nodes.
#   scripts/bwler_protocols.sh [SECONDS] [RANKS]
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
secs=${1:-60}; np=${2:-2}
source "$here/scripts/env.sh"
kron=${KRON:-$here/build/bin/kron}
[ -x "$kron" ] || { echo "bwler_protocols: no $kron (build first: scripts/setup.sh)" >&2; exit 1; }
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
printf "%-16s %-7s %12s %12s %10s %9s %11s\n" case method "rel L2" loss iterations "time [s]" condition
for deck in "$here"/inputs/bwler/*.toml; do
  sec=bwler
  grep -q '^type = "bwler_plane"' "$deck" && sec=bwler_plane
  grep -q '^type = "bwler' "$deck" || continue
  name=$(basename "$deck" .toml)
  for m in exact adam lbfgs; do
    out=$work/$name-$m
    extra=()
    # Time slabs are the Newton path's; the first-order protocols fit one space-time slab.
    if [ $m != exact ] && grep -q '^time_slabs' "$deck"; then extra=(bwler.time_slabs=1 "bwler.nodes=[41,160]"); fi
    mpirun -n "$np" "$kron" "$deck" $sec.method=$m $sec.time_limit="$secs" output.dir="$out" output.write_fields=false log.timers=false "${extra[@]}" >"$out.log" 2>&1 ||
      { echo "$name $m: failed: $(tail -3 "$out.log")"; continue; }
    python3 - "$out/summary.json" "$name" "$m" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
c = d.get("condition_number")
print("%-16s %-7s %12.3e %12.3e %10d %9.2f %11s" % (sys.argv[2], sys.argv[3], d["error_relative_l2"], d["loss"], d["iterations"],
      d["fit_seconds"], "%.2e" % c if c else "-"))
PY
  done
done
