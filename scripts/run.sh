#!/usr/bin/env bash
# Installs what is missing, builds, and runs kron on 2 MPI ranks.
# Usage: scripts/run.sh [DECK] [section.key=value ...]     (default deck: inputs/quickstart.toml)
# NP=4 scripts/run.sh ... runs on another rank count.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$here/scripts/setup.sh" >&2
source "$here/scripts/env.sh"
deck=${1:-$here/inputs/quickstart.toml}
[ $# -gt 0 ] && shift
exec mpirun -n "${NP:-2}" "$here/${BUILD_DIR:-build}/bin/kron" "$deck" "$@"
