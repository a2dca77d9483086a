#include "nascent/space/space.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <sstream>

#include "nascent/core/config.h"
#include "nascent/core/error.h"

namespace nascent::space {

SearchSpace::SearchSpace(std::string name, std::vector<Decision> decisions)
    : name_(std::move(name)), decisions_(std::move(decisions)) {
  std::set<std::string> seen;
  for (size_t i = 0; i < decisions_.size(); ++i) {
    const Decision& d = decisions_[i];
    NASCENT_CHECK(!d.options.empty(), "decision '" + d.name + "' has no options");
    NASCENT_CHECK(seen.insert(d.name).second, "duplicate decision '" + d.name + "'");
    std::set<std::string> opts(d.options.begin(), d.options.end());
    NASCENT_CHECK(opts.size() == d.options.size(), "duplicate option in '" + d.name + "'");
    int parent = -1;
    std::vector<bool> allows;
    if (d.condition) {
      for (size_t p = 0; p < i; ++p)
        if (decisions_[p].name == d.condition->decision) parent = static_cast<int>(p);
      NASCENT_CHECK(parent >= 0, "condition of '" + d.name + "' must name an earlier decision");
      const auto& popts = decisions_[parent].options;
      allows.assign(popts.size(), false);
      for (const auto& o : d.condition->any_of) {
        bool found = false;
        for (size_t k = 0; k < popts.size(); ++k)
          if (popts[k] == o) allows[k] = found = true;
        NASCENT_CHECK(found, "condition of '" + d.name + "' names unknown option '" + o + "'");
      }
    }
    parent_.push_back(parent);
    parent_allows_.push_back(std::move(allows));
  }
}

int SearchSpace::index_of(const std::string& decision) const {
  for (size_t i = 0; i < decisions_.size(); ++i)
    if (decisions_[i].name == decision) return static_cast<int>(i);
  return -1;
}

bool SearchSpace::active(const Arch& arch, size_t i) const {
  const int p = parent_[i];
  if (p < 0) return true;
  if (!active(arch, p)) return false;
  return parent_allows_[i][arch.choices[p]];
}

Arch SearchSpace::sample(Rng& rng) const {
  Arch a{name_, std::vector<int>(decisions_.size(), 0)};
  for (size_t i = 0; i < decisions_.size(); ++i)
    if (active(a, i)) a.choices[i] = static_cast<int>(rng.below(decisions_[i].options.size()));
  return canonical(a);
}

Arch SearchSpace::mutate(const Arch& arch, Rng& rng) const {
  const Arch base = canonical(arch);
  std::vector<size_t> mutable_idx;
  for (size_t i = 0; i < decisions_.size(); ++i)
    if (active(base, i) && decisions_[i].options.size() > 1) mutable_idx.push_back(i);
  NASCENT_CHECK(!mutable_idx.empty(), "space '" + name_ + "' has nothing to mutate");
  // Spaces with symmetries can map a changed decision back onto the same canonical architecture;
  // draw again in that (rare) case.
  for (int attempt = 0; attempt < 100; ++attempt) {
    Arch child = base;
    const size_t i = mutable_idx[rng.below(mutable_idx.size())];
    const int n = static_cast<int>(decisions_[i].options.size());
    child.choices[i] = (base.choices[i] + 1 + static_cast<int>(rng.below(n - 1))) % n;
    for (size_t j = i + 1; j < decisions_.size(); ++j) {
      const bool was = active(base, j), is = active(child, j);
      if (is && !was) child.choices[j] = static_cast<int>(rng.below(decisions_[j].options.size()));
    }
    child = canonical(child);
    if (child != base) return child;
  }
  return base;
}

std::vector<Arch> SearchSpace::neighbors(const Arch& arch) const {
  const Arch base = canonical(arch);
  std::vector<Arch> out;
  std::set<std::string> seen{hash(base)};
  for (size_t i = 0; i < decisions_.size(); ++i) {
    if (!active(base, i)) continue;
    for (int o = 0; o < static_cast<int>(decisions_[i].options.size()); ++o) {
      if (o == base.choices[i]) continue;
      Arch child = base;
      child.choices[i] = o;
      child = canonical(child);
      if (seen.insert(hash(child)).second) out.push_back(child);
    }
  }
  return out;
}

Arch SearchSpace::crossover(const Arch& a, const Arch& b, Rng& rng) const {
  Arch child = a;
  for (size_t i = 0; i < decisions_.size(); ++i)
    if (rng.below(2)) child.choices[i] = b.choices[i];
  // A decision taken from one parent may activate one that only the other parent filled in;
  // give those a valid (sampled) option.
  for (size_t i = 0; i < decisions_.size(); ++i)
    if (active(child, i) && !active(a, i) && !active(b, i))
      child.choices[i] = static_cast<int>(rng.below(decisions_[i].options.size()));
  return canonical(child);
}

size_t SearchSpace::encoding_size() const {
  size_t n = 0;
  for (const auto& d : decisions_) n += d.options.size();
  return n;
}

std::vector<float> SearchSpace::encode(const Arch& arch) const {
  const Arch a = canonical(arch);
  std::vector<float> v(encoding_size(), 0.f);
  size_t off = 0;
  for (size_t i = 0; i < decisions_.size(); ++i) {
    if (active(a, i)) v[off + a.choices[i]] = 1.f;
    off += decisions_[i].options.size();
  }
  return v;
}

Arch SearchSpace::canonical(const Arch& arch) const {
  NASCENT_CHECK(
      arch.choices.size() == decisions_.size(),
      fmt::format("arch has {} choices, space '{}' has {} decisions", arch.choices.size(), name_, decisions_.size()));
  Arch a = arch;
  for (size_t i = 0; i < decisions_.size(); ++i) {
    NASCENT_CHECK(a.choices[i] >= 0 && a.choices[i] < static_cast<int>(decisions_[i].options.size()),
                  "choice out of range for decision '" + decisions_[i].name + "'");
    if (!active(a, i)) a.choices[i] = 0;
  }
  return a;
}

std::string SearchSpace::hash(const Arch& arch) const {
  const Arch a = canonical(arch);
  std::string text = name_;
  for (size_t i = 0; i < decisions_.size(); ++i) {
    if (!active(a, i)) continue;
    text += '|';
    text += decisions_[i].name;
    text += '=';
    text += decisions_[i].options[a.choices[i]];
  }
  return fmt::format("{:016x}", fnv1a64(text));
}

nlohmann::json SearchSpace::to_json(const Arch& arch) const {
  nlohmann::json choices = nlohmann::json::object();
  for (size_t i = 0; i < decisions_.size(); ++i)
    if (active(arch, i)) choices[decisions_[i].name] = decisions_[i].options[arch.choices[i]];
  return {{"space", name_}, {"choices", choices}};
}

Arch SearchSpace::from_json(const nlohmann::json& j, const std::string& source) const {
  const std::string text = text_field();
  const std::string forms = text.empty() ? "\"choices\": {...}" : "\"choices\": {...} or \"" + text + "\": \"...\"";
  if (!j.is_object()) throw InputError(source, "", "expected an architecture object {\"space\": ..., " + forms + "}");
  auto sp = j.find("space");
  if (sp == j.end() || !sp->is_string()) throw InputError(source, "space", "missing space name");
  if (sp->get<std::string>() != name_)
    throw InputError(source, "space",
                     fmt::format("architecture is for space '{}', not '{}'", sp->get<std::string>(), name_));
  // hash, params and flops are what `nascent spaces --sample` adds to each line: informational,
  // so such a line is an architecture file as it stands. task: the signature of the task a run's
  // best_arch.json was searched for (checked by the commands that load data).
  static const std::set<std::string> informational = {"hash", "params", "flops", "task"};
  for (auto it = j.begin(); it != j.end(); ++it)
    if (it.key() != "space" && it.key() != "choices" && it.key() != "space_options" &&
        (text.empty() || it.key() != text) && !informational.count(it.key()))
      throw InputError(
          source, it.key(),
          "unknown field; expected space, choices, " + (text.empty() ? "" : text + ", ") + "space_options, task");
  auto ch = j.find("choices");
  auto tx = text.empty() ? j.end() : j.find(text);
  if (ch == j.end() && tx == j.end()) throw InputError(source, "choices", "missing; expected " + forms);
  std::optional<Arch> from_text_form;
  if (tx != j.end()) {
    if (!tx->is_string()) throw InputError(source, text, "expected a string");
    from_text_form = from_text(tx->get<std::string>(), source);
  }
  if (ch == j.end()) {
    validate(*from_text_form, source);
    return *from_text_form;
  }
  if (!ch->is_object()) throw InputError(source, "choices", "expected an object {\"decision\": \"option\", ...}");
  Arch a = choices_from_json(*ch, source);
  validate(a, source);
  if (from_text_form && hash(*from_text_form) != hash(a))
    throw InputError(source, text,
                     fmt::format("describes a different architecture than choices ('{}' vs '{}')",
                                 tx->get<std::string>(), to_text(a)));
  return a;
}

Arch SearchSpace::choices_from_json(const nlohmann::json& ch, const std::string& source) const {
  for (auto it = ch.begin(); it != ch.end(); ++it) {
    if (index_of(it.key()) < 0) {
      std::vector<std::string> names;
      for (const auto& d : decisions_) names.push_back(d.name);
      throw InputError(
          source, "choices." + it.key(),
          fmt::format("unknown decision for space '{}'; decisions are: {}", name_, fmt::join(names, ", ")));
    }
  }
  Arch a{name_, std::vector<int>(decisions_.size(), 0)};
  for (size_t i = 0; i < decisions_.size(); ++i) {
    const Decision& d = decisions_[i];
    auto v = ch.find(d.name);
    const bool is_active = active(a, i);  // depends only on earlier decisions, already filled
    if (!is_active) {
      if (v != ch.end())
        throw InputError(source, "choices." + d.name,
                         fmt::format("decision does not apply here (it needs {} to be one of: {})",
                                     d.condition->decision, fmt::join(d.condition->any_of, ", ")));
      continue;
    }
    if (v == ch.end())
      throw InputError(source, "choices." + d.name,
                       fmt::format("missing decision; options are: {}", fmt::join(d.options, ", ")));
    std::string opt = v->is_string() ? v->get<std::string>() : v->dump();
    int idx = -1;
    for (size_t k = 0; k < d.options.size(); ++k)
      if (d.options[k] == opt) idx = static_cast<int>(k);
    if (idx < 0)
      throw InputError(source, "choices." + d.name,
                       fmt::format("unknown option '{}'; options are: {}", opt, fmt::join(d.options, ", ")));
    a.choices[i] = idx;
  }
  return a;
}

std::string SearchSpace::to_text(const Arch&) const {
  throw InternalError("space '" + name_ + "' has no text form of its architectures");
}

Arch SearchSpace::from_text(const std::string&, const std::string& source) const {
  throw InputError(source, "", "space '" + name_ + "' has no text form of its architectures; give \"choices\"");
}

std::string SearchSpace::size_text() const {
  // Exact with thousands separators while short; scientific notation beyond.
  auto count = [](double n) {
    if (n >= 1e9) return fmt::format("{:.4g}", n);
    std::string digits = std::to_string(static_cast<int64_t>(n)), out;
    for (size_t i = 0; i < digits.size(); ++i) {
      if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
      out += digits[i];
    }
    return out;
  };
  std::string out = count(size()) + " " + size_unit();
  if (distinct_size() >= 0) out += ", " + count(distinct_size()) + " distinct";
  return out;
}

void SearchSpace::validate(const Arch&, const std::string&) const {}

const std::string& SearchSpace::option(const Arch& arch, const std::string& decision) const {
  const int i = index_of(decision);
  NASCENT_CHECK(i >= 0, "space '" + name_ + "' has no decision '" + decision + "'");
  return decisions_[i].options[arch.choices[i]];
}

Diagram SearchSpace::diagram(const Arch& arch) const {
  Diagram::Graph g;
  g.title = name_;
  g.nodes.push_back("input");
  std::string word;
  std::istringstream words(describe(arch));
  while (words >> word) g.nodes.push_back(word);
  g.nodes.push_back("output");
  for (int i = 0; i + 1 < static_cast<int>(g.nodes.size()); ++i) g.edges.push_back({i, i + 1, ""});
  return Diagram{{g}};
}

std::string SearchSpace::describe(const Arch& arch) const {
  std::string out;
  for (size_t i = 0; i < decisions_.size(); ++i) {
    if (!active(arch, i)) continue;
    if (!out.empty()) out += ' ';
    out += decisions_[i].name + "=" + decisions_[i].options[arch.choices[i]];
  }
  return out;
}

double SearchSpace::size() const {
  std::vector<bool> is_parent(decisions_.size(), false);
  for (int p : parent_)
    if (p >= 0) is_parent[p] = true;
  Arch a{name_, std::vector<int>(decisions_.size(), 0)};
  // Enumerates only decisions that other decisions depend on; the rest multiply.
  std::function<double(size_t)> count = [&](size_t i) -> double {
    if (i == decisions_.size()) return 1.0;
    if (!active(a, i)) return count(i + 1);
    const size_t n = decisions_[i].options.size();
    if (!is_parent[i]) return static_cast<double>(n) * count(i + 1);
    double total = 0;
    for (size_t o = 0; o < n; ++o) {
      a.choices[i] = static_cast<int>(o);
      total += count(i + 1);
    }
    a.choices[i] = 0;
    return total;
  };
  return count(0);
}

std::shared_ptr<Supernet> SearchSpace::build_supernet(const Task&, const SupernetOptions&) const {
  throw InputError("", "space.name",
                   "space '" + name_ + "' has no supernet; one-shot strategies need nb201, darts or mbconv");
}

bool SearchSpace::supports(const Task& task) const { return task.kind == "image"; }

std::vector<std::string> int_options(const std::vector<int64_t>& values) {
  std::vector<std::string> out;
  for (int64_t v : values) out.push_back(std::to_string(v));
  return out;
}

std::vector<std::string> number_options(const std::vector<double>& values) {
  std::vector<std::string> out;
  for (double v : values) out.push_back(fmt::format("{:g}", v));
  return out;
}

std::vector<std::vector<int64_t>> read_stage_widths(ConfigSection& sec, const std::string& key,
                                                    const std::vector<std::vector<int64_t>>& def, size_t max_stages) {
  const nlohmann::json w = sec.get_json(key);
  if (w.is_null()) return def;
  if (!w.is_array() || w.empty() || w.size() > max_stages)
    sec.fail(key, fmt::format("expected 1 to {} lists of channel counts, one list per stage", max_stages));
  std::vector<std::vector<int64_t>> out;
  for (size_t s = 0; s < w.size(); ++s) {
    const std::string field = fmt::format("{}[{}]", key, s);
    if (!w[s].is_array() || w[s].empty()) sec.fail(field, "expected a non-empty list of channel counts");
    std::vector<int64_t> ws;
    for (const auto& x : w[s]) {
      if (!x.is_number_integer() || x.get<int64_t>() < 1 || x.get<int64_t>() > 4096)
        sec.fail(field, "expected integers from 1 to 4096, got " + x.dump());
      ws.push_back(x.get<int64_t>());
    }
    require_distinct(sec, field, int_options(ws));
    out.push_back(ws);
  }
  return out;
}

void require_distinct(const ConfigSection& section, const std::string& key, const std::vector<std::string>& options) {
  std::set<std::string> seen;
  for (const auto& o : options)
    if (!seen.insert(o).second) section.fail(key, fmt::format("option {} is listed twice", o));
}

std::optional<Condition> count_at_least(const Decision& count, int64_t k) {
  Condition c{count.name, {}};
  for (const auto& o : count.options)
    if (std::stoll(o) >= k) c.any_of.push_back(o);
  if (c.any_of.size() == count.options.size()) return std::nullopt;
  NASCENT_CHECK(!c.any_of.empty(), "no option of '" + count.name + "' reaches " + std::to_string(k));
  return c;
}

}  // namespace nascent::space
