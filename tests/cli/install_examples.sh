#!/usr/bin/env bash
# usage: install_examples.sh BUILD_DIR SOURCE_DIR HAVE_FORTRAN — kron as a library: installs the
# build into a scratch prefix, builds examples/{cpp,c,fortran} against the installed tree only
# (find_package(kron CONFIG REQUIRED); the C one also with mpicc and pkg-config), and runs each
# under mpirun on 2 and 3 ranks; each example checks its own results and prints "<name>: ok".
set -u
build=$1; src=$2; fortran=$3
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
prefix=$work/prefix
cmake --install "$build" --prefix "$prefix" > "$work/install.log" 2>&1 || { cat "$work/install.log"; fail "cmake --install"; }
for f in include/kron.h include/kron/layout/field.hpp include/kron/core/version.hpp lib/cmake/kron/kronConfig.cmake \
         lib/cmake/kron/kronConfigVersion.cmake lib/pkgconfig/kron.pc bin/kron; do
  [ -e "$prefix/$f" ] || fail "not installed: $f"
done
# The installed kron runs on its own (its libraries found through its RUNPATH).
"$prefix/bin/kron" --help > /dev/null || fail "the installed kron does not run"
examples="cpp:poisson_cpp c:heat_c"
[ "$fortran" = ON ] && examples="$examples fortran:poisson_f"
for e in $examples; do
  dir=${e%%:*}; exe=${e#*:}
  # Only the installed tree: the build and source trees are not on any path given here.
  cmake -S "$src/examples/$dir" -B "$work/b-$dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$prefix" \
    > "$work/$dir.log" 2>&1 && cmake --build "$work/b-$dir" >> "$work/$dir.log" 2>&1 || { cat "$work/$dir.log"; fail "building examples/$dir"; }
  for np in 2 3; do
    out=$(cd "$work" && mpirun --oversubscribe -n $np "$work/b-$dir/$exe" "$work/out-$dir-$np" 2>&1); rc=$?
    echo "$out"
    [ $rc -eq 0 ] && echo "$out" | grep -q "^$exe: ok" || fail "examples/$dir on $np ranks (exit $rc)"
    [ -s "$work/out-$dir-$np/$( [ $dir = c ] && echo heat || echo poisson ).xdmf" ] || fail "examples/$dir wrote no XDMF"
  done
done
# pkg-config: the C example with the MPI wrapper and kron.pc, no CMake.
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
mpicc -O2 -o "$work/heat_pc" "$src/examples/c/heat.c" $(pkg-config --cflags --libs kron) -lm > "$work/pc.log" 2>&1 || { cat "$work/pc.log"; fail "mpicc with pkg-config kron"; }
out=$(cd "$work" && mpirun --oversubscribe -n 2 "$work/heat_pc" "$work/out-pc" 2>&1) || { echo "$out"; fail "the pkg-config build of heat.c"; }
echo "$out" | grep -q "^heat_c: ok" || fail "pkg-config build: $out"
if [ "$fortran" = ON ]; then
  mpifort -O2 -o "$work/poisson_pc" "$src/examples/fortran/poisson.f90" $(pkg-config --cflags --libs kron-fortran) > "$work/pcf.log" 2>&1 || { cat "$work/pcf.log"; fail "mpifort with pkg-config kron-fortran"; }
  out=$(cd "$work" && mpirun --oversubscribe -n 2 "$work/poisson_pc" "$work/out-pcf" 2>&1) || { echo "$out"; fail "the pkg-config build of poisson.f90"; }
  echo "$out" | grep -q "^poisson_f: ok" || fail "pkg-config Fortran build: $out"
fi
echo "ok: installed kron used from C++, C$( [ "$fortran" = ON ] && echo ", Fortran") (CMake and pkg-config)"
