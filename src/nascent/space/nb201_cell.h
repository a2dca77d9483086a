// The NAS-Bench-201 cell (Dong & Yang, ICLR 2020) as data: four nodes, six edges, five operations;
// its string form, and which of the 15,625 cells compute the same thing. Equivalence follows the
// authors' count of 6,466 unique cells (Structure.to_unique_str(consider_zero=True) in their code).
#pragma once

#include <array>
#include <string>
#include <vector>

namespace nascent::space::nb201 {

constexpr int kNodes = 4;  // 0 = input, 3 = output
constexpr int kEdges = 6;
constexpr int kOps = 5;
constexpr int kCells = 15625;  // 5^6

struct Edge {
  int to, from;
};
// In NAS-Bench-201's order: 1<-0, 2<-0, 2<-1, 3<-0, 3<-1, 3<-2.
constexpr std::array<Edge, kEdges> kEdgeList{{{1, 0}, {2, 0}, {2, 1}, {3, 0}, {3, 1}, {3, 2}}};
// none, skip_connect, nor_conv_1x1, nor_conv_3x3, avg_pool_3x3 (the benchmark's order).
const std::vector<std::string>& op_names();
constexpr int kNone = 0, kSkip = 1;

// One operation index per edge.
using Cell = std::array<int, kEdges>;
int code_of(const Cell& cell);  // 0 .. kCells-1, edge 0 most significant
Cell cell_of(int code);

// "|op~0|+|op~0|op~1|+|op~0|op~1|op~2|"
std::string to_string(const Cell& cell);
// Parses the string form; on malformed text throws InputError(source, field, problem).
Cell parse(const std::string& text, const std::string& source, const std::string& field);

// What the cell computes, symbolically: node 0 is "0"; an edge term is "#" (zero) for `none` or
// for an input node that is exactly "#", the input itself for skip_connect, "(input)@op"
// otherwise; a node is its incoming terms sorted and joined by "+". Equal strings = the same
// computation up to relabelling nodes 1 and 2 and transparent skips. Zero terms are kept, and a
// node whose inputs are all zero is not itself "#" (as in the authors' count).
std::string expression(const Cell& cell);

// The representative of a cell's equivalence class: the member with the fewest non-`none`
// edges, then the smallest code. Edges into nodes that do not reach the output and edges out of
// a zero node become `none`, so the network built from it runs nothing that cannot matter.
int canonical_code(int code);
// Number of classes: 6,466.
int distinct_count();

}  // namespace nascent::space::nb201
