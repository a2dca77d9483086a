#include "nascent/estimate/rank_correlation.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "nascent/core/error.h"

namespace nascent::estimate {

std::vector<double> average_ranks(const std::vector<double>& v) {
  std::vector<size_t> order(v.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t i, size_t j) { return v[i] < v[j]; });
  std::vector<double> rank(v.size());
  for (size_t i = 0; i < order.size();) {
    size_t j = i;
    while (j + 1 < order.size() && v[order[j + 1]] == v[order[i]]) ++j;
    const double r = (static_cast<double>(i) + static_cast<double>(j)) / 2.0 + 1.0;
    for (size_t k = i; k <= j; ++k) rank[order[k]] = r;
    i = j + 1;
  }
  return rank;
}

double median(std::vector<double> v) {
  NASCENT_CHECK(!v.empty(), "median of no values");
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

double spearman(const std::vector<double>& a, const std::vector<double>& b) {
  NASCENT_CHECK(a.size() == b.size() && a.size() >= 2, "spearman needs two equal-length samples of 2 or more");
  const std::vector<double> ra = average_ranks(a), rb = average_ranks(b);
  const double n = static_cast<double>(a.size());
  const double ma = std::accumulate(ra.begin(), ra.end(), 0.0) / n;
  const double mb = std::accumulate(rb.begin(), rb.end(), 0.0) / n;
  double sab = 0, saa = 0, sbb = 0;
  for (size_t i = 0; i < ra.size(); ++i) {
    sab += (ra[i] - ma) * (rb[i] - mb);
    saa += (ra[i] - ma) * (ra[i] - ma);
    sbb += (rb[i] - mb) * (rb[i] - mb);
  }
  return saa == 0 || sbb == 0 ? 0 : sab / std::sqrt(saa * sbb);
}

double kendall_tau_b(const std::vector<double>& a, const std::vector<double>& b) {
  NASCENT_CHECK(a.size() == b.size() && a.size() >= 2, "kendall needs two equal-length samples of 2 or more");
  // tau_b = (C - D) / sqrt((n0 - n1) (n0 - n2)), n1 and n2 the pairs tied in a and in b.
  double concordant = 0, discordant = 0, tied_a = 0, tied_b = 0, pairs = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    for (size_t j = i + 1; j < a.size(); ++j) {
      pairs += 1;
      // Compared, not subtracted: two equal infinities (failed estimates ranked last) tie.
      const int da = (a[i] > a[j]) - (a[i] < a[j]), db = (b[i] > b[j]) - (b[i] < b[j]);
      if (da == 0) tied_a += 1;
      if (db == 0) tied_b += 1;
      if (da == 0 || db == 0) continue;
      if (da == db)
        concordant += 1;
      else
        discordant += 1;
    }
  }
  const double denom = std::sqrt((pairs - tied_a) * (pairs - tied_b));
  return denom == 0 ? 0 : (concordant - discordant) / denom;
}

}  // namespace nascent::estimate
