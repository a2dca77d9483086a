#!/usr/bin/env bash
# How many MPI ranks one search coordinator keeps busy (issue: scale out). Runs
#   mpirun -np R nascent search --config bench/scale/config.yaml   (R = 1 runs without mpirun)
# for R in RANKS and each evaluation cost C in COSTS (seconds per candidate, the synthetic
# estimator: it sleeps, so up to 64 oversubscribed ranks on 2 cores behave like ranks with their
# own cores; C = 0 answers at once, so only the coordinator, SQLite and MPI are measured), and
# writes bench/results/scale.{md,json}: trials per second over the search (first ask to last
# result, start-up of the ranks left out), the worker ranks' utilisation (trials x C over
# workers x that time), and the coordinator's time per trial by part (from the run's
# "coordinator" event: strategy ask and tell, strategy state serialisation, SQLite commits,
# trials.csv/summary.json rewrites, handing out and waiting for results).
#   bench/scale.sh                      every cell; each finished cell is kept and skipped
#   RANKS="2 4" COSTS="0 1" bench/scale.sh
#   bench/scale.sh report               only rewrite the table from the kept cells
# Cells are kept in bench/results/scale/rows/, so the ~45 minutes can be spread over sittings.
# Nothing else may run meanwhile: the cells with C = 0 measure the coordinator's own speed.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${NASCENT:-build/nascent}
ranks=${RANKS:-1 2 4 8 16 32 64}
costs=${COSTS:-0 1 10 60}
# OpenMPI's shared-memory transport (vader) is slow to send on an oversubscribed machine: rank 0's
# MPI_Send took 0.7 ms per rank (47 ms at 64 ranks on 2 cores), against 0.06 ms over TCP. Between
# machines ranks talk over the network anyway, so the default measures with TCP.
mpi_args=${MPI_ARGS:---mca btl self,tcp}
rows=bench/results/scale/rows
runs=runs/scale
mkdir -p "$rows" "$runs"

# Trials per cell: enough for a steady state. C = 0: a fixed 400 (the coordinator's rate);
# otherwise each worker evaluates about 6 (C = 1, 10) or 3 (C = 60) candidates.
trials_for() {
  local r=$1 c=$2 w=$(($1 > 1 ? $1 - 1 : 1))
  if [ "$c" = 0 ]; then echo 400
  elif [ "$c" = 60 ]; then echo $((3 * w))
  else echo $((6 * w > 24 ? 6 * w : 24)); fi
}

cell() {
  local r=$1 c=$2 key="r$1-c$2" dir="$runs/r$1-c$2"
  [ -f "$rows/$key.json" ] && return 0
  rm -rf "$dir"
  local n
  n=$(trials_for "$r" "$c")
  echo "== ranks $r, cost $c s, $n trials ($(date +%H:%M))"
  local args=(search --config bench/scale/config.yaml --out "$dir" --max-trials "$n" --set "estimator.cost_seconds=$c" --quiet)
  if [ "$r" = 1 ]; then
    "$bin" "${args[@]}" > "$dir.log" 2>&1
  else
    # shellcheck disable=SC2086
    mpirun --allow-run-as-root --oversubscribe $mpi_args -np "$r" "$bin" "${args[@]}" > "$dir.log" 2>&1
  fi || { echo "   failed, see $dir.log"; return 1; }
  python3 bench/scale_cell.py "$dir/experiment.db" "$r" "$c" > "$rows/$key.json.tmp"
  mv "$rows/$key.json.tmp" "$rows/$key.json"
  python3 -c "import json;r=json.load(open('$rows/$key.json'));print('   %.1f trials/s, utilisation %s' % (r['trials_per_s'], r['utilisation']))"
}

report() { python3 bench/scale_report.py "$rows" bench/results/scale; }

if [ "${1:-}" != report ]; then
  for c in $costs; do
    for r in $ranks; do cell "$r" "$c"; done
  done
fi
report
