#include "nascent/data/idx.h"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <zlib.h>

#include "nascent/core/error.h"
#include "support/support.h"

namespace nascent::data {
namespace {

using nascent::test::TempDir;

IdxArray small_images() {
  IdxArray a;
  a.dims = {3, 2, 2};
  for (int i = 0; i < 12; ++i) a.bytes.push_back(static_cast<uint8_t>(i * 10));
  return a;
}

std::string error_of(const std::string& path, int rank = -1) {
  try {
    read_idx(path, rank);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

void gzip_file(const std::string& src, const std::string& dst) {
  const std::string data = nascent::test::read_file(src);
  gzFile g = gzopen(dst.c_str(), "wb");
  gzwrite(g, data.data(), static_cast<unsigned>(data.size()));
  gzclose(g);
}

TEST(Idx, ReadsPlainAndGzip) {
  TempDir dir;
  write_idx(dir.file("a.idx"), small_images());
  gzip_file(dir.file("a.idx"), dir.file("a.idx.gz"));
  for (const auto& name : {"a.idx", "a.idx.gz"}) {
    IdxArray r = read_idx(dir.file(name), 3);
    EXPECT_EQ(r.dims, (std::vector<int64_t>{3, 2, 2}));
    EXPECT_EQ(r.bytes, small_images().bytes);
  }
}

TEST(Idx, TruncatedFileNamesFileAndSizes) {
  TempDir dir;
  write_idx(dir.file("a.idx"), small_images());
  std::string data = nascent::test::read_file(dir.file("a.idx"));
  nascent::test::write_file(dir.file("short.idx"), data.substr(0, data.size() - 5));
  EXPECT_EQ(error_of(dir.file("short.idx")),
            dir.file("short.idx") + ": data: truncated: expected 12 bytes of data for dims 3x2x2, found 7");
  nascent::test::write_file(dir.file("header.idx"), data.substr(0, 6));
  EXPECT_EQ(error_of(dir.file("header.idx")),
            dir.file("header.idx") + ": header: truncated: file ends inside the dimension sizes");
  // A truncated gzip stream is caught too.
  gzip_file(dir.file("a.idx"), dir.file("a.idx.gz"));
  std::string gz = nascent::test::read_file(dir.file("a.idx.gz"));
  nascent::test::write_file(dir.file("cut.idx.gz"), gz.substr(0, gz.size() - 12));
  EXPECT_NE(error_of(dir.file("cut.idx.gz")).find(dir.file("cut.idx.gz")), std::string::npos);
  EXPECT_NE(error_of(dir.file("cut.idx.gz")), "");
}

// Found by bench/fuzz.sh (idx): a header claiming 2.4 billion bytes of a 40-byte file made the
// reader allocate and zero-fill them all (3 GB, 14 s) before finding the file truncated.
TEST(Idx, AHeaderClaimingGigabytesOfASmallFileIsTruncatedWithoutAllocatingThem) {
  TempDir dir;
  std::string data("\x00\x00\x08\x01\x8d\x8d\x8d\x8d", 8);
  data += std::string(32, '\x8d');
  nascent::test::write_file(dir.file("big.idx"), data);
  rusage before{};
  getrusage(RUSAGE_SELF, &before);
  EXPECT_EQ(error_of(dir.file("big.idx")),
            dir.file("big.idx") + ": data: truncated: expected 2374864269 bytes of data for dims 2374864269, found 32");
  rusage after{};
  getrusage(RUSAGE_SELF, &after);
  // Peak resident memory (KiB) grew by less than 200 MB, not by the 2.4 GB the header claims.
  EXPECT_LT(after.ru_maxrss - before.ru_maxrss, 200 * 1024);
}

TEST(Idx, WrongMagicAndTypeAndRank) {
  TempDir dir;
  nascent::test::write_file(dir.file("png.idx"), std::string("\x89PNG\r\n\x1a\n", 8));
  EXPECT_EQ(
      error_of(dir.file("png.idx")),
      dir.file("png.idx") +
          ": header: wrong magic number 89504e47; not an IDX file (expected 0000 then type and rank, e.g. 00000803)");
  nascent::test::write_file(dir.file("float.idx"), std::string("\x00\x00\x0d\x01\x00\x00\x00\x01\x00\x00\x00\x00", 12));
  EXPECT_EQ(error_of(dir.file("float.idx")),
            dir.file("float.idx") + ": header: unsupported IDX element type 0x0d; expected 0x08 (unsigned byte)");
  write_idx(dir.file("a.idx"), small_images());
  EXPECT_EQ(error_of(dir.file("a.idx"), 1), dir.file("a.idx") + ": header: rank is 3, expected 1 (magic 00000801)");
}

TEST(Idx, TrailingBytesAndMissingFile) {
  TempDir dir;
  write_idx(dir.file("a.idx"), small_images());
  nascent::test::write_file(dir.file("long.idx"), nascent::test::read_file(dir.file("a.idx")) + "xx");
  EXPECT_EQ(error_of(dir.file("long.idx")), dir.file("long.idx") + ": data: unexpected bytes after the 12 data bytes");
  EXPECT_EQ(error_of(dir.file("none.idx")),
            dir.file("none.idx") + ": cannot open IDX file (No such file or directory)");
}

}  // namespace
}  // namespace nascent::data
