// Rank correlations between an estimate and the quantity it stands for: Spearman's rho (Pearson
// correlation of average ranks) and Kendall's tau-b (concordant minus discordant pairs, with the
// tie correction). Used to say how far an estimator can be trusted (bench/estimator_quality).
// And the median, the rank statistic latency measurements are summarised by.
#pragma once

#include <vector>

namespace nascent::estimate {

// Average ranks (1-based; tied values share the mean of their positions).
std::vector<double> average_ranks(const std::vector<double>& v);
// Both need a.size() == b.size() >= 2; 0 when either side is constant.
double spearman(const std::vector<double>& a, const std::vector<double>& b);
double kendall_tau_b(const std::vector<double>& a, const std::vector<double>& b);
// The middle value (the mean of the two middle ones for an even count); v non-empty.
double median(std::vector<double> v);

}  // namespace nascent::estimate
