#include "redact/keyword_scan.h"

#include <algorithm>
#include <bit>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace tsync::redact {

namespace {

// Candidate buckets, by a hash of the first three bytes: ~200 distinct
// trigrams start the built-in keywords, so 4096 buckets keep them apart while
// the index stays small (16 KiB).
constexpr int kHashBits = 12;
constexpr size_t kBuckets = size_t{1} << kHashBits;
// ASCII letters differ from their capitals only in bit 0x20. Setting it in
// every byte folds case; it also merges some non-letters ('_' and DEL, '@'
// and '`'), which costs only a rare extra compare: the folded bytes are a
// hint, EqualsFolded compares exactly.
constexpr uint32_t kFoldBits = 0x00202020;
constexpr uint64_t kFoldBits8 = 0x2020202020202020;

// Flags of a byte pair in pair_flags_ (see the header): which slot of which
// group of keywords the pair can fill. The layout suits Complete(): a slot's
// flag, shifted right by its byte offset times the number of groups of its
// kind, lands on its group's flag for bytes 0-1.
constexpr uint8_t kShortAt0 = 0x01;  // three-byte keywords, bytes 0-1
constexpr uint8_t kShortAt1 = 0x02;  //                      bytes 1-2
constexpr uint8_t kLongAt0 = 0x04;   // longer keywords, group g: kLongAt0 << g
constexpr uint8_t kLongAt1 = 0x10;   //   bytes 1-2
constexpr uint8_t kLongAt2 = 0x40;   //   bytes 2-3
constexpr int kLongGroups = 2;

// Positions per block of the filter (one bit each in a mask), and the bytes a
// block reads: its pairs reach two positions past the block, and the last
// pair one byte further.
constexpr size_t kBlock = 64;
constexpr size_t kBlockReach = kBlock + 3;

unsigned char Lower(unsigned char c) { return c >= 'A' && c <= 'Z' ? static_cast<unsigned char>(c + 32) : c; }
unsigned char Upper(unsigned char c) { return c >= 'a' && c <= 'z' ? static_cast<unsigned char>(c - 32) : c; }

uint32_t Fold3(const unsigned char* p) {
  return (uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16) | kFoldBits;
}

uint32_t Hash(uint32_t folded) { return (folded * 0x9E3779B1u) >> (32 - kHashBits); }

// The pair at p as an index into pair_flags_: first byte low.
uint32_t Pair(const unsigned char* p) { return uint32_t{p[0]} | uint32_t{p[1]} << 8; }

// Up to the first eight bytes at p (zeros past `left`), folded: compared
// under a mask with a keyword's head, it rejects most candidates sharing the
// first three bytes ("sessionId" against "session_token") in one compare.
uint64_t Head(const unsigned char* p, size_t left) {
  uint64_t v = 0;
  if (left >= sizeof v) {
    std::memcpy(&v, p, sizeof v);
  } else {
    std::memcpy(&v, p, left);
  }
  return v | kFoldBits8;
}

bool EqualsFolded(const unsigned char* p, std::string_view word) {
  for (size_t i = 0; i < word.size(); ++i) {
    if (Lower(p[i]) != static_cast<unsigned char>(word[i])) return false;
  }
  return true;
}

#if !defined(__SSE2__)
// Non-zero when the flags of the pairs at k, k+1 and k+2 complete a group:
// the three-byte group needs its two slots, a longer group its three.
uint8_t Complete(uint8_t a, uint8_t b, uint8_t c) {
  const auto b_slots = static_cast<uint8_t>((b >> 1 & kShortAt0) | (b >> 2 & (kLongAt0 * 3)));
  const auto c_slots = static_cast<uint8_t>((c >> 4 & (kLongAt0 * 3)) | kShortAt0);
  return static_cast<uint8_t>(a & b_slots & c_slots);
}
#endif

}  // namespace

KeywordScan::KeywordScan(std::vector<std::string> words) : words_(std::move(words)) {
  for (std::string& w : words_) {
    for (char& c : w) c = static_cast<char>(Lower(static_cast<unsigned char>(c)));
  }
  pair_flags_.assign(size_t{1} << 16, 0);
  auto set_pair = [this](const std::string& w, size_t at, uint8_t flag) {
    const auto x = static_cast<unsigned char>(w[at]);
    const auto y = static_cast<unsigned char>(w[at + 1]);
    for (unsigned char cx : {x, Upper(x)}) {
      for (unsigned char cy : {y, Upper(y)}) pair_flags_[uint32_t{cx} | uint32_t{cy} << 8] |= flag;
    }
  };
  // Longer keywords sharing their first pair share a group, so that pair sets
  // flags in one group only; groups alternate over the sorted first pairs.
  // Two groups pass 1.3% of transcript positions, one group would pass 2.3%.
  std::vector<std::string> first_pairs;
  for (const std::string& w : words_) {
    if (w.size() > 3) first_pairs.push_back(w.substr(0, 2));
  }
  std::sort(first_pairs.begin(), first_pairs.end());
  first_pairs.erase(std::unique(first_pairs.begin(), first_pairs.end()), first_pairs.end());

  struct Entry {
    uint32_t hash;
    Candidate candidate;
  };
  std::vector<Entry> entries;
  for (uint32_t i = 0; i < words_.size(); ++i) {
    const std::string& w = words_[i];
    const auto* p = reinterpret_cast<const unsigned char*>(w.data());
    if (w.size() < 3) {
      if (!w.empty()) {
        short_first_[p[0]] = true;
        short_first_[Upper(p[0])] = true;
        short_words_.push_back(i);
      }
      continue;
    }
    if (w.size() == 3) {
      set_pair(w, 0, kShortAt0);
      set_pair(w, 1, kShortAt1);
    } else {
      const auto rank = std::lower_bound(first_pairs.begin(), first_pairs.end(), w.substr(0, 2)) - first_pairs.begin();
      const int group = static_cast<int>(rank % kLongGroups);
      set_pair(w, 0, static_cast<uint8_t>(kLongAt0 << group));
      set_pair(w, 1, static_cast<uint8_t>(kLongAt1 << group));
      set_pair(w, 2, static_cast<uint8_t>(kLongAt2 << group));
    }
    Candidate cand{0, 0, i, static_cast<uint32_t>(w.size())};
    const size_t head_size = std::min(w.size(), sizeof cand.head);
    std::memcpy(&cand.head, p, head_size);
    std::memset(&cand.head_mask, 0xFF, head_size);
    cand.head = (cand.head | kFoldBits8) & cand.head_mask;
    entries.push_back({Hash(Fold3(p)), cand});
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
  if (left >= 3 && LongestFrom3(p, left, hit)) return true;
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

// LongestAt among the keywords of three bytes or more; `left` >= 3.
bool KeywordScan::LongestFrom3(const unsigned char* p, size_t left, Hit* hit) const {
  const uint64_t head = Head(p, left);
  const uint32_t h = Hash(Fold3(p));
  for (uint32_t c = bucket_begin_[h]; c < bucket_begin_[h + 1]; ++c) {
    const Candidate& cand = candidates_[c];
    if ((head & cand.head_mask) == cand.head && cand.size <= left && EqualsFolded(p, words_[cand.word])) {
      *hit = {0, cand.word, cand.size};
      return true;
    }
  }
  return false;
}

// The flags of the pairs at q[0, kBlock + 2): reads q[0, kBlockReach). This
// is most of the scan's time: two loads and a store per position.
void KeywordScan::FillFlags(const unsigned char* q, uint8_t* flags) const {
  const uint8_t* table = pair_flags_.data();
  if constexpr (std::endian::native == std::endian::little) {
    // Seven pairs from one 8-byte load: fewer loads beat fewer shifts.
    for (size_t k = 0; k < kBlock; k += 8) {
      uint64_t x;
      std::memcpy(&x, q + k, sizeof x);
      flags[k] = table[x & 0xFFFF];
      flags[k + 1] = table[x >> 8 & 0xFFFF];
      flags[k + 2] = table[x >> 16 & 0xFFFF];
      flags[k + 3] = table[x >> 24 & 0xFFFF];
      flags[k + 4] = table[x >> 32 & 0xFFFF];
      flags[k + 5] = table[x >> 40 & 0xFFFF];
      flags[k + 6] = table[x >> 48 & 0xFFFF];
      flags[k + 7] = table[Pair(q + k + 7)];
    }
  } else {
    for (size_t k = 0; k < kBlock; ++k) flags[k] = table[Pair(q + k)];
  }
  flags[kBlock] = table[Pair(q + kBlock)];
  flags[kBlock + 1] = table[Pair(q + kBlock + 1)];
}

namespace {

// Bit k set when the flags at k, k + 1 and k + 2 complete a group: a keyword
// of three bytes or more may start at k.
uint64_t FlagsToCandidates(const uint8_t* flags) {
  uint64_t mask = 0;
#if defined(__SSE2__)
  // Complete() on 16 positions at a time; the 16-bit shifts move bits across
  // bytes only where the byte masks then clear them.
  const __m128i one = _mm_set1_epi8(kShortAt0);
  const __m128i long_slots = _mm_set1_epi8(kLongAt0 * 3);
  const __m128i zero = _mm_setzero_si128();
  for (size_t k = 0; k < kBlock; k += 16) {
    const __m128i a = _mm_load_si128(reinterpret_cast<const __m128i*>(flags + k));
    const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(flags + k + 1));
    const __m128i c = _mm_loadu_si128(reinterpret_cast<const __m128i*>(flags + k + 2));
    const __m128i b_slots =
        _mm_or_si128(_mm_and_si128(_mm_srli_epi16(b, 1), one), _mm_and_si128(_mm_srli_epi16(b, 2), long_slots));
    const __m128i c_slots = _mm_or_si128(_mm_and_si128(_mm_srli_epi16(c, 4), long_slots), one);
    const __m128i done = _mm_and_si128(a, _mm_and_si128(b_slots, c_slots));
    const auto none = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(done, zero)));
    mask |= uint64_t{~none & 0xFFFFu} << k;
  }
#else
  for (size_t k = 0; k < kBlock; ++k) mask |= uint64_t{Complete(flags[k], flags[k + 1], flags[k + 2]) != 0} << k;
#endif
  return mask;
}

}  // namespace

void KeywordScan::Scan(std::string_view text, std::vector<Hit>* hits) const {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  if (!short_words_.empty()) return ScanShort(text, 0, hits);
  size_t next = 0;  // where the scan resumes: the end of the last hit
  auto visit = [&](uint64_t mask, size_t base) {
    for (; mask != 0; mask &= mask - 1) {
      const size_t i = base + static_cast<size_t>(std::countr_zero(mask));
      Hit hit;
      if (i < next || n - i < 3 || !LongestFrom3(p + i, n - i, &hit)) continue;
      hit.pos = i;
      hits->push_back(hit);
      next = i + hit.size;
    }
  };
  // Flags are filled one block ahead, so the 16-byte loads of a block's flags
  // do not wait on its byte stores (measured a few percent faster).
  alignas(16) uint8_t flags[2][kBlock + 16];
  size_t base = 0;
  int cur = 0;
  if (kBlockReach <= n) FillFlags(p, flags[cur]);
  for (; base + kBlockReach <= n; base += kBlock) {
    if (base + kBlock + kBlockReach <= n) FillFlags(p + base + kBlock, flags[cur ^ 1]);
    visit(FlagsToCandidates(flags[cur]), base);
    cur ^= 1;
  }
  // The last (up to 66) positions: the blocks read a zero-padded copy. The
  // padding can only add candidates, and the check reads the text itself.
  unsigned char tail[kBlock + kBlockReach] = {};
  if (n > base) std::memcpy(tail, p + base, n - base);
  for (size_t b = 0; base + b < n; b += kBlock) {
    FillFlags(tail + b, flags[0]);
    uint64_t mask = FlagsToCandidates(flags[0]);
    const size_t left = n - base - b;
    if (left < kBlock) mask &= (uint64_t{1} << left) - 1;
    visit(mask, base + b);
  }
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

// Every position from `pos` through the full check: for sets with keywords
// under three bytes, which the pair filter does not cover.
void KeywordScan::ScanShort(std::string_view text, size_t pos, std::vector<Hit>* hits) const {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  for (size_t i = pos; i < n;) i += Step(p, i, n, hits);
}

}  // namespace tsync::redact
