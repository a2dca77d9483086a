// One owner per run directory: an exclusive flock(2) on DIR/lock for as long as the owning
// process lives. The kernel releases it when the process ends in any way (kill -9 included), so
// a lock never goes stale; a second writer fails at once with the holder's PID and host, which
// the owner writes into the file. Readers (report, trials.csv) never take it.
#pragma once

#include <string>

namespace nascent::run {

class RunLock {
 public:
  // Creates dir if needed and takes its lock; throws InputError(dir, field, ...) naming the
  // holder when another process has it. `field` is the flag that named the directory (--out, --run).
  RunLock(const std::string& dir, const std::string& field);
  ~RunLock();
  RunLock(const RunLock&) = delete;
  RunLock& operator=(const RunLock&) = delete;

 private:
  int fd_ = -1;
};

}  // namespace nascent::run
