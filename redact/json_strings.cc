#include "redact/json_strings.h"

#include <algorithm>
#include <cstring>

namespace tsync::redact {

namespace {

// Index of the closing quote of the string whose contents start at `i`, or
// npos when it is unterminated. Sets *escaped when the string has a backslash.
size_t StringEnd(std::string_view line, size_t i, bool* escaped) {
  const char* base = line.data();
  const size_t n = line.size();
  const size_t start = i;
  for (;;) {
    const void* q = std::memchr(base + i, '"', n - i);
    if (q == nullptr) return std::string_view::npos;
    size_t quote = static_cast<size_t>(static_cast<const char*>(q) - base);
    size_t k = quote;
    while (k > i && base[k - 1] == '\\') --k;
    if (((quote - k) & 1) == 0) {  // an even run of backslashes: a real closing quote
      *escaped = std::memchr(base + start, '\\', quote - start) != nullptr;
      return quote;
    }
    i = quote + 1;
  }
}

}  // namespace

bool ScanJsonStrings(std::string_view line, std::vector<JsonString>* out) {
  out->clear();
  if (line.size() > UINT32_MAX) return false;
  // One entry per open container: whether it is an object, and for objects
  // whether the next string is a key, and the index of the current key.
  struct Frame {
    bool object;
    bool expect_key;
    int32_t key;
  };
  std::vector<Frame> stack;
  bool started = false;
  for (size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    switch (c) {
      case '{':
      case '[':
        if (started && stack.empty()) return out->clear(), false;
        started = true;
        stack.push_back({c == '{', c == '{', -1});
        break;
      case '}':
      case ']':
        if (stack.empty() || stack.back().object != (c == '}')) return out->clear(), false;
        stack.pop_back();
        break;
      case ',':
        if (stack.empty()) return out->clear(), false;
        if (stack.back().object) stack.back().expect_key = true;
        break;
      case ':':
        if (stack.empty() || !stack.back().object) return out->clear(), false;
        stack.back().expect_key = false;
        break;
      case '"': {
        if (stack.empty()) return out->clear(), false;
        bool escaped = false;
        size_t end = StringEnd(line, i + 1, &escaped);
        if (end == std::string_view::npos) return out->clear(), false;
        Frame& f = stack.back();
        JsonString s{static_cast<uint32_t>(i + 1), static_cast<uint32_t>(end), f.object && f.expect_key, escaped, -1};
        if (s.is_key) {
          f.key = static_cast<int32_t>(out->size());
        } else if (f.object) {
          s.key = f.key;
        }
        out->push_back(s);
        i = end;
        break;
      }
      default:
        // Numbers, literals and whitespace carry no strings; anything but
        // whitespace before or after the top-level value means this is not
        // one JSON document.
        if (stack.empty() && c != ' ' && c != '\t' && c != '\r' && c != '\n') return out->clear(), false;
        break;
    }
  }
  if (!started || !stack.empty()) return out->clear(), false;
  return true;
}

namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Reads \uXXXX at p (p points at the backslash); -1 when malformed.
int32_t ReadU16(std::string_view line, size_t p, size_t end) {
  if (p + 6 > end || line[p + 1] != 'u') return -1;
  int32_t v = 0;
  for (size_t k = 2; k < 6; ++k) {
    int h = HexValue(line[p + k]);
    if (h < 0) return -1;
    v = v * 16 + h;
  }
  return v;
}

void AppendUtf8(uint32_t cp, std::string* out) {
  char buf[4];
  size_t n;
  if (cp < 0x80) {
    buf[0] = static_cast<char>(cp);
    n = 1;
  } else if (cp < 0x800) {
    buf[0] = static_cast<char>(0xC0 | (cp >> 6));
    buf[1] = static_cast<char>(0x80 | (cp & 0x3F));
    n = 2;
  } else if (cp < 0x10000) {
    buf[0] = static_cast<char>(0xE0 | (cp >> 12));
    buf[1] = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    buf[2] = static_cast<char>(0x80 | (cp & 0x3F));
    n = 3;
  } else {
    buf[0] = static_cast<char>(0xF0 | (cp >> 18));
    buf[1] = static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    buf[2] = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    buf[3] = static_cast<char>(0x80 | (cp & 0x3F));
    n = 4;
  }
  out->append(buf, n);
}

char SimpleEscape(char c) {
  switch (c) {
    case 'n': return '\n';
    case 't': return '\t';
    case 'r': return '\r';
    case 'b': return '\b';
    case 'f': return '\f';
    case '"': return '"';
    case '\\': return '\\';
    case '/': return '/';
    default: return 0;
  }
}

// Builds a DecodedString run by run: the raw bytes are consumed in order, so
// a run starts at each escape, and literal bytes extend the current run.
class DecodedBuilder {
 public:
  DecodedBuilder(std::string_view line, DecodedString* out) : line_(line), out_(out) {
    out_->text.clear();
    out_->anchors.clear();
  }

  void Literal(size_t raw_begin, size_t raw_end) {
    if (raw_begin == raw_end) return;
    if (out_->anchors.empty()) Anchor(raw_begin);
    out_->text.append(line_.data() + raw_begin, raw_end - raw_begin);
  }
  void Escape(size_t raw_begin, uint32_t code_point) {
    Anchor(raw_begin);
    AppendUtf8(code_point, &out_->text);
  }
  void Finish(size_t closing_quote) { Anchor(closing_quote); }

 private:
  void Anchor(size_t raw) {
    out_->anchors.push_back({static_cast<uint32_t>(out_->text.size()), static_cast<uint32_t>(raw)});
  }

  std::string_view line_;
  DecodedString* out_;
};

// The escape heading the run from `run` to `next`, in raw and decoded
// bytes; {0, 0} for a run of literal bytes only.
struct Head {
  size_t raw;
  size_t decoded;
};
Head HeadOf(const DecodedString::Anchor& run, const DecodedString::Anchor& next) {
  switch ((next.raw - run.raw) - (next.decoded - run.decoded)) {
    case 1: return {2, 1};   // \n, \" ...
    case 5: return {6, 1};   // \u0041
    case 4: return {6, 2};   // \u00e9
    case 3: return {6, 3};   // \u20ac, and a lone surrogate as U+FFFD
    case 8: return {12, 4};  // a surrogate pair
    default: return {0, 0};
  }
}

}  // namespace

void DecodeJsonString(std::string_view line, const JsonString& s, DecodedString* out) {
  DecodedBuilder b(line, out);
  out->text.reserve(s.raw_end - s.raw_begin);  // decoding never lengthens
  size_t p = s.raw_begin;
  const size_t end = s.raw_end;
  while (p < end) {
    const void* bs = std::memchr(line.data() + p, '\\', end - p);
    const size_t at = bs ? static_cast<size_t>(static_cast<const char*>(bs) - line.data()) : end;
    b.Literal(p, at);
    p = at;
    if (p == end) break;
    if (p + 1 == end) {  // a backslash just before the end: kept
      b.Literal(p, end);
      break;
    }
    if (char simple = SimpleEscape(line[p + 1])) {
      b.Escape(p, static_cast<unsigned char>(simple));
      p += 2;
      continue;
    }
    int32_t u = ReadU16(line, p, end);
    if (u < 0) {  // not a valid escape: keep the backslash literally
      b.Literal(p, p + 1);
      ++p;
      continue;
    }
    const size_t escape = p;
    p += 6;
    uint32_t cp = static_cast<uint32_t>(u);
    if (cp >= 0xD800 && cp <= 0xDBFF) {
      int32_t low = ReadU16(line, p, end);
      if (low >= 0xDC00 && low <= 0xDFFF) {
        cp = 0x10000 + ((cp - 0xD800) << 10) + (static_cast<uint32_t>(low) - 0xDC00);
        p += 6;
      } else {
        cp = 0xFFFD;
      }
    } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
      cp = 0xFFFD;
    }
    b.Escape(escape, cp);
  }
  b.Finish(end);
}

size_t DecodedString::RawOf(size_t decoded) const {
  // The run holding `decoded`: the last anchor at or before it.
  auto next = std::upper_bound(anchors.begin(), anchors.end(), decoded,
                               [](size_t d, const Anchor& a) { return d < a.decoded; });
  const Anchor& run = *(next - 1);
  if (next == anchors.end()) return run.raw;  // the closing quote
  const Head head = HeadOf(run, *next);
  const size_t into = decoded - run.decoded;
  return into < head.decoded ? run.raw : run.raw + head.raw + (into - head.decoded);
}

size_t DecodedString::DecodedAt(size_t raw) const {
  // The first run starting at or after `raw`; the run before it may reach
  // `raw` in its tail. Its head maps wholly below `raw`.
  auto next = std::lower_bound(anchors.begin(), anchors.end(), raw, [](const Anchor& a, size_t r) { return a.raw < r; });
  if (next == anchors.end()) return text.size() + 1;  // past the closing quote
  if (next == anchors.begin()) return next->decoded;
  const Anchor& run = *(next - 1);
  const Head head = HeadOf(run, *next);
  const size_t into = raw - run.raw;
  return run.decoded + head.decoded + (into > head.raw ? into - head.raw : 0);
}

}  // namespace tsync::redact
