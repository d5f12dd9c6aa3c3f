// Redactor: removes secrets from transcript lines and metadata text before
// anything leaves the machine.
//
// How a line is processed (one pass, linear in its length):
//  1) a keyword scan of the raw line (redact/keyword_scan.h: every rule
//     keyword and the secret-key-name fragments, case-insensitive). No hit:
//     the line is returned as it is — byte-identical, no copy.
//  2) a JSON line is split into its string tokens (redact/json_strings.h); a
//     line that is not JSON is one plain-text segment.
//  3) each rule runs only on the strings its keywords hit, on the *decoded*
//     text; a string value whose key is secret-named (redact/key_names.h) is
//     redacted whole unless it is empty or a placeholder. A string holding a
//     JSON document is searched the same way, recursively (bounded).
//  4) secret spans are mapped back to raw bytes and replaced by
//     [REDACTED:<rule-id>]. Nothing else changes: key order, numbers and
//     escapes stay, and a JSON line stays valid JSON with the same structure.
// Markers are never matched again, so redacting twice equals redacting once.
// Memory: every rule is a single RE2 object (no
// RE2::Set, whose out-of-memory is reported only through its error info and
// would read as "no match"); when an RE2 DFA exhausts its budget RE2 falls
// back to its NFA, so a result is slower, never missing.
// Compilation: Create() compiles the keyword scan and every rule it is given
// (so a bad custom rule is reported before anything runs); CreateDefault()
// compiles its built-in rules lazily instead, each the first time one of its
// keywords hits, because building all of them took ~22 ms of CPU on every
// process start (53% of a one-line re-save, bench/save_bench.cc) while a
// typical line wakes only a few. Built-in rules are known to compile
// (tests/catalogue_test.cc compiles every one).
// Thread-safety: logically immutable after Create(); Redact*() may run on
// any number of threads at once (a lazy rule is compiled once, under its
// std::once_flag).
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "redact/keyword_scan.h"
#include "redact/rule.h"

namespace tsync::redact {

/// A rule over JSON key names: a string value under a matching key is
/// redacted whole with the rule's id (config `redaction.rules[].key_pattern`).
struct KeyRuleSpec {
  std::string id;
  std::string key_pattern;  // RE2, matched against the whole raw key name
};

/// The id used for values of secret-named JSON keys.
inline constexpr std::string_view kJsonSecretFieldRule = "json-secret-field";

struct RedactResult {
  std::string_view input;  // what was redacted (not owned)
  std::string owned;       // the redacted copy, when anything fired
  /// Ids of the rules whose spans were replaced, one entry per span.
  std::vector<std::string_view> fired;

  bool changed() const { return !fired.empty(); }
  /// The result: `input` itself when nothing fired (no copy), else `owned`.
  std::string_view text() const { return changed() ? std::string_view(owned) : input; }
};

class Redactor {
 public:
  /// Compiles `rules` (and `key_rules`). kConfig naming the rule on any
  /// invalid rule: callers must not upload without a working redactor.
  static Result<std::unique_ptr<Redactor>> Create(std::vector<RuleSpec> rules,
                                                  std::vector<KeyRuleSpec> key_rules = {});
  /// The built-in catalogue plus `custom` rules.
  static Result<std::unique_ptr<Redactor>> CreateDefault(std::vector<RuleSpec> custom = {},
                                                         std::vector<KeyRuleSpec> custom_key_rules = {});
  ~Redactor();

  /// One transcript line (without its newline). JSON lines are redacted
  /// inside their strings; other lines as plain text. `result.text()` may
  /// point into `line`, which must outlive it. Redaction runs to a fixed
  /// point: redacting the result again changes nothing.
  RedactResult RedactLine(std::string_view line) const;

  /// Plain text (summaries, first user message): never parsed as JSON.
  RedactResult RedactText(std::string_view text) const;

  size_t rule_count() const { return rules_.size(); }

 private:
  struct Keyword;
  class Segments;
  class LazyRule;
  /// A rule to run on a string because one of its keywords hit at raw_pos.
  struct Candidate {
    uint32_t string;
    uint32_t rule;
    size_t raw_pos;
    bool operator<(const Candidate& o) const {
      return string != o.string ? string < o.string : rule != o.rule ? rule < o.rule : raw_pos < o.raw_pos;
    }
    bool operator==(const Candidate& o) const = default;
  };
  static constexpr uint32_t kNoRule = UINT32_MAX;
  static constexpr size_t kLookback = 128;
  static constexpr size_t kDefaultMaxMatch = 1024;
  Redactor() = default;
  /// Create() with rules_[0, lazy_count) compiled on first use (built-in,
  /// known-good rules) and the rest compiled and checked now.
  static Result<std::unique_ptr<Redactor>> Build(std::vector<RuleSpec> rules, size_t lazy_count,
                                                 std::vector<KeyRuleSpec> key_rules);
  struct RawSpan;
  /// Passes of RedactOnce until one finds nothing: a marker changes its
  /// surroundings (a word boundary after its ']', a search window that now
  /// reaches further, a line that became JSON), which can bring a secret
  /// into sight. Each pass turns at least one byte outside markers into a
  /// marker, so this ends; lines with nothing to redact take one pass.
  RedactResult Redact(std::string_view text, bool try_json) const;
  RedactResult RedactOnce(std::string_view text, bool try_json) const;
  /// Secret spans of `text` in its own byte offsets. A string whose decoded
  /// contents are themselves a JSON document (a tool result holding `cat
  /// config.json`) is searched as JSON again, up to kMaxNesting levels.
  void FindSpans(std::string_view text, bool try_json, int depth, std::vector<RawSpan>* spans) const;
  static constexpr int kMaxNesting = 3;
  void SearchNearHits(const CompiledRule& rule, std::string_view decoded, const Segments& segments, uint32_t s,
                      const std::vector<Candidate>& candidates, size_t from, size_t to, std::vector<Span>* found) const;
  void CollectHits(std::string_view text, std::vector<std::pair<size_t, const Keyword*>>* hits) const;

  std::vector<std::unique_ptr<LazyRule>> rules_;
  std::vector<std::pair<std::string, std::unique_ptr<RE2>>> key_rules_;
  std::unique_ptr<KeywordScan> keyword_scan_;
  // Per keyword of the scan: the rules it gates (and whether it is a key-name
  // fragment); includes the rules of every keyword it contains.
  std::vector<std::unique_ptr<Keyword>> keywords_;
};

/// The bytes of the markers `result` wrote, one per fired span: an upper
/// bound on the marker bytes its text holds.
size_t MarkerBytes(const RedactResult& result);

/// `redacted` cut to at most `max_bytes` for a length-limited field: at a
/// UTF-8 boundary, and before a [REDACTED:<rule-id>] marker the cut would
/// split, so a reader sees a marker whole or not at all, never a fragment
/// that reads as text.
std::string_view CutRedacted(std::string_view redacted, size_t max_bytes);

/// A git remote URL safe to send: `https://user:token@host/x` -> `https://host/x`.
std::string StripUrlUserinfo(std::string_view url);

}  // namespace tsync::redact
