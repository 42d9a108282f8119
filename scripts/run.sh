#!/usr/bin/env bash
# Installs what is missing, builds, and runs kron on 2 MPI ranks.
# Usage: scripts/run.sh [DECK] [section.key=value ...]     (default deck: inputs/quickstart.toml)
# NP=4 scripts/run.sh ... runs on another rank count.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# Builds the kron program only (scripts/test.sh builds the tests).
BUILD_TARGETS=kron "$here/scripts/setup.sh" >&2
source "$here/scripts/env.sh"
deck=${1:-$here/inputs/quickstart.toml}
[ $# -gt 0 ] && shift
build=${BUILD_DIR:-build}
case $build in /*) ;; *) build=$here/$build ;; esac  # BUILD_DIR may be absolute
exec mpirun -n "${NP:-2}" "$build/bin/kron" "$deck" "$@"
