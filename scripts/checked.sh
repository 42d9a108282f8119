#!/usr/bin/env bash
# Checked builds: one clang build with AddressSanitizer + UndefinedBehaviorSanitizer on every unit
# (and libFuzzer's coverage instrumentation) in build-checked/, then
#   1. the unit tests and the MPI tests (3 ranks: uneven blocks) under the sanitizers,
#   2. each libFuzzer target of tests/fuzz: its regressions replayed, then FUZZ_SECONDS (default 60)
#      of fuzzing from a scratch copy of its seed corpus.
# Usage: scripts/checked.sh [FUZZ_SECONDS]. Exit 0 when nothing was found. New crash inputs are
# left in build-checked/findings/<target>/ (add them to tests/fuzz/regressions/<target>/ once fixed).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$here"
seconds=${1:-${FUZZ_SECONDS:-60}}
EXTRA_PACKAGES="clang libclang-rt-14-dev" SETUP_PACKAGES_ONLY=1 "$here/scripts/setup.sh"
source "$here/scripts/env.sh"
B=${CHECKED_BUILD_DIR:-build-checked}
t0=$(date +%s)
if [ ! -f "$B/build.ninja" ]; then
  CC=clang CXX=clang++ cmake -S . -B "$B" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1" \
    -DKRON_ENABLE_CUDA=OFF -DKRON_ENABLE_FORTRAN=OFF -DBUILD_SHARED_LIBS=OFF -DKRON_ARCH=x86-64-v3 \
    -DKRON_SANITIZE=address,undefined -DKRON_FUZZ=ON > /dev/null
fi
cmake --build "$B" -j "$(nproc)" --target kron-unit-tests kron-mpi-tests fuzz_deck fuzz_expression fuzz_model fuzz_checkpoint fuzz_dataset
echo "checked: built in $(( $(date +%s) - t0 )) s"
# OpenMPI, PMIx and hwloc keep allocations to the end of the process: not kron's leaks. Their
# plugins stay loaded and stacks are unwound through DWARF (those libraries have no frame
# pointers), so the suppressions match the allocating library and nothing else is hidden.
export OMPI_MCA_mca_base_component_disable_dlclose=1 PMIX_MCA_mca_base_component_disable_dlclose=1
export LSAN_OPTIONS="suppressions=$here/tests/fuzz/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
export ASAN_OPTIONS="detect_odr_violation=0:fast_unwind_on_malloc=0"
status=0
t1=$(date +%s)
"$B/bin/kron-unit-tests" -r compact > "$B/unit.log" 2>&1 || { tail -40 "$B/unit.log"; echo "checked: the unit tests FAILED under ASan+UBSan"; status=1; }
echo "checked: unit tests under ASan+UBSan: $(grep -aoE "(Passed all|[0-9]+ (of|test cases)).*" "$B/unit.log" | tail -1) ($(( $(date +%s) - t1 )) s)"
for np in 3; do  # uneven blocks and a 3x1 grid; the ctest suite covers 1, 2 and 4 ranks unsanitized
  t1=$(date +%s)
  mpirun --oversubscribe -n $np "$B/bin/kron-mpi-tests" -r compact > "$B/mpi$np.log" 2>&1 || { tail -40 "$B/mpi$np.log"; echo "checked: the MPI tests on $np ranks FAILED under ASan+UBSan"; status=1; }
  echo "checked: MPI tests on $np ranks under ASan+UBSan: $(grep -aoE "(Passed all|[0-9]+ (of|test cases)).*assertions" "$B/mpi$np.log" | tail -1) ($(( $(date +%s) - t1 )) s)"
done
for target in fuzz_deck fuzz_expression fuzz_model fuzz_checkpoint fuzz_dataset; do
  exe="$B/tests/fuzz/$target"
  [ -x "$exe" ] || exe="$B/bin/$target"
  reg="tests/fuzz/regressions/$target"
  if [ -d "$reg" ] && [ -n "$(ls -A "$reg")" ]; then
    find "$reg" -type f ! -name README -print0 | xargs -0 -r "$exe" -rss_limit_mb=4096 > "$B/$target-regressions.log" 2>&1 || { tail -30 "$B/$target-regressions.log"; echo "checked: $target: a regression input fails again"; status=1; }
  fi
  work=$(mktemp -d); cp tests/fuzz/corpus/$target/* "$work"/
  mkdir -p "$B/findings/$target"
  if "$exe" -max_total_time="$seconds" -rss_limit_mb=4096 -timeout=20 -max_len=4096 -print_final_stats=1 \
       -artifact_prefix="$B/findings/$target/" "$work" > "$B/$target.log" 2>&1; then
    echo "checked: $target: $(grep -o "stat::number_of_executed_units: *[0-9]*" "$B/$target.log" | grep -o "[0-9]*$") runs in $seconds s, corpus $(ls "$work" | wc -l) inputs, no findings"
  else
    tail -40 "$B/$target.log"; echo "checked: $target FOUND a failure: $(ls "$B/findings/$target")"; status=1
  fi
  rm -rf "$work"
done
echo "checked: done in $(( $(date +%s) - t0 )) s, status $status"
exit $status
