#include "base/text.h"

#include <bit>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace tsync {

size_t FindText(std::string_view hay, std::string_view needle, size_t from) {
  constexpr size_t npos = std::string_view::npos;
  const size_t n = needle.size();
  if (from > hay.size() || hay.size() - from < n) return npos;
  if (n == 0) return from;
  const char* p = hay.data();
  const size_t last = hay.size() - n;  // the last offset a match can start at
  size_t i = from;
#if defined(__SSE2__)
  if (n >= 2) {
    // Anchors inside the needle when it has an inside.
    const size_t a = n >= 4 ? 1 : 0;
    const size_t b = n >= 4 ? n - 2 : n - 1;
    const __m128i first = _mm_set1_epi8(needle[a]);
    const __m128i second = _mm_set1_epi8(needle[b]);
    // Offsets i .. i+15 are candidates; their anchor bytes end at i+b+15 <= last+b < hay.size().
    for (; i + 15 <= last; i += 16) {
      const __m128i at_a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i + a));
      const __m128i at_b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i + b));
      auto mask = static_cast<unsigned>(
          _mm_movemask_epi8(_mm_and_si128(_mm_cmpeq_epi8(at_a, first), _mm_cmpeq_epi8(at_b, second))));
      while (mask != 0) {
        const size_t at = i + static_cast<size_t>(std::countr_zero(mask));
        if (std::memcmp(p + at, needle.data(), n) == 0) return at;
        mask &= mask - 1;
      }
    }
  }
#endif
  for (; i <= last; ++i) {
    if (p[i] == needle[0] && std::memcmp(p + i, needle.data(), n) == 0) return i;
  }
  return npos;
}

}  // namespace tsync
