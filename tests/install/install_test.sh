#!/usr/bin/env bash
# tests/install/CMakeLists.txt says what this proves.
#   install_test.sh BUILD_DIR SOURCE_DIR CXX VERSION [EXTRA_CXXFLAGS]
set -euo pipefail
build=${1:?build dir}
src=${2:?source dir}
cxx=${3:?compiler}
version=${4:?project version}
flags=${5:-}
work=$(mktemp -d /tmp/xfer-install-test.XXXXXX)
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
step() { echo "-- $*"; }

prefix=$work/prefix
step "cmake --install into $prefix"
cmake --install "$build" --prefix "$prefix" >"$work/install.log"
for f in include/xfer/engine.h include/xfer/error.h bin/xfer bin/xfer-testserver share/bash-completion/completions/xfer; do
  [ -e "$prefix/$f" ] || { echo "missing after install: $f"; exit 1; }
done
lib=$(find "$prefix" -name 'libxfer.so' -print -quit)
pc=$(find "$prefix" -name 'xfer.pc' -print -quit)
config=$(find "$prefix" -name 'xferConfig.cmake' -print -quit)
[ -n "$lib" ] && [ -n "$pc" ] && [ -n "$config" ] || { echo "library, xfer.pc or xferConfig.cmake missing"; exit 1; }
# Nothing internal is installed: only <xfer/...> headers.
if find "$prefix/include" -type f ! -path "$prefix/include/xfer/*" | grep -q .; then
  echo "headers outside include/xfer were installed"; exit 1
fi

export PKG_CONFIG_PATH
PKG_CONFIG_PATH=$(dirname "$pc")
modversion=$(pkg-config --modversion xfer)
[ "$modversion" = "$version" ] || { echo "pkg-config says version $modversion, the project is $version"; exit 1; }
pc_output=$(pkg-config --cflags --libs xfer)
step "pkg-config: xfer $modversion: $pc_output"
read -r -a pc_flags <<<"$pc_output"
read -r -a extra <<<"$flags"

step "every public header compiles on its own"
for h in "$prefix"/include/xfer/*.h; do
  echo "#include <xfer/$(basename "$h")>" | "$cxx" -x c++ -fsyntax-only "${pc_flags[@]}" "${extra[@]}" - ||
    { echo "not self-contained: $h"; exit 1; }
done

step "examples/ with find_package(xfer)"
cmake -S "$src/examples" -B "$work/examples" -DCMAKE_PREFIX_PATH="$prefix" \
  -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_CXX_FLAGS="$flags" >"$work/configure.log" || { cat "$work/configure.log"; exit 1; }
cmake --build "$work/examples" -j2 >"$work/build.log" || { cat "$work/build.log"; exit 1; }

step "engine_example with pkg-config"
"$cxx" "${extra[@]}" "$src/examples/engine_example.cpp" -o "$work/engine_example_pc" "${pc_flags[@]}"

step "start the installed xfer-testserver"
mkdir -p "$work/root" "$work/data"
head -c 3000000 /dev/urandom >"$work/root/payload.bin"
"$prefix/bin/xfer-testserver" --root "$work/root" --data "$work/data" \
  --listen-plain 127.0.0.1:0 >"$work/ready" 2>"$work/server.log" &
server_pid=$!
port=""
for _ in $(seq 1 100); do
  port=$(sed -n 's/.*"plain_port":\([0-9]*\).*/\1/p' "$work/ready")
  [ -n "$port" ] && break
  sleep 0.1
done
[ -n "$port" ] || { echo "test server not ready"; cat "$work/server.log"; exit 1; }

want=$(sha256sum <"$work/root/payload.bin" | cut -d' ' -f1)
for example in "$work/examples/engine_example" "$work/engine_example_pc"; do
  name=$(basename "$example")
  step "$name downloads from http://127.0.0.1:$port"
  LD_LIBRARY_PATH=$(dirname "$lib") timeout 120 "$example" "$work/journal-$name" \
    "http://127.0.0.1:$port/files/payload.bin" "$work/out-$name.bin" >"$work/$name.log" 2>&1 ||
    { cat "$work/$name.log"; exit 1; }
  # The library it ran against says its version first.
  grep -qx "xfer $version" "$work/$name.log" || { echo "$name did not report xfer $version"; cat "$work/$name.log"; exit 1; }
  got=$(sha256sum <"$work/out-$name.bin" | cut -d' ' -f1)
  [ "$got" = "$want" ] || { echo "$name: SHA-256 $got, want $want"; exit 1; }
done
step "installed library, CMake package and pkg-config file all work"
