#!/usr/bin/env bash
# Installs kron's build dependencies (Debian packages; idempotent) and builds build/ in Release.
# Usage: scripts/setup.sh            (BUILD_DIR and BUILD_TYPE may be set in the environment;
#                                     BUILD_TARGETS="kron ..." builds only those targets;
#                                     SETUP_PACKAGES_ONLY=1 installs and does not build)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$here"
BUILD_DIR=${BUILD_DIR:-build}
BUILD_TYPE=${BUILD_TYPE:-Release}

packages=(g++ gfortran cmake ninja-build pkg-config git
          openmpi-bin libopenmpi-dev petsc-dev libfftw3-dev libfftw3-mpi-dev
          libhdf5-openmpi-dev hdf5-tools libeigen3-dev catch2 libtomlplusplus-dev libmuparser-dev)
# EXTRA_PACKAGES: more packages for a caller (scripts/test.sh adds ParaView for its XDMF check).
read -r -a extra <<< "${EXTRA_PACKAGES:-}"
packages+=("${extra[@]}")
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${#missing[@]} Debian package(s) and what they need: ${missing[*]}"
  echo "setup: this takes a few minutes on a fresh machine (apt-get is quiet meanwhile)"
  t0=$(date +%s)
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  echo "setup: packages installed in $(( $(date +%s) - t0 )) s"
fi

# SETUP_PACKAGES_ONLY=1: the packages, no build (scripts/device-bundle.sh builds its own).
[ "${SETUP_PACKAGES_ONLY:-0}" = 1 ] && exit 0

jobs=$(nproc 2>/dev/null || echo 2)
if [ ! -f "$BUILD_DIR/build.ninja" ]; then
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE="$BUILD_TYPE"
else
  cmake -S . -B "$BUILD_DIR" >/dev/null  # picks up tools installed since the last configure
fi
read -r -a targets <<< "${BUILD_TARGETS:-}"
if [ ${#targets[@]} -gt 0 ]; then
  cmake --build "$BUILD_DIR" -j "$jobs" --target "${targets[@]}"
else
  cmake --build "$BUILD_DIR" -j "$jobs"
fi
