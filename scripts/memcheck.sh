#!/usr/bin/env bash
# valgrind memcheck of a representative run of each problem kind, on 2 MPI ranks (every rank under
# valgrind): no invalid reads or writes, no use of uninitialised values, no leaks (definite,
# indirect or possible) in kron. OpenMPI's own allocations in MPI_Init/MPI_Finalize and its
# progress threads are suppressed (tests/valgrind/kron.supp, with OpenMPI's openmpi-valgrind.supp);
# nothing else is. The runs are small (valgrind is 20-50x slower) and use the build in build/
# (KRON_BUILD_DIR to choose another; it must not be a sanitizer build).
# Usage: scripts/memcheck.sh [KIND ...]   (default: every kind). Logs in $KRON_BUILD_DIR/memcheck/.
# Exit 0 when every run is clean. Not part of scripts/test.sh (about 15 minutes here).
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$here"
EXTRA_PACKAGES="valgrind" SETUP_PACKAGES_ONLY=1 "$here/scripts/setup.sh" || exit 1
source "$here/scripts/env.sh"
B=${KRON_BUILD_DIR:-build}
kron="$here/$B/bin/kron"
[ -x "$kron" ] || { echo "memcheck: no $kron: build kron first (scripts/test.sh or cmake --build $B)"; exit 1; }
# Frames in OpenMPI's plugins stay symbolised (the suppressions match them by library).
export OMPI_MCA_mca_base_component_disable_dlclose=1 PMIX_MCA_mca_base_component_disable_dlclose=1
work="$here/$B/memcheck"
rm -rf "$work"; mkdir -p "$work"; cd "$work"
vg=(valgrind --tool=memcheck --leak-check=full --show-leak-kinds=definite,indirect,possible
    --errors-for-leak-kinds=definite,indirect,possible --track-origins=no --num-callers=30
    --suppressions=/usr/share/openmpi/openmpi-valgrind.supp --suppressions="$here/tests/valgrind/kron.supp")
in="$here/inputs"
small3="grid.n=[12,12,12] log.timers=false"
declare -A case
case[poisson]="$in/poisson_neumann.toml $small3"
case[helmholtz]="$in/helmholtz_periodic.toml $small3"
case[diffusion]="$in/diffusion.toml $small3 diffusion.rtol=1e-8"
case[heat]="$in/heat.toml grid.n=[12,10,9] heat.t_end=0.05 heat.output_every=0 heat.progress_every=0 heat.checkpoint_every=5 output.dir=out_heat log.timers=false"
case[heat_restart]="$in/heat.toml grid.n=[12,10,9] heat.t_end=0.08 heat.output_every=0 heat.progress_every=0 heat.restart=out_heat/heat_checkpoint.h5 output.dir=out_heat_restart log.timers=false"
case[spectrum]="$in/spectrum_quickstart.toml grid.n=[16,16,16] log.timers=false"
case[bwler]="$in/bwler/convection_c40.toml parameters.c=5 bwler.nodes=[17,16] log.timers=false"
case[bwler_hat]="$in/bwler/convection_hat.toml bwler.steps=20 bwler.hat_widths=[16,16] log.timers=false"
case[bwler_plane]="$in/bwler/laplace_holes.toml bwler_plane.nodes=[16,16] bwler_plane.collocation=[24,24] bwler_plane.boundary_points=[30,30] bwler_plane.reference_degree=[30,15] bwler_plane.test_points=[21,21] log.timers=false"
case[gp_pde]="$in/gp/poisson_sin6cos100.toml gp.points=48 gp.freq_scale=2 gp.components=4 gp.steps=10 log.timers=false"
case[surrogate_data]="$in/surrogate/burgers_data.toml surrogate_data.samples=8 surrogate_data.resolution=128 surrogate_data.time=0.05 surrogate_data.progress_every=0 log.timers=false"
case[surrogate_data_darcy]="$in/surrogate/darcy_data.toml surrogate_data.samples=2 surrogate_data.resolution=21 surrogate_data.progress_every=0 log.timers=false"
case[surrogate_train]="$in/surrogate/burgers_train.toml surrogate_train.train=6 surrogate_train.test=2 surrogate_train.modes=4 surrogate_train.width=4 surrogate_train.layers=1 surrogate_train.head=8 surrogate_train.epochs=2 surrogate_train.batch=2 surrogate_train.checkpoint_every=1 log.timers=false"
case[surrogate_predict]="$in/surrogate/burgers_predict.toml surrogate_predict.first=6 surrogate_predict.samples=2 surrogate_predict.fields=1 log.timers=false"
order=(poisson helmholtz diffusion heat heat_restart spectrum bwler bwler_hat bwler_plane gp_pde surrogate_data surrogate_data_darcy surrogate_train surrogate_predict)
[ $# -gt 0 ] && order=("$@")
status=0
for name in "${order[@]}"; do
  [ -n "${case[$name]:-}" ] || { echo "memcheck: no case $name (cases: ${!case[*]})"; exit 1; }
  t0=$(date +%s)
  # shellcheck disable=SC2086
  mpirun --oversubscribe -n 2 "${vg[@]}" --log-file="vg_$name.%p.log" "$kron" ${case[$name]} > "$name.out" 2>&1
  rc=$?
  errors=0; lost=""
  for log in vg_"$name".*.log; do
    e=$(grep -o "ERROR SUMMARY: [0-9]*" "$log" | grep -o "[0-9]*$"); errors=$((errors + ${e:-1}))
    lost="$lost $(grep -o "definitely lost: [0-9,]* bytes" "$log" | grep -o "[0-9,]* bytes" | head -1)"
  done
  if [ $rc -eq 0 ] && [ $errors -eq 0 ]; then
    echo "memcheck: $name: clean on 2 ranks, 0 errors, definitely lost:$lost ($(( $(date +%s) - t0 )) s)"
  else
    echo "memcheck: $name: exit $rc, $errors valgrind errors ($(( $(date +%s) - t0 )) s); see $work/$name.out and $work/vg_$name.*.log"
    tail -5 "$name.out"; status=1
  fi
done
echo "memcheck: done, status $status"
exit $status
