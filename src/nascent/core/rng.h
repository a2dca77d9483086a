// Seeded random numbers that are identical on every platform and can be saved and restored.
// Every component owns its own Rng derived from the experiment seed and a stream name, so
// adding a draw in one component never shifts another component's draws.
#pragma once

#include <array>
#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <string_view>
#include <utility>
#include <vector>

namespace nascent {

// xoshiro256** (Blackman & Vigna), seeded through splitmix64. Distributions are our own so
// that results do not depend on the standard library's implementation.
class Rng {
 public:
  explicit Rng(uint64_t seed = 0);
  // A generator for one component: same (seed, stream) -> same sequence.
  static Rng derive(uint64_t seed, std::string_view stream);

  uint64_t next();
  // Uniform integer in [0, n); n > 0. Unbiased (Lemire's method).
  uint64_t below(uint64_t n);
  // Uniform integer in [lo, hi].
  int64_t between(int64_t lo, int64_t hi);
  // Uniform double in [0, 1).
  double uniform();
  // Standard normal (Box-Muller).
  double normal();
  // Index drawn with probability proportional to weights (all >= 0, sum > 0).
  size_t categorical(const std::vector<double>& weights);

  template <typename T>
  void shuffle(std::vector<T>& v) {
    for (size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[below(i)]);
  }
  // k distinct indices from [0, n), in draw order.
  std::vector<size_t> choose(size_t n, size_t k);

  nlohmann::json state() const;
  void load_state(const nlohmann::json& j);

 private:
  std::array<uint64_t, 4> s_{};
};

// 64-bit FNV-1a of bytes; stable across runs and platforms.
uint64_t fnv1a64(std::string_view bytes, uint64_t h = 0xcbf29ce484222325ULL);

}  // namespace nascent
