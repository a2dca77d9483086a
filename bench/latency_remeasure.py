#!/usr/bin/env python3
"""Times every trained trial of a latency-measured run again with `nascent profile`, each in a new
process with the run's own latency section, and compares with what the search measured.

    python3 bench/latency_remeasure.py runs/edge [BOUND_MS]      (from the source directory)

Prints, and writes RUN/latency_remeasure.json: per trial the search's and profile's latency_ms
and latency_cv, how many trained trials are over BOUND_MS when re-measured, and the ratios.
"""
import csv
import json
import os
import subprocess
import sys
import tempfile

run = sys.argv[1] if len(sys.argv) > 1 else "runs/edge"
bound = float(sys.argv[2]) if len(sys.argv) > 2 else None
binary = os.environ.get("NASCENT", "build/nascent")
rows = [r for r in csv.DictReader(open(os.path.join(run, "trials.csv"))) if r["status"] == "ok" and r.get("latency_ms")]
if not rows:
    sys.exit(f"{run}/trials.csv: no trained trial with latency_ms (a run with a latency section is needed)")
out = []
with tempfile.TemporaryDirectory() as tmp:
    for r in rows:
        path = os.path.join(tmp, f"trial{r['trial']}.json")
        with open(path, "w") as f:
            f.write(r["arch"])
        p = subprocess.run([binary, "profile", "--arch", path, "--config", os.path.join(run, "config.yaml")],
                           capture_output=True, text=True, check=True)
        j = json.loads(p.stdout[p.stdout.index("{"):])
        out.append({"trial": int(r["trial"]), "search_ms": float(r["latency_ms"]), "search_cv": float(r["latency_cv"]),
                    "profile_ms": j["latency_ms_median"], "profile_cv": j["latency_cv"]})
ratios = sorted(o["profile_ms"] / o["search_ms"] for o in out)
summary = {"run": run, "trials": len(out), "ratio_min": ratios[0], "ratio_median": ratios[len(ratios) // 2],
           "ratio_max": ratios[-1], "max_profile_ms": max(o["profile_ms"] for o in out), "rows": out}
print(f"{len(out)} trained trials of {run} re-measured in new processes")
print(f"profile / search latency: min {ratios[0]:.3f}, median {summary['ratio_median']:.3f}, max {ratios[-1]:.3f}")
if bound is not None:
    over = [o for o in out if o["profile_ms"] > bound]
    summary["bound_ms"] = bound
    summary["over_bound"] = [o["trial"] for o in over]
    print(f"over {bound} ms when re-measured: {len(over)} {[(o['trial'], round(o['profile_ms'], 3)) for o in over]}")
with open(os.path.join(run, "latency_remeasure.json"), "w") as f:
    json.dump(summary, f, indent=1)
