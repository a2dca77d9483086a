#!/usr/bin/env bash
# Configures and builds nascent in ./build (Release, Ninja, -j2 by default). BUILD_DIR and
# BUILD_TYPE override the defaults; extra arguments go to cmake's configure step.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${BUILD_DIR:-build}
build_type=${BUILD_TYPE:-Release}
jobs=${JOBS:-$(nproc)}
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE="$build_type" "$@"
cmake --build "$build_dir" -j "$jobs"
