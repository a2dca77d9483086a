#include "nascent/run/plain_summary.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>

#include "nascent/run/reevaluate.h"

namespace nascent::run {

namespace {

std::string plural(int64_t n, const std::string& one, const std::string& many) {
  return fmt::format("{} {}", n, n == 1 ? one : many);
}

// 0.8853, 69,762, 5.0M: values for sentences.
std::string value(double v) {
  if (std::fabs(v) >= 1e6) return fmt::format("{:.1f}M", v / 1e6);
  if (std::fabs(v) >= 1000) {
    std::string digits = fmt::format("{:.0f}", std::fabs(v)), out;
    for (size_t i = 0; i < digits.size(); ++i) {
      if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
      out += digits[i];
    }
    return (v < 0 ? "-" : "") + out;
  }
  return fmt::format("{:.4g}", v);
}

// The most common text among `reasons` and how often it occurs.
std::pair<std::string, int> most_common(const std::vector<std::string>& reasons) {
  std::map<std::string, int> n;
  for (const auto& r : reasons) n[r]++;
  std::pair<std::string, int> best{"", 0};
  for (const auto& [r, k] : n)
    if (k > best.second) best = {r, k};
  return best;
}

}  // namespace

std::string fidelity_words(const Fidelity& f) {
  std::string s = fmt::format("{:g} epoch{} on {}", f.epochs, f.epochs == 1 ? "" : "s",
                              f.data_fraction >= 1 ? std::string("all of the training split")
                                                   : fmt::format("{:g}% of the training split", 100 * f.data_fraction));
  if (f.resolution > 0) s += fmt::format(", at {} px", f.resolution);
  if (f.width_mult != 1) s += fmt::format(", at {:g}x width", f.width_mult);
  return s;
}

std::string decision_list(const space::SearchSpace& space, const Arch& arch) {
  std::string s;
  const auto& d = space.decisions();
  for (size_t i = 0; i < d.size() && i < arch.choices.size(); ++i) {
    if (!space.active(arch, i)) continue;
    const int c = arch.choices[i];
    if (c < 0 || static_cast<size_t>(c) >= d[i].options.size()) continue;
    s += (s.empty() ? "" : ", ") + d[i].name + "=" + d[i].options[static_cast<size_t>(c)];
  }
  return s;
}

std::string short_form_legend(const std::string& space_name) {
  static const std::map<std::string, std::string> legends = {
      {"cnn",
       "stemS-act: a 3x3 stem convolution of S channels and the activation; then one group per stage: \"pool\" = a "
       "2x2 max-pool before it, Nxconv or Nxres = N plain convolutions or N residual blocks, /2 = its first "
       "convolution has stride 2, kK = kernel size, wW = channels, +se = squeeze-excite."},
      {"chain",
       "One group per stage: N x op (conv = convolution, sep = depthwise-separable convolution, mbE = inverted "
       "bottleneck with expansion E), kK = kernel size, wW = channels, then the activation; +skip = a residual "
       "connection around each block."},
      {"nb201",
       "The NAS-Bench-201 cell: |op~i| is the operation on the edge from node i into the next node, one |...| group "
       "per node 1, 2, 3, joined by +. Operations: none (no edge), skip_connect (identity), nor_conv_1x1 and "
       "nor_conv_3x3 (ReLU-conv-BN), avg_pool_3x3."},
      {"darts",
       "The DARTS normal and reduce cells: for each of the 4 intermediate nodes two inputs, op~i (i = 0, 1 the "
       "cell's two inputs, 2-5 earlier nodes). Operations: sep3, sep5 = separable convolutions; dil3, dil5 = "
       "dilated convolutions; max, avg = 3x3 pooling; skip = identity."},
      {"mbconv",
       "wM = width multiplier; | separates stages; each block kKeE = an inverted bottleneck with kernel K and "
       "expansion E, se = squeeze-excite, -act = an activation other than ReLU."},
      {"transformer",
       "Lx eE act [hH/F ...]: L layers, embedding width E and the activation; for each layer H attention heads and "
       "a feed-forward width F."},
      {"mlp",
       "W1-W2-...: the hidden layers' widths; then the activation, norm = the normalisation and drop = the dropout "
       "rate."},
      {"declared", "Each decision declared in the config, as name=option."},
  };
  const auto it = legends.find(space_name);
  return it == legends.end() ? "" : it->second;
}

namespace {
// The search's value of the trial a re-evaluation trial repeats.
std::string reevaluated_value(const std::vector<Trial>& trials, const Trial& r, const std::string& m) {
  const int64_t id = r.proposal.meta.value(kReevaluates, int64_t{0});
  for (const auto& t : trials)
    if (t.id == id && t.metric(m)) return value(*t.metric(m));
  return "-";
}
}  // namespace

std::vector<std::string> plain_summary(const std::vector<Trial>& trials, const space::SearchSpace& space,
                                       const Objective& objective, const nlohmann::json& summary) {
  std::vector<std::string> out;
  const ObjectiveMetric& primary = objective.metrics().front();
  const std::string m = primary.name;
  const std::optional<size_t> best_index = chosen_trial(trials, objective);
  if (!best_index) {
    out.push_back(trials.empty() ? "No trial has run yet."
                                 : "No trial succeeded yet, so there is no best architecture.");
  } else {
    const Trial& best = trials[*best_index];
    const double bv = best.metric(m).value_or(NAN);
    // The feasible ok trials at the best's fidelity, worst to best.
    std::vector<const Trial*> peers;
    for (const auto& t : trials)
      if (objective.score(t) && t.proposal.fidelity == best.proposal.fidelity) peers.push_back(&t);
    std::sort(peers.begin(), peers.end(),
              [&](const Trial* a, const Trial* b) { return *objective.score(*a) < *objective.score(*b); });
    std::string scaled;
    if (auto e = best.metric("train_epochs"); e && *e != best.proposal.fidelity.epochs)
      scaled = fmt::format(", scaled by its FLOPs to {:.2g} epochs", *e);
    std::string s =
        is_reevaluation(best)
            ? fmt::format(
                  "The best architecture is trial #{} ({}), chosen by training the best of the search again "
                  "before the final training: {} {} at {}{} (it had {} in the search as trial #{})",
                  best.id, space.describe(best.proposal.arch), m, value(bv), fidelity_words(best.proposal.fidelity),
                  scaled, reevaluated_value(trials, best, m), best.proposal.meta.value(kReevaluates, int64_t{0}))
            : fmt::format(
                  "The best architecture is trial #{} ({}): {} {} at the search's fidelity ({}{}), an estimate that "
                  "ranks candidates rather than the model's final accuracy",
                  best.id, space.describe(best.proposal.arch), m, value(bv), fidelity_words(best.proposal.fidelity),
                  scaled);
    if (peers.size() >= 3) {
      const double median = peers[peers.size() / 2]->metric(m).value_or(NAN);
      const double worst = peers.front()->metric(m).value_or(NAN);
      s += fmt::format("; the median of the {} comparable trials reached {} and the worst {}", peers.size(),
                       value(median), value(worst));
    }
    out.push_back(s + ".");

    const nlohmann::json final = summary.is_object() ? summary.value("final", nlohmann::json()) : nlohmann::json();
    if (final.is_object() && final.contains("test_accuracy"))
      out.push_back(
          fmt::format("Trained from scratch on the training and validation data for {:g} epochs, it "
                      "reaches a test accuracy of {:.4f}{}.",
                      final.value("epochs", 0.0), final.value("test_accuracy", 0.0),
                      final.value("model", std::string()).empty()
                          ? std::string()
                          : " (deployable model: " + final.value("model", std::string()) + ")"));

    // Size: the smallest architecture within 1% of the best, or the Pareto front of two metrics.
    const double bp = best.metric("params").value_or(NAN);
    if (objective.multi()) {
      const std::string m2 = objective.metrics()[1].name;
      const std::vector<size_t> front = objective.pareto_front(trials);
      if (front.size() >= 2) {
        const Trial& a = trials[front.front()];
        const Trial& b = trials[front.back()];
        out.push_back(fmt::format(
            "The trade-off between {} and {}: {} architectures are not beaten in both, from {} {} at {} {} to {} {} "
            "at {} {}.",
            m, m2, front.size(), m, value(a.metric(m).value_or(NAN)), m2, value(a.metric(m2).value_or(NAN)), m,
            value(b.metric(m).value_or(NAN)), m2, value(b.metric(m2).value_or(NAN))));
      }
    } else if (std::isfinite(bp)) {
      const Trial* smaller = nullptr;
      for (const Trial* t : peers) {
        const double v = t->metric(m).value_or(NAN), p = t->metric("params").value_or(NAN);
        if (std::fabs(v - bv) <= 0.01 * std::fabs(bv) && p < bp &&
            (!smaller || p < smaller->metric("params").value_or(0)))
          smaller = t;
      }
      std::string size = fmt::format("The best has {} parameters and {:.2g} MFLOPs", value(bp),
                                     best.metric("flops").value_or(0) / 1e6);
      if (auto lat = best.metric("latency_ms")) size += fmt::format(" and runs in {:.3g} ms", *lat);
      if (smaller)
        size +=
            fmt::format("; the smallest trial within 1% of it, #{}, has {} parameters ({:.0f}% of them) for {} {}",
                        smaller->id, value(smaller->metric("params").value_or(0)),
                        100 * smaller->metric("params").value_or(0) / bp, m, value(smaller->metric(m).value_or(NAN)));
      else
        size += "; no trial within 1% of it is smaller";
      out.push_back(size + ".");
    }
  }

  // Which decisions mattered, and the option that did best in each.
  const nlohmann::json imp = summary.is_object() ? summary.value("importance", nlohmann::json()) : nlohmann::json();
  if (imp.is_object() && imp.contains("decisions") && !imp["decisions"].empty()) {
    std::vector<std::string> parts;
    for (const auto& d : imp["decisions"]) {
      if (parts.size() == 3 || d.value("importance", 0.0) < 0.01) break;
      std::string option;
      double top = 0;
      for (const auto& o : d.value("options", nlohmann::json::array())) {
        const double e = o.value("effect", 0.0) * (primary.maximize ? 1 : -1);
        if (option.empty() || e > top) {
          option = o.value("option", std::string());
          top = e;
        }
      }
      parts.push_back(fmt::format("{} ({:.0f}% of the variance{})", d.value("decision", std::string()),
                                  100 * d.value("importance", 0.0), option.empty() ? "" : ", best with " + option));
    }
    if (!parts.empty()) {
      std::string s = "What mattered most for " + m + ": ";
      for (size_t i = 0; i < parts.size(); ++i) s += (i ? (i + 1 == parts.size() ? " and " : ", ") : "") + parts[i];
      out.push_back(s + ".");
    }
  }

  // What did not work.
  std::vector<std::string> failed, rejected;
  for (const auto& t : trials) {
    if (t.status == TrialStatus::kFailed) failed.push_back(t.reason);
    // "breaks constraint params <= 100000 (is 136642)": counted by the constraint, not the value.
    if (t.status == TrialStatus::kRejected) rejected.push_back(t.reason.substr(0, t.reason.find(" (is ")));
  }
  if (!failed.empty()) {
    const auto [reason, n] = most_common(failed);
    out.push_back(fmt::format("{} failed; the most common reason ({}): {}.",
                              plural(static_cast<int64_t>(failed.size()), "trial", "trials"),
                              n == static_cast<int>(failed.size()) ? std::string("all of them") : std::to_string(n),
                              reason.empty() ? "not recorded" : reason));
  }
  if (!rejected.empty()) {
    const auto [reason, n] = most_common(rejected);
    out.push_back(fmt::format("{} broke a constraint before training and cost nothing (most often: {}).",
                              plural(static_cast<int64_t>(rejected.size()), "candidate", "candidates"),
                              reason.empty() ? "not recorded" : reason));
  }
  return out;
}

}  // namespace nascent::run
