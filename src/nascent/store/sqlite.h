// A thin RAII layer over the SQLite C API: a connection, prepared statements with typed binds,
// and transactions. Errors throw with SQLite's message and the database path.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

struct sqlite3;
struct sqlite3_stmt;

namespace nascent::store {

// kReadOnly: for readers beside a running search (the dashboard): never writes the file, sets no
// journal mode; WAL lets it read while the search writes.
enum class Access { kReadWrite, kReadOnly };

class Database {
 public:
  // Opens or creates (kReadWrite: WAL, synchronous FULL, foreign keys) or opens an existing file
  // read-only; busy timeout either way.
  explicit Database(const std::string& path, Access access = Access::kReadWrite);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  void exec(const std::string& sql);
  int64_t last_insert_id() const;
  int changes() const;  // rows changed by the last statement
  sqlite3* handle() const { return db_; }
  const std::string& path() const { return path_; }
  [[noreturn]] void fail(const std::string& what) const;

 private:
  friend class Transaction;
  std::string path_;
  sqlite3* db_ = nullptr;
  int transaction_depth_ = 0;   // open Transactions (nested ones join the outermost)
  bool rollback_only_ = false;  // a nested Transaction ended without commit
};

class Statement {
 public:
  Statement(Database& db, const std::string& sql);
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& bind(int i, int64_t v);
  Statement& bind(int i, double v);
  Statement& bind(int i, const std::string& v);
  Statement& bind_null(int i);
  // Steps once: true if a row is available.
  bool step();
  // Runs to completion (for statements without results).
  void run();
  void reset();

  int64_t column_int(int i) const;
  double column_double(int i) const;
  std::string column_text(int i) const;
  bool column_null(int i) const;

 private:
  Database& db_;
  sqlite3_stmt* stmt_ = nullptr;
};

// BEGIN IMMEDIATE ... COMMIT; rolls back if destroyed without commit(). A Transaction opened
// while another is open on the same connection joins it: its commit() waits for the outer one's
// (one COMMIT, one fsync for a group of writes), and if it ends without commit() the outer one
// rolls everything back and its commit() throws.
class Transaction {
 public:
  explicit Transaction(Database& db);
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  void commit();

 private:
  Database& db_;
  bool outer_ = false;
  bool done_ = false;
};

}  // namespace nascent::store
