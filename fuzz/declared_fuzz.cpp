// The `declared` space's YAML (space.declared in a config): layers, choice lists, residual and
// repeated blocks. Accepted spaces are sampled, mutated and round-tripped through JSON as a
// search does.
#include <string>

#include "fuzz/fuzz_support.h"
#include "nascent/core/config.h"
#include "nascent/core/rng.h"
#include "nascent/space/registry.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = nascent::fuzz::write_input("declared.yaml", data, size);
  nascent::fuzz::expect_only_input_errors([&] {
    const nlohmann::json options = nascent::load_config_file(path);
    nascent::ConfigSection section(options, "space.declared", path);
    const auto space = nascent::space::make_space("declared", section);
    nascent::Rng rng(7);
    for (int i = 0; i < 3; ++i) {
      const nascent::Arch a = space->sample(rng);
      if (space->from_json(space->to_json(a), "round trip") != a) std::abort();
      (void)space->describe(a);
      if (nascent::fuzz::can_mutate(*space)) (void)space->mutate(a, rng);
    }
  });
  return 0;
}
