#include "config/json_error_location.h"

#include <cctype>
#include <cstring>
#include <vector>

#include "base/utf8.h"

namespace tsync::config {
namespace {

// What the scanner expects next; containers are tracked on an explicit stack.
enum class Want { kValue, kValueOrClose, kKeyOrClose, kKey, kColon, kCommaOrClose, kDone };

struct Failure {
  size_t offset;
  std::string what;
};

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Scans a string starting at the opening quote; returns the offset after the
// closing quote.
std::optional<Failure> ScanString(std::string_view t, size_t* i) {
  size_t start = *i;
  for (size_t p = start + 1; p < t.size(); ++p) {
    auto c = static_cast<unsigned char>(t[p]);
    if (c == '"') {
      *i = p + 1;
      return std::nullopt;
    }
    if (c < 0x20) return Failure{p, "control character inside a string (write \\n or \\t instead)"};
    if (c != '\\') continue;
    if (++p >= t.size()) break;
    if (t[p] == 'u') {
      for (int k = 1; k <= 4; ++k) {
        if (p + k >= t.size() || !std::isxdigit(static_cast<unsigned char>(t[p + k]))) {
          return Failure{p, "\\u must be followed by four hex digits"};
        }
      }
      p += 4;
    } else if (std::strchr("\"\\/bfnrt", t[p]) == nullptr || t[p] == '\0') {
      return Failure{p - 1, "invalid escape sequence in a string"};
    }
  }
  return Failure{start, "string is never closed (missing '\"')"};
}

std::optional<Failure> ScanNumber(std::string_view t, size_t* i) {
  size_t p = *i;
  if (t[p] == '-') ++p;
  if (p >= t.size() || !IsDigit(t[p])) return Failure{p, "invalid number"};
  if (t[p] == '0') {
    ++p;
  } else {
    while (p < t.size() && IsDigit(t[p])) ++p;
  }
  if (p < t.size() && t[p] == '.') {
    if (++p >= t.size() || !IsDigit(t[p])) return Failure{p, "invalid number: digits must follow '.'"};
    while (p < t.size() && IsDigit(t[p])) ++p;
  }
  if (p < t.size() && (t[p] == 'e' || t[p] == 'E')) {
    ++p;
    if (p < t.size() && (t[p] == '+' || t[p] == '-')) ++p;
    if (p >= t.size() || !IsDigit(t[p])) return Failure{p, "invalid number: digits must follow the exponent"};
    while (p < t.size() && IsDigit(t[p])) ++p;
  }
  *i = p;
  return std::nullopt;
}

// One scalar or the opening of a container.
std::optional<Failure> ScanValue(std::string_view t, size_t* i, std::vector<char>* stack, Want* want) {
  char c = t[*i];
  if (c == '{' || c == '[') {
    stack->push_back(c);
    *want = c == '{' ? Want::kKeyOrClose : Want::kValueOrClose;
    ++*i;
    return std::nullopt;
  }
  std::optional<Failure> f;
  if (c == '"') {
    f = ScanString(t, i);
  } else if (c == '-' || IsDigit(c)) {
    f = ScanNumber(t, i);
  } else {
    bool matched = false;
    for (const char* word : {"true", "false", "null"}) {
      if (t.substr(*i, std::strlen(word)) == word) {
        *i += std::strlen(word);
        matched = true;
      }
    }
    if (!matched) {
      return Failure{*i, "expected a value (string, number, object, array, true, false or null)"};
    }
  }
  *want = stack->empty() ? Want::kDone : Want::kCommaOrClose;
  return f;
}

std::optional<Failure> Close(size_t* i, std::vector<char>* stack, Want* want) {
  stack->pop_back();
  ++*i;
  *want = stack->empty() ? Want::kDone : Want::kCommaOrClose;
  return std::nullopt;
}

std::optional<Failure> Step(std::string_view t, size_t* i, std::vector<char>* stack, Want* want) {
  char c = t[*i];
  switch (*want) {
    case Want::kValueOrClose:
      if (c == ']') return Close(i, stack, want);
      return ScanValue(t, i, stack, want);
    case Want::kValue: return ScanValue(t, i, stack, want);
    case Want::kKeyOrClose:
      if (c == '}') return Close(i, stack, want);
      [[fallthrough]];
    case Want::kKey:
      if (c != '"') return Failure{*i, "expected a field name in double quotes"};
      *want = Want::kColon;
      return ScanString(t, i);
    case Want::kColon:
      if (c != ':') return Failure{*i, "expected ':' after the field name"};
      *want = Want::kValue;
      ++*i;
      return std::nullopt;
    case Want::kCommaOrClose: {
      char close = stack->back() == '{' ? '}' : ']';
      if (c == close) return Close(i, stack, want);
      if (c != ',') return Failure{*i, std::string("expected ',' or '") + close + "'"};
      *want = stack->back() == '{' ? Want::kKey : Want::kValue;
      ++*i;
      return std::nullopt;
    }
    case Want::kDone: return Failure{*i, "unexpected text after the end of the JSON value"};
  }
  return std::nullopt;
}

std::optional<Failure> FindFailure(std::string_view t) {
  std::vector<char> stack;
  Want want = Want::kValue;
  size_t i = 0;
  while (true) {
    while (i < t.size() && IsSpace(t[i])) ++i;
    if (i >= t.size()) {
      if (want == Want::kDone) return std::nullopt;
      return Failure{t.size(), stack.empty() ? "the document is empty" : "unexpected end of file (missing '}' or ']')"};
    }
    std::optional<Failure> f = Step(t, &i, &stack, &want);
    if (f) return f;
  }
}

// simdjson also rejects malformed UTF-8; report the first line holding it.
std::optional<Failure> FindBadUtf8(std::string_view t) {
  size_t start = 0;
  while (start <= t.size()) {
    size_t end = t.find('\n', start);
    if (end == std::string_view::npos) end = t.size();
    if (!IsValidUtf8(t.substr(start, end - start))) return Failure{start, "bytes that are not valid UTF-8"};
    start = end + 1;
  }
  return std::nullopt;
}

}  // namespace

std::optional<JsonSyntaxError> LocateJsonError(std::string_view text) {
  std::optional<Failure> f = FindFailure(text);
  if (!f) f = FindBadUtf8(text);
  if (!f) return std::nullopt;
  JsonSyntaxError err;
  err.what = std::move(f->what);
  for (size_t p = 0; p < f->offset && p < text.size(); ++p) {
    if (text[p] == '\n') {
      ++err.line;
      err.column = 1;
    } else {
      ++err.column;
    }
  }
  return err;
}

}  // namespace tsync::config
