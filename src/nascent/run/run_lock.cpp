#include "nascent/run/run_lock.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "nascent/core/error.h"

namespace nascent::run {

namespace {

std::string read_all(int fd) {
  std::string s;
  char buf[256];
  if (lseek(fd, 0, SEEK_SET) < 0) return s;
  for (ssize_t n; (n = read(fd, buf, sizeof buf)) > 0;) s.append(buf, static_cast<size_t>(n));
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

}  // namespace

RunLock::RunLock(const std::string& dir, const std::string& field) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw InputError(dir, field, "cannot create directory: " + ec.message());
  const std::string path = dir + "/lock";
  // O_CLOEXEC: worker processes started by the search do not inherit (and so cannot outlive
  // the search holding) the lock.
  fd_ = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) throw InputError(path, field, std::string("cannot open the run's lock file: ") + std::strerror(errno));
  if (flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    const std::string holder = read_all(fd_);
    close(fd_);
    fd_ = -1;
    if (err == EWOULDBLOCK)
      throw InputError(dir, field,
                       fmt::format("the run directory is in use by another nascent process ({}); wait for it to end "
                                   "or stop it, then --resume",
                                   holder.empty() ? "holder unknown" : holder));
    throw InputError(path, field, std::string("cannot lock the run directory: ") + std::strerror(err));
  }
  char host[256] = {0};
  gethostname(host, sizeof host - 1);
  const std::string me = fmt::format("PID {} on host {}\n", getpid(), host);
  if (ftruncate(fd_, 0) == 0 && lseek(fd_, 0, SEEK_SET) == 0) {
    [[maybe_unused]] const ssize_t n = write(fd_, me.data(), me.size());
  }
}

RunLock::~RunLock() {
  if (fd_ >= 0) close(fd_);  // releases the flock
}

}  // namespace nascent::run
