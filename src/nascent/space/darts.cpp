#include "nascent/space/darts.h"

#include <fmt/format.h>

#include "nascent/core/config.h"
#include "nascent/core/error.h"
#include "nascent/space/darts_network.h"

namespace nascent::space {
namespace {

const char* const kCellTypes[] = {"normal", "reduce"};

std::vector<Decision> darts_decisions() {
  std::vector<std::string> real_ops(darts::op_names().begin() + 1, darts::op_names().end());
  std::vector<Decision> d;
  for (const char* type : kCellTypes) {
    for (int k = 0; k < darts::kSteps; ++k) {
      const int node = k + 2;
      std::vector<std::string> inputs;
      for (int i = 0; i < node; ++i) inputs.push_back(std::to_string(i));
      for (const char* g : {"a", "b"}) {
        const std::string op = fmt::format("{}_{}_op_{}", type, node, g);
        d.push_back({op, darts::op_names(), {}});
        // A `none` edge contributes nothing, so its input is no decision at all.
        d.push_back({fmt::format("{}_{}_in_{}", type, node, g), inputs, Condition{op, real_ops}});
      }
    }
  }
  return d;
}

const char* short_name(int op) {
  static const char* const names[] = {"none", "max", "avg", "skip", "sep3", "sep5", "dil3", "dil5"};
  return names[op];
}

}  // namespace

DartsOptions DartsOptions::from_config(ConfigSection& sec) {
  DartsOptions o;
  o.C = sec.get_int("C", o.C, 1, 1024);
  o.layers = sec.get_int("layers", o.layers, 1, 64);
  o.auxiliary = sec.get_bool("auxiliary", o.auxiliary);
  o.auxiliary_weight = sec.get_double("auxiliary_weight", o.auxiliary_weight, 0, 10);
  o.drop_path = sec.get_double("drop_path", o.drop_path, 0, 0.9);
  o.search_C = sec.get_int("search_C", o.search_C, 0, 1024);
  o.search_layers = sec.get_int("search_layers", o.search_layers, 0, 64);
  sec.finish();
  return o;
}

DartsSpace::DartsSpace(DartsOptions options) : SearchSpace("darts", darts_decisions()), options_(options) {}

darts::Genotype DartsSpace::genotype(const Arch& a) const {
  NASCENT_CHECK(a.choices.size() == num_decisions(), "darts arch has the wrong number of choices");
  darts::Genotype g;
  for (int t = 0; t < 2; ++t) {
    auto& genes = t == 0 ? g.normal : g.reduce;
    for (int k = 0; k < darts::kSteps; ++k)
      for (int j = 0; j < 2; ++j) {
        const size_t i = op_decision(t, k, j);
        const int op = a.choices[i];
        genes.push_back({op, op == darts::kNone ? 0 : a.choices[i + 1]});
      }
  }
  return g;
}

Arch DartsSpace::arch(const darts::Genotype& g) const {
  NASCENT_CHECK(g.normal.size() == darts::kGenes && g.reduce.size() == darts::kGenes, "darts genotype needs 8 genes");
  Arch a{name(), std::vector<int>(num_decisions(), 0)};
  for (int t = 0; t < 2; ++t) {
    const auto& genes = t == 0 ? g.normal : g.reduce;
    for (int k = 0; k < darts::kSteps; ++k)
      for (int j = 0; j < 2; ++j) {
        const darts::Gene& gene = genes[k * 2 + j];
        const size_t i = op_decision(t, k, j);
        a.choices[i] = gene.op;
        a.choices[i + 1] = gene.op == darts::kNone ? 0 : gene.input;
      }
  }
  return a;
}

Arch DartsSpace::canonical(const Arch& arch) const {
  Arch a = SearchSpace::canonical(arch);  // resets the inputs of `none` edges
  for (int t = 0; t < 2; ++t)
    for (int k = 0; k < darts::kSteps; ++k) {
      const size_t ia = op_decision(t, k, 0), ib = op_decision(t, k, 1);
      // Order the pairs by (input, operation): a node's sum does not depend on the order.
      const std::pair<int, int> pa{a.choices[ia + 1], a.choices[ia]}, pb{a.choices[ib + 1], a.choices[ib]};
      if (pb < pa) {
        std::swap(a.choices[ia], a.choices[ib]);
        std::swap(a.choices[ia + 1], a.choices[ib + 1]);
      }
    }
  return a;
}

double DartsSpace::size() const {
  double per_cell = 1;
  for (int k = 0; k < darts::kSteps; ++k) {
    const double m = 1 + (darts::kOps - 1) * (k + 2);
    per_cell *= m * m;
  }
  return per_cell * per_cell;
}

double DartsSpace::distinct_size() const {
  double per_cell = 1;
  for (int k = 0; k < darts::kSteps; ++k) {
    const double m = 1 + (darts::kOps - 1) * (k + 2);  // `none`, or 7 operations x inputs
    per_cell *= m * (m + 1) / 2;
  }
  return per_cell * per_cell;
}

Diagram DartsSpace::diagram(const Arch& a) const {
  const darts::Genotype geno = genotype(a);
  Diagram d;
  for (int t = 0; t < 2; ++t) {
    Diagram::Graph g;
    g.title = t == 0 ? "normal cell" : "reduction cell";
    g.nodes = {"c_{k-2}", "c_{k-1}", "2", "3", "4", "5", "c_{k} (concat)"};
    const std::vector<darts::Gene>& genes = t == 0 ? geno.normal : geno.reduce;
    for (size_t i = 0; i < genes.size(); ++i) {
      const int node = static_cast<int>(i / 2) + 2;
      if (genes[i].op != darts::kNone)
        g.edges.push_back({genes[i].input, node, darts::op_names()[static_cast<size_t>(genes[i].op)]});
    }
    for (int node = 2; node < 6; ++node) g.edges.push_back({node, 6, ""});
    d.graphs.push_back(g);
  }
  return d;
}

std::string DartsSpace::describe(const Arch& a) const {
  const darts::Genotype g = genotype(a);
  std::string out;
  for (int t = 0; t < 2; ++t) {
    out += t == 0 ? "normal" : " reduce";
    const auto& genes = t == 0 ? g.normal : g.reduce;
    for (int k = 0; k < darts::kSteps; ++k)
      out += fmt::format(" {}~{}+{}~{}", short_name(genes[2 * k].op), genes[2 * k].input,
                         short_name(genes[2 * k + 1].op), genes[2 * k + 1].input);
  }
  return out;
}

std::string DartsSpace::to_text(const Arch& a) const { return darts::to_string(genotype(a)); }

Arch DartsSpace::from_text(const std::string& text, const std::string& source) const {
  return arch(darts::parse(text, source, text_field()));
}

std::shared_ptr<Network> DartsSpace::build(const Arch& a, const Task& task, double width_mult) const {
  NASCENT_CHECK(task.input_shape.size() == 3, "darts space needs image input [C, H, W]");
  DartsOptions o = options_;
  if (width_mult != 1.0) o.C = scale_channels(o.C, width_mult, 2);
  return std::make_shared<darts::DartsNetworkImpl>(genotype(canonical(a)), o, task.input_shape[0], task.num_classes);
}

}  // namespace nascent::space
