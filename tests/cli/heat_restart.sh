#!/usr/bin/env bash
# usage: heat_restart.sh KRON SOURCE_DIR PYTHON — checkpoint/restart of the heat problem (ADI):
# a run of 20 steps against one of 10 steps checkpointed and continued for 10 more: bitwise the
# same final state on the same rank count (2), within rounding on another (from 2 ranks to 3);
# checkpoints that do not match the deck (nu, dt, grid), a missing, a truncated and a corrupted
# file, and a state with NaN fail with one line naming heat.restart and the file, before any step.
set -u
kron=$1; src=$2; py=$3
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
cd "$work"
fail() { echo "FAIL: $*"; exit 1; }
deck="$src/inputs/heat.toml"
small="grid.n=[12,10,9] heat.dt=0.01 heat.output_every=0 heat.progress_every=0 log.timers=false"
run() { local np=$1; shift; mpirun --oversubscribe -n "$np" "$kron" "$deck" $small "$@"; }
run 2 heat.t_end=0.2 output.dir=full > full.log 2>&1 || { cat full.log; fail "the uninterrupted run"; }
run 2 heat.t_end=0.1 heat.checkpoint_every=10 output.dir=first > first.log 2>&1 || { cat first.log; fail "the first half"; }
[ -s first/heat_checkpoint.h5 ] && [ ! -e first/heat_checkpoint.h5.tmp ] || fail "no checkpoint: $(ls first)"
run 2 heat.t_end=0.2 heat.restart=first/heat_checkpoint.h5 output.dir=second > second.log 2>&1 || { cat second.log; fail "the restart"; }
grep -q "restarting from first/heat_checkpoint.h5 at step 10" second.log || fail "no restart line: $(cat second.log)"
run 3 heat.t_end=0.2 heat.restart=first/heat_checkpoint.h5 output.dir=third > third.log 2>&1 || { cat third.log; fail "the restart on 3 ranks"; }
"$py" "$src/tests/cli/h5compare.py" full/heat_000020.h5 second/heat_000020.h5 0 /fields/u || fail "restart on 2 ranks is not bitwise"
"$py" "$src/tests/cli/h5compare.py" full/heat_000020.h5 third/heat_000020.h5 1e-13 /fields/u || fail "restart on 3 ranks differs"
"$py" - <<'PY' || exit 1
import json, sys
a = json.load(open("full/summary.json")); b = json.load(open("second/summary.json"))
if a["error_max"] != b["error_max"]: sys.exit("FAIL: error_max %r vs %r" % (a["error_max"], b["error_max"]))
if b.get("restart_step") != 10: sys.exit("FAIL: restart_step %r" % b.get("restart_step"))
print("ok: restart bitwise on 2 ranks, error_max %g" % a["error_max"])
PY
expect() {  # regex args...
  local re=$1; shift
  out=$(run 2 heat.t_end=0.2 output.dir=bad "$@" 2>&1); rc=$?
  [ $rc -ne 0 ] || fail "exit 0 for: $*"
  [ "$(echo "$out" | grep -c '^kron: error: ')" = 1 ] && echo "$out" | grep -q "$re" || fail "expected '$re': $out"
  [ ! -e bad/heat_000020.h5 ] || fail "a failed restart wrote output"
  echo "ok: $re"
}
ck=first/heat_checkpoint.h5
expect "heat.restart: $ck: written with nu = 0.10000000000000001, the deck has 0.20000000000000001" heat.restart=$ck heat.nu=0.2
expect "heat.restart: $ck: written with dt = 0.01.*the deck has 0.005" heat.restart=$ck heat.dt=0.005
expect "heat.restart: $ck: holds u on 9 x 10 x 12 points, the deck's grid has 9 x 10 x 13" heat.restart=$ck "grid.n=[13,10,9]"
expect "heat.restart: $ck: its step 10 is not within this run's 5 steps" heat.restart=$ck heat.t_end=0.05
expect "heat.restart: nosuch.h5" heat.restart=nosuch.h5
head -c 3000 $ck > truncated.h5
expect "heat.restart: truncated.h5" heat.restart=truncated.h5
cp $ck corrupted.h5 && printf 'garbage garbage garbage garbage' | dd of=corrupted.h5 bs=1 seek=0 conv=notrunc 2>/dev/null
expect "heat.restart: corrupted.h5" heat.restart=corrupted.h5
expect "heat.restart: full/heat_000020.h5: not a heat checkpoint" heat.restart=full/heat_000020.h5
"$py" - <<'PY' || exit 1
import h5py, shutil, numpy as np
shutil.copy("first/heat_checkpoint.h5", "nan.h5")
with h5py.File("nan.h5", "r+") as f:
    u = f["/fields/u"]; v = u[...]; v[1, 2, 3] = np.nan; u[...] = v
PY
expect "heat.restart: nan.h5: the state u holds values that are not finite" heat.restart=nan.h5
# Attributes of another shape than kron writes (fuzz_checkpoint found an array read as one number
# past its buffer): an array where a number belongs is refused; a variable-length string (h5py's
# default) where kron writes a fixed-length one is read.
"$py" - <<'PY' || exit 1
import h5py, shutil, numpy as np
shutil.copy("first/heat_checkpoint.h5", "array.h5")
with h5py.File("array.h5", "r+") as f:
    del f.attrs["nu"]; f.attrs["nu"] = np.array([0.1, 0.2])
shutil.copy("first/heat_checkpoint.h5", "vlen.h5")
with h5py.File("vlen.h5", "r+") as f:
    del f.attrs["checkpoint"]; f.attrs["checkpoint"] = "heat ADI state"
PY
expect "heat.restart: array.h5: .*attribute 'nu' is not a single number" heat.restart=array.h5
run 2 heat.t_end=0.2 heat.restart=vlen.h5 output.dir=vlen > vlen.log 2>&1 || { cat vlen.log; fail "a checkpoint with a variable-length string attribute"; }
"$py" "$src/tests/cli/h5compare.py" full/heat_000020.h5 vlen/heat_000020.h5 0 /fields/u || fail "restart from vlen.h5 is not bitwise"
echo "ok: attribute shapes"
echo "ok: heat checkpoint/restart"
