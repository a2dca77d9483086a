#!/usr/bin/env python3
"""One cell of bench/scale.sh from its run's experiment.db: prints the cell's JSON.

The time a cell is measured over starts when the first worker began its first evaluation (the
first result's end minus the cost), not at the first ask: before that the ranks were still
starting (loading LibTorch and the data: tens of seconds for 64 ranks on 2 cores), which is the
job's start-up, not the coordinator's limit. It ends at the last result.
"""
import json
import sqlite3
import sys

db, ranks, cost = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
con = sqlite3.connect(db)
first_ask, first_end, last_end, n = con.execute(
    "SELECT MIN(started), MIN(ended), MAX(ended), COUNT(*) FROM trial WHERE status != 'running'").fetchone()
ok = con.execute("SELECT COUNT(*) FROM trial WHERE status = 'ok'").fetchone()[0]
ev = json.loads(con.execute(
    "SELECT data FROM strategy_event WHERE kind = 'coordinator' ORDER BY time DESC LIMIT 1").fetchone()[0])
workers = max(1, ranks - 1)
begin = first_end - cost
span = last_end - begin
row = {"ranks": ranks, "workers": workers, "cost_s": cost, "trials": n, "ok": ok, "span_s": span,
       "startup_s": begin - first_ask,
       "trials_per_s": n / span if span > 0 else None,
       "utilisation": n * cost / (workers * span) if cost > 0 and span > 0 else None,
       "coordinator": ev}
print(json.dumps(row, indent=1))
