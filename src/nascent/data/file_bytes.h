// Reading data files whole, gzip-compressed or plain (zlib's gzread reads both). Shared by the
// IDX, CSV and text readers so that every one of them accepts `.gz` files the same way.
#pragma once

#include <zlib.h>

#include <cstddef>
#include <string>

namespace nascent::data {

// A gzip or plain file open for reading; errors name the file.
class GzFile {
 public:
  explicit GzFile(const std::string& path);
  ~GzFile();
  GzFile(const GzFile&) = delete;
  GzFile& operator=(const GzFile&) = delete;
  bool ok() const { return f_ != nullptr; }
  // Reads up to n bytes; returns how many were read. Throws InputError on a corrupt stream.
  size_t read(void* dst, size_t n);

 private:
  std::string path_;
  gzFile f_;
};

// The whole (decompressed) content of a file. `what` names the kind of file in the error for a
// missing one ("cannot open CSV file (No such file or directory)").
std::string read_file_bytes(const std::string& path, const std::string& what);

}  // namespace nascent::data
