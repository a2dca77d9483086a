#include "nascent/data/file_bytes.h"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>

#include "nascent/core/error.h"

namespace nascent::data {

GzFile::GzFile(const std::string& path) : path_(path), f_(gzopen(path.c_str(), "rb")) {}

GzFile::~GzFile() {
  if (f_) gzclose(f_);
}

size_t GzFile::read(void* dst, size_t n) {
  size_t total = 0;
  auto* p = static_cast<char*>(dst);
  while (total < n) {
    const unsigned chunk = static_cast<unsigned>(std::min<size_t>(n - total, 1u << 30));
    const int got = gzread(f_, p + total, chunk);
    if (got < 0) {
      int errnum = 0;
      const char* msg = gzerror(f_, &errnum);
      throw InputError(path_, "", fmt::format("corrupt or unreadable data ({})", msg ? msg : "gzip error"));
    }
    if (got == 0) break;
    total += static_cast<size_t>(got);
  }
  return total;
}

std::string read_file_bytes(const std::string& path, const std::string& what) {
  {
    std::ifstream probe(path, std::ios::binary);
    if (!probe) throw InputError(path, "", fmt::format("cannot open {} ({})", what, std::strerror(errno)));
  }
  GzFile f(path);
  if (!f.ok()) throw InputError(path, "", "cannot open " + what);
  std::string out;
  char buf[1 << 16];
  while (const size_t got = f.read(buf, sizeof buf)) out.append(buf, got);
  return out;
}

}  // namespace nascent::data
