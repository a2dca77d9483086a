#include "nascent/store/sqlite.h"

#include <fmt/format.h>
#include <sqlite3.h>
#include <sys/resource.h>
#include <sys/statvfs.h>

#include <algorithm>
#include <cstring>

#include "nascent/core/error.h"

namespace nascent::store {

Database::Database(const std::string& path, Access access) : path_(path) {
  const int flags = access == Access::kReadOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
  if (sqlite3_open_v2(path.c_str(), &db_, flags, nullptr) != SQLITE_OK) {
    std::string msg = db_ ? sqlite3_errmsg(db_) : "cannot open";
    sqlite3_close(db_);
    db_ = nullptr;
    throw InputError(path, "", "cannot open database: " + msg);
  }
  sqlite3_busy_timeout(db_, 10000);
  if (access == Access::kReadOnly) return;
  exec("PRAGMA journal_mode=WAL");
  // FULL: a committed trial survives a crash of the process and of the machine.
  exec("PRAGMA synchronous=FULL");
  exec("PRAGMA foreign_keys=ON");
}

Database::~Database() {
  if (db_) sqlite3_close(db_);
}

namespace {
// Why a write to `path` may have failed when the system's error number is gone (SQLite reports a
// full disk as SQLITE_FULL and keeps no errno): the free space of its file system, or a file size
// limit on this process.
std::string write_trouble(const std::string& path) {
  const auto slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : path.substr(0, std::max<size_t>(slash, 1));
  struct statvfs fs {};
  if (statvfs(dir.c_str(), &fs) == 0) {
    const double free_bytes = static_cast<double>(fs.f_bavail) * static_cast<double>(fs.f_frsize);
    if (free_bytes < 1024.0 * 1024.0)
      return fmt::format("no space left on the device: {:.0f} KiB free", free_bytes / 1024);
  }
  struct rlimit lim {};
  if (getrlimit(RLIMIT_FSIZE, &lim) == 0 && lim.rlim_cur != RLIM_INFINITY)
    return fmt::format("the file size limit of this process (ulimit -f) is {} bytes", lim.rlim_cur);
  return "";
}

// SQLite's message, with the reason when a read or write of the file failed
// ("disk I/O error (File too large)", "database or disk is full (no space left on the device: 0 KiB free)").
std::string sqlite_message(sqlite3* db, const std::string& path, const char* text = nullptr) {
  if (!db) return "no connection";
  std::string msg = text ? text : sqlite3_errmsg(db);
  const int code = sqlite3_extended_errcode(db) & 0xff;
  if (code != SQLITE_IOERR && code != SQLITE_FULL && code != SQLITE_CANTOPEN && code != SQLITE_READONLY) return msg;
  const int os = sqlite3_system_errno(db);
  const std::string why = os != 0 ? std::string(std::strerror(os)) : write_trouble(path);
  if (!why.empty()) msg += " (" + why + ")";
  return msg;
}
}  // namespace

void Database::fail(const std::string& what) const {
  throw InternalError(path_ + ": " + what + ": " + sqlite_message(db_, path_));
}

void Database::exec(const std::string& sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    const std::string msg = sqlite_message(db_, path_, err ? err : "unknown error");
    sqlite3_free(err);
    throw InternalError(path_ + ": " + msg + " in: " + sql.substr(0, 80));
  }
}

int64_t Database::last_insert_id() const { return sqlite3_last_insert_rowid(db_); }
int Database::changes() const { return sqlite3_changes(db_); }

Statement::Statement(Database& db, const std::string& sql) : db_(db) {
  if (sqlite3_prepare_v2(db.handle(), sql.c_str(), -1, &stmt_, nullptr) != SQLITE_OK)
    db.fail("cannot prepare '" + sql.substr(0, 80) + "'");
}

Statement::~Statement() { sqlite3_finalize(stmt_); }

Statement& Statement::bind(int i, int64_t v) {
  if (sqlite3_bind_int64(stmt_, i, v) != SQLITE_OK) db_.fail("bind");
  return *this;
}
Statement& Statement::bind(int i, double v) {
  if (sqlite3_bind_double(stmt_, i, v) != SQLITE_OK) db_.fail("bind");
  return *this;
}
Statement& Statement::bind(int i, const std::string& v) {
  if (sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT) != SQLITE_OK)
    db_.fail("bind");
  return *this;
}
Statement& Statement::bind_null(int i) {
  if (sqlite3_bind_null(stmt_, i) != SQLITE_OK) db_.fail("bind");
  return *this;
}

bool Statement::step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  db_.fail("step");
}

void Statement::run() {
  while (step()) {
  }
  reset();
}

void Statement::reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

int64_t Statement::column_int(int i) const { return sqlite3_column_int64(stmt_, i); }
double Statement::column_double(int i) const { return sqlite3_column_double(stmt_, i); }
std::string Statement::column_text(int i) const {
  const unsigned char* t = sqlite3_column_text(stmt_, i);
  return t ? std::string(reinterpret_cast<const char*>(t), sqlite3_column_bytes(stmt_, i)) : std::string();
}
bool Statement::column_null(int i) const { return sqlite3_column_type(stmt_, i) == SQLITE_NULL; }

Transaction::Transaction(Database& db) : db_(db), outer_(db.transaction_depth_ == 0) {
  if (outer_) {
    db_.exec("BEGIN IMMEDIATE");
    db_.rollback_only_ = false;
  }
  ++db_.transaction_depth_;
}

Transaction::~Transaction() {
  if (done_) return;
  --db_.transaction_depth_;
  if (!outer_) {
    db_.rollback_only_ = true;
    return;
  }
  try {
    db_.exec("ROLLBACK");
  } catch (...) {
  }
}

void Transaction::commit() {
  NASCENT_CHECK(!done_, "a transaction committed twice");
  if (!outer_) {
    done_ = true;
    --db_.transaction_depth_;
    return;
  }
  // On a throw the destructor rolls back.
  if (db_.rollback_only_)
    throw InternalError(db_.path() + ": a write grouped in this transaction failed; the group is rolled back");
  db_.exec("COMMIT");
  done_ = true;
  --db_.transaction_depth_;
}

}  // namespace nascent::store
