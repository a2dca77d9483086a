#!/usr/bin/env bash
# How well the kernel table predicts latency (issue: edge AI), per space, TorchScript at batch 1
# and one thread: `nascent latency-table` times the operations of --samples networks of the space,
# fits on --calibrate measured networks, then measures and predicts --heldout other networks,
# and reports the share within +-10%, RMSE and Spearman, next to FLOPs and parameters fitted
# the same way. Each space's result is kept in bench/results/latency_predictor/ and skipped when
# the script runs again; `report` rewrites bench/results/latency_predictor.{md,json}.
#   bench/latency_predictor.sh [SPACE ...|report]     (default: chain mbconv)
# One run at a time on an otherwise idle machine: the measurements are the reference.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${NASCENT:-build/nascent}
results=bench/results/latency_predictor
tables=${TABLES:-runs/latency_tables}
samples=${SAMPLES:-300}
calibrate=${CALIBRATE:-50}
heldout=${HELDOUT:-200}
mkdir -p "$results" "$tables"

report() { python3 bench/latency_predictor_report.py "$results" bench/results/latency_predictor; }

spaces=("$@")
[ ${#spaces[@]} -eq 0 ] && spaces=(chain mbconv)
for space in "${spaces[@]}"; do
  [ "$space" = report ] && continue
  [ -f "$results/$space.json" ] && { echo "== $space: kept"; continue; }
  echo "== $space ($(date +%H:%M))"
  "$bin" latency-table --space "$space" --runtime torchscript --threads 1 --samples "$samples" \
    --calibrate "$calibrate" --heldout "$heldout" --out "$tables/$space.json" --force \
    --rows "$results/$space-rows.json.tmp" > "$results/$space.json.tmp"
  mv "$results/$space-rows.json.tmp" "$results/$space-rows.json"
  mv "$results/$space.json.tmp" "$results/$space.json"
done
report
