#!/usr/bin/env bash
# nascent under AddressSanitizer and UndefinedBehaviorSanitizer: builds with clang in
# build-sanitize/ (NASCENT_SANITIZE=ON; NASCENT_FUZZ=ON too, so bench/fuzz.sh shares the build),
# runs the unit tests (ctest -L unit) and a smoke search with every report fatal.
#   scripts/sanitize.sh              install clang if missing, build, test, smoke search
#   scripts/sanitize.sh configure    only install and configure build-sanitize/
# SANITIZE_BUILD overrides the directory. Leak detection is off: LibTorch, OpenMPI and OpenMP
# keep process-lifetime allocations that LeakSanitizer would report.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${SANITIZE_BUILD:-build-sanitize}

./scripts/install-deps.sh --sanitize
if [ ! -f "$dir/build.ninja" ]; then
  CC=clang-14 CXX=clang++-14 cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_CXX_FLAGS="-gline-tables-only" -DNASCENT_SANITIZE=ON -DNASCENT_FUZZ=ON -DNASCENT_BUILD_BENCH=OFF
fi
[ "${1:-}" = configure ] && exit 0

export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:detect_stack_use_after_return=0
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export ASAN_SYMBOLIZER_PATH=/usr/bin/llvm-symbolizer-14
t0=$(date +%s)
cmake --build "$dir" -j "${JOBS:-$(nproc)}"
t1=$(date +%s)
(cd "$dir" && ctest --output-on-failure -L unit -j "${JOBS:-$(nproc)}")
t2=$(date +%s)
smoke=$(mktemp -d)
"$dir/nascent" search --config examples/smoke.yaml --out "$smoke/run" --quiet
"$dir/nascent" report --run "$smoke/run" > /dev/null
rm -rf "$smoke"
t3=$(date +%s)
echo "sanitize: clean. build $((t1 - t0)) s, unit tests $((t2 - t1)) s, smoke search and report $((t3 - t2)) s"
