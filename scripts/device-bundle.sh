#!/usr/bin/env bash
# Builds kron with CUDA for sm_90 (H100/H200) and packs what the GPU machine needs to run it into
# one archive: the binaries, the tests' data and scripts, every shared library they load (OpenMPI
# with the plugins and help files mpirun needs to start 1 and 2 ranks, HDF5, FFTW, PETSc and
# their dependencies), but not the CUDA libraries (the GPU machine's toolkit provides them) and not
# glibc (the GPU machine's is newer). The machine there has CUDA but no MPI, HDF5, FFTW or PETSc
# and cannot install anything.
#   scripts/device-bundle.sh            -> device-bundle/kron-device.tar.xz (checked < 64 MiB)
# Then there: scripts/device-run.sh (unpacks it and runs what it is asked to).
# BUILD_DIR (default build-device) is its own build: -march=x86-64-v3, since the GPU machine's
# processor is not this one.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$here"
BUILD_DIR=${BUILD_DIR:-build-device}
out=device-bundle
[ -x /usr/local/cuda/bin/nvcc ] || { echo "device-bundle: no nvcc at /usr/local/cuda/bin/nvcc: the CUDA Toolkit is needed" >&2; exit 1; }
SETUP_PACKAGES_ONLY=1 "$here/scripts/setup.sh" >&2   # packages; the build below is this script's own
# Static libraries: the bundle's binaries carry kron (and one CUDA runtime) inside them.
if [ ! -f "$BUILD_DIR/build.ninja" ]; then
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DKRON_ENABLE_CUDA=ON \
    -DCMAKE_CUDA_ARCHITECTURES=90 -DKRON_ARCH=x86-64-v3 -DBUILD_SHARED_LIBS=OFF -DKRON_ENABLE_FORTRAN=OFF >/dev/null
else
  cmake "$BUILD_DIR" -DBUILD_SHARED_LIBS=OFF -DKRON_ENABLE_FORTRAN=OFF >/dev/null
fi
cmake --build "$BUILD_DIR" -j "$(nproc)" --target kron kron-bench kron-unit-tests kron-mpi-tests kron-gpu-tests
rm -rf "$out/stage" && mkdir -p "$out/stage/bin" "$out/stage/lib"
stage=$out/stage
for b in kron kron-bench kron-unit-tests kron-mpi-tests kron-gpu-tests; do cp "$BUILD_DIR/bin/$b" "$stage/bin/"; done
# Every library the binaries and mpirun load, except glibc's own and CUDA's.
skip='^(linux-vdso|ld-linux|libc\.so|libm\.so|libdl\.so|libpthread\.so|librt\.so|libutil\.so|libresolv\.so|libcuda|libcudart|libcublas|libcufft|libnvJitLink|libnvrtc)'
libs() { ldd "$@" 2>/dev/null | awk '/=> \//{print $3}' | sort -u; }
ompi_plugins=/usr/lib/x86_64-linux-gnu/openmpi/lib/openmpi3
pmix_plugins=/usr/lib/x86_64-linux-gnu/pmix2/lib/pmix
for l in $(libs "$stage"/bin/* "$(readlink -f "$(command -v mpirun)")" "$(command -v orted)" "$ompi_plugins"/*.so "$pmix_plugins"/*.so); do
  n=$(basename "$l")
  [[ $n =~ $skip ]] && continue
  cp -L "$l" "$stage/lib/$n"
done
# OpenMPI relocated under usr/ (OPAL_PREFIX): mpirun, its plugins and help texts, PMIx's plugins.
mkdir -p "$stage/usr/bin" "$stage/usr/lib/x86_64-linux-gnu/openmpi/lib" "$stage/usr/lib/x86_64-linux-gnu/pmix2/lib" "$stage/usr/share"
cp -L "$(readlink -f "$(command -v mpirun)")" "$stage/usr/bin/orterun"
cp -L "$(command -v orted)" "$stage/usr/bin/orted"   # a singleton (a binary run without mpirun) starts one
ln -sf orterun "$stage/usr/bin/mpirun"
cp -r "$ompi_plugins" "$stage/usr/lib/x86_64-linux-gnu/openmpi/lib/"
cp -r "$pmix_plugins" "$stage/usr/lib/x86_64-linux-gnu/pmix2/lib/"
cp -r /usr/share/openmpi "$stage/usr/share/"
[ -d /usr/share/pmix ] && cp -r /usr/share/pmix "$stage/usr/share/"
# The tests' inputs, decks and scripts (ctest is not there: device-run.sh runs the binaries).
mkdir -p "$stage/src"
cp -r inputs tests meshes scripts docs "$stage/src/"
git rev-parse HEAD > "$stage/GIT_HEAD" 2>/dev/null || true
strip --strip-unneeded "$stage"/bin/* "$stage"/lib/*.so* 2>/dev/null || true
tar -C "$out" -cJf "$out/kron-device.tar.xz" stage
nlib=$(ls "$stage/lib" | wc -l)
rm -rf "$stage"
size=$(stat -c %s "$out/kron-device.tar.xz")
echo "device-bundle: $out/kron-device.tar.xz, $((size / 1048576)) MiB ($nlib libraries)"
[ "$size" -lt $((64 * 1048576)) ] || { echo "device-bundle: the archive is over 64 MiB" >&2; exit 1; }
