#!/usr/bin/env bash
# usage: build_warnings.sh BUILD_DIR PYTHON SOURCE...
# Recompiles each SOURCE with its own command from compile_commands.json (to /dev/null) and
# fails on any compiler warning: the build stays warning-free, so that a warning means
# something. The units named are those where GCC 12's AVX-512 headers used to emit hundreds of
# false -Wmaybe-uninitialized warnings (kron's own intrinsics, Eigen, PETSc with Eigen).
set -u
build=$1; py=$2; shift 2
fail() { echo "FAIL: $*"; exit 1; }
[ -f "$build/compile_commands.json" ] || fail "no $build/compile_commands.json (CMAKE_EXPORT_COMPILE_COMMANDS)"
for src in "$@"; do
  cmd=$("$py" - "$build/compile_commands.json" "$src" <<'PY'
import json, shlex, sys
for e in json.load(open(sys.argv[1])):
    if e["file"].endswith(sys.argv[2]):
        args = shlex.split(e["command"])
        i = args.index("-o")
        args[i + 1] = "/dev/null"
        args = [a for a in args if a not in ("-MD",)]
        out = []
        skip = False
        for a in args:  # drop the dependency-file options
            if skip:
                skip = False
                continue
            if a in ("-MT", "-MF"):
                skip = True
                continue
            out.append(a)
        print(e["directory"])
        print(shlex.join(out))
        break
else:
    sys.exit("no compile command for " + sys.argv[2])
PY
) || fail "$cmd"
  dir=$(echo "$cmd" | head -1); line=$(echo "$cmd" | tail -1)
  log=$(cd "$dir" && eval "$line" 2>&1) || fail "$src does not compile: $log"
  n=$(echo "$log" | grep -c "warning:")
  [ "$n" -eq 0 ] || fail "$src: $n warning(s), e.g. $(echo "$log" | grep -m1 "warning:")"
  echo "ok: $src compiles without warnings"
done
