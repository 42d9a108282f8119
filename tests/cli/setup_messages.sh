#!/usr/bin/env bash
# usage: setup_messages.sh SOURCE_DIR — scripts/setup.sh says what it installs and that it takes
# a while before the quiet apt-get step, and how long it took after it. dpkg-query and apt-get
# are stand-ins on PATH (one package reported missing; apt-get records its calls), so nothing is
# installed; SETUP_PACKAGES_ONLY=1 skips the build.
set -u
src=$1
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
mkdir "$work/bin"
cat > "$work/bin/dpkg-query" <<EOS
#!/usr/bin/env bash
# every package installed except libmuparser-dev
[ "\${@: -1}" = libmuparser-dev ] && exit 1
echo "install ok installed"
EOS
cat > "$work/bin/apt-get" <<EOS
#!/usr/bin/env bash
echo "apt-get \$*" >> "$work/apt_calls"
EOS
chmod +x "$work/bin/dpkg-query" "$work/bin/apt-get"
PATH="$work/bin:$PATH" SETUP_PACKAGES_ONLY=1 "$src/scripts/setup.sh" > "$work/out" 2>&1 || fail "setup.sh failed: $(cat "$work/out")"
grep -q "setup: installing 1 Debian package(s) and what they need: libmuparser-dev" "$work/out" || fail "no 'installing' line: $(cat "$work/out")"
grep -q "setup: this takes a few minutes on a fresh machine" "$work/out" || fail "no 'takes a while' line: $(cat "$work/out")"
grep -q "setup: packages installed in [0-9]* s" "$work/out" || fail "no duration line: $(cat "$work/out")"
grep -q "install -y -qq --no-install-recommends libmuparser-dev" "$work/apt_calls" || fail "apt-get was not asked for the package: $(cat "$work/apt_calls")"
echo ok
