#include "nascent/space/darts_genotype.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <optional>

#include "nascent/core/error.h"

namespace nascent::space::darts {
namespace {

const std::vector<int> kConcat{2, 3, 4, 5};

// A recursive-descent reader of the Python repr, with positions in its error messages.
class Reader {
 public:
  Reader(const std::string& text, const std::string& source, const std::string& field)
      : text_(text), source_(source), field_(field) {}

  [[noreturn]] void fail(const std::string& problem) const {
    throw InputError(source_, field_, fmt::format("at character {}: {}", pos_, problem));
  }
  [[noreturn]] void fail_in(const std::string& where, const std::string& problem) const {
    throw InputError(source_, field_, fmt::format("{}: {}", where, problem));
  }

  void skip_space() {
    while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
  }
  bool peek(char c) {
    skip_space();
    return pos_ < text_.size() && text_[pos_] == c;
  }
  void expect(char c) {
    if (!peek(c))
      fail(fmt::format("expected '{}', found {}", c,
                       pos_ < text_.size() ? "'" + text_.substr(pos_, 12) + "'" : "the end"));
    ++pos_;
  }
  std::string identifier() {
    skip_space();
    const size_t start = pos_;
    while (pos_ < text_.size() && (std::isalnum(static_cast<unsigned char>(text_[pos_])) || text_[pos_] == '_')) ++pos_;
    if (start == pos_) fail("expected a name");
    return text_.substr(start, pos_ - start);
  }
  int integer() {
    skip_space();
    const size_t start = pos_;
    while (pos_ < text_.size() && std::isdigit(static_cast<unsigned char>(text_[pos_]))) ++pos_;
    if (start == pos_ || pos_ - start > 6) fail("expected a small non-negative integer");
    return std::stoi(text_.substr(start, pos_ - start));
  }
  std::string quoted() {
    skip_space();
    if (pos_ >= text_.size() || (text_[pos_] != '\'' && text_[pos_] != '"')) fail("expected a quoted operation name");
    const char q = text_[pos_++];
    const size_t end = text_.find(q, pos_);
    if (end == std::string::npos) fail("unterminated string");
    std::string s = text_.substr(pos_, end - pos_);
    pos_ = end + 1;
    return s;
  }
  // [('op', input), ...]
  std::vector<std::pair<std::string, int>> gene_list() {
    std::vector<std::pair<std::string, int>> out;
    expect('[');
    while (!peek(']')) {
      expect('(');
      std::string op = quoted();
      expect(',');
      int input = integer();
      expect(')');
      out.emplace_back(op, input);
      if (!peek(']')) expect(',');
    }
    expect(']');
    return out;
  }
  // [2, 3, 4, 5] or range(2, 6)
  std::vector<int> concat() {
    std::vector<int> out;
    if (peek('[')) {
      expect('[');
      while (!peek(']')) {
        out.push_back(integer());
        if (!peek(']')) expect(',');
      }
      expect(']');
      return out;
    }
    if (identifier() != "range") fail("expected a list [2, 3, 4, 5] or range(2, 6)");
    expect('(');
    const int a = integer();
    expect(',');
    const int b = integer();
    expect(')');
    for (int i = a; i < b; ++i) out.push_back(i);
    return out;
  }
  bool at_end() {
    skip_space();
    return pos_ == text_.size();
  }

 private:
  const std::string& text_;
  const std::string& source_;
  const std::string& field_;
  size_t pos_ = 0;
};

std::vector<Gene> to_genes(const std::vector<std::pair<std::string, int>>& list, const std::string& cell,
                           const Reader& r) {
  if (list.size() != kGenes)
    r.fail_in(cell, fmt::format("expected {} (operation, input) pairs, two per intermediate node, got {}", kGenes,
                                list.size()));
  std::vector<Gene> genes;
  for (size_t g = 0; g < list.size(); ++g) {
    const auto& [op, input] = list[g];
    const std::string where = fmt::format("{}[{}]", cell, g);
    auto it = std::find(op_names().begin(), op_names().end(), op);
    if (it == op_names().end())
      r.fail_in(where, fmt::format("unknown operation '{}'; the DARTS space has: {}", op, fmt::join(op_names(), ", ")));
    const int node = static_cast<int>(g) / 2 + 2;
    if (input >= node)
      r.fail_in(where, fmt::format("input {} of node {} must be an earlier node (0 to {})", input, node, node - 1));
    genes.push_back({static_cast<int>(it - op_names().begin()), input});
  }
  return genes;
}

std::string genes_text(const std::vector<Gene>& genes) {
  std::vector<std::string> parts;
  for (const auto& g : genes) parts.push_back(fmt::format("('{}', {})", op_names()[g.op], g.input));
  return fmt::format("[{}]", fmt::join(parts, ", "));
}

}  // namespace

const std::vector<std::string>& op_names() {
  static const std::vector<std::string> names{"none",         "max_pool_3x3", "avg_pool_3x3", "skip_connect",
                                              "sep_conv_3x3", "sep_conv_5x5", "dil_conv_3x3", "dil_conv_5x5"};
  return names;
}

int edge_index(int node, int input) {
  NASCENT_CHECK(node >= 2 && node < 2 + kSteps && input >= 0 && input < node, "darts edge out of range");
  int offset = 0;
  for (int k = 2; k < node; ++k) offset += k;
  return offset + input;
}

std::string to_string(const Genotype& g) {
  return fmt::format("Genotype(normal={}, normal_concat=[2, 3, 4, 5], reduce={}, reduce_concat=[2, 3, 4, 5])",
                     genes_text(g.normal), genes_text(g.reduce));
}

Genotype parse(const std::string& text, const std::string& source, const std::string& field) {
  Reader r(text, source, field);
  if (r.identifier() != "Genotype")
    r.fail("expected Genotype(normal=[...], normal_concat=[...], reduce=[...], reduce_concat=[...])");
  r.expect('(');
  std::map<std::string, bool> seen;
  Genotype g;
  while (!r.peek(')')) {
    const std::string key = r.identifier();
    if (key != "normal" && key != "reduce" && key != "normal_concat" && key != "reduce_concat")
      r.fail("unknown field '" + key + "'; expected normal, normal_concat, reduce, reduce_concat");
    if (seen[key]) r.fail("field '" + key + "' given twice");
    seen[key] = true;
    r.expect('=');
    if (key == "normal" || key == "reduce") {
      (key == "normal" ? g.normal : g.reduce) = to_genes(r.gene_list(), key, r);
    } else {
      const std::vector<int> c = r.concat();
      if (c != kConcat)
        r.fail_in(key, fmt::format("this space outputs the concatenation of all four intermediate nodes, "
                                   "[2, 3, 4, 5]; got [{}]",
                                   fmt::join(c, ", ")));
    }
    if (!r.peek(')')) r.expect(',');
  }
  r.expect(')');
  if (!r.at_end()) r.fail("unexpected text after the closing ')'");
  for (const char* key : {"normal", "normal_concat", "reduce", "reduce_concat"})
    if (!seen[key]) r.fail_in(key, "missing field");
  return g;
}

}  // namespace nascent::space::darts
