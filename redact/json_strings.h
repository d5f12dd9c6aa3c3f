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

/// A string's decoded contents, and where each decoded byte came from in the
/// raw line:
/// 1) RawOf(i) is the raw offset (in the line) where decoded byte i's escape
///    or character begins; RawOf(size) is the closing quote. Bytes of one
///    multi-byte escape (a \uXXXX giving 3 UTF-8 bytes, a surrogate pair
///    giving 4) share its start. RawOf never decreases.
/// 2) DecodedAt(raw) is the smallest decoded index whose RawOf is >= raw
///    (text.size() + 1 past the closing quote): the decoded position of a
///    keyword found in the raw line.
struct DecodedString {
  std::string text;

  size_t RawOf(size_t decoded) const;
  size_t DecodedAt(size_t raw) const;

  /// Where each run of decoded bytes starts. A run is at most one escape
  /// (its head: every byte it gives maps to the escape's start) followed by
  /// literal bytes (its tail: raw and decoded advance together); only the
  /// first run can lack a head. What a head is follows from the next
  /// anchor: each kind of escape takes a different number of raw bytes more
  /// than it gives (\n: 2 for 1, \u00e9: 6 for 2, a surrogate pair: 12
  /// for 4 ...). The last anchor is (size, closing quote); both offsets
  /// strictly increase. So a string costs 8 bytes per escape, where a
  /// per-byte map cost 4 per decoded byte (a 4 MB allocation, page-faulted
  /// as it filled, for a 1 MB tool output).
  struct Anchor {
    uint32_t decoded;
    uint32_t raw;
  };
  std::vector<Anchor> anchors;
};

/// Decodes `s` (which must have has_escape set; otherwise the raw bytes are
/// the text) into `out`, reusing its storage. Invalid escapes, and a
/// backslash just before the closing quote, are kept literally; lone
/// surrogates become U+FFFD.
void DecodeJsonString(std::string_view line, const JsonString& s, DecodedString* out);

}  // namespace tsync::redact
