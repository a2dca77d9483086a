#include "nascent/data/idx.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>

#include "nascent/core/error.h"
#include "nascent/data/file_bytes.h"

namespace nascent::data {
IdxArray read_idx(const std::string& path, int expected_rank) {
  {
    std::ifstream probe(path, std::ios::binary);
    if (!probe) throw InputError(path, "", fmt::format("cannot open IDX file ({})", std::strerror(errno)));
  }
  GzFile f(path);
  if (!f.ok()) throw InputError(path, "", "cannot open IDX file");
  unsigned char magic[4];
  if (f.read(magic, 4) != 4) throw InputError(path, "header", "truncated: file ends inside the 4-byte magic number");
  if (magic[0] != 0 || magic[1] != 0)
    throw InputError(path, "header",
                     fmt::format("wrong magic number {:02x}{:02x}{:02x}{:02x}; not an IDX file "
                                 "(expected 0000 then type and rank, e.g. 00000803)",
                                 magic[0], magic[1], magic[2], magic[3]));
  if (magic[2] != 0x08)
    throw InputError(path, "header",
                     fmt::format("unsupported IDX element type 0x{:02x}; expected 0x08 (unsigned byte)", magic[2]));
  const int rank = magic[3];
  if (rank < 1 || rank > 4) throw InputError(path, "header", fmt::format("unsupported rank {}; expected 1 to 4", rank));
  if (expected_rank >= 0 && rank != expected_rank)
    throw InputError(path, "header",
                     fmt::format("rank is {}, expected {} (magic 000008{:02x})", rank, expected_rank, expected_rank));
  IdxArray out;
  int64_t total = 1;
  for (int i = 0; i < rank; ++i) {
    unsigned char b[4];
    if (f.read(b, 4) != 4) throw InputError(path, "header", "truncated: file ends inside the dimension sizes");
    const int64_t d = (int64_t(b[0]) << 24) | (int64_t(b[1]) << 16) | (int64_t(b[2]) << 8) | b[3];
    if (d <= 0) throw InputError(path, "header", fmt::format("dimension {} is {}; expected > 0", i, d));
    out.dims.push_back(d);
    // Checked before multiplying: two 32-bit dimensions can overflow int64_t.
    if (d > (int64_t(1) << 34) / total) throw InputError(path, "header", "array too large");
    total *= d;
  }
  // Read in chunks, the buffer growing only as data arrives: a damaged header that claims
  // gigabytes of a small file costs no more memory (or time zero-filling it) than the file.
  constexpr size_t kChunk = size_t(1) << 22;
  out.bytes.reserve(static_cast<size_t>(std::min<int64_t>(total, int64_t(64) << 20)));
  size_t got = 0;
  while (got < static_cast<size_t>(total)) {
    const size_t want = std::min(kChunk, static_cast<size_t>(total) - got);
    out.bytes.resize(got + want);
    const size_t n = f.read(out.bytes.data() + got, want);
    got += n;
    if (n < want) break;
  }
  if (got != static_cast<size_t>(total))
    throw InputError(path, "data",
                     fmt::format("truncated: expected {} bytes of data for dims {}, found {}", total,
                                 fmt::join(out.dims, "x"), got));
  unsigned char extra;
  if (f.read(&extra, 1) != 0)
    throw InputError(path, "data", fmt::format("unexpected bytes after the {} data bytes", total));
  return out;
}

void write_idx(const std::string& path, const IdxArray& a) {
  std::ofstream out(path, std::ios::binary);
  NASCENT_CHECK(out.good(), "cannot write " + path);
  const unsigned char magic[4] = {0, 0, 0x08, static_cast<unsigned char>(a.dims.size())};
  out.write(reinterpret_cast<const char*>(magic), 4);
  for (int64_t d : a.dims) {
    const unsigned char b[4] = {static_cast<unsigned char>(d >> 24), static_cast<unsigned char>(d >> 16),
                                static_cast<unsigned char>(d >> 8), static_cast<unsigned char>(d)};
    out.write(reinterpret_cast<const char*>(b), 4);
  }
  out.write(reinterpret_cast<const char*>(a.bytes.data()), static_cast<std::streamsize>(a.bytes.size()));
}

}  // namespace nascent::data
