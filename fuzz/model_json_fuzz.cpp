// model.json, the description beside an exported model that `nascent predict` reads; a table
// model's columns are then used to encode a small CSV file as predict does.
#include "fuzz/fuzz_support.h"
#include "nascent/data/csv.h"
#include "nascent/export/model_description.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  nascent::fuzz::expect_only_input_errors([&] {
    const auto d = nascent::exporting::parse_model_description(text, "model.json");
    if (d.image && (d.channels < 1 || d.channels > 4 || d.side < 1 || d.side > nascent::exporting::kMaxImageSide))
      std::abort();
    if (d.table) {
      const nascent::data::CsvTable t = nascent::data::parse_csv("a,b,y\n1,x,0\n,z,1\n", "rows.csv", ',', true, 0);
      int64_t width = 0;
      const std::vector<float> x = nascent::data::encode_table(t, d.columns, "rows.csv", width);
      if (x.size() != t.rows.size() * static_cast<size_t>(width)) std::abort();
    }
  });
  return 0;
}
