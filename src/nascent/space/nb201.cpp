#include "nascent/space/nb201.h"

#include <fmt/format.h>

#include "nascent/core/config.h"
#include "nascent/core/error.h"
#include "nascent/space/nb201_network.h"

namespace nascent::space {
namespace {

std::vector<Decision> nb201_decisions() {
  std::vector<Decision> d;
  for (const auto& e : nb201::kEdgeList) d.push_back({fmt::format("{}<-{}", e.to, e.from), nb201::op_names(), {}});
  return d;
}

int64_t scaled(int64_t channels, double width_mult) {
  return width_mult == 1.0 ? channels : scale_channels(channels, width_mult, 2);
}

}  // namespace

Nb201Options Nb201Options::from_config(ConfigSection& sec) {
  Nb201Options o;
  o.C = sec.get_int("C", o.C, 1, 1024);
  o.N = sec.get_int("N", o.N, 1, 32);
  o.search_C = sec.get_int("search_C", o.search_C, 0, 1024);
  o.search_N = sec.get_int("search_N", o.search_N, 0, 32);
  sec.finish();
  return o;
}

Nb201Space::Nb201Space(Nb201Options options) : SearchSpace("nb201", nb201_decisions()), options_(options) {}

nb201::Cell Nb201Space::cell(const Arch& arch) const {
  NASCENT_CHECK(arch.choices.size() == nb201::kEdges, "nb201 arch needs 6 choices");
  nb201::Cell c{};
  for (int e = 0; e < nb201::kEdges; ++e) c[e] = arch.choices[e];
  return c;
}

Arch Nb201Space::arch(const nb201::Cell& cell) const {
  return Arch{name(), std::vector<int>(cell.begin(), cell.end())};
}

Arch Nb201Space::canonical(const Arch& a) const {
  const Arch base = SearchSpace::canonical(a);  // checks sizes and ranges
  return arch(nb201::cell_of(nb201::canonical_code(nb201::code_of(cell(base)))));
}

std::string Nb201Space::to_text(const Arch& a) const { return nb201::to_string(cell(a)); }

Diagram Nb201Space::diagram(const Arch& a) const {
  const nb201::Cell c = cell(a);
  Diagram::Graph g;
  g.title = "cell";
  g.nodes = {"0 (input)", "1", "2", "3 (output)"};
  for (int e = 0; e < nb201::kEdges; ++e)
    if (c[static_cast<size_t>(e)] != nb201::kNone)
      g.edges.push_back({nb201::kEdgeList[static_cast<size_t>(e)].from, nb201::kEdgeList[static_cast<size_t>(e)].to,
                         nb201::op_names()[static_cast<size_t>(c[static_cast<size_t>(e)])]});
  return Diagram{{g}};
}

Arch Nb201Space::from_text(const std::string& text, const std::string& source) const {
  return arch(nb201::parse(text, source, text_field()));
}

std::shared_ptr<Network> Nb201Space::build(const Arch& a, const Task& task, double width_mult) const {
  NASCENT_CHECK(task.input_shape.size() == 3, "nb201 space needs image input [C, H, W]");
  return std::make_shared<nb201::Nb201NetworkImpl>(cell(canonical(a)), task.input_shape[0],
                                                   scaled(options_.C, width_mult), options_.N, task.num_classes);
}

}  // namespace nascent::space
