#include "nascent/core/rng.h"

#include <cmath>
#include <nlohmann/json.hpp>

#include "nascent/core/error.h"

namespace nascent {
namespace {
uint64_t splitmix64(uint64_t& x) {
  uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}
uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
}  // namespace

uint64_t fnv1a64(std::string_view bytes, uint64_t h) {
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

Rng::Rng(uint64_t seed) {
  uint64_t x = seed;
  for (auto& w : s_) w = splitmix64(x);
}

Rng Rng::derive(uint64_t seed, std::string_view stream) { return Rng(seed ^ fnv1a64(stream)); }

uint64_t Rng::next() {
  const uint64_t result = rotl(s_[1] * 5, 7) * 9;
  const uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

uint64_t Rng::below(uint64_t n) {
  NASCENT_CHECK(n > 0, "Rng::below needs n > 0");
  // Lemire, "Fast random integer generation in an interval" (2019).
  unsigned __int128 m = static_cast<unsigned __int128>(next()) * n;
  uint64_t low = static_cast<uint64_t>(m);
  if (low < n) {
    const uint64_t threshold = (0 - n) % n;
    while (low < threshold) {
      m = static_cast<unsigned __int128>(next()) * n;
      low = static_cast<uint64_t>(m);
    }
  }
  return static_cast<uint64_t>(m >> 64);
}

int64_t Rng::between(int64_t lo, int64_t hi) {
  NASCENT_CHECK(lo <= hi, "Rng::between needs lo <= hi");
  return lo + static_cast<int64_t>(below(static_cast<uint64_t>(hi - lo) + 1));
}

double Rng::uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

double Rng::normal() {
  double u1 = uniform();
  while (u1 <= 0.0) u1 = uniform();
  const double u2 = uniform();
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2);
}

size_t Rng::categorical(const std::vector<double>& weights) {
  double total = 0;
  for (double w : weights) {
    NASCENT_CHECK(w >= 0 && std::isfinite(w), "categorical weights must be finite and >= 0");
    total += w;
  }
  NASCENT_CHECK(total > 0, "categorical weights must not all be zero");
  double r = uniform() * total;
  for (size_t i = 0; i < weights.size(); ++i) {
    if (r < weights[i]) return i;
    r -= weights[i];
  }
  for (size_t i = weights.size(); i > 0; --i)
    if (weights[i - 1] > 0) return i - 1;
  return 0;
}

std::vector<size_t> Rng::choose(size_t n, size_t k) {
  NASCENT_CHECK(k <= n, "Rng::choose needs k <= n");
  std::vector<size_t> idx(n);
  for (size_t i = 0; i < n; ++i) idx[i] = i;
  for (size_t i = 0; i < k; ++i) std::swap(idx[i], idx[i + below(n - i)]);
  idx.resize(k);
  return idx;
}

nlohmann::json Rng::state() const {
  // Strings, because JSON numbers lose precision above 2^53 in many readers.
  nlohmann::json j = nlohmann::json::array();
  for (uint64_t w : s_) j.push_back(std::to_string(w));
  return j;
}

void Rng::load_state(const nlohmann::json& j) {
  NASCENT_CHECK(j.is_array() && j.size() == 4, "Rng state must be an array of 4 words");
  for (size_t i = 0; i < 4; ++i) s_[i] = std::stoull(j[i].get<std::string>());
}

}  // namespace nascent
