// Reading what can still be read from a damaged experiment database (overwritten pages, a
// truncated file, a lost WAL). The damaged file is never modified: the reader works on a copy
// of the database and its WAL in a temporary folder, opens it without nascent's pragmas, and
// reads the trial table one row at a time, so that one bad page costs only the rows on it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace nascent::store {

// One trial row as stored, the columns kept as text so nothing is lost in parsing.
struct SalvagedRow {
  int64_t id = 0;
  std::string status, arch, arch_hash, fidelity, fidelity_key, meta, metrics, reason, worker;
  double started = 0, ended = 0;
  bool ended_null = true;
};

struct Salvage {
  std::string problem;          // what SQLite said was wrong ("" when the file read cleanly)
  bool has_experiment = false;  // the experiment row (config, seed) was readable
  std::string config, versions, created;
  int64_t seed = 0;
  std::vector<SalvagedRow> completed;  // readable trials that had ended (any status but running)
  std::vector<int64_t> lost;           // trial ids up to the highest known that could not be read
  int64_t running = 0;                 // readable trials that were still running
};

// Reads db_path (and its -wal) through a copy. Never throws for damage; InputError only when the
// file cannot be copied.
Salvage salvage_database(const std::string& db_path);

// An integrity problem of the database ("" when PRAGMA quick_check says ok). Used on open, so a
// damaged file is reported once, clearly, before a search writes to it.
std::string integrity_problem(const std::string& db_path);

// The one-line error for a damaged database: what is wrong, how many completed trials can still
// be read, and the command that saves them. Thrown as InputError (exit 2).
[[noreturn]] void throw_damaged(const std::string& db_path, const std::string& problem);

}  // namespace nascent::store
