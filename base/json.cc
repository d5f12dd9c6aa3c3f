#include "base/json.h"

#include <algorithm>
#include <array>
#include <bit>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace tsync {
namespace {

// Extra bytes each input byte costs when escaped.
constexpr std::array<uint8_t, 256> MakeExtraTable() {
  std::array<uint8_t, 256> t{};
  for (int c = 0; c < 0x20; ++c) t[c] = 5;  // \u00XX
  t['\b'] = t['\f'] = t['\n'] = t['\r'] = t['\t'] = 1;
  t['"'] = t['\\'] = 1;
  return t;
}
constexpr std::array<uint8_t, 256> kExtra = MakeExtraTable();

#if defined(__SSE2__)
// 0xFF in lane i when p[i] (of 16 bytes) needs escaping; `ctl_out` gets the
// control bytes (<= 0x1F) alone, as a bit mask.
inline __m128i SpecialVector16(const unsigned char* p, unsigned* ctl_out) {
  const __m128i quote = _mm_set1_epi8('"');
  const __m128i backslash = _mm_set1_epi8('\\');
  const __m128i ctl_max = _mm_set1_epi8(0x1F);
  __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  __m128i ctl = _mm_cmpeq_epi8(_mm_max_epu8(v, ctl_max), ctl_max);  // v <= 0x1F
  if (ctl_out) *ctl_out = static_cast<unsigned>(_mm_movemask_epi8(ctl));
  return _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash)), ctl);
}

// The same as a bit mask: bit i for p[i].
inline unsigned SpecialMask16(const unsigned char* p, unsigned* ctl_out) {
  return static_cast<unsigned>(_mm_movemask_epi8(SpecialVector16(p, ctl_out)));
}
#endif

}  // namespace

size_t JsonEscapedSize(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  size_t extra = 0;
  size_t i = 0;
#if defined(__SSE2__)
  // Transcript lines are long and quotes are frequent in them: count 16 bytes
  // at a time in byte lanes (each lane gains 1 per escaped byte, so 255
  // blocks cannot overflow it), and sum the lanes once per 255 blocks.
  // Control bytes, which cost more than one extra byte, are rare: only
  // blocks holding one look at bytes.
  const __m128i zero = _mm_setzero_si128();
  while (i + 16 <= n) {
    __m128i lanes = zero;
    const size_t blocks = std::min<size_t>((n - i) / 16, 255);
    for (size_t b = 0; b < blocks; ++b, i += 16) {
      unsigned ctl = 0;
      const __m128i special = SpecialVector16(p + i, &ctl);
      lanes = _mm_sub_epi8(lanes, special);  // special lanes are 0xFF, i.e. -1
      while (ctl != 0) {
        extra += kExtra[p[i + static_cast<size_t>(std::countr_zero(ctl))]] - 1u;
        ctl &= ctl - 1;
      }
    }
    const __m128i sums = _mm_sad_epu8(lanes, zero);
    extra += static_cast<size_t>(_mm_cvtsi128_si32(sums)) + static_cast<size_t>(_mm_extract_epi16(sums, 4));
  }
#endif
  for (; i < n; ++i) extra += kExtra[p[i]];
  return n + extra;
}

namespace {

// The escape sequence of one byte that needs one (kExtra[c] != 0).
char* WriteEscape(char* w, unsigned char c) {
  static const char kHex[] = "0123456789abcdef";
  *w++ = '\\';
  switch (c) {
    case '"': *w++ = '"'; break;
    case '\\': *w++ = '\\'; break;
    case '\b': *w++ = 'b'; break;
    case '\f': *w++ = 'f'; break;
    case '\n': *w++ = 'n'; break;
    case '\r': *w++ = 'r'; break;
    case '\t': *w++ = 't'; break;
    default:
      *w++ = 'u';
      *w++ = '0';
      *w++ = '0';
      *w++ = kHex[c >> 4];
      *w++ = kHex[c & 0xF];
  }
  return w;
}

}  // namespace

size_t WriteJsonEscaped(char* out, std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  char* w = out;
  size_t i = 0;
#if defined(__SSE2__)
  // Store 16 bytes as they are, then keep the plain ones before the first
  // special and write its escape over the rest.
  while (i + 16 <= n) {
    const unsigned mask = SpecialMask16(p + i, nullptr);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(w), _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i)));
    if (mask == 0) {
      i += 16;
      w += 16;
      continue;
    }
    const auto plain = static_cast<size_t>(std::countr_zero(mask));
    const unsigned char c = p[i + plain];
    w += plain;
    if (c == '"' || c == '\\') {  // by far the most frequent: the escape is the byte itself
      w[0] = '\\';
      w[1] = static_cast<char>(c);
      w += 2;
    } else {
      w = WriteEscape(w, c);
    }
    i += plain + 1;
  }
#endif
  for (; i < n; ++i) {
    if (kExtra[p[i]] == 0) {
      *w++ = static_cast<char>(p[i]);
    } else {
      w = WriteEscape(w, p[i]);
    }
  }
  return static_cast<size_t>(w - out);
}

void AppendJsonEscaped(std::string* out, std::string_view s) {
  static const char kHex[] = "0123456789abcdef";
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  size_t run_start = 0;
  size_t i = 0;
  while (i < n) {
#if defined(__SSE2__)
    // Skip 16 plain bytes at a time, as JsonEscapedSize does.
    if (i + 16 <= n) {
      const unsigned mask = SpecialMask16(p + i, nullptr);
      if (mask == 0) {
        i += 16;
        continue;
      }
      i += static_cast<size_t>(std::countr_zero(mask));
    }
#endif
    const unsigned char c = p[i];
    if (kExtra[c] == 0) {
      ++i;
      continue;
    }
    out->append(s.data() + run_start, i - run_start);
    run_start = ++i;
    switch (c) {
      case '"': out->append("\\\""); break;
      case '\\': out->append("\\\\"); break;
      case '\b': out->append("\\b"); break;
      case '\f': out->append("\\f"); break;
      case '\n': out->append("\\n"); break;
      case '\r': out->append("\\r"); break;
      case '\t': out->append("\\t"); break;
      default: {
        char u[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xF]};
        out->append(u, 6);
      }
    }
  }
  out->append(s.data() + run_start, n - run_start);
}

void AppendJsonString(std::string* out, std::string_view s) {
  out->push_back('"');
  AppendJsonEscaped(out, s);
  out->push_back('"');
}

void JsonWriter::BeforeValue() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (!first_.empty()) {
    if (!first_.back()) out_.push_back(',');
    first_.back() = false;
  }
}

JsonWriter& JsonWriter::BeginObject() {
  BeforeValue();
  out_.push_back('{');
  first_.push_back(true);
  return *this;
}

JsonWriter& JsonWriter::EndObject() {
  out_.push_back('}');
  if (!first_.empty()) first_.pop_back();
  return *this;
}

JsonWriter& JsonWriter::BeginArray() {
  BeforeValue();
  out_.push_back('[');
  first_.push_back(true);
  return *this;
}

JsonWriter& JsonWriter::EndArray() {
  out_.push_back(']');
  if (!first_.empty()) first_.pop_back();
  return *this;
}

JsonWriter& JsonWriter::Key(std::string_view key) {
  BeforeValue();
  AppendJsonString(&out_, key);
  out_.push_back(':');
  after_key_ = true;
  return *this;
}

JsonWriter& JsonWriter::String(std::string_view value) {
  BeforeValue();
  AppendJsonString(&out_, value);
  return *this;
}

JsonWriter& JsonWriter::Int(int64_t value) {
  BeforeValue();
  out_ += std::to_string(value);
  return *this;
}

JsonWriter& JsonWriter::UInt(uint64_t value) {
  BeforeValue();
  out_ += std::to_string(value);
  return *this;
}

JsonWriter& JsonWriter::Bool(bool value) {
  BeforeValue();
  out_ += value ? "true" : "false";
  return *this;
}

JsonWriter& JsonWriter::Null() {
  BeforeValue();
  out_ += "null";
  return *this;
}

JsonWriter& JsonWriter::Raw(std::string_view json) {
  BeforeValue();
  out_.append(json);
  return *this;
}

}  // namespace tsync
