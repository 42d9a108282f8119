#!/usr/bin/env bash
# usage: interrupt.sh KRON SOURCE_DIR PYTHON
# A run owns its output folder, and a stopped run leaves nothing that looks complete:
#  - a rerun replaces the files of the earlier run (no stale step files, summary.json rewritten);
#    output.existing = "refuse" stops before any work instead, changing nothing;
#  - SIGTERM to the ranks (a batch system), SIGINT to mpirun (Ctrl-C) and SIGINT to a single
#    process stop the run at its next step with one clear line and a non-zero exit, and leave no
#    summary.json and no .tmp file; every step file the XDMF lists exists and is complete;
#  - data that turn non-finite during the run stop it with an error naming the key.
set -u
kron=$1; src=$2; py=$3
work=$(mktemp -d); trap 'pkill -KILL -f "output.dir=$work" 2>/dev/null; rm -rf "$work"' EXIT
cd "$work"
fail() { echo "FAIL: $*"; exit 1; }
deck=$src/inputs/heat.toml
small=(grid.n=[16,16,16] heat.t_end=0.2 heat.dt=0.02 log.timers=false)
mpirun -n 2 "$kron" "$deck" "${small[@]}" heat.output_every=1 output.dir=$work/o >/dev/null || fail "first run"
[ "$(ls o/*.h5 | wc -l)" -eq 11 ] || fail "first run: expected 11 step files: $(ls o)"
mpirun -n 2 "$kron" "$deck" "${small[@]}" heat.output_every=5 output.dir=$work/o >rerun.log || fail "rerun"
grep -q "removed 13 file(s) of an earlier run" rerun.log || fail "the rerun did not say what it removed: $(cat rerun.log)"
[ "$(cd o && ls)" = "$(printf 'heat.xdmf\nheat_000000.h5\nheat_000005.h5\nheat_000010.h5\nsummary.json')" ] || fail "stale files after the rerun: $(ls o)"
before=$(ls -l --time-style=full-iso o)
mpirun -n 2 "$kron" "$deck" "${small[@]}" output.dir=$work/o output.existing=refuse >refuse.log 2>&1 && fail "existing = refuse ran"
grep -q "kron: error: command line: output.existing: is 'refuse' and '$work/o' holds 5 file(s) of an earlier run" refuse.log \
  || fail "no clear error for existing = refuse: $(cat refuse.log)"
[ "$before" = "$(ls -l --time-style=full-iso o)" ] || fail "a refused run changed the folder"

check_stopped() {  # name rc-must-be signal-name (empty: the message may be lost)
  local name=$1 want_rc=$2 sig=$3
  [ "$rc" -ne 0 ] || fail "$name: exit status 0 after a signal"
  [ -z "$want_rc" ] || [ "$rc" -eq "$want_rc" ] || fail "$name: exit status $rc, expected $want_rc"
  if [ -n "$sig" ]; then
    grep -q "^kron: error: interrupted by $sig" $name.log || fail "$name: no 'interrupted by $sig' line: $(cat $name.log)"
  fi
  [ "$(grep -c '^kron: error' $name.log)" -le 1 ] || fail "$name: more than one error line: $(cat $name.log)"
  [ ! -e $name/summary.json ] || fail "$name: a stopped run left summary.json (the earlier run's or its own)"
  [ -z "$(find $name -name '*.tmp')" ] || fail "$name: left $(find $name -name '*.tmp')"
  for h5 in $(sed -n 's/.*>\(heat_[0-9]*\.h5\):.*/\1/p' $name/heat.xdmf | sort -u); do
    [ -e $name/$h5 ] || fail "$name: the XDMF lists $h5, which is not there"
    "$py" -c "import h5py,sys; f=h5py.File(sys.argv[1]); f['/fields/u'][...]" $name/$h5 2>/dev/null \
      || fail "$name: $h5 is not a complete HDF5 file"
  done
}
long=(grid.n=[48,48,48] heat.t_end=100 heat.dt=0.01 heat.output_every=3 heat.progress_every=1 log.timers=false)
wait_for_steps() {  # log
  for _ in $(seq 600); do grep -q "step 5/" "$1" 2>/dev/null && return 0; sleep 0.1; done
  fail "the run did not start: $(cat "$1")"
}
# 1. SIGTERM to every rank, as a batch system does at its time limit; over an earlier run's folder.
cp -r o term
mpirun -n 2 "$kron" "$deck" "${long[@]}" output.dir=$work/term >term.log 2>&1 & pid=$!
wait_for_steps term.log
pkill -TERM -f "output.dir=$work/term"
wait $pid; rc=$?
check_stopped term "" SIGTERM
# 2. Ctrl-C: SIGINT to mpirun, which passes SIGTERM on to the ranks. mpirun may stop forwarding
#    the ranks' output before their last line, so only the state of the folder is checked.
mpirun -n 2 "$kron" "$deck" "${long[@]}" output.dir=$work/ctrlc >ctrlc.log 2>&1 & pid=$!
wait_for_steps ctrlc.log
kill -INT $pid
wait $pid; rc=$?
check_stopped ctrlc "" ""
# 3. SIGINT to a single process run without mpirun: exit status 130 as the shell expects.
"$kron" "$deck" "${long[@]}" output.dir=$work/single >single.log 2>&1 & pid=$!
wait_for_steps single.log
kill -INT $pid
wait $pid; rc=$?
check_stopped single 130 SIGINT
# 4. Data that turn non-finite at a later time stop the run at the next check (a progress or
#    output step) with an error naming the key, and leave no summary.json.
mpirun -n 2 "$kron" "$deck" "${small[@]}" "heat.value=t > 0.07 ? 1/0 : 0" output.dir=$work/late >late.log 2>&1 && fail "a run with infinite boundary data succeeded"
grep -q "^kron: error: command line: heat.value: expression \"t > 0.07 ? 1/0 : 0\" is not finite at some Dirichlet boundary points of axis x at t = 0.08" late.log \
  || fail "no clear error for boundary data that turn infinite: $(cat late.log)"
[ ! -e late/summary.json ] || fail "a failed run wrote summary.json"
echo ok
