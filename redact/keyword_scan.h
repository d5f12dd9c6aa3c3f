// KeywordScan: finds ASCII-case-insensitive keywords in text, leftmost-longest
// and without overlaps, the way one RE2 alternation with longest_match would —
// several times faster.
//
// Every redaction rule is gated by keywords, so this scan runs over every byte
// that leaves the machine; it was the redactor's largest cost as an RE2 DFA.
// Here each position costs two table probes: the position's next four bytes,
// case-folded, hashed into a 64 Ki-bit filter holding the first four bytes of
// every keyword of four bytes or more, and its next three bytes into one
// holding the three-byte keywords (four bytes pass about a third as many
// positions as three would: "ent" starts "entra" and much English). Only
// positions that pass are checked against the keywords sharing those three
// bytes (longest first). Keywords shorter than three bytes are checked at
// every position whose first byte can start one.
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
    uint32_t folded;  // first three bytes, folded (or fewer, for short words)
    uint32_t word;
  };
  bool LongestAt(const unsigned char* p, size_t left, Hit* hit) const;
  size_t Step(const unsigned char* p, size_t i, size_t n, std::vector<Hit>* hits) const;
  void ScanShort(std::string_view text, size_t pos, std::vector<Hit>* hits) const;

  std::vector<std::string> words_;            // folded to lower case
  std::vector<uint64_t> filter4_;             // bit per hash of a folded 4-byte prefix
  std::vector<uint64_t> filter3_;             // the same for 3-byte keywords
  std::vector<uint32_t> bucket_begin_;        // per hash: range in candidates_
  std::vector<Candidate> candidates_;         // grouped by hash, longest word first
  bool short_first_[256] = {};                // first bytes of words under 3 bytes
  std::vector<uint32_t> short_words_;         // those words, longest first
};

}  // namespace tsync::redact
