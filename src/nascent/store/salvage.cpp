#include "nascent/store/salvage.h"

#include <fmt/format.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>

#include "nascent/core/error.h"

namespace nascent::store {
namespace {
namespace fs = std::filesystem;

// A raw connection: no WAL or other pragmas, which would fail (or write) on a damaged file.
class RawDb {
 public:
  RawDb(const std::string& path, int flags) {
    if (sqlite3_open_v2(path.c_str(), &db_, flags, nullptr) != SQLITE_OK) {
      error_ = db_ ? sqlite3_errmsg(db_) : "cannot open";
      sqlite3_close(db_);
      db_ = nullptr;
    }
  }
  ~RawDb() {
    if (db_) sqlite3_close(db_);
  }
  RawDb(const RawDb&) = delete;
  RawDb& operator=(const RawDb&) = delete;
  bool ok() const { return db_ != nullptr; }
  const std::string& error() const { return error_; }

  // Runs sql with one optional integer parameter; calls row for each result row. Returns ""
  // or SQLite's message.
  template <typename F>
  std::string query(const std::string& sql, std::optional<int64_t> param, F&& row) {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &st, nullptr) != SQLITE_OK) {
      std::string e = sqlite3_errmsg(db_);
      sqlite3_finalize(st);
      return e;
    }
    if (param) sqlite3_bind_int64(st, 1, *param);
    std::string e;
    while (true) {
      const int rc = sqlite3_step(st);
      if (rc == SQLITE_ROW) {
        row(st);
        continue;
      }
      if (rc != SQLITE_DONE) e = sqlite3_errmsg(db_);
      break;
    }
    sqlite3_finalize(st);
    return e;
  }

 private:
  sqlite3* db_ = nullptr;
  std::string error_;
};

std::string text(sqlite3_stmt* st, int i) {
  const unsigned char* t = sqlite3_column_text(st, i);
  return t ? std::string(reinterpret_cast<const char*>(t), sqlite3_column_bytes(st, i)) : std::string();
}

bool is_json(const std::string& s) { return nlohmann::json::accept(s); }

bool valid_row(const SalvagedRow& r) {
  static const std::set<std::string> statuses = {"ok", "failed", "rejected", "pruned", "running"};
  return statuses.count(r.status) && is_json(r.arch) && is_json(r.fidelity) && is_json(r.meta) && is_json(r.metrics) &&
         !r.arch_hash.empty() && !r.fidelity_key.empty();
}

// A temporary folder removed with its contents when this goes out of scope.
class TempCopy {
 public:
  explicit TempCopy(const std::string& db_path) {
    std::string templ = (fs::temp_directory_path() / "nascent-salvage-XXXXXX").string();
    if (!mkdtemp(templ.data())) throw InputError(db_path, "", "cannot make a temporary folder to read a copy");
    dir_ = templ;
    path_ = (fs::path(dir_) / "experiment.db").string();
    std::error_code ec;
    fs::copy_file(db_path, path_, ec);
    if (ec) throw InputError(db_path, "", "cannot copy the database to read it: " + ec.message());
    if (fs::exists(db_path + "-wal")) fs::copy_file(db_path + "-wal", path_ + "-wal", ec);
  }
  ~TempCopy() {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string dir_, path_;
};

constexpr const char* kColumns =
    "id, status, arch, arch_hash, fidelity, fidelity_key, meta, metrics, reason, started, ended, worker";

SalvagedRow read_row(sqlite3_stmt* st) {
  SalvagedRow r;
  r.id = sqlite3_column_int64(st, 0);
  r.status = text(st, 1);
  r.arch = text(st, 2);
  r.arch_hash = text(st, 3);
  r.fidelity = text(st, 4);
  r.fidelity_key = text(st, 5);
  r.meta = text(st, 6);
  r.metrics = text(st, 7);
  r.reason = text(st, 8);
  r.started = sqlite3_column_double(st, 9);
  r.ended_null = sqlite3_column_type(st, 10) == SQLITE_NULL;
  r.ended = r.ended_null ? 0 : sqlite3_column_double(st, 10);
  r.worker = text(st, 11);
  return r;
}

// The first informative line of quick_check's answer, short enough for one error line.
std::string first_line(std::string s) {
  const std::string header = "*** in database main ***\n";
  if (s.rfind(header, 0) == 0) s = s.substr(header.size());
  s = s.substr(0, s.find('\n'));
  if (s.size() > 120) s = s.substr(0, 117) + "...";
  return s;
}

}  // namespace

Salvage salvage_database(const std::string& db_path) {
  Salvage out;
  if (fs::exists(db_path) && fs::file_size(db_path) == 0) {
    out.problem = "the file is empty";
    return out;
  }
  const TempCopy copy(db_path);
  RawDb db(copy.path(), SQLITE_OPEN_READWRITE);
  if (!db.ok()) {
    out.problem = db.error();
    return out;
  }
  out.problem = integrity_problem(copy.path());
  // A truncated file is shorter than its header says; SQLite then refuses even the pages that
  // are still there unless the schema is writable. This is a private copy, so that is safe.
  db.query("PRAGMA writable_schema = ON", std::nullopt, [](sqlite3_stmt*) {});

  db.query("SELECT config, seed, versions, created FROM experiment WHERE id = 1", std::nullopt, [&](sqlite3_stmt* st) {
    out.config = text(st, 0);
    out.seed = sqlite3_column_int64(st, 1);
    out.versions = text(st, 2);
    out.created = text(st, 3);
    out.has_experiment = is_json(out.config);
  });

  // The highest trial id anything still knows of: the table's own maximum, a scan that may stop
  // at the first bad page, and the strategy state (written with every trial).
  int64_t known = 0;
  auto note = [&](sqlite3_stmt* st) { known = std::max<int64_t>(known, sqlite3_column_int64(st, 0)); };
  db.query("SELECT max(id) FROM trial", std::nullopt, note);
  db.query("SELECT id FROM trial ORDER BY id", std::nullopt, note);
  db.query("SELECT after_trial FROM strategy_state WHERE id = 1", std::nullopt, note);

  // Row by row, by rowid: a bad page costs the rows on it, and rows past the last known id are
  // still found while the tree leads to them.
  const std::string one = fmt::format("SELECT {} FROM trial WHERE id = ?", kColumns);
  int64_t misses = 0;
  std::vector<int64_t> unread;
  for (int64_t id = 1; id <= known || misses < 256; ++id) {
    std::optional<SalvagedRow> row;
    const std::string e = db.query(one, id, [&](sqlite3_stmt* st) { row = read_row(st); });
    if (row && e.empty() && valid_row(*row)) {
      misses = 0;
      known = std::max(known, id);
      if (row->status == "running")
        ++out.running;
      else
        out.completed.push_back(std::move(*row));
    } else {
      unread.push_back(id);
      if (id > known) ++misses;
    }
  }
  for (int64_t id : unread)
    if (id <= known) out.lost.push_back(id);
  return out;
}

std::string integrity_problem(const std::string& db_path) {
  if (fs::exists(db_path) && fs::file_size(db_path) == 0) return "the file is empty";
  RawDb db(db_path, SQLITE_OPEN_READONLY);
  if (!db.ok()) return db.error();
  std::string first;
  const std::string e = db.query("PRAGMA quick_check", std::nullopt, [&](sqlite3_stmt* st) {
    if (first.empty()) first = text(st, 0);
  });
  if (!e.empty()) return e;
  return first == "ok" ? "" : first_line(first);
}

void throw_damaged(const std::string& db_path, const std::string& problem) {
  const Salvage s = salvage_database(db_path);
  const std::string dir = fs::path(db_path).parent_path().empty() ? "." : fs::path(db_path).parent_path().string();
  const std::string lost = s.lost.empty() ? "" : fmt::format(", {} cannot", s.lost.size());
  if (!s.has_experiment)
    throw InputError(db_path, "",
                     fmt::format("the database is damaged ({}) and its experiment (config and seed) cannot be read; "
                                 "{} completed trials are readable but cannot be resumed without it: start again "
                                 "with `nascent search --config FILE`",
                                 problem, s.completed.size()));
  throw InputError(db_path, "",
                   fmt::format("the database is damaged ({}); {} completed trial{} can still be read{}: save them "
                               "with `nascent recover --run {} --out NEW_DIR`, then continue with `nascent search "
                               "--out NEW_DIR --resume` (this file is left as it is)",
                               problem, s.completed.size(), s.completed.size() == 1 ? "" : "s", lost, dir));
}

}  // namespace nascent::store
