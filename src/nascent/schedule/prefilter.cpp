#include "nascent/schedule/prefilter.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <vector>

#include "nascent/core/config.h"
#include "nascent/core/error.h"
#include "nascent/core/rng.h"
#include "nascent/estimate/proxies.h"
#include "nascent/estimate/proxy_evaluator.h"
#include "nascent/space/space.h"

namespace nascent::schedule {
namespace {

constexpr double kNegInf = -std::numeric_limits<double>::infinity();

nlohmann::json proposal_json(const Proposal& p) {
  return {{"arch", strategy::choices_to_json(p.arch)}, {"fidelity", p.fidelity.to_json()}, {"meta", p.meta}};
}

Proposal proposal_from_json(const nlohmann::json& j, const std::string& space) {
  return Proposal{strategy::arch_from_choices(space, j.at("arch")), Fidelity::from_json(j.at("fidelity")),
                  j.at("meta")};
}

}  // namespace

PrefilterOptions PrefilterOptions::from_config(ConfigSection& s) {
  PrefilterOptions o;
  std::vector<std::string> allowed{"none"};
  for (const auto& p : estimate::proxy_names()) allowed.push_back(p);
  o.proxy = s.get_choice("proxy", o.proxy, allowed);
  o.pool = s.get_int("pool", o.pool, 1, 1000000);
  o.keep = s.get_int("keep", o.keep, 1, 1000000);
  o.batch_size = s.get_int("batch_size", o.batch_size, 1, 4096);
  if (o.keep > o.pool)
    s.fail("keep",
           fmt::format("{} is more than the pool ({}): keep at most pool candidates of each pool", o.keep, o.pool));
  s.finish();
  return o;
}

std::string PrefilterOptions::describe() const { return fmt::format("{} (keep {} of {})", proxy, keep, pool); }

int64_t survivors(const PrefilterOptions& o, int64_t n) {
  if (n <= 0) return 0;
  if (n >= o.pool) return o.keep;
  const auto share = static_cast<int64_t>(
      std::llround(static_cast<double>(n) * static_cast<double>(o.keep) / static_cast<double>(o.pool)));
  return std::clamp<int64_t>(share, 1, n);
}

std::unique_ptr<strategy::Strategy> with_prefilter(const PrefilterOptions& o, const strategy::StrategyContext& ctx,
                                                   std::unique_ptr<strategy::Strategy> inner) {
  if (!o.on()) return inner;
  return std::make_unique<Prefilter>(ctx, o, std::move(inner));
}

Prefilter::Prefilter(const strategy::StrategyContext& ctx, PrefilterOptions options,
                     std::unique_ptr<strategy::Strategy> inner)
    : Strategy(ctx), options_(std::move(options)), inner_(std::move(inner)) {
  NASCENT_CHECK(inner_ != nullptr, "a pre-filter needs a strategy");
  NASCENT_CHECK(options_.on(), "a pre-filter needs a proxy");
}

Prefilter::~Prefilter() = default;

std::optional<Proposal> Prefilter::ask() {
  // A pool whose every candidate failed to score or broke a constraint leaves nothing to
  // propose (the strategy was told): ask for another, a bounded number of times.
  for (int empty = 0; queue_.empty(); ++empty)
    if (empty == 100 || !fill()) return std::nullopt;
  Proposal p = queue_.front();
  queue_.pop_front();
  return p;
}

bool Prefilter::fill() {
  std::vector<Proposal> pool;
  while (static_cast<int64_t>(pool.size()) < options_.pool) {
    std::optional<Proposal> p = inner_->ask();
    if (!p) break;  // the strategy waits for results, or is used up: score what there is
    pool.push_back(std::move(*p));
  }
  if (pool.empty()) return false;
  NASCENT_CHECK(ctx_.data != nullptr, "the pre-filter needs the task's data to score candidates");
  if (!scorer_)
    scorer_ = std::make_unique<estimate::ProxyEvaluator>(
        *ctx_.space, *ctx_.data, estimate::ProxyOptions{options_.proxy, options_.batch_size}, ctx_.objective);

  // Score every candidate at its own seed (fixed by the architecture, so a candidate scores the
  // same in whichever pool it turns up); a candidate that fails or breaks a static constraint
  // scores -inf and is never kept.
  const auto t0 = std::chrono::steady_clock::now();
  struct Scored {
    size_t index;
    double score;
    estimate::Evaluation evaluation;
  };
  std::vector<Scored> scored;
  for (size_t i = 0; i < pool.size(); ++i) {
    if (ctx_.poll) ctx_.poll();
    const uint64_t seed = Rng::derive(ctx_.seed, "prefilter/" + ctx_.space->hash(pool[i].arch)).next();
    estimate::Evaluation e = scorer_->evaluate(pool[i], seed, nullptr);
    const auto it = e.metrics.find(options_.proxy);
    const double score = e.status == TrialStatus::kOk && it != e.metrics.end() ? it->second : kNegInf;
    scored.push_back(Scored{i, score, std::move(e)});
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::stable_sort(scored.begin(), scored.end(), [](const Scored& a, const Scored& b) { return a.score > b.score; });

  const auto n = static_cast<int64_t>(pool.size());
  const int64_t keep = survivors(options_, n);
  nlohmann::json listed = nlohmann::json::array();
  for (int64_t r = 0; r < n; ++r) {
    Scored& s = scored[static_cast<size_t>(r)];
    Proposal& p = pool[s.index];
    const bool kept = r < keep && std::isfinite(s.score);
    const nlohmann::json score = std::isfinite(s.score) ? nlohmann::json(s.score) : nlohmann::json(nullptr);
    listed.push_back({{"arch", ctx_.space->to_json(p.arch)}, {"score", score}, {"kept", kept}});
    const nlohmann::json note = {
        {"proxy", options_.proxy}, {"score", score}, {"rank", r + 1}, {"pool", n}, {"round", rounds_}};
    if (kept) {
      p.meta["prefilter"] = note;
      queue_.push_back(p);
      continue;
    }
    // Never trained: the strategy is told so, with the proxy's score and the profile.
    Trial t;
    t.proposal = p;
    t.proposal.meta["prefilter"] = note;
    t.status = TrialStatus::kRejected;
    t.reason = s.evaluation.status == TrialStatus::kOk
                   ? fmt::format("prefilter: {} ranks it {} of {}", options_.proxy, r + 1, n)
                   : "prefilter: " + (s.evaluation.reason.empty() ? std::string("not scored") : s.evaluation.reason);
    t.metrics = s.evaluation.metrics;
    t.worker = "prefilter";
    inner_->tell(t);
  }
  if (ctx_.events) {
    const std::string best = std::isfinite(scored.front().score) ? fmt::format("{:.4g}", scored.front().score) : "-";
    ctx_.events->record(strategy::StrategyEvent{
        "prefilter",
        rounds_,
        {{"proxy", options_.proxy}, {"candidates", listed}, {"kept", queue_.size()}, {"seconds", seconds}},
        fmt::format("prefilter {}: {} scored {} candidates in {:.1f}s, kept {} (best {})", rounds_ + 1, options_.proxy,
                    n, seconds, queue_.size(), best)});
  }
  ++rounds_;
  scored_ += n;
  return true;
}

nlohmann::json Prefilter::state() const {
  nlohmann::json queue = nlohmann::json::array();
  for (const auto& p : queue_) queue.push_back(proposal_json(p));
  return {{"strategy", inner_->state()},
          {"prefilter", {{"proxy", options_.proxy}, {"queue", queue}, {"rounds", rounds_}, {"scored", scored_}}}};
}

void Prefilter::load_state(const nlohmann::json& s) {
  inner_->load_state(s.at("strategy"));
  const nlohmann::json& f = s.at("prefilter");
  NASCENT_CHECK(f.at("proxy").get<std::string>() == options_.proxy, "stored pre-filter state is for another proxy");
  queue_.clear();
  for (const auto& p : f.at("queue")) queue_.push_back(proposal_from_json(p, ctx_.space->name()));
  rounds_ = f.at("rounds").get<int64_t>();
  scored_ = f.at("scored").get<int64_t>();
}

}  // namespace nascent::schedule
