#include "nascent/strategy/local_search.h"

#include "nascent/core/config.h"
#include "nascent/core/error.h"
#include "nascent/space/space.h"

namespace nascent::strategy {
namespace {

const char* mode_name(int m) { return m == 0 ? "initial" : m == 1 ? "start" : "climb"; }

nlohmann::json known_json(const LocalSearch::Known& k) {
  return {
      {"arch", choices_to_json(k.arch)}, {"tier", k.standing.tier}, {"value", k.standing.value}, {"trial", k.trial}};
}

}  // namespace

LocalSearchOptions LocalSearchOptions::from_config(ConfigSection& sec) {
  LocalSearchOptions o;
  o.initial = sec.get_int("initial", o.initial, 1, 1000000);
  o.improvement = sec.get_choice("improvement", o.improvement, {"first", "best"});
  o.max_attempts = sec.get_int("max_attempts", o.max_attempts, 1, 1000000);
  sec.finish();
  return o;
}

LocalSearch::LocalSearch(const StrategyContext& ctx, LocalSearchOptions options)
    : Strategy(ctx), options_(std::move(options)), rng_(Rng::derive(ctx.seed, "strategy/local")) {
  NASCENT_CHECK(options_.initial >= 1, "local: initial must be at least 1");
  NASCENT_CHECK(options_.improvement == "first" || options_.improvement == "best",
                "local: improvement must be first or best");
}

Proposal LocalSearch::propose(const Arch& arch, const std::string& origin) {
  const std::string h = ctx_.space->hash(arch);
  proposed_.insert(h);
  pending_.insert(h);
  Proposal p{arch, ctx_.fidelity, {{"origin", origin}}};
  if (centre_ && origin == "neighbor") p.meta["centre"] = centre_->trial;
  return p;
}

std::optional<Arch> LocalSearch::random_unseen() {
  for (int64_t i = 0; i < options_.max_attempts; ++i) {
    Arch a = ctx_.space->sample(rng_);
    if (!proposed_.count(ctx_.space->hash(a))) return a;
  }
  exhausted_ = true;  // the space (or what is left of it) is used up
  return std::nullopt;
}

void LocalSearch::set_centre(const Known& k) {
  const auto& space = *ctx_.space;
  centre_ = k;
  queue_ = space.neighbors(k.arch);
  rng_.shuffle(queue_);  // neighbours in random order (White et al. 2021, Alg. 1)
  neighbourhood_.clear();
  for (const auto& a : queue_) neighbourhood_.insert(space.hash(a));
  best_neighbour_.reset();
}

void LocalSearch::consider(const Known& k) {
  if (options_.improvement == "first") {
    if (k.standing > centre_->standing) set_centre(k);
  } else if (!best_neighbour_ || k.standing > best_neighbour_->standing) {
    best_neighbour_ = k;
  }
}

bool LocalSearch::neighbourhood_pending() const {
  for (const auto& h : pending_)
    if (neighbourhood_.count(h)) return true;
  return false;
}

std::optional<Proposal> LocalSearch::ask() {
  if (exhausted_) return std::nullopt;
  const auto& space = *ctx_.space;
  if (mode_ == Mode::kInitial) {
    if (initial_asked_ < options_.initial) {
      auto a = random_unseen();
      if (!a) return std::nullopt;
      ++initial_asked_;
      return propose(*a, "initial");
    }
    if (!pending_.empty()) return std::nullopt;  // the first centre is the best of all of them
    const Known* best = nullptr;
    for (const auto& [_, k] : known_)
      if (!best || k.standing > best->standing || (!(best->standing > k.standing) && k.trial < best->trial)) best = &k;
    NASCENT_CHECK(best != nullptr, "local: no initial results");
    set_centre(*best);
    mode_ = Mode::kClimb;
  }
  while (true) {
    if (mode_ == Mode::kStart) {
      if (!start_.empty()) return std::nullopt;  // the restart's result decides the next centre
      auto a = random_unseen();
      if (!a) return std::nullopt;
      start_ = space.hash(*a);
      return propose(*a, "restart");
    }
    // Climbing: try the next neighbour; results already known are used without asking again.
    while (!queue_.empty()) {
      Arch a = queue_.back();
      queue_.pop_back();
      const std::string h = space.hash(a);
      auto k = known_.find(h);
      if (k != known_.end()) {
        consider(k->second);
        continue;
      }
      if (pending_.count(h)) continue;  // asked earlier; its result is considered when told
      return propose(a, "neighbor");
    }
    if (neighbourhood_pending()) return std::nullopt;
    if (best_neighbour_ && best_neighbour_->standing > centre_->standing) {
      set_centre(*best_neighbour_);
      continue;
    }
    // A local optimum: no neighbour improves on the centre. Restart from a random architecture.
    centre_.reset();
    queue_.clear();
    neighbourhood_.clear();
    best_neighbour_.reset();
    ++restarts_;
    mode_ = Mode::kStart;
  }
}

void LocalSearch::tell(const Trial& trial) {
  const std::string h = ctx_.space->hash(trial.proposal.arch);
  pending_.erase(h);
  Known k{ctx_.space->canonical(trial.proposal.arch), Standing::of(ctx_.objective, trial), trial.id};
  known_[h] = k;
  if (mode_ == Mode::kStart && h == start_) {
    start_.clear();
    set_centre(k);
    mode_ = Mode::kClimb;
  } else if (mode_ == Mode::kClimb && neighbourhood_.count(h)) {
    consider(k);
  }
}

nlohmann::json LocalSearch::state() const {
  nlohmann::json known = nlohmann::json::object();
  for (const auto& [h, k] : known_) known[h] = known_json(k);
  nlohmann::json queue = nlohmann::json::array();
  for (const auto& a : queue_) queue.push_back(choices_to_json(a));
  return {{"rng", rng_.state()},
          {"known", known},
          {"pending", pending_},
          {"proposed", proposed_},
          {"mode", mode_name(static_cast<int>(mode_))},
          {"initial_asked", initial_asked_},
          {"start", start_},
          {"centre", centre_ ? known_json(*centre_) : nlohmann::json(nullptr)},
          {"queue", queue},
          {"best_neighbour", best_neighbour_ ? known_json(*best_neighbour_) : nlohmann::json(nullptr)},
          {"restarts", restarts_},
          {"exhausted", exhausted_}};
}

void LocalSearch::load_state(const nlohmann::json& s) {
  const std::string space_name = ctx_.space->name();
  auto known_of = [&](const nlohmann::json& j) {
    return Known{arch_from_choices(space_name, j.at("arch")),
                 Standing{j.at("tier").get<int>(), j.at("value").get<double>()}, j.at("trial").get<int64_t>()};
  };
  rng_.load_state(s.at("rng"));
  known_.clear();
  for (auto it = s.at("known").begin(); it != s.at("known").end(); ++it) known_[it.key()] = known_of(it.value());
  pending_ = s.at("pending").get<std::set<std::string>>();
  proposed_ = s.at("proposed").get<std::set<std::string>>();
  const std::string mode = s.at("mode").get<std::string>();
  mode_ = mode == "initial" ? Mode::kInitial : mode == "start" ? Mode::kStart : Mode::kClimb;
  initial_asked_ = s.at("initial_asked").get<int64_t>();
  start_ = s.at("start").get<std::string>();
  centre_.reset();
  neighbourhood_.clear();
  if (!s.at("centre").is_null()) {
    centre_ = known_of(s.at("centre"));
    for (const auto& a : ctx_.space->neighbors(centre_->arch)) neighbourhood_.insert(ctx_.space->hash(a));
  }
  queue_.clear();
  for (const auto& a : s.at("queue")) queue_.push_back(arch_from_choices(space_name, a));
  best_neighbour_.reset();
  if (!s.at("best_neighbour").is_null()) best_neighbour_ = known_of(s.at("best_neighbour"));
  restarts_ = s.at("restarts").get<int64_t>();
  exhausted_ = s.at("exhausted").get<bool>();
}

}  // namespace nascent::strategy
