#include "nascent/run/report.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <limits>
#include <map>
#include <optional>
#include <utility>

#include "nascent/run/outputs.h"
#include "nascent/run/plain_summary.h"
#include "nascent/run/progress.h"
#include "nascent/run/reevaluate.h"
#include "nascent/space/darts_genotype.h"

namespace nascent::run {

std::string html_escape(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

namespace {

// A number for people: 0.8812, 41.2k, 1.46M.
std::string short_number(double v) {
  const double a = std::fabs(v);
  if (a >= 1e9) return fmt::format("{:.3g}G", v / 1e9);
  if (a >= 1e6) return fmt::format("{:.3g}M", v / 1e6);
  if (a >= 1e4) return fmt::format("{:.3g}k", v / 1e3);
  if (a >= 100) return fmt::format("{:.0f}", v);
  return fmt::format("{:.4g}", v);
}

struct Axis {
  double lo = 0, hi = 1;
  bool log = false;
  std::string label;
};

// A range around values (padded by 5%; log axes in decades' terms).
Axis axis_of(const std::vector<double>& values, bool log, const std::string& label) {
  Axis a;
  a.log = log;
  a.label = label;
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (double v : values)
    if (std::isfinite(v) && (!log || v > 0)) {
      lo = std::min(lo, log ? std::log10(v) : v);
      hi = std::max(hi, log ? std::log10(v) : v);
    }
  if (!std::isfinite(lo)) lo = 0, hi = 1;
  if (hi - lo < 1e-12) {
    const double pad = log ? 0.5 : std::max(std::fabs(lo) * 0.05, 0.01);
    lo -= pad;
    hi += pad;
  }
  const double pad = (hi - lo) * 0.05;
  a.lo = lo - pad;
  a.hi = hi + pad;
  return a;
}

// Tick positions (in axis units: log10 for log axes) at 1, 2, 5 x 10^k steps.
std::vector<double> ticks(const Axis& a) {
  std::vector<double> out;
  if (a.log) {
    for (double d = std::ceil(a.lo); d <= a.hi; d += 1) out.push_back(d);
    if (out.size() < 2)
      for (double d = std::floor(a.lo); d <= a.hi; d += 1)
        for (double m : {2.0, 5.0})
          if (const double t = d + std::log10(m); t >= a.lo && t <= a.hi) out.push_back(t);
    std::sort(out.begin(), out.end());
    return out;
  }
  const double raw = (a.hi - a.lo) / 5;
  const double mag = std::pow(10, std::floor(std::log10(raw)));
  double step = mag;
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (m * mag >= raw) {
      step = m * mag;
      break;
    }
  for (double t = std::ceil(a.lo / step) * step; t <= a.hi + 1e-12; t += step)
    out.push_back(std::fabs(t) < 1e-12 ? 0 : t);
  return out;
}

class SvgPlot {
 public:
  SvgPlot(std::string id, Axis x, Axis y) : id_(std::move(id)), x_(std::move(x)), y_(std::move(y)) {}

  double px(double v) const {
    const double u = x_.log ? std::log10(std::max(v, 1e-300)) : v;
    return kLeft + (u - x_.lo) / (x_.hi - x_.lo) * (kWidth - kLeft - kRight);
  }
  double py(double v) const {
    const double u = y_.log ? std::log10(std::max(v, 1e-300)) : v;
    return kHeight - kBottom - (u - y_.lo) / (y_.hi - y_.lo) * (kHeight - kTop - kBottom);
  }
  double bottom() const { return kHeight - kBottom; }

  void point(double x, double y, const std::string& cls, const std::string& title) {
    body_ += fmt::format("<circle class=\"{}\" cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"4\"><title>{}</title></circle>\n", cls,
                         px(x), py(y), html_escape(title));
  }
  // A point on the bottom edge (no y value: a failed trial).
  void floor_mark(double x, const std::string& cls, const std::string& title) {
    body_ += fmt::format("<path class=\"{}\" d=\"M{:.1f} {:.1f} l6 6 m0 -6 l-6 6\"><title>{}</title></path>\n", cls,
                         px(x) - 3, bottom() - 9, html_escape(title));
  }
  void line(const std::vector<std::pair<double, double>>& pts, const std::string& cls, bool steps) {
    if (pts.empty()) return;
    std::string d = fmt::format("M{:.1f} {:.1f}", px(pts[0].first), py(pts[0].second));
    for (size_t i = 1; i < pts.size(); ++i) {
      if (steps) d += fmt::format(" H{:.1f}", px(pts[i].first));
      d += fmt::format(" L{:.1f} {:.1f}", px(pts[i].first), py(pts[i].second));
    }
    body_ += fmt::format("<path class=\"{}\" d=\"{}\"/>\n", cls, d);
  }
  // A vertical line across the plot at x, labelled at its top (a constraint's bound).
  void vline(double x, const std::string& cls, const std::string& label) {
    body_ += fmt::format(
        "<line class=\"{}\" x1=\"{:.1f}\" y1=\"{}\" x2=\"{:.1f}\" y2=\"{:.1f}\"/><text class=\"{}\" x=\"{:.1f}\" "
        "y=\"{}\" text-anchor=\"end\">{}</text>\n",
        cls, px(x), kTop, px(x), bottom(), cls, px(x) - 4, kTop + 14, html_escape(label));
  }
  void legend(const std::vector<std::pair<std::string, std::string>>& items) {  // class, text
    double x = kLeft + 8;
    for (const auto& [cls, text] : items) {
      body_ += fmt::format(
          "<g class=\"legend\"><circle class=\"{} key\" cx=\"{:.1f}\" cy=\"{}\" r=\"4\"/><text x=\"{:.1f}\" "
          "y=\"{}\">{}</text></g>\n",
          cls, x, kTop - 10, x + 8, kTop - 6, html_escape(text));
      x += 16 + 7.0 * static_cast<double>(text.size());
    }
  }

  std::string str() const {
    std::string s = fmt::format(
        "<svg id=\"{}\" class=\"plot\" viewBox=\"0 0 {} {}\" width=\"{}\" height=\"{}\" "
        "xmlns=\"http://www.w3.org/2000/svg\">\n",
        id_, kWidth, kHeight, kWidth, kHeight);
    const double x0 = kLeft, x1 = kWidth - kRight, y0 = kTop, y1 = kHeight - kBottom;
    s +=
        fmt::format("<rect class=\"frame\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"/>\n", x0, y0, x1 - x0, y1 - y0);
    for (double t : ticks(x_)) {
      const double v = x_.log ? std::pow(10, t) : t;
      const double x = px(v);
      s += fmt::format("<line class=\"grid\" x1=\"{:.1f}\" y1=\"{}\" x2=\"{:.1f}\" y2=\"{}\"/>", x, y0, x, y1);
      s += fmt::format("<text class=\"tick\" x=\"{:.1f}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n", x, y1 + 16,
                       short_number(v));
    }
    for (double t : ticks(y_)) {
      const double v = y_.log ? std::pow(10, t) : t;
      const double y = py(v);
      s += fmt::format("<line class=\"grid\" x1=\"{}\" y1=\"{:.1f}\" x2=\"{}\" y2=\"{:.1f}\"/>", x0, y, x1, y);
      s += fmt::format("<text class=\"tick\" x=\"{}\" y=\"{:.1f}\" text-anchor=\"end\">{}</text>\n", x0 - 6, y + 4,
                       short_number(v));
    }
    s += fmt::format("<text class=\"label\" x=\"{:.1f}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n", (x0 + x1) / 2,
                     kHeight - 6, html_escape(x_.label + (x_.log ? " (log scale)" : "")));
    s += fmt::format(
        "<text class=\"label\" transform=\"translate(14 {:.1f}) rotate(-90)\" text-anchor=\"middle\">{}</text>\n",
        (y0 + y1) / 2, html_escape(y_.label));
    return s + body_ + "</svg>\n";
  }

 private:
  static constexpr int kWidth = 720, kHeight = 340, kLeft = 64, kRight = 16, kTop = 28, kBottom = 44;
  std::string id_;
  Axis x_, y_;
  std::string body_;
};

const char* kStyle = R"(
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 980px; color: #222; padding: 0 1em; }
h1 { margin-bottom: 0.2em; } .sub { color: #666; margin-top: 0; }
table { border-collapse: collapse; margin: 0.5em 0 1em; font-size: 14px; }
td, th { border-bottom: 1px solid #ddd; padding: 3px 10px; text-align: left; vertical-align: top; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.chosen td { font-weight: bold; }
code { font-size: 13px; } .arch { font-family: monospace; font-size: 12px; word-break: break-all; }
svg text { font-size: 12px; fill: #333; } .frame { fill: none; stroke: #999; } .grid { stroke: #eee; }
.tick { fill: #666; } .label { fill: #333; font-size: 13px; }
circle.ok { fill: #4477aa; fill-opacity: 0.7; } circle.pareto { fill: #ee6677; stroke: #222; }
line.bound { stroke: #aa3377; stroke-dasharray: 6 4; stroke-width: 1.5; } text.bound { fill: #aa3377; font-size: 12px; }
circle.pruned { fill: #bbbbbb; } circle.best { fill: #ee6677; stroke: #222; stroke-width: 1.5; }
circle.train { fill: #4477aa; } circle.arch { fill: #228833; }
path.failed { stroke: #cc3311; stroke-width: 2; fill: none; }
path.best-so-far { stroke: #ee6677; stroke-width: 2; fill: none; }
path.front { stroke: #ee6677; stroke-width: 1.5; stroke-dasharray: 4 3; fill: none; }
path.train { stroke: #4477aa; stroke-width: 2; fill: none; } path.arch { stroke: #228833; stroke-width: 2; fill: none; }
.node rect { fill: #f4f4f4; stroke: #555; rx: 4; } .edge { fill: none; stroke: #777; stroke-width: 1.4; }
.edge-label { font-size: 11px; fill: #114; } .diagram-title { font-weight: bold; }
#misclassified { display: flex; flex-wrap: wrap; gap: 10px; }
#misclassified figure { margin: 0; width: 96px; font-size: 12px; }
#misclassified img { width: 84px; height: 84px; image-rendering: pixelated; border: 1px solid #ccc; }
rect.imp { fill: #4477aa; } line.whisker { stroke: #222; stroke-width: 1.5; }
table.effects { display: inline-table; margin-right: 2em; }
.note { color: #666; font-size: 0.9em; }
#alphas { display: flex; flex-wrap: wrap; gap: 12px; } #alphas table { font-size: 0.75em; }
#alphas td { width: 14px; height: 12px; padding: 0; border: 1px solid #fff; }
.box { background: #f6f8fa; border: 1px solid #ddd; padding: 0.6em 1em; border-radius: 6px; }
)";

std::optional<double> metric_of(const Trial& t, const std::string& name) {
  auto v = t.metric(name);
  if (v && std::isfinite(*v)) return v;
  return std::nullopt;
}

std::string td_num(const std::optional<double>& v) {
  return "<td class=\"num\">" + (v ? short_number(*v) : std::string("&ndash;")) + "</td>";
}

}  // namespace

std::string diagram_svg(const space::Diagram& diagram) {
  std::string out;
  for (const auto& g : diagram.graphs) {
    const int n = static_cast<int>(g.nodes.size());
    // Node widths from their labels; arcs above the row for each edge's first use of a pair,
    // below for a second edge between the same two nodes.
    std::vector<double> width(static_cast<size_t>(n)), center(static_cast<size_t>(n));
    // The gap between neighbours holds the longest label of an edge between neighbours.
    double gap = 40;
    int max_span = 1;
    bool any_below = false;
    std::map<std::pair<int, int>, int> pairs;
    for (const auto& e : g.edges) {
      const int span = std::abs(e.to - e.from);
      max_span = std::max(max_span, span);
      if (span == 1) gap = std::max(gap, 20 + 6.6 * static_cast<double>(e.label.size()));
      if (pairs[{std::min(e.from, e.to), std::max(e.from, e.to)}]++ == 1) any_below = true;
    }
    double x = 10;
    for (int i = 0; i < n; ++i) {
      width[static_cast<size_t>(i)] = 16 + 7.2 * static_cast<double>(g.nodes[static_cast<size_t>(i)].size());
      center[static_cast<size_t>(i)] = x + width[static_cast<size_t>(i)] / 2;
      x += width[static_cast<size_t>(i)] + gap;
    }
    const double lift = 28, row = 40 + lift * max_span;
    const double height = row + (any_below ? 20 + lift * max_span : 24);
    const double total = x - gap + 10;
    out += fmt::format(
        "<svg class=\"diagram\" viewBox=\"0 0 {:.0f} {:.0f}\" width=\"{:.0f}\" height=\"{:.0f}\" "
        "xmlns=\"http://www.w3.org/2000/svg\">\n<text class=\"diagram-title\" x=\"10\" y=\"16\">{}</text>\n",
        total, height, total, height, html_escape(g.title));
    std::map<std::pair<int, int>, int> uses;
    for (const auto& e : g.edges) {
      const int a = std::min(e.from, e.to), b = std::max(e.from, e.to);
      if (a < 0 || b >= n) continue;
      const bool below = uses[{a, b}]++ % 2 == 1;
      const double x1 = center[static_cast<size_t>(a)], x2 = center[static_cast<size_t>(b)];
      const double span = b - a;
      const double dy = (below ? 1 : -1) * (span == 1 ? (below ? lift : 0) : lift * span);
      const double y = row + (below ? 12 : -12);
      // The quadratic's apex is at y + dy; a straight edge's label sits between the two boxes.
      const double cx = span == 1 && !below
                            ? (x1 + width[static_cast<size_t>(a)] / 2 + x2 - width[static_cast<size_t>(b)] / 2) / 2
                            : (x1 + x2) / 2;
      const double cy = y + 2 * dy;
      if (span == 1 && !below)
        out += fmt::format("<path class=\"edge\" d=\"M{:.1f} {:.1f} L{:.1f} {:.1f}\"/>",
                           x1 + width[static_cast<size_t>(a)] / 2, row, x2 - width[static_cast<size_t>(b)] / 2, row);
      else
        out += fmt::format("<path class=\"edge\" d=\"M{:.1f} {:.1f} Q{:.1f} {:.1f} {:.1f} {:.1f}\"/>", x1, y, cx, cy,
                           x2, y);
      if (!e.label.empty())
        out += fmt::format("<text class=\"edge-label\" x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">{}</text>", cx,
                           span == 1 && !below ? row - 6 : y + dy + (below ? 12 : -4), html_escape(e.label));
      out += "\n";
    }
    for (int i = 0; i < n; ++i)
      out += fmt::format(
          "<g class=\"node\"><rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"24\"/><text x=\"{:.1f}\" "
          "y=\"{:.1f}\" text-anchor=\"middle\">{}</text></g>\n",
          center[static_cast<size_t>(i)] - width[static_cast<size_t>(i)] / 2, row - 12, width[static_cast<size_t>(i)],
          center[static_cast<size_t>(i)], row + 4, html_escape(g.nodes[static_cast<size_t>(i)]));
    out += "</svg>\n";
  }
  return out;
}

namespace {

// The test split's per-class results (FinalResult::test_classes): the classes the model confuses
// most, in plain words, a per-class table, the confusion matrix (cells shaded by the share of the
// row's images) and the test images it got wrong most confidently.
std::string class_section(const nlohmann::json& c) {
  const auto names = c.value("classes", std::vector<std::string>());
  const auto confusion = c.value("confusion", std::vector<std::vector<int64_t>>());
  if (names.size() < 2 || confusion.size() != names.size()) return "";
  std::string h = "<section id=\"classes\">\n<h2>Each class on the test split</h2>\n";
  auto pct = [](double v) { return fmt::format("{:.0f}%", 100.0 * v); };
  const nlohmann::json auroc = c.value("auroc", nlohmann::json());
  h += fmt::format(
      "<p>Accuracy {:.4f} &middot; balanced accuracy {:.4f} (the mean of the recalls below) &middot; macro-F1 "
      "{:.4f}{}</p>\n",
      c.value("accuracy", 0.0), c.value("balanced_accuracy", 0.0), c.value("macro_f1", 0.0),
      auroc.is_number() ? fmt::format(" &middot; AUROC {:.4f}", auroc.get<double>()) : "");
  // The largest confusions, as shares of the true class's images.
  struct Mix {
    double share;
    size_t truth, predicted;
    int64_t count;
  };
  std::vector<Mix> mixes;
  std::vector<int64_t> rows(names.size(), 0);
  for (size_t t = 0; t < names.size(); ++t)
    for (int64_t v : confusion[t]) rows[t] += v;
  for (size_t t = 0; t < names.size(); ++t)
    for (size_t p = 0; p < names.size(); ++p)
      if (p != t && confusion[t][p] > 0 && rows[t] > 0)
        mixes.push_back({static_cast<double>(confusion[t][p]) / static_cast<double>(rows[t]), t, p, confusion[t][p]});
  std::stable_sort(mixes.begin(), mixes.end(), [](const Mix& a, const Mix& b) { return a.share > b.share; });
  if (!mixes.empty()) {
    h += "<ul id=\"confusions\">";
    for (size_t i = 0; i < std::min<size_t>(3, mixes.size()); ++i)
      h += fmt::format("<li>The model takes <b>{}</b> for <b>{}</b> in {} of the {} test images ({}).</li>",
                       html_escape(names[mixes[i].truth]), html_escape(names[mixes[i].predicted]), pct(mixes[i].share),
                       html_escape(names[mixes[i].truth]), mixes[i].count);
    h += "</ul>\n";
  }
  // The class balance of each split, when the final training recorded it.
  const nlohmann::json balance = c.value("balance", nlohmann::json::object());
  const auto train_n = balance.value("train", std::vector<int64_t>());
  const auto val_n = balance.value("val", std::vector<int64_t>());
  const bool splits = train_n.size() == names.size() && val_n.size() == names.size();
  h += "<table id=\"per-class\"><tr><th>class</th>";
  if (splits) h += "<th class=\"num\">training images</th><th class=\"num\">validation images</th>";
  h += "<th class=\"num\">test images</th><th class=\"num\">recall</th><th class=\"num\">precision</th><th "
       "class=\"num\">F1</th></tr>";
  size_t row = 0;
  for (const auto& pc : c.value("per_class", nlohmann::json::array())) {
    h += "<tr><td>" + html_escape(pc.value("name", std::string())) + "</td>";
    if (splits && row < names.size())
      h += fmt::format("<td class=\"num\">{}</td><td class=\"num\">{}</td>", train_n[row], val_n[row]);
    h += fmt::format(
        "<td class=\"num\">{}</td><td class=\"num\">{:.3f}</td><td class=\"num\">{:.3f}</td><td "
        "class=\"num\">{:.3f}</td></tr>",
        pc.value("support", int64_t{0}), pc.value("recall", 0.0), pc.value("precision", 0.0), pc.value("f1", 0.0));
    ++row;
  }
  h += "</table>\n<table id=\"confusion\"><tr><th>true \\ predicted</th>";
  for (const auto& n : names) h += "<th class=\"num\">" + html_escape(n) + "</th>";
  h += "</tr>";
  for (size_t t = 0; t < names.size(); ++t) {
    h += "<tr><th>" + html_escape(names[t]) + "</th>";
    for (size_t p = 0; p < names.size(); ++p) {
      const double share = rows[t] > 0 ? static_cast<double>(confusion[t][p]) / static_cast<double>(rows[t]) : 0.0;
      // Blue on the diagonal (right), red elsewhere (wrong), stronger with the share.
      h += fmt::format("<td class=\"num\" style=\"background: rgba({}, {:.2f})\">{}</td>",
                       p == t ? "68, 119, 170" : "204, 51, 17", std::min(0.8, share), confusion[t][p]);
    }
    h += "</tr>";
  }
  h += "</table>\n";
  const nlohmann::json wrong = c.value("misclassified", nlohmann::json::array());
  if (!wrong.empty()) {
    h += "<p>The test images it got wrong most confidently:</p>\n<div id=\"misclassified\">";
    for (const auto& w : wrong)
      h += fmt::format(
          "<figure><img alt=\"test image {}\" src=\"data:image/png;base64,{}\"><figcaption>{}, taken for {} "
          "({})</figcaption></figure>",
          w.value("index", int64_t{0}), w.value("png", std::string()), html_escape(w.value("true", std::string())),
          html_escape(w.value("predicted", std::string())), pct(w.value("probability", 0.0)));
    h += "</div>\n";
  }
  h += "</section>\n";
  return h;
}

// Which decisions mattered (summary.json "importance"): one bar per decision with its spread
// over the forest's trees, then, for the three most important, the objective's change with each
// option against the mean.
std::string importance_section(const nlohmann::json& imp) {
  const nlohmann::json decisions = imp.value("decisions", nlohmann::json::array());
  if (decisions.empty()) return "";
  std::string h = "<section id=\"importance\">\n<h2>Which decisions mattered</h2>\n";
  h += fmt::format(
      "<p>Share of the variance of <b>{}</b> that each decision explains on its own ({}, from {} trials at "
      "fidelity <code>{}</code>; the whisker is the spread over the trees).</p>\n",
      html_escape(imp.value("metric", std::string())), html_escape(imp.value("method", std::string())),
      imp.value("trials", 0), html_escape(imp.value("fidelity", std::string())));
  const int bar_w = 360, row_h = 20, label_w = 160;
  const int height = row_h * static_cast<int>(decisions.size()) + 10;
  h += fmt::format("<svg id=\"importance-bars\" width=\"{}\" height=\"{}\">", label_w + bar_w + 60, height);
  for (size_t i = 0; i < decisions.size(); ++i) {
    const auto& d = decisions[i];
    const double v = std::clamp(d.value("importance", 0.0), 0.0, 1.0);
    const double sd = d.value("importance_std", 0.0);
    const int y = static_cast<int>(i) * row_h + 4;
    h += fmt::format(
        "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text><rect class=\"imp\" x=\"{}\" y=\"{}\" "
        "width=\"{:.1f}\" height=\"{}\"><title>{}: {:.3f} &#177; {:.3f}</title></rect>",
        label_w - 6, y + 13, html_escape(d.value("decision", std::string())), label_w, y, v * bar_w, row_h - 6,
        html_escape(d.value("decision", std::string())), v, sd);
    h += fmt::format("<line class=\"whisker\" x1=\"{:.1f}\" x2=\"{:.1f}\" y1=\"{}\" y2=\"{}\"/>",
                     label_w + std::max(0.0, v - sd) * bar_w, label_w + std::min(1.0, v + sd) * bar_w,
                     y + (row_h - 6) / 2, y + (row_h - 6) / 2);
    h += fmt::format("<text x=\"{:.1f}\" y=\"{}\">{:.0f}%</text>", label_w + v * bar_w + 6, y + 13, 100 * v);
  }
  h += "</svg>\n";
  for (size_t i = 0; i < std::min<size_t>(3, decisions.size()); ++i) {
    const auto& d = decisions[i];
    h += fmt::format(
        "<table class=\"effects\"><tr><th>{}</th><th class=\"num\">effect</th><th "
        "class=\"num\">&#177;</th><th class=\"num\">trials</th></tr>",
        html_escape(d.value("decision", std::string())));
    for (const auto& o : d.value("options", nlohmann::json::array()))
      h += fmt::format(
          "<tr><td>{}</td><td class=\"num\">{:+.4f}</td><td class=\"num\">{:.4f}</td><td "
          "class=\"num\">{}</td></tr>",
          html_escape(o.value("option", std::string())), o.value("effect", 0.0), o.value("effect_std", 0.0),
          o.value("trials", int64_t{0}));
    h += "</table>\n";
  }
  h += "</section>\n";
  return h;
}

}  // namespace

std::string report_html(const ReportInput& in) {
  const std::vector<Trial>& trials = *in.trials;
  const space::SearchSpace& space = *in.space;
  const Objective& objective = *in.objective;
  const ObjectiveMetric primary = objective.metrics().front();
  const std::string m = primary.name;
  auto better = [&](double a, double b) { return primary.maximize ? a > b : a < b; };
  auto feasible = [&](const Trial& t) { return t.status == TrialStatus::kOk && !objective.violation(t.metrics); };

  std::map<std::string, int> counts;
  for (const auto& t : trials) counts[to_string(t.status)]++;
  const std::optional<size_t> best = chosen_trial(trials, objective);
  const nlohmann::json& summary = in.summary;
  const std::string strategy = summary.is_object() ? summary.value("strategy", std::string()) : std::string();
  const double elapsed = summary.is_object() ? summary.value("elapsed_s", 0.0) : 0.0;
  const std::string status = summary.is_object() ? summary.value("status", std::string("unknown")) : "unknown";

  std::string h = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  h += fmt::format("<title>nascent report: {}</title>\n<style>{}</style>\n</head>\n<body>\n", html_escape(in.run_dir),
                   kStyle);
  h += "<h1>nascent search report</h1>\n";
  h += fmt::format(
      "<p class=\"sub\">run <code>{}</code> &middot; space <b>{}</b> &middot; strategy <b>{}</b> &middot; "
      "seed {} &middot; {} &middot; {}, {} trial{} in {}</p>\n",
      html_escape(in.run_dir), html_escape(space.name()), html_escape(strategy), in.config.value("seed", 0),
      html_escape(objective.describe()), html_escape(status), trials.size(), trials.size() == 1 ? "" : "s",
      format_duration(elapsed));

  // The run in plain sentences, computed from its trials.
  h += "<section id=\"in-short\">\n<h2>In short</h2>\n<ul>";
  for (const std::string& line : plain_summary(trials, space, objective, summary))
    h += "<li>" + html_escape(line) + "</li>";
  h += "</ul>\n</section>\n";

  if (summary.is_object() && summary.contains("warnings") && summary["warnings"].is_array()) {
    h += "<div class=\"box\" id=\"warnings\"><b>Warnings</b><ul>";
    for (const auto& w : summary["warnings"]) h += "<li>" + html_escape(w.get<std::string>()) + "</li>";
    h += "</ul></div>\n";
  }
  if (summary.is_object() && summary.contains("final_skipped"))
    h += "<div class=\"box\" id=\"final-skipped\">No final model: " +
         html_escape(summary.value("final_skipped", std::string())) + "</div>\n";
  h += "<section id=\"counts\"><table><tr>";
  for (const char* s : {"ok", "failed", "rejected", "pruned", "running"})
    h += fmt::format("<th class=\"num\">{}</th>", s);
  h += "</tr><tr>";
  for (const char* s : {"ok", "failed", "rejected", "pruned", "running"})
    h += fmt::format("<td class=\"num\">{}</td>", counts.count(s) ? counts[s] : 0);
  h += "</tr></table></section>\n";

  // The best architecture: its drawing, metrics and final training.
  h += "<section id=\"best\">\n<h2>Best architecture</h2>\n";
  if (best) {
    const Trial& b = trials[*best];
    h += fmt::format(
        "<p>Trial #{} &middot; {} <b>{}</b> &middot; {} parameters &middot; {} FLOPs &middot; fidelity "
        "<code>{}</code></p>\n<p class=\"arch\" title=\"{}\">{}</p>\n",
        b.id, html_escape(m), short_number(metric_of(b, m).value_or(NAN)),
        short_number(metric_of(b, "params").value_or(NAN)), short_number(metric_of(b, "flops").value_or(NAN)),
        html_escape(b.proposal.fidelity.key()), html_escape(decision_list(space, b.proposal.arch)),
        html_escape(space.describe(b.proposal.arch)));
    if (const std::string legend = short_form_legend(space.name()); !legend.empty())
      h += "<p class=\"note\" id=\"legend\">How to read it: " + html_escape(legend) +
           " Hover it for every decision.</p>\n";
    h += "<div id=\"arch-diagram\">\n" + diagram_svg(space.diagram(b.proposal.arch)) + "</div>\n";
  } else {
    h += "<p>No trial succeeded (see the failures below).</p>\n";
  }
  if (summary.is_object() && summary.contains("final") && summary["final"].is_object()) {
    const nlohmann::json& f = summary["final"];
    h += fmt::format(
        "<div class=\"box\" id=\"final\"><b>Final training</b> from scratch on train + validation, {} "
        "epochs: test accuracy <b>{:.4f}</b>, {} training.<br>",
        f.value("epochs", 0.0), f.value("test_accuracy", 0.0), format_duration(f.value("train_seconds", 0.0)));
    if (!f.value("model", std::string()).empty())
      h += fmt::format(
          "Deployable model: <code>{}</code> (TorchScript) with <code>model.json</code>; weights "
          "<code>{}</code>.",
          html_escape(f.value("model", std::string())), html_escape(f.value("weights", std::string())));
    else
      h += fmt::format("Weights: <code>{}</code>.", html_escape(f.value("weights", std::string())));
    if (f.contains("time_split") && f["time_split"].is_object()) {
      // budget.time_minutes covered the whole job: how it was shared.
      const nlohmann::json& t = f["time_split"];
      const nlohmann::json fit = t.value("fit", nlohmann::json::object());
      h += fmt::format(
          "<br><span id=\"time-split\">Time budget {}: search {}, final training {} ({} epochs at {} per epoch, "
          "{:.0f} images/s), whole job {}.</span>",
          format_duration(t.value("budget_s", 0.0)), format_duration(t.value("search_s", 0.0)),
          format_duration(t.value("final_s", 0.0)), t.value("final_epochs", 0.0),
          format_duration(fit.value("epoch_seconds", 0.0)), fit.value("images_per_s", 0.0),
          format_duration(t.value("job_s", 0.0)));
    }
    if (f.contains("reevaluation") && f["reevaluation"].is_object()) {
      // final.reevaluate: the best of the search trained again, and which one won.
      const nlohmann::json& r = f["reevaluation"];
      std::string rows;
      for (const auto& c : r.value("candidates", nlohmann::json::array())) {
        const bool won = r.contains("chosen") && r["chosen"] == c.value("trial", int64_t{-1});
        rows += fmt::format("<tr{}><td>#{}</td><td class=\"num\">{}</td><td>#{}</td><td class=\"num\">{}</td></tr>",
                            won ? " class=\"chosen\"" : "", c.value("search_trial", int64_t{0}),
                            c.contains("search_" + m) ? fmt::format("{:.4f}", c["search_" + m].get<double>()) : "-",
                            c.value("trial", int64_t{0}),
                            c.contains(m) ? fmt::format("{:.4f}", c[m].get<double>())
                                          : html_escape(c.value("status", std::string("-"))));
      }
      h += fmt::format(
          "<div id=\"reevaluation\"><p>Before the final training, the {} best architectures of the search were "
          "trained again at a higher fidelity ({} in all), and the best of them (in bold) was the one trained:</p>"
          "<table><tr><th>search trial</th><th>{} in the search</th><th>re-evaluation</th><th>{} there</th></tr>{}"
          "</table></div>",
          r.value("candidates", nlohmann::json::array()).size(), format_duration(r.value("seconds", 0.0)),
          html_escape(m), html_escape(m), rows);
    }
    h += "</div>\n";
  }
  h += "</section>\n";
  if (summary.is_object() && summary.contains("final") && summary["final"].is_object() &&
      summary["final"].contains("test_classes"))
    h += class_section(summary["final"]["test_classes"]);

  if (summary.is_object() && summary.contains("importance")) h += importance_section(summary["importance"]);

  // Search progress: every trial's value in order, and the best so far.
  std::vector<double> xs, ys;
  for (const auto& t : trials) {
    xs.push_back(static_cast<double>(t.id));
    if (auto v = metric_of(t, m)) ys.push_back(*v);
  }
  if (!trials.empty()) {
    SvgPlot p("progress-plot", axis_of(xs, false, "trial"), axis_of(ys, false, m));
    std::vector<std::pair<double, double>> steps;
    std::optional<double> so_far;
    for (const auto& t : trials) {
      const auto v = metric_of(t, m);
      const std::string title = fmt::format("trial #{} {}: {} {}{}", t.id, to_string(t.status), m,
                                            v ? short_number(*v) : "-", t.reason.empty() ? "" : " (" + t.reason + ")");
      if (t.status == TrialStatus::kFailed || (t.status != TrialStatus::kRunning && !v)) {
        p.floor_mark(static_cast<double>(t.id), "failed", title);
        continue;
      }
      if (!v) continue;
      p.point(static_cast<double>(t.id), *v, t.status == TrialStatus::kOk ? "ok" : "pruned",
              title + " [" + space.describe(t.proposal.arch) + "]");
      if (feasible(t) && (!so_far || better(*v, *so_far))) so_far = *v;
      if (so_far) steps.emplace_back(static_cast<double>(t.id), *so_far);
    }
    p.line(steps, "best-so-far", /*steps=*/true);
    p.legend({{"ok", "ok trial"}, {"pruned", "pruned / other"}, {"best", "best so far"}});
    h += "<section id=\"progress\">\n<h2>Search progress</h2>\n" + p.str() +
         "<p>Each point is a trial (hover for its architecture); crosses on the bottom edge failed. The line is the "
         "best feasible value so far.</p>\n</section>\n";
  }

  // Trade-off: the objective's two metrics, or the primary metric against parameters.
  const std::string xm = objective.multi() ? objective.metrics()[1].name : "params";
  std::vector<double> tx, ty;
  for (const auto& t : trials)
    if (t.status == TrialStatus::kOk)
      if (auto a = metric_of(t, xm), b = metric_of(t, m); a && b) {
        tx.push_back(*a);
        ty.push_back(*b);
      }
  if (!tx.empty()) {
    // Bounds on the x metric (latency_ms <= 1) are drawn, and kept inside the plot.
    std::vector<const Constraint*> x_bounds;
    for (const auto& c : objective.constraints())
      if (c.metric == xm && std::isfinite(c.bound)) x_bounds.push_back(&c);
    std::vector<double> x_range = tx;
    for (const Constraint* c : x_bounds) x_range.push_back(c->bound);
    const bool log_x =
        std::all_of(x_range.begin(), x_range.end(), [](double v) { return v > 0; }) &&
        *std::max_element(x_range.begin(), x_range.end()) > 20 * *std::min_element(x_range.begin(), x_range.end());
    SvgPlot p("tradeoff-plot", axis_of(x_range, log_x, xm), axis_of(ty, false, m));
    for (const Constraint* c : x_bounds) p.vline(c->bound, "bound", c->text);
    const bool x_max = objective.multi() ? objective.metrics()[1].maximize : false;
    Objective pair({primary, ObjectiveMetric{xm, x_max}}, objective.constraints());
    std::vector<size_t> front = pair.pareto_front(trials);
    std::vector<bool> on_front(trials.size(), false);
    for (size_t i : front) on_front[i] = true;
    std::vector<std::pair<double, double>> front_pts;
    for (size_t i = 0; i < trials.size(); ++i) {
      const Trial& t = trials[i];
      if (t.status != TrialStatus::kOk) continue;
      const auto a = metric_of(t, xm), b = metric_of(t, m);
      if (!a || !b) continue;
      p.point(*a, *b, on_front[i] ? "pareto" : "ok",
              fmt::format("trial #{}: {} {}, {} {} [{}]", t.id, m, short_number(*b), xm, short_number(*a),
                          space.describe(t.proposal.arch)));
      if (on_front[i]) front_pts.emplace_back(*a, *b);
    }
    std::sort(front_pts.begin(), front_pts.end());
    p.line(front_pts, "front", /*steps=*/false);
    p.legend({{"ok", "trial"}, {"pareto", "Pareto front"}});
    h +=
        fmt::format("<section id=\"tradeoff\">\n<h2>{} against {}</h2>\n", html_escape(m), html_escape(xm)) + p.str() +
        fmt::format("<p>{} trials on the Pareto front: no other feasible trial is better in both {} and {}.{}</p>\n",
                    front.size(), html_escape(m), html_escape(xm),
                    x_bounds.empty() ? "" : " The dashed line is the constraint; candidates beyond it were rejected.") +
        "</section>\n";
  }

  // One-shot strategies: the supernet's training, epoch by epoch.
  if (!in.supernet.empty()) {
    std::vector<double> ex, ey;
    std::vector<std::pair<double, double>> train, arch;
    for (const auto& e : in.supernet) {
      const double epoch = e.data.value("epoch", 0.0);
      ex.push_back(epoch);
      if (e.data.contains("train_accuracy")) {
        train.emplace_back(epoch, e.data.value("train_accuracy", 0.0));
        ey.push_back(train.back().second);
      }
      if (e.data.contains("arch_accuracy") && e.data.value("alphas_trained", true)) {
        arch.emplace_back(epoch, e.data.value("arch_accuracy", 0.0));
        ey.push_back(arch.back().second);
      }
    }
    SvgPlot p("supernet-plot", axis_of(ex, false, "supernet epoch"), axis_of(ey, false, "accuracy"));
    p.line(train, "train", false);
    p.line(arch, "arch", false);
    for (const auto& [x, y] : train) p.point(x, y, "train", fmt::format("epoch {}: weight-step accuracy {:.4f}", x, y));
    for (const auto& [x, y] : arch)
      p.point(x, y, "arch", fmt::format("epoch {}: architecture-step accuracy {:.4f}", x, y));
    p.legend({{"train", "weight steps (training part)"}, {"arch", "architecture steps (held-out part)"}});
    h += "<section id=\"supernet\">\n<h2>Supernet training</h2>\n" + p.str();
    h += "<table><tr><th class=\"num\">epoch</th><th class=\"num\">loss</th><th class=\"num\">accuracy</th><th "
         "class=\"num\">seconds</th><th>derived architecture</th></tr>\n";
    for (const auto& e : in.supernet)
      h += fmt::format(
          "<tr><td class=\"num\">{}</td><td class=\"num\">{:.3f}</td><td class=\"num\">{:.3f}</td><td "
          "class=\"num\">{:.1f}</td><td class=\"arch\">{}</td></tr>\n",
          e.data.value("epoch", 0), e.data.value("train_loss", 0.0), e.data.value("train_accuracy", 0.0),
          e.data.value("seconds", 0.0), html_escape(e.data.value("derived_text", std::string())));
    h += "</table>\n";
    // darts and gdas: how each edge's architecture weights moved, epoch by epoch.
    std::vector<const store::StoredEvent*> epochs;
    for (const auto& e : in.supernet)
      if (e.data.contains("alphas") && e.data["alphas"].is_object()) epochs.push_back(&e);
    if (!epochs.empty()) {
      const nlohmann::json ops = alpha_op_names(space, in.supernet);
      h += "<h3>Architecture weights</h3>\n<p class=\"note\">The softmax of each edge's (or decision's) alphas: a row "
           "per operation, a column per epoch, darker is preferred. Where a row darkens and stays, the edge has "
           "decided.</p>\n<div id=\"alphas\">";
      for (const auto& [label, last] : epochs.back()->data["alphas"].items()) {
        const auto names = ops.value(label, std::vector<std::string>());
        h += fmt::format("<table class=\"alpha\" data-edge=\"{0}\"><caption>{0}</caption>", html_escape(label));
        for (size_t k = 0; k < last.size(); ++k) {
          h += "<tr><th>" + html_escape(k < names.size() ? names[k] : fmt::format("op {}", k)) + "</th>";
          for (const store::StoredEvent* e : epochs) {
            const nlohmann::json row = e->data["alphas"].value(label, nlohmann::json::array());
            const double p = k < row.size() && row[k].is_number() ? row[k].get<double>() : 0.0;
            h += fmt::format("<td title=\"epoch {}: {:.3f}\" style=\"background: rgba(68, 119, 170, {:.2f})\"></td>",
                             e->data.value("epoch", 0), p, std::min(1.0, 1.5 * p));
          }
          h += "</tr>";
        }
        h += "</table>\n";
      }
      h += "</div>\n";
    }
    h += "</section>\n";
  }

  // spos: the evolution over the trained supernet's inherited weights, generation by generation.
  if (!in.spos.empty()) {
    h += "<section id=\"spos\">\n<h2>Evolution over the supernet (spos)</h2>\n<p class=\"note\">Candidates scored "
         "with the supernet's weights (no training of their own); the best score of each generation.</p>\n<table><tr>"
         "<th class=\"num\">generation</th><th class=\"num\">candidates scored</th><th class=\"num\">best "
         "score</th></tr>\n";
    for (const auto& e : in.spos)
      h += fmt::format("<tr><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{:.4f}</td></tr>\n",
                       e.data.value("generation", 0), e.data.value("evaluated", 0), e.data.value("best", 0.0));
    h += "</table>\n";
    // The candidates the last generation ranked highest, by their score with inherited weights.
    const nlohmann::json top = in.spos.back().data.value("top", nlohmann::json::array());
    if (!top.empty()) {
      h += "<p>The best candidates after the last generation, by supernet score:</p>\n<table id=\"spos-top\"><tr><th "
           "class=\"num\">rank</th><th class=\"num\">score</th><th>architecture</th></tr>\n";
      for (size_t i = 0; i < top.size(); ++i)
        h += fmt::format("<tr><td class=\"num\">{}</td><td class=\"num\">{:.4f}</td><td class=\"arch\">{}</td></tr>\n",
                         i + 1, top[i].value("score", 0.0), html_escape(top[i].value("arch", std::string())));
      h += "</table>\n";
    }
    h += "</section>\n";
  }

  // The best trials.
  std::vector<size_t> ok;
  for (size_t i = 0; i < trials.size(); ++i)
    if (feasible(trials[i]) && metric_of(trials[i], m)) ok.push_back(i);
  std::stable_sort(ok.begin(), ok.end(),
                   [&](size_t a, size_t b) { return better(*metric_of(trials[a], m), *metric_of(trials[b], m)); });
  if (!ok.empty()) {
    h += fmt::format("<section id=\"top\">\n<h2>Top {} of {} feasible trials</h2>\n<table>",
                     std::min<size_t>(10, ok.size()), ok.size());
    h += fmt::format(
        "<tr><th class=\"num\">rank</th><th class=\"num\">trial</th><th class=\"num\">{}</th><th "
        "class=\"num\">params</th><th class=\"num\">FLOPs</th><th class=\"num\">train s</th><th>fidelity</th>"
        "<th>architecture</th></tr>\n",
        html_escape(m));
    for (size_t r = 0; r < std::min<size_t>(10, ok.size()); ++r) {
      const Trial& t = trials[ok[r]];
      h += fmt::format(
          "<tr><td class=\"num\">{}</td><td class=\"num\">{}</td>{}{}{}{}<td><code title=\"{}\">{}</code></td><td "
          "class=\"arch\" title=\"{}\">{}</td></tr>\n",
          r + 1, t.id, td_num(metric_of(t, m)), td_num(metric_of(t, "params")), td_num(metric_of(t, "flops")),
          td_num(metric_of(t, "train_seconds")), html_escape(fidelity_words(t.proposal.fidelity)),
          html_escape(t.proposal.fidelity.key()), html_escape(decision_list(space, t.proposal.arch)),
          html_escape(space.describe(t.proposal.arch)));
    }
    h += "</table>\n<p class=\"note\">The values are estimates at each trial's fidelity, made to rank candidates, "
         "not the final model's accuracy. Fidelity: e = epochs, d = share of the training split, r = input side in "
         "pixels, w = width multiplier. Hover an architecture for every decision and its option.</p>\n</section>\n";
  }

  // What went wrong.
  std::vector<const Trial*> bad;
  for (const auto& t : trials)
    if (t.status == TrialStatus::kFailed || t.status == TrialStatus::kRejected) bad.push_back(&t);
  if (!bad.empty()) {
    h += fmt::format(
        "<section id=\"failures\">\n<h2>Failed and rejected trials ({})</h2>\n<table><tr><th "
        "class=\"num\">trial</th><th>status</th><th>reason</th></tr>\n",
        bad.size());
    for (size_t i = 0; i < std::min<size_t>(30, bad.size()); ++i)
      h += fmt::format("<tr><td class=\"num\">{}</td><td>{}</td><td>{}</td></tr>\n", bad[i]->id,
                       to_string(bad[i]->status), html_escape(bad[i]->reason));
    h += "</table>\n";
    if (bad.size() > 30) h += fmt::format("<p>... and {} more (trials.csv has them all).</p>\n", bad.size() - 30);
    h += "</section>\n";
  }

  h += "<details><summary>Config</summary><pre>" + html_escape(in.config.dump(2)) + "</pre></details>\n";
  h += "</body>\n</html>\n";
  return h;
}

nlohmann::json alpha_op_names(const space::SearchSpace& space, const std::vector<store::StoredEvent>& supernet) {
  nlohmann::json ops = nlohmann::json::object();
  for (const auto& e : supernet) {
    if (!e.data.contains("alphas") || !e.data["alphas"].is_object()) continue;
    for (const auto& [label, probs] : e.data["alphas"].items()) {
      if (ops.contains(label)) continue;
      const int d = space.index_of(label);
      if (d >= 0)
        ops[label] = space.decisions()[static_cast<size_t>(d)].options;
      else if (probs.size() == space::darts::op_names().size())
        ops[label] = space::darts::op_names();
    }
  }
  return ops;
}

std::string write_report(const std::string& run_dir, const store::Store& store, const space::SearchSpace& space,
                         const Objective& objective) {
  const std::vector<Trial> trials = store.trials();
  ReportInput in;
  in.run_dir = run_dir;
  in.trials = &trials;
  in.space = &space;
  in.objective = &objective;
  in.config = store::Store::read_config(store.path());
  in.supernet = store.events("supernet_epoch");
  in.spos = store.events("spos_generation");
  std::ifstream summary(run_dir + "/summary.json");
  if (summary) {
    try {
      in.summary = nlohmann::json::parse(summary);
    } catch (const nlohmann::json::exception&) {
      in.summary = nullptr;  // a report without the summary's parts rather than none
    }
  }
  const std::string path = run_dir + "/report.html";
  write_file_atomic(path, report_html(in));
  return path;
}

}  // namespace nascent::run
