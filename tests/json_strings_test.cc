// DecodeJsonString's run map against the definition it replaces: a per-byte
// map where raw_of[i] is the raw offset at which decoded byte i's escape or
// character begins, raw_of[size] the closing quote, and the decoded position
// of a raw offset is std::lower_bound over that map (what Redactor used).
#include "redact/json_strings.h"

#include <algorithm>
#include <random>

#include <catch2/catch.hpp>

using tsync::redact::DecodedString;
using tsync::redact::DecodeJsonString;
using tsync::redact::JsonString;

namespace {

struct Reference {
  std::string text;
  std::vector<uint32_t> raw_of;
};

int Hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

int32_t U16(std::string_view line, size_t p, size_t end) {
  if (p + 6 > end || line[p + 1] != 'u') return -1;
  int32_t v = 0;
  for (size_t k = 2; k < 6; ++k) {
    if (Hex(line[p + k]) < 0) return -1;
    v = v * 16 + Hex(line[p + k]);
  }
  return v;
}

void PushUtf8(uint32_t cp, uint32_t raw, Reference* out) {
  std::string bytes;
  if (cp < 0x80) {
    bytes += static_cast<char>(cp);
  } else if (cp < 0x800) {
    bytes += static_cast<char>(0xC0 | (cp >> 6));
    bytes += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    bytes += static_cast<char>(0xE0 | (cp >> 12));
    bytes += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    bytes += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    bytes += static_cast<char>(0xF0 | (cp >> 18));
    bytes += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    bytes += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    bytes += static_cast<char>(0x80 | (cp & 0x3F));
  }
  for (char c : bytes) {
    out->text.push_back(c);
    out->raw_of.push_back(raw);
  }
}

// The decoder as it was, one byte at a time.
Reference DecodeReference(std::string_view line, size_t begin, size_t end) {
  Reference out;
  const std::string simple_from = "ntrbf\"\\/", simple_to = "\n\t\r\b\f\"\\/";
  size_t p = begin;
  while (p < end) {
    const auto at = static_cast<uint32_t>(p);
    if (line[p] != '\\' || p + 1 >= end) {
      out.text.push_back(line[p]);
      out.raw_of.push_back(at);
      ++p;
      continue;
    }
    if (size_t k = simple_from.find(line[p + 1]); k != std::string::npos) {
      out.text.push_back(simple_to[k]);
      out.raw_of.push_back(at);
      p += 2;
      continue;
    }
    int32_t u = U16(line, p, end);
    if (u < 0) {
      out.text.push_back('\\');
      out.raw_of.push_back(at);
      ++p;
      continue;
    }
    p += 6;
    auto cp = static_cast<uint32_t>(u);
    if (cp >= 0xD800 && cp <= 0xDBFF) {
      int32_t low = U16(line, p, end);
      if (low >= 0xDC00 && low <= 0xDFFF) {
        cp = 0x10000 + ((cp - 0xD800) << 10) + (static_cast<uint32_t>(low) - 0xDC00);
        p += 6;
      } else {
        cp = 0xFFFD;
      }
    } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
      cp = 0xFFFD;
    }
    PushUtf8(cp, at, &out);
  }
  out.raw_of.push_back(static_cast<uint32_t>(end));
  return out;
}

// Decodes `contents` placed in a line after `prefix` and checks text, RawOf
// at every decoded index and DecodedAt at every raw offset from the opening
// quote to one past the closing one against the reference. `out` is reused
// across calls, as Redactor reuses its storage.
void CheckAgainstReference(const std::string& prefix, const std::string& contents, DecodedString* out) {
  const std::string line = prefix + "\"" + contents + "\"}";
  const auto begin = static_cast<uint32_t>(prefix.size() + 1);
  const auto end = static_cast<uint32_t>(begin + contents.size());
  const JsonString s{begin, end, false, true, -1};
  DecodeJsonString(line, s, out);
  const Reference ref = DecodeReference(line, begin, end);
  INFO("contents (" << contents.size() << " bytes): " << contents.substr(0, 200));
  REQUIRE(out->text == ref.text);
  for (size_t i = 0; i < ref.raw_of.size(); ++i) {
    if (out->RawOf(i) != ref.raw_of[i]) FAIL("RawOf(" << i << ") is " << out->RawOf(i) << ", was " << ref.raw_of[i]);
  }
  for (size_t raw = begin - 1; raw <= end + 1; ++raw) {
    const auto want = static_cast<size_t>(std::lower_bound(ref.raw_of.begin(), ref.raw_of.end(), raw) - ref.raw_of.begin());
    if (out->DecodedAt(raw) != want) FAIL("DecodedAt(" << raw << ") is " << out->DecodedAt(raw) << ", was " << want);
  }
  // The runs: both offsets strictly increase and end at (size, closing quote).
  REQUIRE(!out->anchors.empty());
  for (size_t a = 1; a < out->anchors.size(); ++a) {
    REQUIRE(out->anchors[a].decoded > out->anchors[a - 1].decoded);
    REQUIRE(out->anchors[a].raw > out->anchors[a - 1].raw);
  }
  CHECK(out->anchors.back().decoded == out->text.size());
  CHECK(out->anchors.back().raw == end);
}

// Pieces of string contents: every escape kind, valid and broken \u forms,
// multi-byte UTF-8 and plain text.
const std::vector<std::string>& Pieces() {
  static const std::vector<std::string> pieces = {
      "a", "Z", " ", "\"", "{", "é", "€", "😀", "\xff",  // raw bytes, including a stray quote and invalid UTF-8
      R"(\n)", R"(\t)", R"(\r)", R"(\b)", R"(\f)", R"(\")", R"(\\)", R"(\/)",
      R"(\u0041)", R"(\u00e9)", R"(\u00E9)", R"(\u20ac)", R"(\u0000)", R"(\u007f)", R"(\u0080)", R"(\u07ff)",
      R"(\u0800)", R"(\uffff)", R"(\uFFFD)",
      R"(\ud83d\ude00)", R"(\uD83D\uDE00)", R"(\udbff\udfff)", R"(\ud800\udc00)",  // surrogate pairs
      R"(\ud83d)", R"(\ude00)", R"(\ude00\ud83d)", R"(\ud83d\ud83d)", R"(\ud83d\u0041)", R"(\ud83d\u12G4)",
      R"(\ud83d\n)", R"(\ud83d\)",  // lone, reversed and broken surrogates
      R"(\x)", R"(\q)", R"(\U0041)", R"(\u12)", R"(\uZZZZ)", R"(\u12G4)", R"(\u)", R"(\ )", R"(\é)",  // invalid
      R"(\\u0041)", R"(\\\n)",  // an escaped backslash before what looks like an escape
      "\\",                   // a lone backslash (an escape of what follows, or kept at the end)
  };
  return pieces;
}

std::string RandomContents(std::mt19937_64& rng) {
  const auto& pieces = Pieces();
  std::string s;
  const size_t count = rng() % 40;
  for (size_t i = 0; i < count; ++i) {
    switch (rng() % 8) {
      case 0: {  // a literal run, now and then a long one
        const size_t n = rng() % 16 == 0 ? 1 + rng() % 5000 : 1 + rng() % 40;
        for (size_t k = 0; k < n; ++k) s.push_back(static_cast<char>('a' + rng() % 26));
        break;
      }
      case 1:  // a run of escapes
        for (size_t k = rng() % 10; k > 0; --k) s += pieces[9 + rng() % 8];
        break;
      default:
        s += pieces[rng() % pieces.size()];
        break;
    }
  }
  return s;
}

}  // namespace

TEST_CASE("DecodeJsonString run map agrees with the per-byte map on hand-picked strings", "[redact][json_strings]") {
  DecodedString out;
  std::vector<std::string> cases = {"", "\\", "a\\", "\\\\", "\\\\\\", R"(\u)", R"(\ud800)", R"(\ud800\udc00)",
                                    R"(\udc00\ud800)", R"(\ud800\u)", R"(\ud800\udc0)", R"(abc\ndef)", R"(\n\n\n)",
                                    R"(\u0041\u0042)", "\\\"\\\"", R"(ab\xcd\)", std::string(70000, 'x') + "\\n"};
  for (const std::string& p : Pieces()) {
    cases.push_back(p);
    cases.push_back("ab" + p);
    cases.push_back(p + "cd");
    cases.push_back(p + p);
    cases.push_back("x" + p + "\\");
  }
  for (const std::string& c : cases) {
    CheckAgainstReference("", c, &out);
    CheckAgainstReference(R"({"key":)", c, &out);
  }
}

TEST_CASE("DecodeJsonString run map agrees with the per-byte map on random strings", "[redact][json_strings]") {
  std::mt19937_64 rng(20261121);
  DecodedString out;
  for (int i = 0; i < 3000; ++i) {
    std::string prefix(rng() % 20, ' ');
    CheckAgainstReference(R"({"k":)" + prefix, RandomContents(rng), &out);
  }
}

TEST_CASE("DecodeJsonString keeps one run per escape", "[redact][json_strings]") {
  // A 1 MB tool output with a newline every 80 bytes: the per-byte map took
  // 4 MB; runs take one anchor per line.
  std::string contents;
  while (contents.size() < (1u << 20)) contents += std::string(78, 'x') + R"(\n)";
  DecodedString out;
  const std::string line = "{\"s\":\"" + contents + "\"}";
  DecodeJsonString(line, JsonString{6, static_cast<uint32_t>(6 + contents.size()), false, true, -1}, &out);
  const size_t escapes = contents.size() / 80;
  CHECK(out.anchors.size() == escapes + 2);  // and the first run's, and the closing quote's
  CHECK(out.RawOf(78) == 6 + 78);
  CHECK(out.RawOf(79) == 6 + 80);
  CHECK(out.DecodedAt(6 + 79) == 79);  // the 'n' of the escape: the next decoded byte
}
