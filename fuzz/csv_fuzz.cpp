// CSV tables (task.dataset: csv) loaded as a task: parsed, split, encoded and standardised. The
// first byte picks the options: delimiter, header, missing-value rule, categorical rule.
#include "fuzz/fuzz_support.h"
#include "nascent/data/csv.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint8_t flags = data[0];
  nascent::data::TaskOptions o;
  o.dataset = "csv";
  o.path = nascent::fuzz::write_input("table.csv", data + 1, size - 1);
  o.delimiter = (flags & 3) == 0 ? "," : (flags & 3) == 1 ? ";" : (flags & 3) == 2 ? "\t" : "|";
  o.header = (flags & 4) == 0;
  o.missing = (flags & 24) == 0 ? "error" : (flags & 24) == 8 ? "drop" : "fill";
  o.categorical = (flags & 32) == 0 ? "auto" : "none";
  o.skip_rows = (flags & 64) ? 1 : 0;
  o.test_fraction = 0.2;
  o.val_fraction = 0.2;
  nascent::fuzz::expect_only_input_errors([&] { (void)nascent::data::load_csv_task(o); });
  return 0;
}
