#include "redact/keyword_scan.h"

#include <algorithm>
#include <bit>
#include <cstring>

namespace tsync::redact {

namespace {

constexpr int kHashBits = 16;
constexpr size_t kBuckets = size_t{1} << kHashBits;
// ASCII letters differ from their capitals only in bit 0x20. Setting it in
// every byte folds case; it also merges some non-letters ('_' and DEL, '@'
// and '`'), which costs only a rare extra check: the filter is a hint, the
// check compares exactly.
constexpr uint32_t kFoldBits = 0x00202020;
constexpr uint32_t kTrigramMask = 0x00FFFFFF;
constexpr uint32_t kFoldBits4 = 0x20202020;

unsigned char Lower(unsigned char c) { return c >= 'A' && c <= 'Z' ? static_cast<unsigned char>(c + 32) : c; }

uint32_t Fold3(const unsigned char* p) {
  return (uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16) | kFoldBits;
}

// The next four bytes as one little-endian word (one load).
uint32_t Load4(const unsigned char* p) {
  uint32_t v;
  std::memcpy(&v, p, sizeof v);
  if constexpr (std::endian::native == std::endian::big) v = __builtin_bswap32(v);
  return v;
}

uint32_t Hash(uint32_t folded) { return (folded * 0x9E3779B1u) >> (32 - kHashBits); }
// Another multiplier for four bytes, so the two filters do not collide alike.
uint32_t Hash4(uint32_t folded) { return (folded * 0x85EBCA77u) >> (32 - kHashBits); }

bool Test(const std::vector<uint64_t>& filter, uint32_t h) { return (filter[h / 64] >> (h % 64) & 1) != 0; }
void Set(std::vector<uint64_t>* filter, uint32_t h) { (*filter)[h / 64] |= uint64_t{1} << (h % 64); }

bool EqualsFolded(const unsigned char* p, std::string_view word) {
  for (size_t i = 0; i < word.size(); ++i) {
    if (Lower(p[i]) != static_cast<unsigned char>(word[i])) return false;
  }
  return true;
}

}  // namespace

KeywordScan::KeywordScan(std::vector<std::string> words) : words_(std::move(words)) {
  for (std::string& w : words_) {
    for (char& c : w) c = static_cast<char>(Lower(static_cast<unsigned char>(c)));
  }
  filter3_.assign(kBuckets / 64, 0);
  filter4_.assign(kBuckets / 64, 0);
  struct Entry {
    uint32_t hash;
    Candidate candidate;
  };
  std::vector<Entry> entries;
  for (uint32_t i = 0; i < words_.size(); ++i) {
    const auto* p = reinterpret_cast<const unsigned char*>(words_[i].data());
    if (words_[i].size() < 3) {
      if (!words_[i].empty()) {
        short_first_[p[0]] = true;
        short_first_[p[0] >= 'a' && p[0] <= 'z' ? p[0] - 32 : p[0]] = true;
        short_words_.push_back(i);
      }
      continue;
    }
    const uint32_t folded = Fold3(p);
    const uint32_t h = Hash(folded);
    if (words_[i].size() == 3) {
      Set(&filter3_, h);
    } else {
      Set(&filter4_, Hash4(Load4(p) | kFoldBits4));
    }
    entries.push_back({h, {folded, i}});
  }
  auto longer = [this](uint32_t a, uint32_t b) { return words_[a].size() > words_[b].size(); };
  std::sort(short_words_.begin(), short_words_.end(), longer);
  // Grouped by hash, longest word first within a group.
  std::sort(entries.begin(), entries.end(), [&](const Entry& x, const Entry& y) {
    return x.hash != y.hash ? x.hash < y.hash : longer(x.candidate.word, y.candidate.word);
  });
  bucket_begin_.assign(kBuckets + 1, 0);
  for (const Entry& e : entries) ++bucket_begin_[e.hash + 1];
  for (size_t h = 0; h < kBuckets; ++h) bucket_begin_[h + 1] += bucket_begin_[h];
  candidates_.reserve(entries.size());
  for (const Entry& e : entries) candidates_.push_back(e.candidate);
}

bool KeywordScan::LongestAt(const unsigned char* p, size_t left, Hit* hit) const {
  if (left >= 3) {
    const uint32_t folded = Fold3(p);
    const uint32_t h = Hash(folded);
    for (uint32_t c = bucket_begin_[h]; c < bucket_begin_[h + 1]; ++c) {
      const Candidate& cand = candidates_[c];
      const std::string& w = words_[cand.word];
      if (cand.folded == folded && w.size() <= left && EqualsFolded(p, w)) {
        *hit = {0, cand.word, static_cast<uint32_t>(w.size())};
        return true;
      }
    }
  }
  if (short_first_[p[0]]) {
    for (uint32_t i : short_words_) {
      const std::string& w = words_[i];
      if (w.size() <= left && EqualsFolded(p, w)) {
        *hit = {0, i, static_cast<uint32_t>(w.size())};
        return true;
      }
    }
  }
  return false;
}

void KeywordScan::Scan(std::string_view text, std::vector<Hit>* hits) const {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  if (!short_words_.empty()) return ScanShort(text, 0, hits);
  size_t i = 0;
  // The hot loop: one load, two multiplies and two bit tests per byte.
  while (i + 4 <= n) {
    const uint32_t v = Load4(p + i);
    if (!Test(filter4_, Hash4(v | kFoldBits4)) && !Test(filter3_, Hash((v & kTrigramMask) | kFoldBits))) {
      ++i;
      continue;
    }
    i += Step(p, i, n, hits);
  }
  ScanShort(text, i, hits);
}

// The full check at `i`: records the longest keyword there and returns how
// far the scan moves on (past the keyword, or one byte).
size_t KeywordScan::Step(const unsigned char* p, size_t i, size_t n, std::vector<Hit>* hits) const {
  Hit hit;
  if (!LongestAt(p + i, n - i, &hit)) return 1;
  hit.pos = i;
  hits->push_back(hit);
  return hit.size;
}

// Every position from `pos`, through the full check (the tail, and sets with
// keywords under three bytes).
void KeywordScan::ScanShort(std::string_view text, size_t pos, std::vector<Hit>* hits) const {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  for (size_t i = pos; i < n;) i += Step(p, i, n, hits);
}

}  // namespace tsync::redact
