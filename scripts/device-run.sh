#!/usr/bin/env bash
# On the GPU machine (no MPI, HDF5, FFTW or PETSc there): unpacks the archive that
# scripts/device-bundle.sh made and runs kron from it.
#   scripts/device-run.sh                 the GPU checks: what the machine has, the unit tests, the
#                                         GPU and MPI tests, the quickstart on 1 and 2 ranks, and
#                                         the decks with a CUDA path on both backends, compared
#                                         (KRON_DEVICE_BENCH=1: then kron-bench --suite gpu;
#                                         =case,case: those cases of it)
#   scripts/device-run.sh CMD [ARGS...]   CMD (kron, kron-bench, mpirun, ...) in the bundle's
#                                         environment, e.g. scripts/device-run.sh mpirun -n 2 kron DECK
# With the device tool: run(command="scripts/device-run.sh", carry=["device-bundle/kron-device.tar.xz"]).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
archive=${KRON_BUNDLE:-$here/device-bundle/kron-device.tar.xz}
root=${KRON_BUNDLE_DIR:-/tmp/kron-device}
[ -f "$archive" ] || { echo "device-run: no $archive (make it here with scripts/device-bundle.sh and carry it)" >&2; exit 1; }
if [ ! -f "$root/stage/.unpacked" ] || [ "$archive" -nt "$root/stage/.unpacked" ]; then
  rm -rf "$root" && mkdir -p "$root" && tar -C "$root" -xJf "$archive" && touch "$root/stage/.unpacked"
fi
B=$root/stage
export PATH=$B/bin:$B/usr/bin:$PATH
export LD_LIBRARY_PATH=$B/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}:/usr/local/cuda/lib64
export OPAL_PREFIX=$B/usr PMIX_INSTALL_PREFIX=$B/usr
export PMIX_MCA_mca_base_component_path=$B/usr/lib/x86_64-linux-gnu/pmix2/lib/pmix
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
export OMPI_MCA_btl_vader_single_copy_mechanism=none OMPI_MCA_btl=self,vader OMPI_MCA_plm=isolated
export KRON_FFTW_WISDOM=none NCCL_NVLS_ENABLE=0
# The GPU machine's image has a libpmix of its own whose plugins do not load into this one: quiet.
export PMIX_MCA_mca_base_component_show_load_errors=0 OMPI_MCA_mca_base_component_show_load_errors=0
export PMIX_MCA_pcompress_base_silence_warning=1
if [ $# -gt 0 ]; then exec "$@"; fi

src=$B/src
export KRON_SOURCE_DIR=$src
status=0
step() { echo; echo "== $*"; "$@" || { echo "== FAILED ($?): $*"; status=1; }; }
echo "bundle of $(cat "$B/GIT_HEAD" 2>/dev/null || echo '?'); $(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null || echo 'no nvidia-smi')"
step kron --version
step mpirun -n 2 kron --version
step kron-unit-tests
cd "$(mktemp -d)"
for np in 1 2; do
  step mpirun -n $np kron-gpu-tests
  step mpirun -n $np kron-mpi-tests
  step mpirun -n $np kron "$src/inputs/quickstart.toml" output.dir=q$np log.timers=false
  # The decks with a CUDA path on both backends: the same errors and residuals.
  for deck in quickstart poisson_chebyshev poisson_neumann helmholtz_periodic heat spectrum_quickstart spectrum_taylor_green spectrum_2d; do
    for b in cpu cuda; do
      step mpirun -n $np kron "$src/inputs/$deck.toml" output.dir=$deck-$b-$np device.backend=$b log.timers=false output.write_fields=false
    done
    step python3 "$src/scripts/compare_summaries.py" $deck-cpu-$np/summary.json $deck-cuda-$np/summary.json 1e-12
  done
done
# KRON_DEVICE_BENCH=1: the whole gpu suite; a list of cases: those only.
case "${KRON_DEVICE_BENCH:-0}" in
  0) ;;
  1) step kron-bench --suite gpu --json "${OUT:-.}/bench_gpu.json" ;;
  *) step kron-bench --suite gpu --cases "$KRON_DEVICE_BENCH" --json "${OUT:-.}/bench_gpu.json" ;;
esac
exit $status
