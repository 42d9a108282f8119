#!/usr/bin/env bash
# usage: options.sh KRON SOURCE_DIR — --help, --validate, --print-deck and --version behave.
set -u
kron=$1; src=$2
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
mkdir "$work/run" && cd "$work/run"
fail() { echo "FAIL: $*"; exit 1; }
help=$("$kron" --help) || fail "--help exited non-zero"
for key in problem.type grid.n grid.lower grid.upper grid.kind grid.files parallel.process_grid parallel.transpose \
           fft.effort fft.wisdom output.dir output.name output.compression output.chunk output.write_fields log.level log.timers \
           spectrum.source spectrum.field spectrum.file spectrum.datasets spectrum.names spectrum.time poisson.scheme \
           poisson.boundary poisson.source poisson.exact poisson.gradient helmholtz.lambda --validate --print-deck; do
  echo "$help" | grep -q -- "$key" || fail "--help does not list $key"
done
# Overrides written as in a deck, with spaces around '=' (one shell word), read the same.
mpirun -n 1 "$kron" "$src/inputs/quickstart.toml" "grid.n = [8, 8, 8]" --print-deck | grep -q "^n = \[8, 8, 8\]" || fail "an override with spaces was not applied"
# One source of truth: changing helmholtz.lambda changes the operator and the source alike, so
# the error stays at the scheme's level (it was 0.59 when the deck held lambda twice).
err=$(mpirun -n 1 "$kron" "$src/inputs/helmholtz_periodic.toml" grid.n=[16,16,16] helmholtz.lambda=3 output.dir=lam log.timers=false \
      | sed -n 's/.*error against the exact solution: max \([^,]*\),.*/\1/p')
awk -v e="$err" 'BEGIN { exit !(e != "" && e + 0 < 1e-3) }' || fail "helmholtz with lambda = 3: error '$err'"
rm -rf lam
# log.level=debug says more than info (plans, storage, scratch), and info more than warn.
nd=$(mpirun -n 1 "$kron" "$src/inputs/quickstart.toml" grid.n=[12,12,12] output.dir=dbg log.level=debug log.timers=false | wc -l)
ni=$(mpirun -n 1 "$kron" "$src/inputs/quickstart.toml" grid.n=[12,12,12] output.dir=dbg log.level=info log.timers=false | wc -l)
[ "$nd" -gt "$ni" ] || fail "log.level=debug prints no more than info ($nd vs $ni lines)"
rm -rf dbg
# No sentinel ranges in the help ("Range [-1e+300, 1e+300]" on text keys, issue 11).
echo "$help" | grep -q -- "e+300" && fail "--help shows a sentinel range: $(echo "$help" | grep -m1 -- 'e+300')"
# Options after -- are PETSc's: a problem without PETSc refuses them before any work.
mpirun -n 1 "$kron" "$src/inputs/quickstart.toml" grid.n=[8,8,8] -- -ksp_type cg >/dev/null 2>"$work/err" && fail "-- options on a problem without PETSc were accepted"
grep -q "uses no PETSc" "$work/err" || fail "no clear error for -- options on a problem without PETSc: $(cat "$work/err")"
# spectrum_from_file.toml reads the Taylor-Green example's output (its out/ folder): make it first,
# then check that --validate and --print-deck of every deck add nothing to the folder.
mpirun -n 2 "$kron" "$src/inputs/spectrum_taylor_green.toml" log.level=warn log.timers=false >/dev/null || fail "taylor_green run failed"
before=$(find . | sort)
for deck in "$src"/inputs/*.toml; do
  mpirun -n 2 "$kron" "$deck" --validate >/dev/null || fail "$deck does not validate"
  mpirun -n 1 "$kron" "$deck" --print-deck > "$work/effective.toml" || fail "--print-deck failed for $deck"
  mpirun -n 1 "$kron" "$work/effective.toml" --validate >/dev/null || fail "the effective deck of $deck does not validate"
done
after=$(find . | sort)
[ "$before" = "$after" ] || fail "--validate/--print-deck wrote files: $(diff <(echo "$before") <(echo "$after") | grep '^>')"
# The residual check (about the cost of the solve) runs by default and can be skipped.
mpirun -n 2 "$kron" "$src/inputs/quickstart.toml" grid.n=[12,12,12] output.dir=res log.timers=false >"$work/res"
grep -q "max interior residual" "$work/res" || fail "no residual line by default"
# The last line gives the throughput of the main work and the peak memory.
tail -1 "$work/res" | grep -q "done in .* s, [0-9.]*[kMG]* points/s, peak memory [0-9]* MiB on the largest rank" \
  || fail "no throughput and peak memory at the end: $(tail -1 "$work/res")"
grep -q '"points_per_second"' res/summary.json || fail "no points_per_second in summary.json"
grep -q '"residual_relative"' res/summary.json || fail "no residual in summary.json by default"
mpirun -n 2 "$kron" "$src/inputs/quickstart.toml" grid.n=[12,12,12] output.dir=res poisson.residual_check=false log.timers=false >"$work/nores"
grep -q "residual check skipped" "$work/nores" || fail "residual_check = false did not say it skipped the check"
grep -q '"residual' res/summary.json && fail "residual_check = false still computed the residual"
grep -q '"residual"' res/summary.json && fail "residual_check = false still timed a residual"
"$kron" --version | grep -q '^kron ' || fail "--version"
grep -q 'effort = "measure"' "$work/effective.toml" || fail "--print-deck does not fill defaults"
echo ok
