// Rng: the one source of randomness for generated test data.
//
// Test data must be byte-identical for the same seed on every machine and
// standard library, so this is xoshiro256** seeded through splitmix64 and
// nothing from <random>: std:: distributions are implementation-defined and
// differ between libstdc++ and libc++. Fork() derives an independent stream,
// so each generated file can be reproduced without replaying the others.
// Thread-safety: a value; one owner at a time.
#pragma once

#include <cstdint>

namespace tsync::testdata {

class Rng {
 public:
  explicit Rng(uint64_t seed) : seed_(seed) {
    uint64_t x = seed;
    for (uint64_t& word : s_) word = SplitMix64(&x);
  }

  uint64_t Next() {
    const uint64_t result = Rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = Rotl(s_[3], 45);
    return result;
  }

  /// Uniform in [0, n) (n > 0) by multiply-shift; the bias is below 2^-40
  /// for the small n used here, which test data does not care about.
  uint64_t Below(uint64_t n) {
    return static_cast<uint64_t>((static_cast<unsigned __int128>(Next()) * n) >> 64);
  }

  /// Uniform in [lo, hi], both inclusive.
  uint64_t Between(uint64_t lo, uint64_t hi) { return lo + Below(hi - lo + 1); }

  /// True with probability num/den.
  bool Chance(uint64_t num, uint64_t den) { return Below(den) < num; }

  /// A new generator whose stream depends on this one's seed and `stream`,
  /// not on how many numbers this one has produced since.
  Rng Fork(uint64_t stream) const {
    uint64_t x = seed_ ^ Rotl(stream * 0xD1B54A32D192ED03ull, 29);
    return Rng(SplitMix64(&x) ^ stream);
  }

 private:
  static uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  static uint64_t SplitMix64(uint64_t* x) {
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }

  uint64_t seed_;
  uint64_t s_[4];
};

}  // namespace tsync::testdata
