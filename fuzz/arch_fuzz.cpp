// Architecture files as `nascent train --arch F` and `nascent export --arch F` read them
// ({"space", "choices", "space_options", "task"}), and the text forms of the nb201 and darts
// spaces (NAS-Bench-201 strings, DARTS genotypes). The first byte picks which: 0 a JSON file,
// 1 an nb201 string, 2 a darts genotype.
#include <string>

#include "cli/commands.h"
#include "fuzz/fuzz_support.h"
#include "nascent/core/rng.h"
#include "nascent/space/registry.h"

namespace {

// What the commands do with an architecture they accepted. Files written from it must read back
// as the same architecture (canonical forms compared, as the store's hashes do).
void use(const nascent::space::SearchSpace& space, const nascent::Arch& arch) {
  const nlohmann::json j = space.to_json(arch);
  if (space.canonical(space.from_json(j, "round trip")) != space.canonical(arch)) std::abort();
  (void)space.hash(arch);
  (void)space.describe(arch);
  (void)space.encode(arch);
  nascent::Rng rng(1);
  if (nascent::fuzz::can_mutate(space)) (void)space.mutate(arch, rng);
  if (!space.text_field().empty() &&
      space.canonical(space.from_text(space.to_text(arch), "round trip")) != space.canonical(arch))
    std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const std::string rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  nascent::fuzz::expect_only_input_errors([&] {
    switch (data[0] % 3) {
      case 0: {
        const std::string path =
            nascent::fuzz::write_input("arch.json", reinterpret_cast<const uint8_t*>(rest.data()), rest.size());
        const nascent::cli::ArchFile a = nascent::cli::load_arch_file(path, nlohmann::json::object(), "");
        use(*a.space, a.arch);
        nascent::cli::check_arch_task(a, path, a.space->default_task(), "fuzz");
        break;
      }
      case 1: {
        const auto space = nascent::space::make_space("nb201");
        use(*space, space->from_text(rest, "arch.json"));
        break;
      }
      case 2: {
        const auto space = nascent::space::make_space("darts");
        use(*space, space->from_text(rest, "arch.json"));
        break;
      }
    }
  });
  return 0;
}
