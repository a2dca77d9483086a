#!/usr/bin/env bash
# The main job for a newcomer: install dependencies, build, and run a real architecture search on
# Fashion-MNIST with the default budget (examples/fashion_mnist.yaml), then train the best
# architecture found. Results go to runs/fashion-mnist (override with OUT=...): report.html,
# model.pt (TorchScript), summary.json, trials.csv, best_arch.json, experiment.db.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
./scripts/build.sh
out=${OUT:-runs/fashion-mnist}
exec ./build/nascent search --config examples/fashion_mnist.yaml --out "$out" "$@"
