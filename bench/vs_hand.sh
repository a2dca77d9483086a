#!/usr/bin/env bash
# nascent's default job against hand-designed networks at the same wall-clock budget on
# Fashion-MNIST (issue: "beat a hand-designed network at equal cost").
#
#   bench/vs_hand.sh [30|60|all|report]     (default: all)
#   bench/vs_hand.sh row NAME BUDGET SEED   (one row: NAME is nascent or a bench/vs_hand/ file)
#
# Budget 30: the default job (examples/fashion_mnist.yaml, --time-budget 30) with seeds 0, 1, 2;
# every hand baseline (bench/vs_hand/*.json) trained by `nascent train --time-budget 30` with the
# same config, so the same recipe, on all 60,000 training images, seed 0; then the best of them
# with seeds 1 and 2. Budget 60: the default job and the best hand baseline, seed 0.
# Each finished row is kept in bench/results/vs_hand/rows/ and skipped when the script runs
# again, so the ~6 hours can be spread over several sittings; a row whose run was cut off is
# run again from the start. One run at a time: two at once on 2 cores spoil each other's times.
# `report` (also run after every row) writes bench/results/vs_hand.{md,json}.
# Trying a variant of the default job without touching the committed results:
#   CONFIG=my.yaml RESULTS=runs/variant/vs_hand RUNS=runs/variant bench/vs_hand.sh row nascent 30 0
# keeps that variant's rows in RESULTS/rows and its table in RESULTS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${NASCENT:-build/nascent}
config=${CONFIG:-examples/fashion_mnist.yaml}
results=${RESULTS:-bench/results/vs_hand}
rows=$results/rows
runs=${RUNS:-runs/vs_hand}
mkdir -p "$rows" "$runs"
what=${1:-all}

report() { python3 bench/vs_hand_report.py "$rows" "$results"; }

# row NAME BUDGET SEED: trains (or searches) once and writes the row's JSON.
row() {
  local name=$1 budget=$2 seed=$3
  local key="b${budget}-${name}-s${seed}" dir="$runs/b${budget}-${name}-s${seed}"
  [ -f "$rows/$key.json" ] && return 0
  rm -rf "$dir"
  echo "== $key ($(date +%H:%M))"
  local t0 t1
  t0=$(date +%s.%N)
  if [ "$name" = nascent ]; then
    "$bin" search --config "$config" --out "$dir" --seed "$seed" --time-budget "$budget" --quiet > "$dir.log" 2>&1 ||
      { echo "   failed, see $dir.log"; return 1; }
    arch="$dir/best_arch.json"
    result="$dir/summary.json"
  else
    "$bin" train --arch "bench/vs_hand/$name.json" --config "$config" --seed "$seed" --time-budget "$budget" \
      --out "$dir" > "$dir.log" 2>&1 || { echo "   failed, see $dir.log"; return 1; }
    arch="bench/vs_hand/$name.json"
    result="$dir/train.json"
  fi
  t1=$(date +%s.%N)
  "$bin" profile --arch "$arch" --config "$config" --threads 1 --runs 300 > "$dir/profile.json"
  python3 - "$name" "$budget" "$seed" "$t0" "$t1" "$result" "$dir/profile.json" "$config" > "$rows/$key.json.tmp" <<'PY'
import json, sys
name, budget, seed, t0, t1, result, profile, config = sys.argv[1:]
r = json.load(open(result))
final = r["final"] if "final" in r else r
split = final.get("time_split", r.get("time_split", {}))
fit = split.get("fit", {})
p = json.load(open(profile))
row = {
    "name": name, "budget_min": float(budget), "seed": int(seed),
    "test_accuracy": final["test_accuracy"], "params": final["params"], "flops": final["flops"],
    "epochs": final["epochs"], "wall_s": float(t1) - float(t0),
    "search_s": split.get("search_s", 0.0), "final_train_s": final["train_seconds"],
    "train_images_per_s": fit["batch_size"] / fit["step_seconds"] if fit.get("step_seconds") else None,
    "latency_ms_b1": p["latency_ms_median"],
    "arch": p["arch"],
}
if "trials" in r: row["trials"] = r["trials"]
print(json.dumps(row, indent=1))
PY
  mv "$rows/$key.json.tmp" "$rows/$key.json"
  # The architecture a search found, kept beside its row (the run directory is not committed).
  [ "$name" = nascent ] && cp "$dir/best_arch.json" "$results/$key-best_arch.json"
  echo "   test_accuracy $(python3 -c "import json;print(json.load(open('$rows/$key.json'))['test_accuracy'])")"
  report
}

# The hand baseline with the best seed-0 test accuracy at 30 minutes.
best_hand() {
  python3 - "$rows" <<'PY'
import glob, json, sys
best = max((json.load(open(f)) for f in glob.glob(f"{sys.argv[1]}/b30-*-s0.json") if "nascent" not in f),
           key=lambda r: r["test_accuracy"])
print(best["name"])
PY
}

if [ "$what" = row ]; then
  row "$2" "$3" "$4"
  exit 0
fi
hands=$(cd bench/vs_hand && ls *.json | sed 's/\.json$//')
if [ "$what" = 30 ] || [ "$what" = all ]; then
  for h in $hands; do row "$h" 30 0; done
  for s in 0 1 2; do row nascent 30 "$s"; done
  b=$(best_hand)
  for s in 1 2; do row "$b" 30 "$s"; done
fi
if [ "$what" = 60 ] || [ "$what" = all ]; then
  row nascent 60 0
  row "$(best_hand)" 60 0
fi
report
