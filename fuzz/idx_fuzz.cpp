// IDX files (task.dataset: idx, Fashion-MNIST's format), plain or gzip-compressed, read as images
// (rank 3) and as labels (rank 1).
#include "fuzz/fuzz_support.h"
#include "nascent/data/idx.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = nascent::fuzz::write_input("data.idx", data, size);
  for (int rank : {-1, 1, 3})
    nascent::fuzz::expect_only_input_errors([&] {
      const nascent::data::IdxArray a = nascent::data::read_idx(path, rank);
      size_t n = 1;
      for (int64_t d : a.dims) n *= static_cast<size_t>(d);
      if (n != a.bytes.size()) std::abort();
    });
  return 0;
}
