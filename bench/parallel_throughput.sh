#!/usr/bin/env bash
# Throughput of a search with worker processes: trials per minute and the workers' utilisation
# (the trials' evaluation seconds over workers x wall time), for this build against a reference
# build, run in turn in the same session (A B A B ...). Used to check that telling results in
# trial order (exact resume with --workers) keeps the workers busy.
#
#   NASCENT_REF=/path/to/other/nascent bench/parallel_throughput.sh [REPEATS] [TRIALS] [WORKERS]
#
# Without NASCENT_REF only this build is measured. STRATEGY (default evolution; random proposes
# the same trials in both builds) on examples/smoke.yaml, one torch
# thread per worker. Writes bench/results/parallel_throughput_STRATEGY.md.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${NASCENT:-build/nascent}
ref=${NASCENT_REF:-}
repeats=${1:-3}
trials=${2:-24}
workers=${3:-2}
strategy=${STRATEGY:-evolution}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
run() {  # run NAME BINARY REPEAT
  local t0 t1
  t0=$(date +%s.%N)
  "$2" search --config examples/smoke.yaml --strategy "$strategy" --max-trials "$trials" --seed "$3" \
    --workers "$workers" --set run.threads=1 --quiet --out "$out/$1-$3" > /dev/null
  t1=$(date +%s.%N)
  echo "$1 $3 $(python3 -c "print($t1 - $t0)")" >> "$out/times"
}
for r in $(seq 1 "$repeats"); do
  run this "$bin" "$r"
  [ -n "$ref" ] && run reference "$ref" "$r"
done
python3 - "$out" "$trials" "$workers" "$strategy" <<'PY' | tee "bench/results/parallel_throughput_$strategy.md"
import json, sqlite3, statistics, sys
out, trials, workers, strategy = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
rows = {}
for line in open(f"{out}/times"):
    name, rep, wall = line.split()
    db = sqlite3.connect(f"{out}/{name}-{rep}/experiment.db")
    busy = sum(e - s for s, e in db.execute("SELECT started, ended FROM trial WHERE worker LIKE 'process-%'"))
    n = db.execute("SELECT count(*) FROM trial WHERE status != 'running'").fetchone()[0]
    rows.setdefault(name, []).append((float(wall), n, busy))
print(f"# Parallel search throughput ({workers} workers, {strategy}, examples/smoke.yaml, {trials} trials)\n")
print("| build | runs | median wall s | trials/min | worker utilisation |")
print("|---|---|---|---|---|")
med = {}
for name, rs in rows.items():
    wall = statistics.median(r[0] for r in rs)
    tpm = statistics.median(60 * r[1] / r[0] for r in rs)
    util = statistics.median(r[2] / (workers * r[0]) for r in rs)
    med[name] = tpm
    print(f"| {name} | {len(rs)} | {wall:.1f} | {tpm:.1f} | {util:.2f} |")
if "reference" in med:
    print(f"\nthis / reference trials per minute: {med['this'] / med['reference']:.3f}")
print("\nUtilisation counts each trial's evaluation time on its worker (started to ended); the rest of")
print("the wall time is start-up (workers load the data), the search process and idle workers.")
PY
