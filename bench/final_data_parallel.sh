#!/usr/bin/env bash
# Data-parallel final training (final.ranks, issue: scale out): the same search, whose final
# training of the chosen network runs on 1, 2 and 4 MPI ranks, and the speed-up over one process.
#   bench/final_data_parallel.sh [EPOCHS]     (default 2 final epochs)
#   RANKS="1 2" bench/final_data_parallel.sh
# Each row: `nascent search --config examples/fashion_mnist.yaml --max-trials 1 --set
# final.epochs=EPOCHS` (one candidate: the config's first initial architecture, the 98,042-
# parameter VGG-style network, so every row trains the same network from the same seed), run
# alone for 1 rank (every core in one process, as without MPI) and under `mpirun -np R --set
# final.ranks=all` otherwise (R ranks x cores/R torch threads, each on a share of every batch).
# Writes bench/results/final_data_parallel.{md,json}: final-training seconds, images/s, speed-up
# over the 1-rank row, test accuracy, and the speed-up the run itself reported (against rank 0
# alone at the same threads per rank, timed for a few dozen steps before the group started:
# under mpirun each rank is bound to its share of the cores). Finished rows are
# kept in bench/results/final_data_parallel/rows/ and skipped. Nothing else may run meanwhile.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${NASCENT:-build/nascent}
epochs=${1:-2}
ranks=${RANKS:-1 2 4}
rows=bench/results/final_data_parallel/rows
runs=runs/final_data_parallel
mkdir -p "$rows" "$runs"
for r in $ranks; do
  key="e$epochs-r$r"
  [ -f "$rows/$key.json" ] && continue
  dir="$runs/$key"
  rm -rf "$dir"
  echo "== $key ($(date +%H:%M))"
  args=(search --config examples/fashion_mnist.yaml --max-trials 1 --seed 0 --set budget.time_minutes=0
        --set "final.epochs=$epochs" --out "$dir" --quiet)
  if [ "$r" = 1 ]; then
    "$bin" "${args[@]}" > "$dir.log" 2>&1 || { echo "   failed, see $dir.log"; exit 1; }
  else
    mpirun --allow-run-as-root --oversubscribe -np "$r" "$bin" "${args[@]}" --set final.ranks=all \
      > "$dir.log" 2>&1 || { echo "   failed, see $dir.log"; exit 1; }
  fi
  python3 - "$r" "$dir/summary.json" > "$rows/$key.json.tmp" <<'PY'
import json, sys
ranks, summary = int(sys.argv[1]), json.load(open(sys.argv[2]))
f = summary["final"]
dp = f.get("data_parallel", {})
print(json.dumps({"ranks": ranks, "epochs": f["epochs"], "train_s": f["train_seconds"],
                  "test_accuracy": f["test_accuracy"], "params": f["params"],
                  "threads_per_rank": dp.get("threads_per_rank"),
                  "reported_speedup": dp.get("speedup"),
                  "reported_one_rank_images_per_s": dp.get("one_rank_images_per_s")}, indent=1))
PY
  mv "$rows/$key.json.tmp" "$rows/$key.json"
done
python3 - "$rows" "$epochs" <<'PY'
import glob, json, os, sys
rows_dir, epochs = sys.argv[1], sys.argv[2]
rows = sorted((json.load(open(p)) for p in glob.glob(os.path.join(rows_dir, f"e{epochs}-r*.json"))),
              key=lambda r: r["ranks"])
n = 60000  # the final training set: train + validation
base = next((r for r in rows if r["ranks"] == 1), None)
out = ["# Data-parallel final training: speed-up over one process", "",
       "`bench/final_data_parallel.sh " + epochs + "`: the final training of one network (98,042 parameters, the "
       "default config's first initial architecture) for " + epochs + " epochs of the 60,000 Fashion-MNIST training "
       "images at batch 128, on this 2-core machine. 1 rank = one process on every core; R ranks = `mpirun -np R` "
       "with `final.ranks: all`, each rank on its share of every batch with cores/R torch threads (at least one). "
       "`reported`: the speed-up the run printed, against rank 0 alone at the same threads per rank, timed for a few dozen steps before the group started (what one of these ranks does alone).", "",
       "| ranks | threads per rank | final training s | images/s | speed-up over 1 rank | reported | test accuracy |",
       "| --- | --- | --- | --- | --- | --- | --- |"]
for r in rows:
    ips = r["epochs"] * n / r["train_s"]
    speed = base["train_s"] / r["train_s"] if base else float("nan")
    rep = f'{r["reported_speedup"]:.2f}x' if r.get("reported_speedup") else "-"
    threads = r["threads_per_rank"] if r.get("threads_per_rank") else (os.cpu_count() or 1)
    out.append(f'| {r["ranks"]} | {threads} | {r["train_s"]:.1f} | {ips:.0f} | {speed:.2f}x | {rep} | '
               f'{r["test_accuracy"]:.4f} |')
open("bench/results/final_data_parallel.md", "w").write("\n".join(out) + "\n")
json.dump(rows, open("bench/results/final_data_parallel.json", "w"), indent=1)
print("\n".join(out))
PY
