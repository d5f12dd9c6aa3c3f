#include "redact/json_strings.h"

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

void AppendUtf8(uint32_t cp, uint32_t raw, DecodedString* out) {
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
  out->text.append(buf, n);
  out->raw_of.insert(out->raw_of.end(), n, raw);
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

}  // namespace

void DecodeJsonString(std::string_view line, const JsonString& s, DecodedString* out) {
  out->text.clear();
  out->raw_of.clear();
  out->text.reserve(s.raw_end - s.raw_begin);
  out->raw_of.reserve(s.raw_end - s.raw_begin + 1);
  size_t p = s.raw_begin;
  const size_t end = s.raw_end;
  while (p < end) {
    const uint32_t at = static_cast<uint32_t>(p);
    char c = line[p];
    if (c != '\\' || p + 1 >= end) {
      out->text.push_back(c);
      out->raw_of.push_back(at);
      ++p;
      continue;
    }
    if (char simple = SimpleEscape(line[p + 1])) {
      out->text.push_back(simple);
      out->raw_of.push_back(at);
      p += 2;
      continue;
    }
    int32_t u = ReadU16(line, p, end);
    if (u < 0) {  // not a valid escape: keep the backslash literally
      out->text.push_back(c);
      out->raw_of.push_back(at);
      ++p;
      continue;
    }
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
    AppendUtf8(cp, at, out);
  }
  out->raw_of.push_back(static_cast<uint32_t>(end));
}

}  // namespace tsync::redact
