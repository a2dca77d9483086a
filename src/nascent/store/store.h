// The experiment store: one SQLite file per experiment (WAL). Every trial is written in a
// transaction together with the strategy's state, so that after a crash at any moment the
// database holds every completed trial and a strategy state consistent with it.
//   experiment      one row: config, seed, status, versions, elapsed seconds
//   trial           one row per trial: proposal, status, metrics, reason, timings, worker, told
//   strategy_state  one row: the strategy's state after the latest ask or tell
//   strategy_event  the strategy's own progress (e.g. one row per supernet epoch of DARTS)
//   salvaged_trial  results recovered from a damaged database, used up as the search re-proposes them
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "nascent/core/trial.h"
#include "nascent/store/salvage.h"
#include "nascent/store/sqlite.h"

namespace nascent::space {
class SearchSpace;
}

namespace nascent::store {

// A strategy's progress record, as stored.
struct StoredEvent {
  std::string kind;
  int64_t step = 0;
  nlohmann::json data;
  double time = 0;  // unix seconds when recorded
};

struct ExperimentInfo {
  nlohmann::json config;
  uint64_t seed = 0;
  std::string status;  // running | done | interrupted
  nlohmann::json versions;
  std::string created;
  double elapsed_s = 0;  // search time spent over all sessions
};

class Store {
 public:
  // Creates the database for a new experiment; InputError if the file already holds one.
  static std::unique_ptr<Store> create(const std::string& path, const nlohmann::json& config, uint64_t seed,
                                       const space::SearchSpace& space);
  // Opens an existing experiment (for --resume or reading); InputError if there is none.
  static std::unique_ptr<Store> open(const std::string& path, const space::SearchSpace& space);
  // Opens an existing experiment of this version for reading only (the dashboard beside a running
  // search): no integrity check, no migration, never a write; InputError if there is none.
  static std::unique_ptr<Store> open_read_only(const std::string& path, const space::SearchSpace& space);
  // Reads the stored config without knowing the space (to rebuild the space from it).
  static nlohmann::json read_config(const std::string& path, Access access = Access::kReadWrite);

  ExperimentInfo info() const;
  void set_status(const std::string& status);

  // Groups the writes until the returned transaction's commit() into one SQLite transaction: one
  // commit (one fsync with synchronous=FULL) for the results a search tells in one pass and the
  // trials it asks after them, instead of one per write (bench/scale).
  std::unique_ptr<Transaction> group_writes() { return std::make_unique<Transaction>(*db_); }

  // Records a new running trial and the strategy state after its ask, atomically. Returns its id.
  int64_t begin_trial(const Proposal& p, const nlohmann::json& strategy_state, const std::string& worker);
  // Records a finished trial, the strategy state after its tell and the elapsed search time,
  // atomically; with salvaged_id, the salvaged result it was taken from is used up in the same
  // transaction.
  void finish_trial(const Trial& t, const nlohmann::json& strategy_state, double elapsed_s, int64_t salvaged_id = 0);
  // Records a finished trial whose result the strategy is not told yet (parallel searches tell
  // results in trial order, so one that finishes early waits); finish_trial tells it later.
  void record_result(const Trial& t, double elapsed_s, int64_t salvaged_id = 0);
  // Finished trials recorded with record_result and not yet told, by id.
  std::vector<int64_t> untold() const;

  // Results read from a damaged database (`nascent recover`): stored apart from the trials, and
  // taken when the resumed strategy proposes the same architecture at the same fidelity again.
  void add_salvaged(const SalvagedRow& row);
  std::optional<Trial> find_salvaged(const Arch& arch, const Fidelity& f) const;
  int64_t salvaged_count() const;

  std::vector<Trial> trials() const;  // ordered by id
  std::optional<Trial> trial(int64_t id) const;
  std::optional<nlohmann::json> strategy_state() const;
  // An earlier completed (ok) trial of the same architecture at the same fidelity.
  std::optional<Trial> find_result(const Arch& arch, const Fidelity& f) const;

  // Records a strategy event; one of the same kind and step recorded before is replaced.
  void record_event(const std::string& kind, int64_t step, const nlohmann::json& data);
  // Events of one kind ("" = all), by kind and step.
  std::vector<StoredEvent> events(const std::string& kind = "") const;

  const std::string& path() const { return db_->path(); }

 private:
  Store(const std::string& path, const space::SearchSpace& space, Access access = Access::kReadWrite);
  void create_schema();
  void migrate(int from_version);
  Trial read_row(Statement& s) const;
  // The lowest-id row of "TABLE WHERE FILTER" for this architecture and fidelity.
  std::optional<Trial> first_row(const std::string& table_and_filter, const Arch& arch, const Fidelity& f) const;
  std::unique_ptr<Database> db_;
  const space::SearchSpace& space_;
};

}  // namespace nascent::store
