#!/usr/bin/env bash
# Quality of the one-shot strategies on nb201 / Fashion-MNIST against random architectures:
# the median validation accuracy of 20 random nb201 architectures (strategy random, 20 trials)
# against the architecture each one-shot search derives (darts order 1 and 2, with and without
# the DARTS- remedy, gdas, spos's best), every one trained standalone at the same fidelity by the
# runner. Also counts skip connections and pooling in each derived cell (DARTS' collapse).
# Writes bench/results/oneshot_quality.md. Takes about 20 minutes on a quiet machine (one torch thread).
#
#   nice -n 10 bench/oneshot_quality.sh [build/nascent] [seed]
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-build/nascent}
seed=${2:-0}
out=$(mktemp -d)
echo "runs in $out"  # kept: a stopped run's finished searches can still be read
# nb201 with reduced C and N; every architecture (random or derived) trains 1 epoch on half of
# the smoke task's 5400 training images; one-shot supernets train 8 epochs on that half.
common=(--config examples/smoke.yaml --seed "$seed" --set space.name=nb201 --set space.nb201.C=8
        --set space.nb201.N=1 --set fidelity.epochs=1 --set fidelity.data_fraction=0.5 --set run.threads=1 --quiet)
run() {  # name, then extra flags
  local name=$1
  shift
  local t0=$SECONDS
  "$bin" search "${common[@]}" --out "$out/$name" "$@" > "$out/$name.log" 2>&1 || { echo "$name failed"; cat "$out/$name.log"; }
  echo "$name $((SECONDS - t0))" >> "$out/seconds"
}
run random --strategy random --max-trials 20
run darts1 --strategy darts --set "strategy.darts={epochs: 8, data_fraction: 0.5, batch_size: 64, order: 1}"
run darts1_noremedy --strategy darts --set "strategy.darts={epochs: 8, data_fraction: 0.5, batch_size: 64, order: 1, remedy: none}"
run darts2 --strategy darts --set "strategy.darts={epochs: 8, data_fraction: 0.5, batch_size: 64, order: 2}"
run gdas --strategy gdas --set "strategy.gdas={epochs: 8, data_fraction: 0.5, batch_size: 64}"
run spos --strategy spos --set "strategy.spos={epochs: 8, data_fraction: 0.5, batch_size: 64, top_k: 3}" --max-trials 3
python3 - "$out" "$seed" <<'PY'
import csv, json, statistics, sys
out, seed = sys.argv[1], sys.argv[2]
secs = dict(l.split() for l in open(f"{out}/seconds"))
def rows(name):
    with open(f"{out}/{name}/trials.csv") as f:
        return [r for r in csv.DictReader(f) if r["status"] == "ok"]
rand = sorted(float(r["val_accuracy"]) for r in rows("random"))
med = statistics.median(rand)
lines = [f"# One-shot quality on nb201 (C=8, N=1), Fashion-MNIST 5400/600, seed {seed}", "",
         "Every architecture trained standalone by the runner at the same fidelity (1 epoch, 2700 of the 5400",
         f"training images); reference: the median of {len(rand)} random architectures = **{med:.4f}**",
         f"(min {rand[0]:.4f}, max {rand[-1]:.4f}). Supernets: 8 epochs on the same 2700 images, batch 64.", "",
         "| search | derived cell | val_accuracy | >= median | skip+pool edges (of 6) | run seconds (with the trial) |",
         "|---|---|---|---|---|---|"]
for name in ["darts1", "darts1_noremedy", "darts2", "gdas", "spos"]:
    rs = rows(name)
    if not rs:
        lines.append(f"| {name} | failed | | | | {secs.get(name, '')} |")
        continue
    best = max(rs, key=lambda r: float(r["val_accuracy"]))
    arch = json.loads(best["arch"])["choices"]
    sp = sum(1 for v in arch.values() if v in ("skip_connect", "avg_pool_3x3"))
    acc = float(best["val_accuracy"])
    cell = json.load(open(f"{out}/{name}/best_arch.json"))["string"]
    lines.append(f"| {name} | `{cell}` | {acc:.4f} | {'yes' if acc >= med else 'no'} | {sp} | {secs[name]} |")
text = "\n".join(lines) + "\n"
print(text)
open("bench/results/oneshot_quality.md", "w").write(text)
PY
