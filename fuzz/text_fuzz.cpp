// Text files (task.dataset: text): UTF-8 decoding, then a character-level language-modelling or
// classification (`label<TAB>text`) task. The first byte picks the mode and the sequence length.
#include "fuzz/fuzz_support.h"
#include "nascent/data/text.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  nascent::data::TaskOptions o;
  o.dataset = "text";
  o.path = nascent::fuzz::write_input("corpus.txt", data + 1, size - 1);
  o.mode = (data[0] & 1) ? "classify" : "lm";
  o.seq_len = 1 + (data[0] >> 1) % 32;
  o.test_fraction = 0.2;
  o.val_fraction = 0.2;
  nascent::fuzz::expect_only_input_errors([&] { (void)nascent::data::load_text_task(o); });
  return 0;
}
