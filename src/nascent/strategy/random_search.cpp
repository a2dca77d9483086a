#include "nascent/strategy/random_search.h"

#include "nascent/core/config.h"
#include "nascent/space/space.h"

namespace nascent::strategy {

RandomOptions RandomOptions::from_config(ConfigSection& sec) {
  RandomOptions o;
  o.max_attempts = sec.get_int("max_attempts", o.max_attempts, 1, 1000000);
  sec.finish();
  return o;
}

RandomSearch::RandomSearch(const StrategyContext& ctx, RandomOptions options)
    : Strategy(ctx), options_(options), rng_(Rng::derive(ctx.seed, "strategy/random")) {}

std::optional<Proposal> RandomSearch::ask() {
  if (exhausted_) return std::nullopt;
  const auto& space = *ctx_.space;
  for (int64_t attempt = 0; attempt < options_.max_attempts; ++attempt) {
    Arch a = space.sample(rng_);
    if (seen_.insert(space.hash(a)).second) return Proposal{a, ctx_.fidelity, nlohmann::json::object()};
  }
  exhausted_ = true;  // the space (or what is left of it) is used up
  return std::nullopt;
}

nlohmann::json RandomSearch::state() const {
  return {{"rng", rng_.state()}, {"seen", seen_}, {"exhausted", exhausted_}};
}

void RandomSearch::load_state(const nlohmann::json& s) {
  rng_.load_state(s.at("rng"));
  seen_ = s.at("seen").get<std::set<std::string>>();
  exhausted_ = s.at("exhausted").get<bool>();
}

}  // namespace nascent::strategy
