// DARTS genotypes (Liu et al., ICLR 2019) as data and text: per cell type (normal, reduce), two
// (operation, input) genes for each of the 4 intermediate nodes, written as the reference code's
// Python repr, "Genotype(normal=[('sep_conv_3x3', 0), ...], normal_concat=[2, 3, 4, 5], ...)".
#pragma once

#include <string>
#include <vector>

namespace nascent::space::darts {

constexpr int kSteps = 4;   // intermediate nodes, numbered 2..5 (0, 1 = the two cell inputs)
constexpr int kEdges = 14;  // 2 + 3 + 4 + 5 incoming edges in the search cell
constexpr int kOps = 8;
constexpr int kGenes = 2 * kSteps;
// none, max_pool_3x3, avg_pool_3x3, skip_connect, sep_conv_3x3, sep_conv_5x5, dil_conv_3x3,
// dil_conv_5x5 (the reference code's PRIMITIVES order).
const std::vector<std::string>& op_names();
constexpr int kNone = 0;

struct Gene {
  int op = 0;     // index into op_names()
  int input = 0;  // 0, 1 = the cell inputs; 2.. = earlier intermediate nodes
  bool operator==(const Gene& o) const { return op == o.op && input == o.input; }
};

// genes[2k], genes[2k + 1] feed intermediate node k + 2.
struct Genotype {
  std::vector<Gene> normal, reduce;
};

// The search cell's edge that carries input `input` into intermediate node `node` (2..5).
int edge_index(int node, int input);

std::string to_string(const Genotype& g);
// Accepts the reference's repr (single or double quotes, any spacing, `range(2, 6)` for a concat,
// the four fields in any order); throws InputError(source, field, problem) naming what is wrong.
Genotype parse(const std::string& text, const std::string& source, const std::string& field);

}  // namespace nascent::space::darts
