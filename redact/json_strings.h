// JsonStrings: the string tokens of one JSON line, found without building a
// document, and decoding of one string with a map back to raw bytes.
//
// The redactor never re-serialises a line (that reorders keys, loses number
// precision and re-escapes text). It finds secrets in *decoded* string
// contents — so `\n` inside a PEM block, `\/` and `\u0041` escapes do not hide
// them — and replaces the corresponding *raw* bytes, leaving every other byte
// of the line as it was. Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tsync::redact {

struct JsonString {
  uint32_t raw_begin = 0;  // first byte after the opening quote
  uint32_t raw_end = 0;    // the closing quote
  bool is_key = false;
  bool has_escape = false;
  int32_t key = -1;        // for a value directly under an object key: that key's index
};

/// Appends the string tokens of `line` in order. Returns false when `line` is
/// not a single well-formed JSON object or array (the caller then treats it
/// as plain text); `out` is cleared in that case.
bool ScanJsonStrings(std::string_view line, std::vector<JsonString>* out);

/// A string's decoded contents. `raw_of[i]` is the raw offset (in the line)
/// where decoded byte i's escape or character begins; raw_of[size] is the
/// closing quote. Bytes of one multi-byte escape share its start.
struct DecodedString {
  std::string text;
  std::vector<uint32_t> raw_of;
};

/// Decodes `s` (which must have has_escape set; otherwise the raw bytes are
/// the text). Invalid escapes are kept literally; lone surrogates become
/// U+FFFD.
void DecodeJsonString(std::string_view line, const JsonString& s, DecodedString* out);

}  // namespace tsync::redact
