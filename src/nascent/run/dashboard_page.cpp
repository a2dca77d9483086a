// The dashboard page of `nascent serve`: static HTML and a script that polls the server's JSON
// and draws with Chart.js (served by the same server from Debian's libjs-chart.js). Elements
// carry ids and data- attributes (the number of points drawn) that the browser tests read.
#include <string>

#include "nascent/run/dashboard.h"
#include "nascent/run/report.h"

namespace nascent::run {

namespace {

const char* const kHead = R"PAGE(<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>nascent dashboard</title>
<style>
body { font-family: system-ui, sans-serif; margin: 1.2em 2em; color: #222; max-width: 1400px; }
h1 { font-size: 1.4em; margin: 0 0 0.2em 0; } h2 { font-size: 1.1em; margin: 1.2em 0 0.4em 0; }
.sub { color: #555; margin: 0.2em 0 0.8em 0; } code { background: #f3f3f3; padding: 0 3px; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; color: #fff; font-size: 0.9em; }
.badge.running { background: #228833; } .badge.done { background: #4477aa; }
.badge.interrupted, .badge.unknown { background: #aa7733; }
.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(420px, 1fr)); gap: 1em 2em; }
.panel { min-height: 120px; } .panel canvas { max-height: 320px; }
.note { color: #666; font-size: 0.9em; } .error { color: #cc3311; }
table { border-collapse: collapse; font-size: 0.9em; } th, td { padding: 2px 8px; border-bottom: 1px solid #eee; }
th { text-align: left; background: #fafafa; } td.num, th.num { text-align: right; }
#trials-table th { cursor: pointer; user-select: none; } #trials-table td.arch { font-family: monospace; font-size: 0.85em; }
tr.status-failed td { color: #cc3311; } tr.status-pruned td, tr.status-rejected td { color: #888; }
tr.status-running td { color: #228833; } tr.best td { font-weight: bold; }
#alphas { display: flex; flex-wrap: wrap; gap: 12px; } #alphas table { font-size: 0.75em; }
#alphas td { width: 14px; height: 12px; padding: 0; border: 1px solid #fff; }
.node rect { fill: #f4f4f4; stroke: #555; rx: 4; } .edge { fill: none; stroke: #777; stroke-width: 1.4; }
.edge-label { font-size: 11px; fill: #114; } .diagram-title { font-weight: bold; } svg text { font-size: 12px; }
</style>
)PAGE";

const char* const kBody = R"PAGE(</head>
<body>
<h1>nascent dashboard</h1>
<div class="sub">
  <label>run <select id="run-select"></select></label>
  <span id="status" class="badge unknown">…</span>
  <span id="headline"></span>
  <span class="note" id="refreshed"></span>
</div>
<div id="error" class="error"></div>
<div id="objective" class="sub"></div>
<table id="counts"><tr><th>ok</th><th>running</th><th>queued</th><th>failed</th><th>rejected</th><th>pruned</th></tr>
<tr><td class="num" id="count-ok">0</td><td class="num" id="count-running">0</td><td class="num" id="count-queued">0</td><td class="num" id="count-failed">0</td>
<td class="num" id="count-rejected">0</td><td class="num" id="count-pruned">0</td></tr></table>
<p class="note">Search-time values are estimates at the trial's fidelity (a few epochs on part of the data), used to
rank candidates; the model's accuracy is the final training's test accuracy.</p>

<h2>In short</h2>
<ul id="in-short"></ul>
<h2>Best so far</h2>
<div id="best"><p class="note">No trial has finished yet.</p></div>
<div id="final"></div>

<div class="grid">
  <div class="panel"><h2>Search progress</h2><canvas id="progress-chart"></canvas></div>
  <div class="panel"><h2>Trade-off <select id="tradeoff-x"></select></h2><canvas id="tradeoff-chart"></canvas>
    <p class="note">Red: the Pareto front (no other trial is better in both).</p></div>
  <div class="panel" id="importance-panel"><h2>Which decisions mattered</h2><canvas id="importance-chart"></canvas>
    <p class="note" id="importance-note">Needs at least 8 finished trials at one fidelity.</p></div>
  <div class="panel" id="curves-panel"><h2>Learning curves</h2><canvas id="curves-chart"></canvas>
    <p class="note">Validation accuracy per epoch (recorded with <code>early_stopping: {rule: median}</code>).</p></div>
</div>
<h2>Parallel coordinates</h2>
<p class="note">One line per finished trial, one axis per decision (its options bottom to top) and the objective on
the right; blue is worse, red better.</p>
<div class="panel"><canvas id="parallel-chart"></canvas></div>
<div id="supernet-section" hidden>
  <h2>Supernet training</h2>
  <div class="grid"><div class="panel"><canvas id="supernet-chart"></canvas></div></div>
  <h2>Architecture weights (softmax of the alphas)</h2>
  <p class="note">One table per edge or decision: a row per operation, a column per epoch, darker is preferred.</p>
  <div id="alphas"></div>
  <div id="spos-part" hidden><h2>Evolution over the supernet (spos)</h2>
  <p class="note">Candidates scored with the supernet's weights (no training of their own); the best score of each
  generation.</p>
  <table id="spos-table"></table>
  <p class="note">The best candidates after the last generation, by supernet score:</p>
  <table id="spos-top"></table></div>
</div>
<h2>Trials <select id="status-filter"><option value="">all</option><option>ok</option><option>running</option>
<option>queued</option><option>failed</option><option>rejected</option><option>pruned</option></select></h2>
<table id="trials-table"><thead></thead><tbody></tbody></table>
<details><summary>Config</summary><pre id="config"></pre></details>
)PAGE";

const char* const kScript = R"PAGE(
<script>
"use strict";
const TOKEN = document.getElementById("nascent-token").dataset.token;
const withToken = (url) => TOKEN ? url + (url.includes("?") ? "&" : "?") + "token=" + encodeURIComponent(TOKEN) : url;
const charts = {};
let current = null, lastVersion = null, snapshot = null, sortKey = "id", sortDesc = true;

function esc(s) {
  return String(s).replace(/[&<>"]/g, (c) => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;"}[c]));
}
function fmt(v) {
  if (v === null || v === undefined || Number.isNaN(v)) return "-";
  const a = Math.abs(v);
  if (a >= 1e6) return (v / 1e6).toPrecision(3) + "M";
  if (a >= 1e4) return (v / 1e3).toPrecision(3) + "k";
  if (a >= 100) return v.toFixed(0);
  return Number(v.toPrecision(4)).toString();
}
function duration(s) {
  if (s < 60) return s.toFixed(0) + " s";
  if (s < 3600) return (s / 60).toFixed(1) + " min";
  return (s / 3600).toFixed(2) + " h";
}
// Blue (worst) to red (best) for t in [0, 1].
function heat(t) { return "hsl(" + (240 - 240 * t).toFixed(0) + ", 75%, 45%)"; }

// Creates the chart on the canvas, or gives the existing one new data and options.
function draw(id, config, count) {
  const canvas = document.getElementById(id);
  if (typeof Chart === "undefined") {
    document.getElementById("error").textContent = "Chart.js did not load; the charts are missing.";
    return;
  }
  config.options = Object.assign({animation: false, maintainAspectRatio: true, responsive: true}, config.options || {});
  if (charts[id] && charts[id].config.type === config.type) {
    charts[id].data = config.data;
    charts[id].options = config.options;
    charts[id].update("none");
  } else {
    if (charts[id]) charts[id].destroy();
    charts[id] = new Chart(canvas, config);
  }
  canvas.dataset.points = count;  // what was drawn, for tests and people reading the DOM
}

async function getJson(url) {
  const r = await fetch(withToken(url), {cache: "no-store"});
  if (!r.ok) throw new Error(url + ": HTTP " + r.status + " " + (await r.text()));
  return r.json();
}

async function refresh() {
  try {
    const runs = await getJson("/api/runs");
    const select = document.getElementById("run-select");
    const names = runs.map((r) => r.name);
    if (select.options.length !== names.length || [...select.options].some((o, i) => o.value !== names[i])) {
      select.innerHTML = runs.map((r) => "<option value=\"" + esc(r.name) + "\">" + esc(r.name) + " (" +
                                          esc(r.status) + ", " + r.trials + " trials)</option>").join("");
    }
    if (current === null || !names.includes(current)) {
      const fromHash = decodeURIComponent((location.hash.match(/run=([^&]*)/) || [])[1] || "");
      if (names.includes(fromHash)) current = fromHash;
      else if (runs.length) current = runs.reduce((a, b) => (b.updated > a.updated ? b : a)).name;
    }
    if (current === null) { document.getElementById("error").textContent = "No run here yet."; return; }
    select.value = current;
    const s = await getJson("/api/run?name=" + encodeURIComponent(current));
    document.getElementById("error").textContent = "";
    document.getElementById("refreshed").textContent = "updated " + new Date().toLocaleTimeString();
    if (s.version === lastVersion) return;
    lastVersion = s.version;
    snapshot = s;
    render(s);
  } catch (e) {
    document.getElementById("error").textContent = String(e.message || e);
  }
}

function render(s) {
  const status = document.getElementById("status");
  status.textContent = s.status;
  status.className = "badge " + (["running", "done", "interrupted"].includes(s.status) ? s.status : "unknown");
  document.getElementById("headline").innerHTML = "space <b>" + esc(s.space) + "</b> &middot; strategy <b>" +
      esc(s.strategy) + "</b> &middot; seed " + s.seed + " &middot; <span id=\"trial-count\">" + s.trials.length +
      "</span> trials &middot; " + duration(s.elapsed_s) + " of search";
  document.getElementById("objective").textContent = s.objective.text;
  for (const k of Object.keys(s.counts)) {
    const cell = document.getElementById("count-" + k);
    if (cell) cell.textContent = s.counts[k];
  }
  document.getElementById("in-short").innerHTML = (s.in_short || []).map((l) => "<li>" + esc(l) + "</li>").join("");
  renderBest(s);
  renderProgress(s);
  renderTradeoff(s);
  renderImportance(s);
  renderCurves(s);
  renderParallel(s);
  renderSupernet(s);
  renderTrials(s);
  document.getElementById("config").textContent = JSON.stringify(s.config, null, 2);
}

const metricOf = (t, m) => (t.metrics && m in t.metrics ? t.metrics[m] : null);
const maximise = (s) => s.objective.metrics[0].direction === "max";

function renderBest(s) {
  const b = s.best;
  const box = document.getElementById("best");
  if (!b) { box.innerHTML = "<p class=\"note\">No trial has finished yet.</p>"; return; }
  box.innerHTML = "<p id=\"best-line\">Trial #" + b.id + " &middot; " + esc(s.metric) + " <b>" + fmt(b.value) +
      "</b> (estimate at its fidelity) &middot; <code title=\"" + esc(b.choices ? Object.entries(b.choices).map(
      ([k, v]) => k + "=" + v).join(", ") : "") + "\">" + esc(b.arch) + "</code></p>" +
      (s.legend ? "<p class=\"note\" id=\"legend\">How to read it: " + esc(s.legend) + "</p>" : "") +
      "<div id=\"best-diagram\">" + b.diagram + "</div>";
  const f = s.summary && s.summary.final;
  document.getElementById("final").innerHTML = f && f.test_accuracy !== undefined
      ? "<p id=\"final-line\"><b>Final training</b>: test accuracy <b>" + f.test_accuracy.toFixed(4) + "</b> after " +
        f.epochs + " epochs" + (f.model ? " &middot; model <code>" + esc(f.model) + "</code>" : "") + "</p>"
      : "";
}

function renderProgress(s) {
  const m = s.metric, max = maximise(s);
  const points = [], best = [];
  let so = null;
  for (const t of s.trials) {
    const v = metricOf(t, m);
    if (v === null) continue;
    points.push({x: t.id, y: v, status: t.status});
    if (t.status === "ok" && (so === null || (max ? v > so : v < so))) so = v;
    if (so !== null) best.push({x: t.id, y: so});
  }
  draw("progress-chart", {
    type: "scatter",
    data: {datasets: [
      {label: "trial", data: points, backgroundColor: points.map((p) => (p.status === "ok" ? "#4477aa" : "#bbbbbb"))},
      {label: "best so far", data: best, type: "line", stepped: true, borderColor: "#ee6677", pointRadius: 0,
       borderWidth: 2},
    ]},
    options: {scales: {x: {title: {display: true, text: "trial"}}, y: {title: {display: true, text: m}}}},
  }, points.length);
}

function renderTradeoff(s) {
  const select = document.getElementById("tradeoff-x");
  const candidates = ["params", "flops", "latency_ms", "train_seconds"].concat(
      s.objective.metrics.slice(1).map((x) => x.name));
  const present = [...new Set(candidates)].filter((k) => s.trials.some((t) => metricOf(t, k) !== null));
  if (select.options.length !== present.length) {
    const keep = select.value;
    select.innerHTML = present.map((k) => "<option>" + esc(k) + "</option>").join("");
    if (present.includes(keep)) select.value = keep;
    else if (s.objective.metrics.length > 1) select.value = s.objective.metrics[1].name;
  }
  const xk = select.value || "params", m = s.metric;
  const ok = s.trials.filter((t) => t.status === "ok" && metricOf(t, xk) !== null && metricOf(t, m) !== null);
  const front = ok.filter((t) => t.pareto).map((t) => ({x: metricOf(t, xk), y: metricOf(t, m), id: t.id}))
      .sort((a, b) => a.x - b.x);
  draw("tradeoff-chart", {
    type: "scatter",
    data: {datasets: [
      {label: "trial", data: ok.map((t) => ({x: metricOf(t, xk), y: metricOf(t, m), id: t.id})),
       backgroundColor: "#4477aa"},
      {label: "Pareto front", data: front, type: "line", borderColor: "#ee6677", backgroundColor: "#ee6677",
       borderDash: [4, 3]},
    ]},
    options: {scales: {x: {type: xk === "params" || xk === "flops" ? "logarithmic" : "linear",
                           title: {display: true, text: xk}},
                       y: {title: {display: true, text: m}}},
              plugins: {tooltip: {callbacks: {label: (c) => "trial #" + c.raw.id + ": " + fmt(c.raw.x) + ", " +
                                                                fmt(c.raw.y)}}}},
  }, ok.length);
  document.getElementById("tradeoff-chart").dataset.front = front.length;
}

function renderImportance(s) {
  const imp = s.importance;
  const note = document.getElementById("importance-note");
  if (!imp || !imp.decisions || !imp.decisions.length) {
    note.textContent = "Needs at least 8 finished trials at one fidelity.";
    draw("importance-chart", {type: "bar", data: {labels: [], datasets: []}, options: {indexAxis: "y"}}, 0);
    return;
  }
  const d = imp.decisions;
  note.textContent = "Share of the variance of " + imp.metric + " each decision explains (" + imp.method +
      ", " + imp.trials + " trials at fidelity " + imp.fidelity + "). Top option of each: " +
      d.slice(0, 3).map((x) => {
        const o = (x.options || []).slice().sort((a, b) => b.effect - a.effect)[0];
        return x.decision + (o ? " = " + o.option : "");
      }).join(", ") + ".";
  draw("importance-chart", {
    type: "bar",
    data: {labels: d.map((x) => x.decision),
           datasets: [{label: "importance", data: d.map((x) => x.importance), backgroundColor: "#4477aa"}]},
    options: {indexAxis: "y", scales: {x: {min: 0, max: 1}}, plugins: {legend: {display: false}}},
  }, d.length);
}

function renderCurves(s) {
  const withCurves = s.trials.filter((t) => t.curve && t.curve.length);
  document.getElementById("curves-panel").hidden = withCurves.length === 0;
  if (!withCurves.length) return;
  const longest = Math.max(...withCurves.map((t) => t.curve.length));
  const bestId = s.best ? s.best.id : -1;
  draw("curves-chart", {
    type: "line",
    data: {labels: Array.from({length: longest}, (_, i) => i + 1),
           datasets: withCurves.map((t) => ({label: "#" + t.id, data: t.curve, pointRadius: 0, fill: false,
                                             borderWidth: t.id === bestId ? 3 : 1,
                                             borderColor: t.id === bestId ? "#ee6677" :
                                                 t.status === "pruned" ? "#bbbbbb" : "#4477aa"}))},
    options: {plugins: {legend: {display: false}},
              scales: {x: {title: {display: true, text: "epoch"}}, y: {title: {display: true, text: "val accuracy"}}}},
  }, withCurves.length);
}

function renderParallel(s) {
  const m = s.metric, max = maximise(s);
  const done = s.trials.filter((t) => t.status === "ok" && metricOf(t, m) !== null);
  const values = done.map((t) => metricOf(t, m));
  const lo = Math.min(...values), hi = Math.max(...values);
  const scale = (v) => (hi > lo ? (v - lo) / (hi - lo) : 0.5);
  const labels = s.decisions.map((d) => d.name).concat([m]);
  const datasets = done.map((t) => {
    const v = metricOf(t, m), good = max ? scale(v) : 1 - scale(v);
    const data = t.choices.map((c, i) => {
      const n = s.decisions[i].options.length;
      return c < 0 ? null : (n > 1 ? c / (n - 1) : 0.5);
    });
    data.push(scale(v));
    return {label: "#" + t.id, data: data, borderColor: heat(good), borderWidth: 1, pointRadius: 2, spanGaps: true,
            fill: false, order: good};
  });
  draw("parallel-chart", {
    type: "line",
    data: {labels: labels, datasets: datasets},
    options: {plugins: {legend: {display: false},
                        tooltip: {callbacks: {label: (c) => {
                          const t = done[c.datasetIndex], i = c.dataIndex;
                          if (i >= s.decisions.length) return "trial #" + t.id + ": " + m + " " + fmt(metricOf(t, m));
                          const k = t.choices[i];
                          return "trial #" + t.id + ": " + (k < 0 ? "(inactive)" : s.decisions[i].options[k]);
                        }}}},
              scales: {y: {min: -0.05, max: 1.05, ticks: {display: false}}, x: {ticks: {autoSkip: false}}}},
  }, datasets.length);
}

function renderSupernet(s) {
  const section = document.getElementById("supernet-section");
  const spos = s.spos || [];
  section.hidden = !s.supernet.length && !spos.length;
  document.getElementById("spos-part").hidden = !spos.length;
  document.getElementById("spos-table").innerHTML = "<tr><th>generation</th><th>candidates scored</th>" +
      "<th>best score</th></tr>" + spos.map((g) => "<tr><td class=\"num\">" + g.generation + "</td><td class=\"num\">" +
      g.evaluated + "</td><td class=\"num\">" + fmt(g.best) + "</td></tr>").join("");
  const top = spos.length ? spos[spos.length - 1].top || [] : [];
  document.getElementById("spos-top").innerHTML = "<tr><th>rank</th><th>score</th><th>architecture</th></tr>" +
      top.map((c, i) => "<tr><td class=\"num\">" + (i + 1) + "</td><td class=\"num\">" + fmt(c.score) +
      "</td><td class=\"arch\">" + esc(c.arch) + "</td></tr>").join("");
  if (!s.supernet.length) return;
  const keys = ["train_accuracy", "arch_accuracy", "train_loss", "arch_loss"].filter(
      (k) => s.supernet.some((e) => e[k] !== undefined));
  const colours = ["#4477aa", "#228833", "#ee6677", "#aa3377"];
  draw("supernet-chart", {
    type: "line",
    data: {labels: s.supernet.map((e) => e.epoch),
           datasets: keys.map((k, i) => ({label: k, data: s.supernet.map((e) => (k in e ? e[k] : null)),
                                          borderColor: colours[i], yAxisID: k.endsWith("loss") ? "loss" : "acc"}))},
    options: {scales: {x: {title: {display: true, text: "supernet epoch"}},
                       acc: {position: "left", title: {display: true, text: "accuracy"}},
                       loss: {position: "right", title: {display: true, text: "loss"}, grid: {drawOnChartArea: false}}}},
  }, s.supernet.length);
  // The alphas: per edge, a row per operation and a column per epoch, shaded by the probability.
  const epochs = s.supernet.filter((e) => e.alphas);
  const box = document.getElementById("alphas");
  if (!epochs.length) { box.innerHTML = "<p class=\"note\">This strategy trains no architecture weights.</p>"; return; }
  const labels = Object.keys(epochs[epochs.length - 1].alphas);
  box.innerHTML = labels.map((label) => {
    const ops = s.alpha_ops[label] || epochs[epochs.length - 1].alphas[label].map((_, k) => "op " + k);
    let h = "<table class=\"alpha\" data-edge=\"" + esc(label) + "\"><caption>" + esc(label) + "</caption>";
    ops.forEach((op, k) => {
      h += "<tr><th>" + esc(op) + "</th>" + epochs.map((e) => {
        const p = (e.alphas[label] || [])[k] || 0;
        return "<td title=\"epoch " + e.epoch + ": " + p.toFixed(3) + "\" style=\"background: rgba(68, 119, 170, " +
               Math.min(1, p * 1.5).toFixed(2) + ")\"></td>";
      }).join("") + "</tr>";
    });
    return h + "</table>";
  }).join("");
}

// "stem=16, act=relu, ...": every active decision of a trial with its option.
function decisionList(s, t) {
  return t.choices.map((c, i) => (c < 0 ? null : s.decisions[i].name + "=" + s.decisions[i].options[c]))
      .filter((x) => x !== null).join(", ");
}

function renderTrials(s) {
  const m = s.metric;
  const columns = [
    ["id", "trial", (t) => t.id], ["status", "status", (t) => t.status], ["fidelity", "fidelity", (t) => t.fidelity],
    ["metric", m, (t) => metricOf(t, m)], ["params", "params", (t) => metricOf(t, "params")],
    ["flops", "FLOPs", (t) => metricOf(t, "flops")], ["seconds", "seconds", (t) => metricOf(t, "train_seconds")],
    ["arch", "architecture", (t) => t.arch]];
  const head = document.querySelector("#trials-table thead");
  head.innerHTML = "<tr>" + columns.map(([k, title]) => "<th data-key=\"" + k + "\"" +
      (k === "arch" || k === "status" || k === "fidelity" ? "" : " class=\"num\"") + ">" + esc(title) +
      (k === sortKey ? (sortDesc ? " ▾" : " ▴") : "") + "</th>").join("") + "</tr>";
  for (const th of head.querySelectorAll("th"))
    th.onclick = () => {
      sortDesc = th.dataset.key === sortKey ? !sortDesc : true;
      sortKey = th.dataset.key;
      renderTrials(snapshot);
    };
  const filter = document.getElementById("status-filter").value;
  const get = columns.find((c) => c[0] === sortKey)[2];
  const rows = s.trials.filter((t) => !filter || t.status === filter).slice().sort((a, b) => {
    const x = get(a), y = get(b);
    if (x === y) return 0;
    if (x === null) return 1;
    if (y === null) return -1;
    return (x < y ? -1 : 1) * (sortDesc ? -1 : 1);
  });
  const bestId = s.best ? s.best.id : -1;
  document.querySelector("#trials-table tbody").innerHTML = rows.map((t) =>
      "<tr class=\"status-" + t.status + (t.id === bestId ? " best" : "") + "\" data-trial=\"" + t.id + "\">" +
      columns.map(([k, , f]) => {
        const v = f(t);
        if (k === "arch") return "<td class=\"arch\" title=\"" + esc(decisionList(s, t)) + "\">" + esc(v) + "</td>";
        if (k === "status") return "<td title=\"" + esc(t.reason || "") + "\">" + esc(v) + "</td>";
        if (k === "fidelity") return "<td>" + esc(v) + "</td>";
        return "<td class=\"num\">" + (typeof v === "number" ? fmt(v) : "-") + "</td>";
      }).join("") + "</tr>").join("");
}

document.getElementById("run-select").onchange = (e) => {
  current = e.target.value;
  lastVersion = null;
  location.hash = "run=" + encodeURIComponent(current);
  refresh();
};
document.getElementById("status-filter").onchange = () => snapshot && renderTrials(snapshot);
document.getElementById("tradeoff-x").onchange = () => snapshot && renderTradeoff(snapshot);
refresh();
setInterval(refresh, 2000);
</script>
</body>
</html>
)PAGE";

}  // namespace

std::string dashboard_page(const std::string& token) {
  std::string h = kHead;
  // The token travels with every request the page makes; the script reads it from here.
  const std::string query = token.empty() ? "" : "?token=" + html_escape(token);
  h += "<script src=\"/chart.js" + query + "\"></script>\n";
  h += kBody;
  h += "<div id=\"nascent-token\" data-token=\"" + html_escape(token) + "\" hidden></div>\n";
  h += kScript;
  return h;
}

}  // namespace nascent::run
