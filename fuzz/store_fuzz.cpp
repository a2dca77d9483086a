// The store reading its own rows back (`--resume`, `nascent report`, the dashboard): a real
// experiment database with three trials, a strategy state and an event, one of whose cells is
// replaced by the fuzzed text before the store opens it and reads everything. The first byte
// picks the cell. A value the store cannot use must be an InputError naming the database, never
// a crash or a JSON library exception.
#include <sqlite3.h>

#include <cstdio>
#include <filesystem>
#include <string>

#include "fuzz/fuzz_support.h"
#include "nascent/core/rng.h"
#include "nascent/space/registry.h"
#include "nascent/store/store.h"

namespace {

namespace fs = std::filesystem;

struct Cell {
  const char* table;
  const char* column;
  const char* where;
};

// Every column the store parses (JSON, statuses, numbers kept as text by SQLite's typing).
constexpr Cell kCells[] = {
    {"trial", "arch", "id = 2"},           {"trial", "fidelity", "id = 2"},
    {"trial", "meta", "id = 2"},           {"trial", "metrics", "id = 2"},
    {"trial", "status", "id = 2"},         {"trial", "started", "id = 2"},
    {"trial", "ended", "id = 2"},          {"trial", "told", "id = 2"},
    {"trial", "arch_hash", "id = 2"},      {"trial", "fidelity_key", "id = 2"},
    {"trial", "status", "id = 3"},         {"trial", "metrics", "id = 3"},
    {"strategy_state", "state", "id = 1"}, {"strategy_state", "after_trial", "id = 1"},
    {"experiment", "config", "id = 1"},    {"experiment", "versions", "id = 1"},
    {"experiment", "seed", "id = 1"},      {"experiment", "status", "id = 1"},
    {"experiment", "elapsed_s", "id = 1"}, {"strategy_event", "data", "1"},
};

const nascent::space::SearchSpace& space() {
  static const auto s = nascent::space::make_space("cnn");
  return *s;
}

// The template database, made once per process by the store itself.
const std::string& template_db() {
  static const std::string path = [] {
    const std::string p = nascent::fuzz::scratch_dir() + "/template.db";
    auto store = nascent::store::Store::create(p, {{"seed", 3}, {"space", {{"name", "cnn"}}}}, 3, space());
    nascent::Rng rng(5);
    for (int i = 0; i < 3; ++i) {
      nascent::Trial t;
      t.proposal = nascent::Proposal{space().sample(rng), nascent::Fidelity{1, 0.25, 0, 1}, {{"origin", "random"}}};
      t.id = store->begin_trial(t.proposal, {{"asked", i + 1}}, "inline");
      if (i == 2) break;  // the third stays running, as after a kill
      t.status = nascent::TrialStatus::kOk;
      t.metrics = {{"val_accuracy", 0.5 + 0.1 * i}, {"params", 1000.0 * (i + 1)}};
      t.started = 100 + i;
      t.ended = 110 + i;
      store->finish_trial(t, {{"asked", i + 1}, {"told", i + 1}}, 10.0 * (i + 1));
    }
    store->record_event("epoch", 1, {{"loss", 2.5}});
    return p;
  }();
  return path;
}

void set_cell(const std::string& db, const Cell& c, const std::string& value) {
  sqlite3* h = nullptr;
  if (sqlite3_open(db.c_str(), &h) != SQLITE_OK) std::abort();
  const std::string sql = std::string("UPDATE ") + c.table + " SET " + c.column + " = ?1 WHERE " + c.where;
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(h, sql.c_str(), -1, &st, nullptr) != SQLITE_OK) std::abort();
  sqlite3_bind_text(st, 1, value.data(), static_cast<int>(value.size()), SQLITE_TRANSIENT);
  const int rc = sqlite3_step(st);
  sqlite3_finalize(st);
  sqlite3_close(h);
  // A NOT NULL or CHECK constraint may refuse the value; then there is nothing to read back.
  (void)rc;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const Cell& cell = kCells[data[0] % (sizeof kCells / sizeof kCells[0])];
  const std::string value(reinterpret_cast<const char*>(data) + 1, size - 1);
  const std::string db = nascent::fuzz::scratch_dir() + "/experiment.db";
  for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(db + suffix);
  fs::copy_file(template_db(), db);
  set_cell(db, cell, value);
  nascent::fuzz::expect_only_input_errors([&] {
    (void)nascent::store::Store::read_config(db);
    auto store = nascent::store::Store::open(db, space());
    (void)store->info();
    const std::vector<nascent::Trial> trials = store->trials();
    (void)store->strategy_state();
    (void)store->events();
    (void)store->untold();
    for (const nascent::Trial& t : trials) (void)store->find_result(t.proposal.arch, t.proposal.fidelity);
  });
  return 0;
}
