#include "nascent/schedule/bracket_scheduler.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>

#include "nascent/core/config.h"
#include "nascent/core/error.h"
#include "nascent/space/space.h"

namespace nascent::schedule {
namespace {

constexpr double kNegInf = -std::numeric_limits<double>::infinity();

nlohmann::json entry_json(const BracketScheduler::Entry& e) {
  return {{"trial", e.trial},
          {"arch", strategy::choices_to_json(e.arch)},
          {"score", std::isfinite(e.score) ? nlohmann::json(e.score) : nlohmann::json(nullptr)}};
}

BracketScheduler::Entry entry_from_json(const nlohmann::json& j, const std::string& space) {
  return {j.at("trial").get<int64_t>(), strategy::arch_from_choices(space, j.at("arch")),
          j.at("score").is_null() ? kNegInf : j.at("score").get<double>()};
}

}  // namespace

SchedulerOptions SchedulerOptions::from_config(const std::string& name, ConfigSection& sec) {
  SchedulerOptions o;
  o.name = name;
  o.eta = static_cast<int>(sec.get_int("eta", o.eta, 2, 100));
  o.resource = sec.get_choice("resource", o.resource, {"epochs", "data_fraction"});
  o.min_epochs = sec.get_double("min_epochs", o.min_epochs, 0.01, 10000);
  o.max_epochs = sec.get_double("max_epochs", o.max_epochs, 0.01, 10000);
  o.min_fraction = sec.get_double("min_fraction", o.min_fraction, 1e-4, 1);
  o.max_fraction = sec.get_double("max_fraction", o.max_fraction, 1e-4, 1);
  if (name == "sha") o.candidates = sec.get_int("candidates", o.candidates, 0, 1000000);
  const bool epochs = o.resource == "epochs";
  const std::string lo = epochs ? "min_epochs" : "min_fraction", hi = epochs ? "max_epochs" : "max_fraction";
  if (o.max_resource() < o.min_resource() * o.eta * (1 - 1e-9))
    sec.fail(hi, fmt::format("{:g} leaves no room for halving: it must be at least eta ({}) times {} ({:g})",
                             o.max_resource(), o.eta, lo, o.min_resource()));
  sec.finish();
  return o;
}

std::string SchedulerOptions::describe() const {
  return fmt::format("{} (eta {}, {} {:g}..{:g})", name, eta, resource == "epochs" ? "epochs" : "data fraction",
                     min_resource(), max_resource());
}

Bracket bracket_plan(const SchedulerOptions& o, int64_t k) {
  const int s_max = max_bracket(o.eta, o.min_resource(), o.max_resource());
  if (o.name == "sha") return halving_bracket(o.eta, o.min_resource(), o.max_resource(), o.candidates);
  NASCENT_CHECK(o.name == "hyperband", "unknown scheduler " + o.name);
  return hyperband_bracket(o.eta, o.min_resource(), o.max_resource(), s_max - static_cast<int>(k % (s_max + 1)));
}

std::vector<BracketScheduler::Entry> top_of_rung(const std::vector<BracketScheduler::Entry>& results, int64_t k,
                                                 const space::SearchSpace& space) {
  std::vector<BracketScheduler::Entry> sorted = results;
  std::stable_sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) {
    if (a.score != b.score) return a.score > b.score;
    return a.trial < b.trial;
  });
  std::vector<BracketScheduler::Entry> out;
  std::set<std::string> taken;
  for (const auto& e : sorted) {
    if (static_cast<int64_t>(out.size()) >= k || !std::isfinite(e.score)) break;
    // The same architecture can sit in a rung twice (a strategy may propose it again; its result
    // is reused): it moves up once.
    if (taken.insert(space.hash(e.arch)).second) out.push_back(e);
  }
  return out;
}

std::unique_ptr<strategy::Strategy> with_scheduler(const SchedulerOptions& o, const strategy::StrategyContext& ctx,
                                                   std::unique_ptr<strategy::Strategy> inner) {
  if (o.name == "none") return inner;
  return std::make_unique<BracketScheduler>(ctx, o, std::move(inner));
}

BracketScheduler::BracketScheduler(const strategy::StrategyContext& ctx, SchedulerOptions options,
                                   std::unique_ptr<strategy::Strategy> inner)
    : Strategy(ctx), options_(std::move(options)), inner_(std::move(inner)) {
  NASCENT_CHECK(inner_ != nullptr, "a scheduler needs a strategy");
}

void BracketScheduler::start_bracket() {
  const Bracket plan = bracket_plan(options_, brackets_started_++);
  rungs_.clear();
  for (const Rung& r : plan.rungs) {
    RungState rs;
    rs.target = r.candidates;
    rs.fidelity = ctx_.fidelity;
    (options_.resource == "epochs" ? rs.fidelity.epochs : rs.fidelity.data_fraction) = r.resource;
    rungs_.push_back(rs);
  }
}

Proposal BracketScheduler::tagged(Proposal p, size_t rung) const {
  p.fidelity = rungs_[rung].fidelity;
  p.meta["bracket"] = brackets_started_ - 1;
  p.meta["rung"] = rung;
  return p;
}

bool BracketScheduler::promote() {
  for (size_t i = 0; i + 1 < rungs_.size(); ++i) {
    RungState& r = rungs_[i];
    if (r.promoted) continue;
    if (static_cast<int64_t>(r.results.size()) < r.target) return false;  // still running
    // Synchronous successive halving: a rung moves up only once all its results are in.
    // The next rung keeps 1/eta of this one: its planned size, or less when this rung came out
    // smaller (the strategy ran out of new architectures).
    const int64_t keep =
        std::min(rungs_[i + 1].target, std::max<int64_t>(1, static_cast<int64_t>(r.results.size()) / options_.eta));
    std::vector<Entry> best = top_of_rung(r.results, keep, *ctx_.space);
    rungs_[i + 1].target = static_cast<int64_t>(best.size());
    for (const Entry& e : best) rungs_[i + 1].waiting.push_back(e);
    r.promoted = true;
    return true;
  }
  return false;
}

std::optional<Proposal> BracketScheduler::ask() {
  if (exhausted_) return std::nullopt;
  while (true) {
    if (rungs_.empty()) {
      if (inner_->exhausted()) {
        exhausted_ = true;
        return std::nullopt;
      }
      start_bracket();
    }
    // Promotions first: they finish the bracket that is furthest along.
    for (size_t i = rungs_.size(); i-- > 1;) {
      RungState& r = rungs_[i];
      if (r.waiting.empty()) continue;
      const Entry e = r.waiting.front();
      r.waiting.pop_front();
      ++r.issued;
      Proposal p{e.arch, Fidelity{}, nlohmann::json::object()};
      p.meta["origin"] = "promotion";
      p.meta["promoted_from"] = e.trial;
      return tagged(p, i);
    }
    RungState& first = rungs_[0];
    if (first.issued < first.target) {
      std::optional<Proposal> p = inner_->ask();
      if (p) {
        ++first.issued;
        return tagged(*p, 0);
      }
      if (!inner_->exhausted()) return std::nullopt;  // the strategy waits for results
      first.target = first.issued;                    // the space is used up: a smaller first rung
      if (first.target == 0) {
        exhausted_ = true;
        rungs_.clear();
        return std::nullopt;
      }
    }
    if (promote()) continue;
    const RungState& top = rungs_.back();
    const bool done = top.waiting.empty() && static_cast<int64_t>(top.results.size()) >= top.target &&
                      (rungs_.size() == 1 || rungs_[rungs_.size() - 2].promoted);
    if (!done) return std::nullopt;  // waiting for results
    rungs_.clear();                  // the bracket is finished: the next one starts
  }
}

void BracketScheduler::tell(const Trial& trial) {
  inner_->tell(trial);
  const auto& m = trial.proposal.meta;
  if (!m.contains("bracket") || !m.contains("rung")) return;
  NASCENT_CHECK(m["bracket"].get<int64_t>() == brackets_started_ - 1 && !rungs_.empty(),
                fmt::format("trial {} belongs to bracket {}, not the current one", trial.id, m["bracket"].dump()));
  const size_t i = m["rung"].get<size_t>();
  NASCENT_CHECK(i < rungs_.size(),
                fmt::format("trial {} names rung {} of a {}-rung bracket", trial.id, i, rungs_.size()));
  RungState& r = rungs_[i];
  if (trial.status == TrialStatus::kRejected && i == 0) {
    --r.issued;  // never trained and free: a new candidate takes its place
    return;
  }
  const double score = trial.status == TrialStatus::kOk ? fitness(trial) : kNegInf;
  r.results.push_back(Entry{trial.id, trial.proposal.arch, score});
}

nlohmann::json BracketScheduler::state() const {
  nlohmann::json rungs = nlohmann::json::array();
  for (const auto& r : rungs_) {
    nlohmann::json results = nlohmann::json::array(), waiting = nlohmann::json::array();
    for (const auto& e : r.results) results.push_back(entry_json(e));
    for (const auto& e : r.waiting) waiting.push_back(entry_json(e));
    rungs.push_back({{"target", r.target},
                     {"fidelity", r.fidelity.to_json()},
                     {"issued", r.issued},
                     {"results", results},
                     {"waiting", waiting},
                     {"promoted", r.promoted}});
  }
  return {{"strategy", inner_->state()},
          {"scheduler",
           {{"name", options_.name},
            {"brackets_started", brackets_started_},
            {"rungs", rungs},
            {"exhausted", exhausted_}}}};
}

void BracketScheduler::load_state(const nlohmann::json& s) {
  inner_->load_state(s.at("strategy"));
  const nlohmann::json& b = s.at("scheduler");
  NASCENT_CHECK(b.at("name").get<std::string>() == options_.name, "stored scheduler state is for another scheduler");
  brackets_started_ = b.at("brackets_started").get<int64_t>();
  exhausted_ = b.at("exhausted").get<bool>();
  rungs_.clear();
  const std::string space = ctx_.space->name();
  for (const auto& r : b.at("rungs")) {
    RungState rs;
    rs.target = r.at("target").get<int64_t>();
    rs.fidelity = Fidelity::from_json(r.at("fidelity"));
    rs.issued = r.at("issued").get<int64_t>();
    for (const auto& e : r.at("results")) rs.results.push_back(entry_from_json(e, space));
    for (const auto& e : r.at("waiting")) rs.waiting.push_back(entry_from_json(e, space));
    rs.promoted = r.at("promoted").get<bool>();
    rungs_.push_back(rs);
  }
}

}  // namespace nascent::schedule
