#!/usr/bin/env bash
# Install dependencies, build, and run every test (ctest labels `unit` and `slow`).
# LABEL=unit runs only the fast set.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
./scripts/build.sh
cd build
if [ -n "${LABEL:-}" ]; then
  exec ctest --output-on-failure -L "$LABEL" -j 2
fi
exec ctest --output-on-failure -j 2
