#!/usr/bin/env bash
# Produces the measured table behind bench/estimator_quality with nascent's own runner: the
# config examples/estimator_quality.yaml run once per zero-cost proxy (training-free) and at the
# reference and two lower fidelities (trained), all with the same seed, so every run proposes the
# same distinct architectures in the same order. The trained runs advance together in chunks of
# CHUNK architectures, so an interrupted measurement leaves every fidelity at about the same
# count. Every run is resumable: run the script again to continue. Then joins the runs into
# bench/results/nb201_fmnist_table.csv (+ _trials.csv) and prints the rank correlations.
#
#   nice -n 10 bench/estimator_quality.sh            # ARCHS=200 CHUNK=10 RUNS=runs/estimator_quality
#   WORKERS=2 bench/estimator_quality.sh             # trained runs in 2 worker processes (1 thread each)
set -euo pipefail
cd "$(dirname "$0")/.."
archs=${ARCHS:-200}
chunk=${CHUNK:-10}
dir=${RUNS:-runs/estimator_quality}
bin=${NASCENT:-build/nascent}
workers=${WORKERS:-1}
config=examples/estimator_quality.yaml

search() {  # search OUT MAX_TRIALS [flags...]
  local out=$1 max=$2
  shift 2
  local flags=()
  [ -f "$dir/$out/experiment.db" ] && flags=(--resume)
  [ "$workers" -gt 1 ] && flags+=(--workers "$workers")
  "$bin" search --config "$config" --out "$dir/$out" --max-trials "$max" --quiet "${flags[@]}" "$@" >/dev/null
}

for p in synflow jacob_cov naswot snip grad_norm fisher params flops; do
  search "proxy_$p" "$archs" --estimator "proxy:$p"
done
for ((n = chunk; n < archs + chunk; n += chunk)); do
  m=$((n < archs ? n : archs))
  search low_e1_d0.0926 "$m" --set fidelity.epochs=1 --set fidelity.data_fraction=0.09259
  search low_e1_d0.37 "$m" --set fidelity.epochs=1
  search reference "$m"
  echo "$(date -u +%H:%M:%S) $m architectures at every fidelity"
done
build/bench/estimator_quality --runs "$dir"
