// IDX files (the MNIST family's format), gzip-compressed or plain. Unsigned-byte arrays only,
// which is what image and label files use. Every check failure names the file and what is wrong.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace nascent::data {

struct IdxArray {
  std::vector<int64_t> dims;   // e.g. [60000, 28, 28] for images, [60000] for labels
  std::vector<uint8_t> bytes;  // row-major, product(dims) values
};

// Reads a .gz or plain IDX file. expected_rank < 0 accepts any rank.
// Throws InputError on a missing file, wrong magic, unsupported type, wrong rank, truncated data
// or trailing bytes.
IdxArray read_idx(const std::string& path, int expected_rank = -1);

// Writes a plain (uncompressed) IDX file of unsigned bytes; for tests and tools.
void write_idx(const std::string& path, const IdxArray& array);

}  // namespace nascent::data
