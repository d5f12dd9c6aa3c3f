// KeywordScan against the definition it replaces: at each position, left to
// right, the longest keyword starting there (ASCII case ignored) is a hit and
// the scan resumes after it.
#include "redact/keyword_scan.h"

#include <random>

#include <catch2/catch.hpp>

#include "redact/catalogue.h"

using tsync::redact::KeywordScan;

namespace {

char Lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; }

// The definition, one position at a time.
std::vector<KeywordScan::Hit> Reference(const std::vector<std::string>& words, std::string_view text) {
  std::vector<KeywordScan::Hit> hits;
  for (size_t i = 0; i < text.size();) {
    int best = -1;
    for (size_t w = 0; w < words.size(); ++w) {
      const std::string& word = words[w];
      if (word.size() > text.size() - i) continue;
      bool eq = true;
      for (size_t k = 0; k < word.size() && eq; ++k) eq = Lower(text[i + k]) == Lower(word[k]);
      if (eq && (best < 0 || word.size() > words[static_cast<size_t>(best)].size())) best = static_cast<int>(w);
    }
    if (best < 0) {
      ++i;
      continue;
    }
    const auto size = static_cast<uint32_t>(words[static_cast<size_t>(best)].size());
    hits.push_back({i, static_cast<uint32_t>(best), size});
    i += size;
  }
  return hits;
}

std::vector<KeywordScan::Hit> Scan(const KeywordScan& scan, std::string_view text) {
  std::vector<KeywordScan::Hit> hits;
  scan.Scan(text, &hits);
  return hits;
}

void CheckSame(const std::vector<KeywordScan::Hit>& got, const std::vector<KeywordScan::Hit>& want) {
  REQUIRE(got.size() == want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    CHECK(got[i].pos == want[i].pos);
    CHECK(got[i].word == want[i].word);
    CHECK(got[i].size == want[i].size);
  }
}

}  // namespace

TEST_CASE("KeywordScan finds keywords case-insensitively, longest first, without overlaps", "[redact][keyword_scan]") {
  const std::vector<std::string> words = {"sk-", "sk-ant-", "token", "AKIA", "ant"};
  KeywordScan scan(words);
  auto hits = Scan(scan, "x sk-ant-api03 SK-x akia1 Tokens");
  REQUIRE(hits.size() == 4);
  CHECK(hits[0].pos == 2);
  CHECK(hits[0].word == 1);  // "sk-ant-", not "sk-" and not the "ant" inside it
  CHECK(hits[1].pos == 15);
  CHECK(hits[1].word == 0);
  CHECK(hits[2].pos == 20);
  CHECK(hits[2].word == 3);
  CHECK(hits[3].pos == 26);
  CHECK(hits[3].size == 5);
}

TEST_CASE("KeywordScan sees keywords at the very end and in texts shorter than its probe", "[redact][keyword_scan]") {
  KeywordScan scan({"key", "pass"});
  CHECK(Scan(scan, "key").size() == 1);
  CHECK(Scan(scan, "ke").empty());
  CHECK(Scan(scan, "").empty());
  auto hits = Scan(scan, "a_KEY");
  REQUIRE(hits.size() == 1);
  CHECK(hits[0].pos == 2);
  hits = Scan(scan, "xxPASS");
  REQUIRE(hits.size() == 1);
  CHECK(hits[0].pos == 2);
}

TEST_CASE("KeywordScan handles keywords under three bytes, and bytes outside ASCII", "[redact][keyword_scan]") {
  KeywordScan scan({"x", "ab", "abc", "\xc3\xa9t\xc3\xa9"});
  CheckSame(Scan(scan, "ABCD xab a\xc3\xa9t\xc3\xa9 X"), Reference({"x", "ab", "abc", "\xc3\xa9t\xc3\xa9"},
                                                                  "ABCD xab a\xc3\xa9t\xc3\xa9 X"));
  // Folding touches ASCII letters only: '_' (0x5F) is not DEL (0x7F), '@' is not '`'.
  KeywordScan under({"a_b", "x@y"});
  CHECK(Scan(under, "a\x7f" "b x`y").empty());
  CHECK(Scan(under, "A_B X@Y").size() == 2);
}

TEST_CASE("KeywordScan equals the position-by-position definition on random text", "[redact][keyword_scan]") {
  std::mt19937 rng(20261121);
  // A small alphabet makes keywords, their prefixes and overlaps frequent.
  const std::string alphabet = "abkeyKEYsSt-_ \"\\\x7f@`";
  for (int round = 0; round < 200; ++round) {
    std::vector<std::string> words;
    const int count = 1 + static_cast<int>(rng() % 12);
    for (int w = 0; w < count; ++w) {
      std::string word;
      const size_t len = 1 + rng() % 6;
      for (size_t k = 0; k < len; ++k) word += alphabet[rng() % alphabet.size()];
      bool dup = false;
      for (const std::string& o : words) {
        if (o.size() == word.size() && std::equal(o.begin(), o.end(), word.begin(),
                                                  [](char a, char b) { return Lower(a) == Lower(b); })) {
          dup = true;
        }
      }
      if (!dup) words.push_back(word);
    }
    KeywordScan scan(words);
    std::string text;
    const size_t n = rng() % 300;
    for (size_t k = 0; k < n; ++k) text += alphabet[rng() % alphabet.size()];
    INFO("round " << round);
    CheckSame(Scan(scan, text), Reference(words, text));
  }
}

TEST_CASE("KeywordScan with the built-in catalogue's keywords equals the definition", "[redact][keyword_scan]") {
  std::vector<std::string> words;
  for (const auto& rule : tsync::redact::BuiltinRules()) {
    for (const std::string& k : rule.keywords) {
      if (std::find(words.begin(), words.end(), k) == words.end()) words.push_back(k);
    }
  }
  REQUIRE(words.size() > 100);
  KeywordScan scan(words);
  std::mt19937 rng(7);
  std::string text;
  for (int i = 0; i < 4000; ++i) {
    // Keywords in mixed case among filler, so hits are dense.
    const std::string& w = words[rng() % words.size()];
    for (char c : w) text += (rng() % 2) ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c;
    text += " xy"[rng() % 3];
    text += "abcdefghijklmnopqrstuvwxyz"[rng() % 26];
  }
  const auto got = Scan(scan, text);
  CHECK(got.size() > 3000);
  CheckSame(got, Reference(words, text));
}

namespace {

// A random text of `length` bytes from keyword fragments (whole words, their
// prefixes and suffixes, in random case) and random bytes, NUL and 0x80-0xFF
// included; in some texts a whole keyword ends the text.
std::string RandomText(std::mt19937& rng, const std::vector<std::string>& words, size_t length) {
  std::string text;
  while (text.size() < length) {
    const std::string& w = words[rng() % words.size()];
    std::string piece;
    switch (rng() % 6) {
      case 0:
      case 1: piece = w; break;
      case 2: piece = w.substr(0, rng() % w.size()); break;
      case 3: piece = w.substr(rng() % w.size()); break;
      case 4: piece = std::string(1, "_\x7f@`[{ \"\\"[rng() % 9]); break;
      default: piece = std::string(1, static_cast<char>(rng() % 256)); break;
    }
    for (char& c : piece) {
      if (rng() % 2) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    text += piece;
  }
  text.resize(length);
  if (rng() % 4 == 0) {
    const std::string& w = words[rng() % words.size()];
    if (w.size() <= length) text.replace(length - w.size(), w.size(), w);
  }
  return text;
}

// Random keyword sets: `min_size` and up, bytes drawn from a few letters
// (so words share prefixes and overlap), '_' and DEL, NUL and 0xE9.
std::vector<std::string> RandomWords(std::mt19937& rng, size_t min_size) {
  const std::string alphabet("abkeyST_\x7f\0\xe9", 11);
  std::vector<std::string> words;
  const size_t count = 1 + rng() % 40;
  while (words.size() < count) {
    std::string word;
    const size_t size = min_size + rng() % 8;
    for (size_t k = 0; k < size; ++k) word += alphabet[rng() % alphabet.size()];
    bool dup = false;
    for (const std::string& o : words) {
      dup = dup || (o.size() == word.size() && std::equal(o.begin(), o.end(), word.begin(),
                                                          [](char a, char b) { return Lower(a) == Lower(b); }));
    }
    if (!dup) words.push_back(word);
  }
  return words;
}

}  // namespace

TEST_CASE("KeywordScan equals the definition on random texts of keyword fragments and any bytes",
          "[redact][keyword_scan]") {
  std::vector<std::string> builtin;
  for (const auto& rule : tsync::redact::BuiltinRules()) {
    for (const std::string& k : rule.keywords) {
      if (std::find(builtin.begin(), builtin.end(), k) == builtin.end()) builtin.push_back(k);
    }
  }
  std::mt19937 rng(20260826);
  for (int round = 0; round < 1200; ++round) {
    // The built-in set; random sets of three bytes and more (the pair
    // filter); random sets with words of one and two bytes (every position).
    const int kind = round % 3;
    const std::vector<std::string> words = kind == 0 ? builtin : RandomWords(rng, kind == 1 ? 3 : 1);
    KeywordScan scan(words);
    for (int t = 0; t < 10; ++t) {
      // Mostly 0..100 bytes (shorter than a block and its reach, or just
      // longer), sometimes several blocks.
      const size_t length = t < 8 ? rng() % 101 : rng() % 400;
      const std::string text = RandomText(rng, words, length);
      INFO("round " << round << " text " << t << " length " << length);
      CheckSame(Scan(scan, text), Reference(words, text));
    }
  }
}
