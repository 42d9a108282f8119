#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test (ctest: unit, MPI at 1/2/3/4 ranks, CLI, C API,
# installed examples), then the sanitizer and fuzzing stage (scripts/checked.sh).
# Extra arguments go to ctest (e.g. scripts/test.sh -R fft).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$here"
# ParaView (pvpython) lets the tests open kron's XDMF output with ParaView's own reader; h5py and
# numpy read kron's HDF5 output independently of kron's own reader; xvfb-run lets pvpython render
# without a screen (the headless pictures of docs/output.md).
EXTRA_PACKAGES="paraview python3-paraview python3-h5py python3-numpy xvfb xauth" "$here/scripts/setup.sh"
source "$here/scripts/env.sh"
cd "${BUILD_DIR:-build}"
ctest --output-on-failure --timeout 600 "$@"
# The whole suite (no ctest arguments) ends with the checked build: the unit and MPI tests under
# ASan+UBSan and each libFuzzer target for 60 s (scripts/checked.sh; KRON_CHECKED=0 skips it).
if [ $# -eq 0 ] && [ "${KRON_CHECKED:-1}" != 0 ]; then
  "$here/scripts/checked.sh" "${FUZZ_SECONDS:-60}"
fi
