#!/usr/bin/env bash
# Trains fixed networks of the cnn space for the same short wall-clock budget with the default
# job's recipe, to see which shapes win at equal time on this machine (docs/performance.md,
# "Screening networks by hand").
#
#   bench/screen.sh [BUDGET_MIN [SEED]] [arch.json ...]   (default: 6 0 bench/screen/*.json)
#
# Resumable: a network whose train.json exists is skipped. One run at a time.
set -euo pipefail
cd "$(dirname "$0")/.."
budget=${1:-6}
seed=${2:-0}
shift $(( $# < 2 ? $# : 2 ))
archs=("$@")
[ ${#archs[@]} -gt 0 ] || archs=(bench/screen/*.json)
bin=${NASCENT:-build/nascent}
out=${RUNS:-runs/screen}
mkdir -p "$out"
for a in "${archs[@]}"; do
  n=$(basename "$a" .json)-b$budget-s$seed
  [ -f "$out/$n/train.json" ] && continue
  rm -rf "${out:?}/$n"
  echo "== $n ($(date +%H:%M))"
  "$bin" train --arch "$a" --config examples/fashion_mnist.yaml --time-budget "$budget" --seed "$seed" \
    --out "$out/$n" > "$out/$n.log" 2>&1 || echo "   failed, see $out/$n.log"
done
printf '%-24s %8s %7s %8s\n' network test_acc epochs params
for a in "${archs[@]}"; do
  n=$(basename "$a" .json)-b$budget-s$seed
  [ -f "$out/$n/train.json" ] || continue
  python3 -c "
import json, sys
j = json.load(open(sys.argv[1]))
print('%-24s %8.4f %7.2f %8d' % (sys.argv[2], j['test_accuracy'], j['epochs'], j['params']))" "$out/$n/train.json" "$n"
done
