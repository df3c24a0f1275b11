# Sourced by the bench/run-* scripts: builds what a benchmark runs, in $build_dir
# (XFER_BUILD_DIR, default build/), only those targets (the rest of the tree may be mid-edit).
# Under bench/run (XFER_BENCH_PREBUILT=1) nothing is built: it built everything once, in a
# directory of its own, so the binaries stay the same from the first benchmark to the last.
build_dir=${XFER_BUILD_DIR:-build}
bench_build() {
  [ -n "${XFER_BENCH_PREBUILT:-}" ] && return 0
  [ -f "$build_dir/CMakeCache.txt" ] || cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "$build_dir" -j"${XFER_JOBS:-2}" --target "$@" >/dev/null
}
