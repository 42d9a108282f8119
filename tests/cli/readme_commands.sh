#!/usr/bin/env bash
# usage: readme_commands.sh BUILD_DIR SOURCE_DIR — the commands the README's tour and the
# quickstart deck document work as typed (bash word splitting and quoting included): each line
# of the tour's first sh block runs in a scratch folder that sees build/, inputs/, scripts/ and
# meshes/ of this checkout, and the deck's override example is validated.
set -u
build=$1; src=$2
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
ln -s "$build" "$work/build"; for d in inputs scripts meshes; do ln -s "$src/$d" "$work/$d"; done
cd "$work"
fail() { echo "FAIL: $*"; exit 1; }
block=$(awk '/^## A short tour/{t=1} t && /^```sh/{b=1; next} b && /^```/{exit} b' "$src/README.md")
[ -n "$block" ] || fail "no sh block in the README's tour"
n=0
while IFS= read -r line; do
  cmd=${line%%#*}                       # drop the comment
  [ -n "${cmd// /}" ] || continue
  n=$((n + 1))
  case $cmd in
    source*) eval "$cmd" || fail "'$cmd' failed"; continue ;;
  esac
  # As typed, except that big runs are cut down to keep the test short (the last override wins).
  case $cmd in *mpirun*) cmd="$cmd grid.n=[32,32,32] log.timers=false" ;; esac
  (eval "$cmd") > "$work/out.log" 2>&1 || { cat "$work/out.log"; fail "README command failed as typed: $cmd"; }
done <<< "$block"
[ "$n" -ge 4 ] || fail "only $n commands found in the README's tour"
# The quickstart deck's own override example, as typed in bash (quotes included).
ex=$(sed -n 's/^#   NP=4 scripts\/run.sh //p' "$src/inputs/quickstart.toml")
[ -n "$ex" ] || fail "no override example in inputs/quickstart.toml"
eval "build/bin/kron $ex --validate" > "$work/out.log" 2>&1 || { cat "$work/out.log"; fail "the quickstart deck's example does not validate as typed: $ex"; }
# scripts/run.sh builds only the kron program (not the test suite) before it runs: a cmake
# wrapper on PATH records how it is called.
mkdir "$work/bin"
cat > "$work/bin/cmake" <<EOS
#!/usr/bin/env bash
echo "\$*" >> "$work/cmake_calls"
exec $(command -v cmake) "\$@"
EOS
chmod +x "$work/bin/cmake"
PATH="$work/bin:$PATH" BUILD_DIR="$build" "$src/scripts/run.sh" "$src/inputs/quickstart.toml" grid.n=[12,12,12] output.dir="$work/run" \
  log.timers=false > "$work/out.log" 2>&1 || { cat "$work/out.log"; fail "scripts/run.sh failed"; }
grep -q -- "--build .* --target kron$" "$work/cmake_calls" || fail "scripts/run.sh does not build the kron target alone: $(cat "$work/cmake_calls")"
[ -f "$work/run/summary.json" ] || fail "scripts/run.sh did not run the deck"
echo "ok: $n README commands, the quickstart example, scripts/run.sh builds kron only"
