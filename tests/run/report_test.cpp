#include "nascent/run/report.h"

#include <gtest/gtest.h>

#include <string>

#include "nascent/estimate/class_metrics.h"
#include "nascent/space/darts.h"
#include "nascent/space/nb201.h"

namespace nascent::run {
namespace {

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + what.size())) ++n;
  return n;
}

// The part of the page from the element with this id to the end of its section.
std::string section(const std::string& html, const std::string& id) {
  const size_t start = html.find("id=\"" + id + "\"");
  if (start == std::string::npos) return "";
  return html.substr(start, html.find("</section>", start) - start);
}

Trial trial(const space::Nb201Space& s, int64_t id, const std::string& cell, TrialStatus status, double acc,
            double params) {
  Trial t;
  t.id = id;
  t.proposal.arch = s.from_text(cell, "test");
  t.status = status;
  if (status == TrialStatus::kFailed) {
    t.reason = "loss is NaN <script>";
  } else {
    t.metrics["val_accuracy"] = acc;
    t.metrics["params"] = params;
  }
  return t;
}

TEST(Report, PlotsEveryTrialMarksTheParetoFrontAndRanksTheBestFirst) {
  space::Nb201Space s;
  const std::vector<Trial> trials = {
      trial(s, 1, "|nor_conv_3x3~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|", TrialStatus::kOk, 0.80, 1000),
      trial(s, 2, "|nor_conv_1x1~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|", TrialStatus::kOk, 0.85, 3000),
      trial(s, 3, "|avg_pool_3x3~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|", TrialStatus::kFailed, 0, 0),
      trial(s, 4, "|nor_conv_3x3~0|+|nor_conv_3x3~0|none~1|+|skip_connect~0|none~1|none~2|", TrialStatus::kOk, 0.83,
            5000),  // dominated by trial 2: less accurate and larger
      trial(s, 5, "|skip_connect~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|", TrialStatus::kPruned, 0.6, 900),
  };
  const Objective objective;  // maximise val_accuracy
  ReportInput in;
  in.run_dir = "runs/x";
  in.trials = &trials;
  in.space = &s;
  in.objective = &objective;
  in.config = {{"seed", 7}};
  in.summary = {{"strategy", "random"}, {"status", "done"}, {"elapsed_s", 65.0}};
  const std::string html = report_html(in);

  const std::string progress = section(html, "progress-plot");
  EXPECT_EQ(count(progress, "<title>trial #"), 5u);               // every trial, the failed one as a cross
  EXPECT_EQ(count(progress, "<path class=\"failed\""), 1u);       // ... this one
  EXPECT_EQ(count(progress, "<circle class=\"pruned\" cx"), 1u);  // pruned trials in grey
  EXPECT_EQ(count(progress, "<path class=\"best-so-far\""), 1u);
  const std::string tradeoff = section(html, "tradeoff-plot");
  EXPECT_EQ(count(tradeoff, "<circle class=\"pareto\" cx"), 2u);  // trials 1 (smallest) and 2 (most accurate)
  EXPECT_EQ(count(tradeoff, "<circle class=\"ok\" cx"), 1u);      // trial 4
  EXPECT_NE(tradeoff.find("2 trials on the Pareto front"), std::string::npos);

  // The top table in order 2, 4, 1; the pruned and failed trials are not in it.
  const std::string top = section(html, "top");
  const size_t r2 = top.find("<td class=\"num\">2</td><td class=\"num\">2</td>");
  ASSERT_NE(top.find("<td class=\"num\">1</td><td class=\"num\">2</td>"), std::string::npos) << top;
  EXPECT_NE(top.find("<td class=\"num\">2</td><td class=\"num\">4</td>"), std::string::npos) << top;
  EXPECT_NE(top.find("<td class=\"num\">3</td><td class=\"num\">1</td>"), std::string::npos) << top;
  EXPECT_EQ(r2, std::string::npos);
  EXPECT_NE(html.find("Top 3 of 3 feasible trials"), std::string::npos);

  // The best cell drawn: its two edges other than none, labelled.
  const std::string best = section(html, "best");
  EXPECT_NE(best.find("Trial #2"), std::string::npos);
  EXPECT_EQ(count(best, "<path class=\"edge\""), 2u);
  EXPECT_NE(best.find(">nor_conv_1x1</text>"), std::string::npos);
  EXPECT_NE(best.find(">skip_connect</text>"), std::string::npos);
  EXPECT_NE(best.find("How to read it: The NAS-Bench-201 cell"), std::string::npos);
  EXPECT_NE(best.find("title=\"1&lt;-0=nor_conv_1x1, 2&lt;-0=none,"), std::string::npos) << best;

  // In short: the best against the median and the worst of the comparable trials, the failure.
  const std::string in_short = section(html, "in-short");
  EXPECT_NE(in_short.find("<li>The best architecture is trial #2 ("), std::string::npos) << in_short;
  EXPECT_NE(in_short.find("the median of the 3 comparable trials reached 0.83 and the worst 0.8."), std::string::npos)
      << in_short;
  EXPECT_NE(in_short.find("<li>1 trial failed"), std::string::npos) << in_short;

  // Text from trials is escaped; the header counts.
  EXPECT_EQ(html.find("<script>"), std::string::npos);
  EXPECT_NE(section(html, "failures").find("loss is NaN &lt;script&gt;"), std::string::npos);
  EXPECT_NE(html.find("seed 7"), std::string::npos);
  EXPECT_NE(html.find("5 trials in 1m05s"), std::string::npos);
}

TEST(Report, DartsDiagramDrawsBothCellsWithTwoInputsPerNode) {
  space::DartsSpace s;
  Rng rng(3);
  const Arch a = s.sample(rng);
  const space::Diagram d = s.diagram(a);
  ASSERT_EQ(d.graphs.size(), 2u);
  const space::darts::Genotype g = s.genotype(a);
  for (int t = 0; t < 2; ++t) {
    const auto& genes = t == 0 ? g.normal : g.reduce;
    size_t ops = 0;
    for (const auto& gene : genes) ops += gene.op != space::darts::kNone;
    EXPECT_EQ(d.graphs[static_cast<size_t>(t)].nodes.size(), 7u);
    EXPECT_EQ(d.graphs[static_cast<size_t>(t)].edges.size(), ops + 4);  // + the four into the concatenation
    const std::string svg = diagram_svg(space::Diagram{{d.graphs[static_cast<size_t>(t)]}});
    EXPECT_EQ(count(svg, "<path class=\"edge\""), ops + 4);
    EXPECT_EQ(count(svg, "<g class=\"node\">"), 7u);
  }
}

TEST(Report, SupernetAlphasAreAHeatMapPerEdgeAndSposGenerationsATable) {
  space::Nb201Space s;
  const std::vector<Trial> none;
  const Objective objective;
  ReportInput in;
  in.run_dir = "runs/oneshot";
  in.trials = &none;
  in.space = &s;
  in.objective = &objective;
  in.config = nlohmann::json::object();
  // Three epochs; the first edge moves to skip_connect.
  for (int e = 1; e <= 3; ++e) {
    nlohmann::json alphas = nlohmann::json::object();
    for (const auto& d : s.decisions())
      alphas[d.name] = d.name == "1<-0" ? std::vector<double>{0.1, 0.2 * e, 0.1, 0.1, 0.1}
                                        : std::vector<double>{0.2, 0.2, 0.2, 0.2, 0.2};
    in.supernet.push_back(
        {"supernet_epoch", e, {{"epoch", e}, {"train_loss", 1.0}, {"train_accuracy", 0.5}, {"alphas", alphas}}, 0});
  }
  in.spos.push_back({"spos_generation",
                     1,
                     {{"generation", 1},
                      {"evaluated", 6},
                      {"best", 0.71},
                      {"top", {{{"arch", "a<b"}, {"score", 0.71}}, {{"arch", "c"}, {"score", 0.7}}}}},
                     0});
  const std::string html = report_html(in);
  const std::string supernet = section(html, "supernet");
  EXPECT_EQ(count(supernet, "<table class=\"alpha\""), 6u);  // one per nb201 edge
  const size_t first = supernet.find("<table class=\"alpha\" data-edge=\"1&lt;-0\">");
  ASSERT_NE(first, std::string::npos) << supernet;
  const std::string table = supernet.substr(first, supernet.find("</table>", first) - first);
  EXPECT_EQ(count(table, "<tr>"), 5u);                 // a row per operation
  EXPECT_EQ(count(table, "<td title=\"epoch "), 15u);  // ... and a column per epoch
  EXPECT_NE(table.find("<tr><th>skip_connect</th><td title=\"epoch 1: 0.200\" style=\"background: rgba(68, 119, 170, "
                       "0.30)\"></td><td title=\"epoch 2: 0.400\""),
            std::string::npos)
      << table;
  EXPECT_NE(section(html, "spos").find("<td class=\"num\">1</td><td class=\"num\">6</td><td class=\"num\">0.7100</td>"),
            std::string::npos);
  const std::string top = section(html, "spos-top");
  EXPECT_EQ(count(top, "<tr><td class=\"num\">"), 2u);
  EXPECT_NE(top.find("<td class=\"num\">1</td><td class=\"num\">0.7100</td><td class=\"arch\">a&lt;b</td>"),
            std::string::npos)
      << top;
}

TEST(Report, ARunWithoutTrialsOrSummaryStillGetsAPage) {
  space::Nb201Space s;
  const std::vector<Trial> none;
  const Objective objective;
  ReportInput in;
  in.run_dir = "runs/empty";
  in.trials = &none;
  in.space = &s;
  in.objective = &objective;
  in.config = nlohmann::json::object();
  const std::string html = report_html(in);
  EXPECT_NE(html.find("No trial succeeded"), std::string::npos);
  EXPECT_EQ(html.find("progress-plot"), std::string::npos);
  EXPECT_NE(html.find("0 trials in"), std::string::npos);
  EXPECT_NE(html.find("</html>"), std::string::npos);
}

std::string classes_html_of(const std::string& html) { return section(html, "classes"); }

TEST(Report, TheFinalTestSplitsClassesInPlainWordsAndAConfusionMatrix) {
  space::Nb201Space s;
  const std::vector<Trial> none;
  const Objective objective;
  ReportInput in;
  in.run_dir = "runs/shirts";
  in.trials = &none;
  in.space = &s;
  in.objective = &objective;
  in.config = nlohmann::json::object();
  // 50 shirts: 6 taken for T-shirts (12%), 1 for a coat; 40 T-shirts: 2 taken for shirts (5%).
  const estimate::ClassMetrics m = [] {
    std::vector<int64_t> truth, pred;
    auto add = [&](int64_t t, int64_t p, int n) {
      for (int i = 0; i < n; ++i) {
        truth.push_back(t);
        pred.push_back(p);
      }
    };
    add(0, 0, 38), add(0, 1, 2), add(1, 1, 43), add(1, 0, 6), add(1, 2, 1), add(2, 2, 10);
    std::vector<float> probs;
    for (int64_t p : pred)
      for (int64_t c = 0; c < 3; ++c) probs.push_back(c == p ? 0.8f : 0.1f);
    return estimate::class_metrics(truth, probs, 3);
  }();
  nlohmann::json test_classes = m.to_json({"T-shirt/top", "Shirt", "Coat"});
  test_classes["misclassified"] = {
      {{"index", 17}, {"true", "Shirt"}, {"predicted", "Coat"}, {"probability", 0.91}, {"png", "iVBORw0KGgo="}}};
  test_classes["balance"] = {{"train", {300, 200, 40}}, {"val", {30, 20, 4}}, {"test", {40, 50, 10}}};
  in.summary = {{"final", {{"epochs", 3.0}, {"test_accuracy", m.accuracy}, {"test_classes", test_classes}}}};
  const std::string html = report_html(in);
  const std::string classes = section(html, "classes");
  ASSERT_FALSE(classes.empty());
  EXPECT_NE(classes.find("<li>The model takes <b>Shirt</b> for <b>T-shirt/top</b> in 12% of the Shirt test images "
                         "(6).</li><li>The model takes <b>T-shirt/top</b> for <b>Shirt</b> in 5% of the T-shirt/top "
                         "test images (2).</li><li>The model takes <b>Shirt</b> for <b>Coat</b> in 2%"),
            std::string::npos)
      << classes;
  // Shirt: 200 training and 20 validation images, 50 test images, recall 43/50.
  EXPECT_NE(classes.find("<td>Shirt</td><td class=\"num\">200</td><td class=\"num\">20</td><td class=\"num\">50</td>"
                         "<td class=\"num\">0.860</td>"),
            std::string::npos)
      << classes;
  EXPECT_NE(classes.find("<th class=\"num\">training images</th>"), std::string::npos);
  EXPECT_EQ(count(section(html, "confusion"), "<tr>"), 4u);  // header + 3 classes
  EXPECT_NE(classes_html_of(html).find("<img alt=\"test image 17\" src=\"data:image/png;base64,iVBORw0KGgo=\">"
                                       "<figcaption>Shirt, taken for Coat (91%)</figcaption>"),
            std::string::npos);
}

TEST(Report, WhichDecisionsMatteredHasABarPerDecisionAndTheTopEffects) {
  space::Nb201Space s;
  const std::vector<Trial> none;
  const Objective objective;
  ReportInput in;
  in.run_dir = "runs/imp";
  in.trials = &none;
  in.space = &s;
  in.objective = &objective;
  in.config = nlohmann::json::object();
  in.summary = {{"importance",
                 {{"method", "fANOVA"},
                  {"metric", "val_accuracy"},
                  {"fidelity", "e1"},
                  {"trials", 40},
                  {"decisions",
                   {{{"decision", "s1_width"},
                     {"importance", 0.62},
                     {"importance_std", 0.1},
                     {"options", {{{"option", "16"}, {"effect", -0.012}, {"effect_std", 0.002}, {"trials", 30}}}}},
                    {{"decision", "act"},
                     {"importance", 0.05},
                     {"importance_std", 0.02},
                     {"options", nlohmann::json::array()}}}}}}};
  const std::string imp = section(report_html(in), "importance");
  ASSERT_FALSE(imp.empty());
  EXPECT_EQ(count(imp, "<rect class=\"imp\""), 2u);
  EXPECT_NE(imp.find(">62%</text>"), std::string::npos) << imp;
  EXPECT_NE(imp.find("<tr><td>16</td><td class=\"num\">-0.0120</td>"), std::string::npos) << imp;
  EXPECT_NE(imp.find("from 40 trials"), std::string::npos);
}

TEST(Report, EscapesMarkup) { EXPECT_EQ(html_escape("a<b & \"c\">"), "a&lt;b &amp; &quot;c&quot;&gt;"); }

}  // namespace
}  // namespace nascent::run
