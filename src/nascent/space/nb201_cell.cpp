#include "nascent/space/nb201_cell.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <map>

#include "nascent/core/error.h"

namespace nascent::space::nb201 {
namespace {

// Representative and class count for every cell, computed once (15,625 short strings).
struct ClassTable {
  std::vector<int> representative;
  int classes = 0;

  ClassTable() : representative(kCells) {
    std::map<std::string, int> best;  // expression -> representative code
    auto cost = [](int code) {
      const Cell c = cell_of(code);
      return std::count_if(c.begin(), c.end(), [](int op) { return op != kNone; });
    };
    std::vector<std::string> expr(kCells);
    for (int code = 0; code < kCells; ++code) {
      expr[code] = expression(cell_of(code));
      auto [it, inserted] = best.emplace(expr[code], code);
      if (!inserted && cost(code) < cost(it->second)) it->second = code;  // codes ascend: ties keep the smaller
    }
    for (int code = 0; code < kCells; ++code) representative[code] = best.at(expr[code]);
    classes = static_cast<int>(best.size());
  }
};

const ClassTable& table() {
  static const ClassTable t;
  return t;
}

}  // namespace

const std::vector<std::string>& op_names() {
  static const std::vector<std::string> names{"none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3"};
  return names;
}

int code_of(const Cell& cell) {
  int code = 0;
  for (int op : cell) {
    NASCENT_CHECK(op >= 0 && op < kOps, "nb201 operation index out of range");
    code = code * kOps + op;
  }
  return code;
}

Cell cell_of(int code) {
  NASCENT_CHECK(code >= 0 && code < kCells, "nb201 cell code out of range");
  Cell c{};
  for (int e = kEdges - 1; e >= 0; --e) {
    c[e] = code % kOps;
    code /= kOps;
  }
  return c;
}

std::string to_string(const Cell& cell) {
  std::string out;
  for (int node = 1; node < kNodes; ++node) {
    if (node > 1) out += '+';
    out += '|';
    for (int e = 0; e < kEdges; ++e)
      if (kEdgeList[e].to == node) out += fmt::format("{}~{}|", op_names()[cell[e]], kEdgeList[e].from);
  }
  return out;
}

Cell parse(const std::string& text, const std::string& source, const std::string& field) {
  auto fail = [&](const std::string& problem) {
    throw InputError(source, field,
                     problem + " (expected e.g. |nor_conv_3x3~0|+|none~0|skip_connect~1|+|...~0|...~1|...~2|)");
  };
  std::vector<std::string> nodes;
  size_t start = 0;
  for (size_t plus = text.find('+');; plus = text.find('+', start)) {
    nodes.push_back(text.substr(start, plus == std::string::npos ? std::string::npos : plus - start));
    if (plus == std::string::npos) break;
    start = plus + 1;
  }
  if (nodes.size() != kNodes - 1)
    fail(fmt::format("'{}' has {} node groups separated by '+', not {}", text, nodes.size(), kNodes - 1));
  Cell cell{};
  for (int node = 1; node < kNodes; ++node) {
    const std::string& group = nodes[node - 1];
    if (group.size() < 2 || group.front() != '|' || group.back() != '|')
      fail(fmt::format("node {} '{}' must start and end with '|'", node, group));
    std::vector<bool> seen(node, false);
    int count = 0;
    size_t pos = 1;
    while (pos < group.size()) {
      const size_t bar = group.find('|', pos);
      const std::string entry = group.substr(pos, bar - pos);
      pos = bar + 1;
      const size_t tilde = entry.find('~');
      if (tilde == std::string::npos) fail(fmt::format("node {}: '{}' is not operation~input", node, entry));
      const std::string op = entry.substr(0, tilde), in = entry.substr(tilde + 1);
      auto it = std::find(op_names().begin(), op_names().end(), op);
      if (it == op_names().end())
        fail(fmt::format("node {}: unknown operation '{}'; operations are: {}", node, op, fmt::join(op_names(), ", ")));
      if (in.size() != 1 || in[0] < '0' || in[0] >= '0' + node)
        fail(fmt::format("node {}: input '{}' must be an earlier node (0 to {})", node, in, node - 1));
      const int from = in[0] - '0';
      if (seen[from]) fail(fmt::format("node {}: two edges from node {}", node, from));
      seen[from] = true;
      ++count;
      for (int e = 0; e < kEdges; ++e)
        if (kEdgeList[e].to == node && kEdgeList[e].from == from) cell[e] = static_cast<int>(it - op_names().begin());
    }
    if (count != node)
      fail(fmt::format("node {} needs one edge from each of nodes 0 to {}, got {}", node, node - 1, count));
  }
  return cell;
}

std::string expression(const Cell& cell) {
  std::array<std::string, kNodes> nodes{"0"};
  for (int node = 1; node < kNodes; ++node) {
    std::vector<std::string> terms;
    for (int e = 0; e < kEdges; ++e) {
      if (kEdgeList[e].to != node) continue;
      const std::string& in = nodes[kEdgeList[e].from];
      const int op = cell[e];
      if (op == kNone || in == "#")
        terms.push_back("#");
      else if (op == kSkip)
        terms.push_back(in);
      else
        terms.push_back("(" + in + ")@" + op_names()[op]);
    }
    std::sort(terms.begin(), terms.end());
    nodes[node] = fmt::format("{}", fmt::join(terms, "+"));
  }
  return nodes[kNodes - 1];
}

int canonical_code(int code) {
  NASCENT_CHECK(code >= 0 && code < kCells, "nb201 cell code out of range");
  return table().representative[code];
}

int distinct_count() { return table().classes; }

}  // namespace nascent::space::nb201
