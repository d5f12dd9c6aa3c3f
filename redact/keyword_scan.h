// KeywordScan: finds ASCII-case-insensitive keywords in text, leftmost-longest
// and without overlaps, the way one RE2 alternation with longest_match would —
// several times faster.
//
// Every redaction rule is gated by keywords, so this scan runs over every byte
// that leaves the machine; it was the redactor's largest cost as an RE2 DFA.
// Hits are rare, so nearly all the time goes into rejecting positions. That is
// done 64 positions at a time by a filter on byte pairs: one load per position
// from a 64 KiB table, indexed by the raw pair (case variants share flags),
// says which slots of which keyword group the pair can fill. Three-byte
// keywords form one group with two slots (bytes 0-1 and 1-2); longer keywords
// form two groups (keywords with the same first pair in the same group) with
// three slots (bytes 0-1, 1-2 and 2-3). A position is a candidate only when
// the pairs at it and the next two fill every slot of one group; combining
// the flags is byte logic, 16 positions at a time with SSE2 (scalar without
// it). On transcript text about 1.3% of positions pass (the first byte alone
// would pass 62%, the first pair 17%). Only those, and not inside the last
// hit, are checked against the keywords in their bucket (a hash of the first
// three bytes; longest first): a masked compare of eight folded bytes rejects
// most, an exact compare decides. Keywords shorter than three bytes are
// outside the filter: with any of them, every position is checked.
//
// Thread-safety: immutable after construction; Scan() is reentrant.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tsync::redact {

class KeywordScan {
 public:
  /// `words` must be non-empty strings; case is ignored (ASCII only), and
  /// duplicates (after folding) are an error of the caller.
  explicit KeywordScan(std::vector<std::string> words);

  struct Hit {
    size_t pos;
    uint32_t word;  // index into the constructor's `words`
    uint32_t size;
  };
  /// Appends to `hits` the leftmost-longest, non-overlapping keyword matches:
  /// scanning left to right, the longest keyword starting at a position wins
  /// and the scan resumes after it.
  void Scan(std::string_view text, std::vector<Hit>* hits) const;

 private:
  struct Candidate {
    uint64_t head;       // first bytes (up to eight), folded, as Head() loads them
    uint64_t head_mask;  // the bytes of `head` that belong to the word
    uint32_t word;
    uint32_t size;
  };
  bool LongestAt(const unsigned char* p, size_t left, Hit* hit) const;
  bool LongestFrom3(const unsigned char* p, size_t left, Hit* hit) const;
  void FillFlags(const unsigned char* q, uint8_t* flags) const;
  size_t Step(const unsigned char* p, size_t i, size_t n, std::vector<Hit>* hits) const;
  void ScanShort(std::string_view text, size_t pos, std::vector<Hit>* hits) const;

  std::vector<std::string> words_;            // folded to lower case
  std::vector<uint8_t> pair_flags_;           // per raw byte pair: the slots it can fill
  std::vector<uint32_t> bucket_begin_;        // per hash: range in candidates_
  std::vector<Candidate> candidates_;         // grouped by hash, longest word first
  bool short_first_[256] = {};                // first bytes of words under 3 bytes
  std::vector<uint32_t> short_words_;         // those words, longest first
};

}  // namespace tsync::redact
