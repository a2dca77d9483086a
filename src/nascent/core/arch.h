// Decisions and architectures. A search space is an ordered list of categorical Decisions; an
// Arch is one option index per decision. Strategies only ever see these two types, which is why
// every strategy works on every space. JSON, canonical form and hashing live in SearchSpace,
// which knows the option names.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace nascent {

// A decision exists only when an earlier decision took one of the listed options (e.g. the
// expansion ratio exists only when the operation is an inverted bottleneck).
struct Condition {
  std::string decision;             // name of an earlier decision
  std::vector<std::string> any_of;  // options of that decision that make this one active
};

struct Decision {
  std::string name;
  std::vector<std::string> options;
  std::optional<Condition> condition;
};

struct Arch {
  std::string space;
  std::vector<int> choices;  // one option index per decision; inactive decisions hold 0

  bool operator==(const Arch& o) const { return space == o.space && choices == o.choices; }
  bool operator!=(const Arch& o) const { return !(*this == o); }
};

}  // namespace nascent
