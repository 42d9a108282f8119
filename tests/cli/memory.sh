#!/usr/bin/env bash
# usage: memory.sh KRON SOURCE_DIR PYTHON
# The memory estimate each run prints in its header ("memory estimate: X on the largest rank")
# is what the run then takes: within -25%/+35% of the measured peak resident memory of the
# largest rank above the same deck's run on a tiny grid (the libraries' share), for every problem
# kind and solver path, on 1 rank, 2 ranks, 3 (uneven splits) and a 2 x 2 process grid. A run that cannot fit is refused
# before any work, --validate included, naming grid.n, the estimate and the memory available.
set -u
kron=$1; src=$2; py=$3
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
cd "$work"
fail() { echo "FAIL: $*"; exit 1; }
mib() {  # log -> the estimate in MiB
  "$py" - "$1" <<'PY'
import re, sys
m = re.search(r"memory estimate: ([0-9.]+) (KiB|MiB|GiB|TiB|B) on the largest rank", open(sys.argv[1]).read())
if not m: sys.exit("no memory estimate line")
print(float(m.group(1)) * {"B": 2**-20, "KiB": 2**-10, "MiB": 1, "GiB": 2**10, "TiB": 2**20}[m.group(2)])
PY
}
peak() { "$py" -c "import json,sys; print(json.load(open(sys.argv[1]))['peak_rss_mib_max_rank'])" "$1/summary.json"; }
check() {  # name np deck [overrides...]
  local name=$1 np=$2 deck=$3; shift 3
  mpirun --oversubscribe -n $np "$kron" "$src/inputs/$deck" "$@" grid.n=[12,12,12] output.dir=base_$name log.timers=false >base_$name.log 2>&1 \
    || fail "$name tiny run: $(cat base_$name.log)"
  mpirun --oversubscribe -n $np "$kron" "$src/inputs/$deck" "$@" grid.n=[128,128,120] output.dir=$name log.timers=false >$name.log 2>&1 \
    || fail "$name run: $(cat $name.log)"
  local est base big
  est=$(mib $name.log) || fail "$name: $(cat $name.log)"
  base=$(peak base_$name); big=$(peak $name)
  "$py" -c "
import sys
est, grew = $est, $big - $base
r = est / grew
print('$name: estimate %.1f MiB, measured %.1f MiB above the libraries (%.1f), ratio %.2f' % (est, grew, $base, r))
sys.exit(0 if 0.75 <= r <= 1.35 else 1)" || fail "$name: the estimate is off"
}
check poisson_dense 2 quickstart.toml
check poisson_dst 2 quickstart.toml 'poisson.scheme=["fd2"]'
check poisson_uneven 3 poisson_neumann.toml
check helmholtz_rfft 2 helmholtz_periodic.toml
check diffusion 2 diffusion.toml
check heat 3 heat.toml heat.t_end=0.02 heat.dt=0.01
check spectrum_3 2 spectrum_taylor_green.toml
check spectrum_one_rank 1 spectrum_quickstart.toml
check heat_2x2 4 heat.toml heat.t_end=0.02 heat.dt=0.01 parallel.process_grid=[2,2]
# Too big for any machine: refused at once, before any work, also by --validate, nothing written.
for mode in --validate run; do
  args=(); [ $mode = --validate ] && args=(--validate)
  timeout 60 mpirun -n 2 "$kron" "$src/inputs/quickstart.toml" grid.n=[8192,8192,8192] output.dir=huge "${args[@]}" >huge.log 2>&1 \
    && fail "an 8192^3 run was not refused ($mode)"
  grep -q "^kron: error: command line: grid.n: a 8192 x 8192 x 8192 grid on 2 rank(s) needs about .* TiB on one node .*but that node has .* available (run on more nodes" huge.log \
    || fail "no clear error for a run too big for memory ($mode): $(cat huge.log)"
  [ ! -e huge ] || fail "a refused run wrote its output folder"
done
echo ok
