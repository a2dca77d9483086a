#include "nascent/schedule/brackets.h"

#include <fmt/format.h>

#include <cmath>
#include <string>

#include "nascent/core/error.h"

namespace nascent::schedule {
namespace {

int64_t power(int eta, int k) {
  int64_t p = 1;
  for (int i = 0; i < k; ++i) p *= eta;
  return p;
}

// max_resource * eta^(i - s), rounded to 6 significant digits so that a rung's fidelity key is a
// short, stable number ("e=0.333333") and equal rungs of different brackets compare equal.
double rung_resource(int eta, double max_resource, int s, int i) {
  const double r = max_resource / static_cast<double>(power(eta, s - i));
  return std::stod(fmt::format("{:.6g}", r));
}

}  // namespace

int max_bracket(int eta, double min_resource, double max_resource) {
  NASCENT_CHECK(eta >= 2 && min_resource > 0 && max_resource >= min_resource, "bad bracket parameters");
  int s = 0;
  // A relative tolerance so that max/min = 81 with eta = 3 gives exactly 4.
  while (min_resource * static_cast<double>(power(eta, s + 1)) <= max_resource * (1 + 1e-9)) ++s;
  return s;
}

Bracket hyperband_bracket(int eta, double min_resource, double max_resource, int s) {
  const int s_max = max_bracket(eta, min_resource, max_resource);
  NASCENT_CHECK(s >= 0 && s <= s_max, fmt::format("bracket {} outside 0..{}", s, s_max));
  // n = ceil(B / R * eta^s / (s + 1)) with B = (s_max + 1) R, in integers.
  const int64_t n = ((s_max + 1) * power(eta, s) + s) / (s + 1);
  Bracket b;
  b.s = s;
  for (int i = 0; i <= s; ++i) b.rungs.push_back(Rung{n / power(eta, i), rung_resource(eta, max_resource, s, i)});
  return b;
}

Bracket halving_bracket(int eta, double min_resource, double max_resource, int64_t candidates) {
  const int s = max_bracket(eta, min_resource, max_resource);
  const int64_t n = candidates > 0 ? candidates : power(eta, s);
  Bracket b;
  b.s = s;
  for (int i = 0; i <= s; ++i)
    b.rungs.push_back(Rung{std::max<int64_t>(1, n / power(eta, i)), rung_resource(eta, max_resource, s, i)});
  return b;
}

}  // namespace nascent::schedule
