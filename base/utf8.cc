#include "base/utf8.h"

#include <simdjson.h>

namespace tsync {

bool IsValidUtf8(std::string_view s) { return simdjson::validate_utf8(s.data(), s.size()); }

namespace {

// Length of the well-formed sequence starting at s[i], or 0 when the bytes
// at i do not start one. Implements Table 3-7 of the Unicode standard.
size_t WellFormedLength(const unsigned char* s, size_t n, size_t i, size_t* maximal_subpart) {
  unsigned char b0 = s[i];
  *maximal_subpart = 1;
  if (b0 < 0x80) return 1;
  size_t need;
  unsigned char lo = 0x80, hi = 0xBF;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    need = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    need = 3;
    if (b0 == 0xE0) lo = 0xA0;
    if (b0 == 0xED) hi = 0x9F;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    need = 4;
    if (b0 == 0xF0) lo = 0x90;
    if (b0 == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  for (size_t k = 1; k < need; ++k) {
    if (i + k >= n) return 0;
    unsigned char b = s[i + k];
    unsigned char l = k == 1 ? lo : 0x80, h = k == 1 ? hi : 0xBF;
    if (b < l || b > h) return 0;
    *maximal_subpart = k + 1;  // the prefix so far could still have been valid
  }
  return need;
}

}  // namespace

size_t AppendRepairedUtf8(std::string* out, std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  size_t replaced = 0;
  size_t i = 0;
  while (i < n) {
    size_t subpart = 1;
    size_t len = WellFormedLength(p, n, i, &subpart);
    if (len > 0) {
      out->append(s.data() + i, len);
      i += len;
      continue;
    }
    out->append("\xEF\xBF\xBD");
    ++replaced;
    // subpart counts the lead byte plus the continuation bytes that were
    // still acceptable before the sequence broke off.
    i += subpart;
  }
  return replaced;
}

std::string_view TruncateUtf8(std::string_view s, size_t max_bytes) {
  if (s.size() <= max_bytes) return s;
  size_t end = max_bytes;
  // Step back over continuation bytes so the cut lands on a boundary.
  while (end > 0 && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80) --end;
  return s.substr(0, end);
}

}  // namespace tsync
