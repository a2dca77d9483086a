#include "nascent/store/store.h"

#include <fmt/format.h>
#include <sys/stat.h>

#include <chrono>
#include <cmath>
#include <ctime>

#include "nascent/core/error.h"
#include "nascent/space/space.h"
#include "nascent/store/salvage.h"
#include "nascent/store/trial_row.h"

namespace nascent::store {
namespace {

// 1: experiment, trial, strategy_state. 2: + strategy_event. 3: + salvaged_trial. 4: + trial.told
// (older files are upgraded on open).
constexpr int kSchemaVersion = 4;

constexpr const char* kEventTable = R"sql(
    CREATE TABLE strategy_event (
      kind TEXT NOT NULL, step INTEGER NOT NULL, data TEXT NOT NULL, time REAL NOT NULL,
      PRIMARY KEY (kind, step));
  )sql";

// Trials read from a damaged database by `nascent recover`: the resumed search takes its results
// from here when its strategy proposes them again, instead of training them a second time.
constexpr const char* kSalvagedTable = R"sql(
    CREATE TABLE IF NOT EXISTS salvaged_trial (
      id INTEGER PRIMARY KEY,
      status TEXT NOT NULL,
      arch TEXT NOT NULL, arch_hash TEXT NOT NULL,
      fidelity TEXT NOT NULL, fidelity_key TEXT NOT NULL,
      meta TEXT NOT NULL, metrics TEXT NOT NULL, reason TEXT NOT NULL,
      started REAL NOT NULL, ended REAL, worker TEXT NOT NULL);
    CREATE INDEX IF NOT EXISTS salvaged_by_arch ON salvaged_trial(arch_hash, fidelity_key);
  )sql";

double now_s() { return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count(); }

bool file_exists(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0;
}

nlohmann::json metrics_to_json(const Metrics& m) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [k, v] : m)
    if (std::isfinite(v)) j[k] = v;
  return j;
}

std::string iso_now() {
  std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

}  // namespace

Store::Store(const std::string& path, const space::SearchSpace& space, Access access)
    : db_(std::make_unique<Database>(path, access)), space_(space) {}

std::unique_ptr<Store> Store::create(const std::string& path, const nlohmann::json& config, uint64_t seed,
                                     const space::SearchSpace& space) {
  if (file_exists(path))
    throw InputError(path, "",
                     "an experiment already exists here; use --resume to continue it or choose another --out");
  std::unique_ptr<Store> s(new Store(path, space));
  s->create_schema();
  Statement ins(*s->db_,
                "INSERT INTO experiment(id, config, seed, status, versions, created, elapsed_s) "
                "VALUES (1, ?, ?, 'running', ?, ?, 0)");
  nlohmann::json versions = {{"nascent", NASCENT_VERSION}, {"schema", kSchemaVersion}};
  ins.bind(1, config.dump()).bind(2, static_cast<int64_t>(seed)).bind(3, versions.dump()).bind(4, iso_now()).run();
  return s;
}

std::unique_ptr<Store> Store::open(const std::string& path, const space::SearchSpace& space) {
  if (!file_exists(path)) throw InputError(path, "", "no experiment database here to resume");
  if (const std::string problem = integrity_problem(path); !problem.empty()) throw_damaged(path, problem);
  std::unique_ptr<Store> s(new Store(path, space));
  int64_t version = 0;
  {
    Statement v(*s->db_, "PRAGMA user_version");
    v.step();
    version = v.column_int(0);
  }
  if (version < 1 || version > kSchemaVersion)
    throw InputError(path, "",
                     fmt::format("database schema version {} is not {}; not a nascent experiment of this version",
                                 version, kSchemaVersion));
  if (version < kSchemaVersion) s->migrate(static_cast<int>(version));
  return s;
}

std::unique_ptr<Store> Store::open_read_only(const std::string& path, const space::SearchSpace& space) {
  if (!file_exists(path)) throw InputError(path, "", "no experiment database here");
  std::unique_ptr<Store> s(new Store(path, space, Access::kReadOnly));
  Statement v(*s->db_, "PRAGMA user_version");
  v.step();
  if (const int64_t version = v.column_int(0); version != kSchemaVersion)
    throw InputError(path, "",
                     fmt::format("database schema version {} is not {}; `nascent report --run` on it brings an "
                                 "older experiment up to date",
                                 version, kSchemaVersion));
  return s;
}

nlohmann::json Store::read_config(const std::string& path, Access access) {
  if (!file_exists(path)) throw InputError(path, "", "no experiment database here");
  if (access == Access::kReadWrite)
    if (const std::string problem = integrity_problem(path); !problem.empty()) throw_damaged(path, problem);
  Database db(path, access);
  try {
    Statement s(db, "SELECT config FROM experiment WHERE id = 1");
    if (!s.step()) throw InputError(path, "experiment", "the database holds no experiment");
    return json_cell(s.column_text(0), path, "the experiment's config");
  } catch (const InternalError& e) {
    bool has_tables = true;
    try {
      Statement t(db, "SELECT count(*) FROM sqlite_master");
      has_tables = t.step() && t.column_int(0) > 0;
    } catch (const InternalError&) {
    }
    if (!has_tables)
      throw InputError(path, "",
                       "the database holds no experiment tables: a search keeps its recent writes in "
                       "experiment.db-wal until they are checkpointed, so that file was probably deleted or not "
                       "copied with the run; nothing can be resumed: start again with `nascent search --config FILE`");
    throw InputError(path, "", "not a nascent experiment database");
  }
}

void Store::create_schema() {
  Transaction tx(*db_);
  db_->exec(R"sql(
    CREATE TABLE experiment (
      id INTEGER PRIMARY KEY CHECK (id = 1),
      config TEXT NOT NULL, seed INTEGER NOT NULL, status TEXT NOT NULL,
      versions TEXT NOT NULL, created TEXT NOT NULL, elapsed_s REAL NOT NULL);
    CREATE TABLE trial (
      id INTEGER PRIMARY KEY,
      status TEXT NOT NULL,
      arch TEXT NOT NULL, arch_hash TEXT NOT NULL,
      fidelity TEXT NOT NULL, fidelity_key TEXT NOT NULL,
      meta TEXT NOT NULL, metrics TEXT NOT NULL, reason TEXT NOT NULL,
      started REAL NOT NULL, ended REAL, worker TEXT NOT NULL,
      told INTEGER NOT NULL DEFAULT 1);
    CREATE INDEX trial_by_arch ON trial(arch_hash, fidelity_key);
    CREATE TABLE strategy_state (
      id INTEGER PRIMARY KEY CHECK (id = 1),
      after_trial INTEGER NOT NULL, event TEXT NOT NULL, state TEXT NOT NULL, updated REAL NOT NULL);
  )sql");
  db_->exec(kEventTable);
  db_->exec(kSalvagedTable);
  db_->exec(fmt::format("PRAGMA user_version = {}", kSchemaVersion));
  tx.commit();
}

void Store::migrate(int from_version) {
  Transaction tx(*db_);
  if (from_version < 2) db_->exec(kEventTable);
  if (from_version < 3) db_->exec(kSalvagedTable);
  // Before version 4 every finished trial was told to the strategy as it was recorded.
  if (from_version < 4) db_->exec("ALTER TABLE trial ADD COLUMN told INTEGER NOT NULL DEFAULT 1");
  db_->exec(fmt::format("PRAGMA user_version = {}", kSchemaVersion));
  tx.commit();
}

ExperimentInfo Store::info() const {
  Statement s(*db_, "SELECT config, seed, status, versions, created, elapsed_s FROM experiment WHERE id = 1");
  if (!s.step()) throw InputError(db_->path(), "experiment", "the database holds no experiment");
  ExperimentInfo i;
  i.config = json_cell(s.column_text(0), db_->path(), "the experiment's config");
  i.seed = static_cast<uint64_t>(s.column_int(1));
  i.status = s.column_text(2);
  i.versions = json_cell(s.column_text(3), db_->path(), "the experiment's versions");
  i.created = s.column_text(4);
  i.elapsed_s = s.column_double(5);
  return i;
}

void Store::set_status(const std::string& status) {
  Statement(*db_, "UPDATE experiment SET status = ? WHERE id = 1").bind(1, status).run();
}

namespace {
void save_state(Database& db, int64_t trial, const char* event, const nlohmann::json& state) {
  Statement(db,
            "INSERT INTO strategy_state(id, after_trial, event, state, updated) VALUES (1, ?, ?, ?, ?) "
            "ON CONFLICT(id) DO UPDATE SET after_trial = excluded.after_trial, event = excluded.event, "
            "state = excluded.state, updated = excluded.updated")
      .bind(1, trial)
      .bind(2, std::string(event))
      .bind(3, state.dump())
      .bind(4, now_s())
      .run();
}
}  // namespace

int64_t Store::begin_trial(const Proposal& p, const nlohmann::json& strategy_state, const std::string& worker) {
  Transaction tx(*db_);
  Statement ins(
      *db_,
      "INSERT INTO trial(status, arch, arch_hash, fidelity, fidelity_key, meta, metrics, reason, started, worker) "
      "VALUES ('running', ?, ?, ?, ?, ?, '{}', '', ?, ?)");
  ins.bind(1, space_.to_json(p.arch).dump())
      .bind(2, space_.hash(p.arch))
      .bind(3, p.fidelity.to_json().dump())
      .bind(4, p.fidelity.key())
      .bind(5, p.meta.dump())
      .bind(6, now_s())
      .bind(7, worker)
      .run();
  const int64_t id = db_->last_insert_id();
  save_state(*db_, id, "ask", strategy_state);
  tx.commit();
  return id;
}

namespace {
// Writes a finished trial's result into its row; told = 0 while the strategy has not seen it.
void write_result(Database& db, const Trial& t, bool told) {
  NASCENT_CHECK(t.id > 0 && t.status != TrialStatus::kRunning, "a finished trial with an id is needed");
  Statement up(db,
               "UPDATE trial SET status = ?, metrics = ?, reason = ?, started = ?, ended = ?, worker = ?, told = ? "
               "WHERE id = ?");
  up.bind(1, to_string(t.status))
      .bind(2, metrics_to_json(t.metrics).dump())
      .bind(3, t.reason)
      .bind(4, t.started)
      .bind(5, t.ended)
      .bind(6, t.worker)
      .bind(7, static_cast<int64_t>(told ? 1 : 0))
      .bind(8, t.id)
      .run();
  if (db.changes() != 1) db.fail(fmt::format("trial {} does not exist", t.id));
}

void finish(Database& db, const Trial& t, bool told, double elapsed_s, int64_t salvaged_id) {
  write_result(db, t, told);
  Statement(db, "UPDATE experiment SET elapsed_s = ? WHERE id = 1").bind(1, elapsed_s).run();
  // A salvaged result is used once, in the same transaction that records it as this trial's.
  if (salvaged_id > 0) Statement(db, "DELETE FROM salvaged_trial WHERE id = ?").bind(1, salvaged_id).run();
}
}  // namespace

void Store::finish_trial(const Trial& t, const nlohmann::json& strategy_state, double elapsed_s, int64_t salvaged_id) {
  Transaction tx(*db_);
  finish(*db_, t, true, elapsed_s, salvaged_id);
  save_state(*db_, t.id, "tell", strategy_state);
  tx.commit();
}

void Store::record_result(const Trial& t, double elapsed_s, int64_t salvaged_id) {
  Transaction tx(*db_);
  finish(*db_, t, false, elapsed_s, salvaged_id);
  tx.commit();
}

std::vector<int64_t> Store::untold() const {
  Statement s(*db_, "SELECT id FROM trial WHERE told = 0 AND status != 'running' ORDER BY id");
  std::vector<int64_t> out;
  while (s.step()) out.push_back(s.column_int(0));
  return out;
}

Trial Store::read_row(Statement& s) const {
  SalvagedRow r;
  r.id = s.column_int(0);
  r.status = s.column_text(1);
  r.arch = s.column_text(2);
  r.fidelity = s.column_text(3);
  r.meta = s.column_text(4);
  r.metrics = s.column_text(5);
  r.reason = s.column_text(6);
  r.started = s.column_double(7);
  r.ended_null = s.column_null(8);
  r.ended = r.ended_null ? 0 : s.column_double(8);
  r.worker = s.column_text(9);
  try {
    return trial_from_row(r, space_, db_->path());
  } catch (const InputError& e) {
    throw_damaged(db_->path(), e.field() + ": " + e.problem());
  }
}

Trial trial_from_row(const SalvagedRow& r, const space::SearchSpace& space, const std::string& db) {
  const std::string where = fmt::format("trial {}", r.id);
  auto object = [&](const std::string& text, const char* column) {
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(text);
    } catch (const nlohmann::json::exception& e) {
      throw InputError(db, where, fmt::format("{} is not valid JSON ({})", column, e.what()));
    }
    if (!j.is_object()) throw InputError(db, where, fmt::format("{} is not a JSON object", column));
    return j;
  };
  Trial t;
  t.id = r.id;
  try {
    t.status = trial_status_from_string(r.status);
  } catch (const InternalError&) {
    throw InputError(db, where, "unknown status");
  }
  t.proposal.arch = space.from_json(object(r.arch, "arch"), db);
  try {
    t.proposal.fidelity = Fidelity::from_json(object(r.fidelity, "fidelity"));
  } catch (const nlohmann::json::exception&) {
    throw InputError(db, where, "fidelity holds a value of the wrong type");
  }
  try {  // the strategy's own notes: any JSON (null when a strategy left none)
    t.proposal.meta = nlohmann::json::parse(r.meta);
  } catch (const nlohmann::json::exception& e) {
    throw InputError(db, where, fmt::format("meta is not valid JSON ({})", e.what()));
  }
  const nlohmann::json metrics = object(r.metrics, "metrics");
  for (const auto& [key, value] : metrics.items())
    if (value.is_number()) t.metrics[key] = value.get<double>();
  t.reason = r.reason;
  t.started = r.started;
  t.ended = r.ended_null ? 0 : r.ended;
  t.worker = r.worker;
  return t;
}

nlohmann::json json_cell(const std::string& text, const std::string& db, const std::string& what) {
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw_damaged(db, fmt::format("{} is not valid JSON: {}", what, e.what()));
  }
}

static const char* kTrialColumns = "id, status, arch, fidelity, meta, metrics, reason, started, ended, worker";

std::vector<Trial> Store::trials() const {
  Statement s(*db_, fmt::format("SELECT {} FROM trial ORDER BY id", kTrialColumns));
  std::vector<Trial> out;
  while (s.step()) out.push_back(read_row(s));
  return out;
}

std::optional<Trial> Store::trial(int64_t id) const {
  Statement s(*db_, fmt::format("SELECT {} FROM trial WHERE id = ?", kTrialColumns));
  s.bind(1, id);
  if (!s.step()) return std::nullopt;
  return read_row(s);
}

std::optional<nlohmann::json> Store::strategy_state() const {
  Statement s(*db_, "SELECT state FROM strategy_state WHERE id = 1");
  if (!s.step()) return std::nullopt;
  return json_cell(s.column_text(0), db_->path(), "the strategy state");
}

std::optional<Trial> Store::first_row(const std::string& table_and_filter, const Arch& arch, const Fidelity& f) const {
  Statement s(*db_, fmt::format("SELECT {} FROM {} AND arch_hash = ? AND fidelity_key = ? ORDER BY id LIMIT 1",
                                kTrialColumns, table_and_filter));
  s.bind(1, space_.hash(arch)).bind(2, f.key());
  if (!s.step()) return std::nullopt;
  return read_row(s);
}

std::optional<Trial> Store::find_result(const Arch& arch, const Fidelity& f) const {
  return first_row("trial WHERE status = 'ok'", arch, f);
}

void Store::add_salvaged(const SalvagedRow& r) {
  Statement ins(*db_,
                "INSERT INTO salvaged_trial(id, status, arch, arch_hash, fidelity, fidelity_key, meta, metrics, "
                "reason, started, ended, worker) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  ins.bind(1, r.id)
      .bind(2, r.status)
      .bind(3, r.arch)
      .bind(4, r.arch_hash)
      .bind(5, r.fidelity)
      .bind(6, r.fidelity_key)
      .bind(7, r.meta)
      .bind(8, r.metrics)
      .bind(9, r.reason)
      .bind(10, r.started);
  if (r.ended_null)
    ins.bind_null(11);
  else
    ins.bind(11, r.ended);
  ins.bind(12, r.worker).run();
}

std::optional<Trial> Store::find_salvaged(const Arch& arch, const Fidelity& f) const {
  return first_row("salvaged_trial WHERE 1", arch, f);
}

int64_t Store::salvaged_count() const {
  Statement s(*db_, "SELECT count(*) FROM salvaged_trial");
  s.step();
  return s.column_int(0);
}

void Store::record_event(const std::string& kind, int64_t step, const nlohmann::json& data) {
  Statement(*db_,
            "INSERT INTO strategy_event(kind, step, data, time) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(kind, step) DO UPDATE SET data = excluded.data, time = excluded.time")
      .bind(1, kind)
      .bind(2, step)
      .bind(3, data.dump())
      .bind(4, now_s())
      .run();
}

std::vector<StoredEvent> Store::events(const std::string& kind) const {
  Statement s(*db_, kind.empty() ? "SELECT kind, step, data, time FROM strategy_event ORDER BY kind, step"
                                 : "SELECT kind, step, data, time FROM strategy_event WHERE kind = ? ORDER BY step");
  if (!kind.empty()) s.bind(1, kind);
  std::vector<StoredEvent> out;
  while (s.step())
    out.push_back({s.column_text(0), s.column_int(1), json_cell(s.column_text(2), db_->path(), "a strategy event"),
                   s.column_double(3)});
  return out;
}

}  // namespace nascent::store
