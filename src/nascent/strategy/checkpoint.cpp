#include "nascent/strategy/checkpoint.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <sstream>
#include <stdexcept>

#include "nascent/core/error.h"

namespace nascent::strategy {
namespace fs = std::filesystem;

void save_archive_atomic(torch::serialize::OutputArchive& archive, const std::string& path) {
  std::ostringstream bytes;
  archive.save_to(bytes);
  const std::string data = bytes.str();
  std::error_code ec;
  fs::create_directories(fs::path(path).parent_path(), ec);
  if (ec) throw InputError(path, "", "cannot create the checkpoint directory: " + ec.message());
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) throw std::runtime_error(fmt::format("{}: cannot write checkpoint: {}", tmp, std::strerror(errno)));
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ::close(fd);
      throw std::runtime_error(fmt::format("{}: cannot write checkpoint: {}", tmp, std::strerror(errno)));
    }
    done += static_cast<size_t>(n);
  }
  // On disk before the rename makes it the checkpoint (a power cut must not leave an empty file).
  if (::fsync(fd) != 0 || ::close(fd) != 0)
    throw std::runtime_error(fmt::format("{}: cannot write checkpoint: {}", tmp, std::strerror(errno)));
  if (std::rename(tmp.c_str(), path.c_str()) != 0)
    throw std::runtime_error(fmt::format("{}: cannot replace checkpoint: {}", path, std::strerror(errno)));
}

bool load_archive(torch::serialize::InputArchive& archive, const std::string& path) {
  if (!fs::exists(path)) return false;
  try {
    archive.load_from(path);
  } catch (const c10::Error& e) {
    throw InternalError(fmt::format("{}: not a readable checkpoint: {}", path, e.what_without_backtrace()));
  }
  return true;
}

void write_json(torch::serialize::OutputArchive& archive, const std::string& key, const nlohmann::json& value) {
  archive.write(key, c10::IValue(value.dump()));
}

nlohmann::json read_json(torch::serialize::InputArchive& archive, const std::string& key) {
  c10::IValue v;
  archive.read(key, v);
  NASCENT_CHECK(v.isString(), "checkpoint: " + key + " is not a string");
  return nlohmann::json::parse(v.toStringRef());
}

}  // namespace nascent::strategy
