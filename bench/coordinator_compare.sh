#!/usr/bin/env bash
# Two nascent binaries' search coordinators side by side, with instant evaluations (the scale
# bench's config, bench/scale/config.yaml: 400 trials, estimator cost 0), so only the strategy,
# the SQLite store and MPI are measured. Used for group commit (docs/scaling.md):
#   BEFORE=/tmp/nascent-before bench/coordinator_compare.sh [RANKS...]   (default ranks: 1 8 64)
# AFTER defaults to build/nascent. Runs alternate between the two binaries, REPEATS times (2),
# and the table gives each run's trials/s and rank 0's SQLite time per trial (its coordinator
# event), then the ratio of the means. Writes bench/results/coordinator_compare.md. Nothing
# else may run meanwhile.
set -euo pipefail
cd "$(dirname "$0")/.."
before=${BEFORE:?set BEFORE to the reference binary}
after=${AFTER:-build/nascent}
repeats=${REPEATS:-2}
ranks=${*:-1 8 64}
runs=runs/coordinator_compare
mkdir -p "$runs"
out=$runs/cells.txt
: > "$out"
for rep in $(seq "$repeats"); do
  for r in $ranks; do
    for which in before after; do
      bin=$before
      [ "$which" = after ] && bin=$after
      dir=$runs/$which-r$r-$rep
      rm -rf "$dir"
      args=(search --config bench/scale/config.yaml --out "$dir" --max-trials 400 --set estimator.cost_seconds=0 --quiet)
      if [ "$r" = 1 ]; then
        "$bin" "${args[@]}" > "$dir.log" 2>&1
      else
        mpirun --allow-run-as-root --oversubscribe --mca btl self,tcp -np "$r" "$bin" "${args[@]}" > "$dir.log" 2>&1
      fi
      python3 bench/scale_cell.py "$dir/experiment.db" "$r" 0 |
        python3 -c "
import json, sys
d = json.load(sys.stdin); c = d['coordinator']
print('$which', $r, $rep, d['trials_per_s'], 1000 * c['store_s'] / c['trials'])" >> "$out"
    done
  done
done
python3 - "$out" "$before" "$after" <<'PY'
import sys
from collections import defaultdict
cells, before, after = sys.argv[1:]
runs = defaultdict(list)
for line in open(cells):
    which, r, rep, tps, store = line.split()
    runs[(int(r), which)].append((float(tps), float(store)))
mean = lambda xs: sum(xs) / len(xs)
lines = ["# Search coordinator: two binaries side by side", "",
         f"`BEFORE={before} AFTER={after} bench/coordinator_compare.sh`: 400 instant trials per run "
         "(bench/scale/config.yaml), runs alternating between the binaries; rank 0's SQLite time per trial from "
         "its coordinator event. Ranks above 1 over TCP, oversubscribed on this 2-core machine.", "",
         "| ranks | trials/s before (runs) | after (runs) | ratio | SQLite ms/trial before | after | ratio |",
         "| --- | --- | --- | --- | --- | --- | --- |"]
for r in sorted({k[0] for k in runs}):
    b, a = runs[(r, "before")], runs[(r, "after")]
    bt, at = [x[0] for x in b], [x[0] for x in a]
    bs, as_ = [x[1] for x in b], [x[1] for x in a]
    lines.append(f"| {r} | {mean(bt):.0f} ({', '.join(f'{x:.0f}' for x in bt)}) | {mean(at):.0f} "
                 f"({', '.join(f'{x:.0f}' for x in at)}) | {mean(at) / mean(bt):.2f}x | {mean(bs):.2f} | "
                 f"{mean(as_):.2f} | {mean(as_) / mean(bs):.2f}x |")
open("bench/results/coordinator_compare.md", "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
PY
