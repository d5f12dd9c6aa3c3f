// RuleSpec: one entry of the redaction catalogue, and CompiledRule, the RE2
// form the redactor runs.
//
// A rule is data: an RE2 pattern applied to *decoded* text (JSON string
// contents after unescaping, or plain metadata text), the capture group that
// is the secret, the keywords that must occur nearby for the rule to run at
// all, and optional guards for shapeless values (an entropy floor). The
// engine (redactor.h) decides where a rule runs; CompiledRule::FindAll only
// answers "where in this text are this rule's secrets".
// Thread-safety: a CompiledRule is immutable after Compile() and RE2 objects
// are safe to use from several threads at once.
#pragma once

#include <re2/re2.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace tsync::redact {

struct RuleSpec {
  /// Stable kebab-case id; it appears in markers: [REDACTED:<id>].
  std::string id;
  /// Provider or kind: "aws", "github", "private-key", "generic", ...
  std::string family;
  std::string description;
  /// RE2 syntax. Runs on decoded text; use (?i) for case-insensitive parts.
  std::string pattern;
  /// Lower-case, [a-z0-9_.=:-], at least 3 characters. The rule only runs on
  /// text in which one of them occurs (compared case-insensitively). They
  /// must be characters no JSON writer escapes, so they can be found in the
  /// raw line before anything is decoded.
  std::vector<std::string> keywords;
  /// Capture group that is the secret; 0 means the whole match.
  int secret_group = 0;
  /// Minimum Shannon entropy (bits per byte) of the secret; 0 disables.
  /// For values without a fixed shape (assignments, passwords in URLs).
  double min_entropy = 0;
  /// The value has no fixed shape (passwords, generic assignments): also
  /// skip values that look like code rather than secrets — identifiers in
  /// snake_case/camelCase/dotted form, type names (str, string, int, …),
  /// variable references.
  bool shapeless = false;
  /// The longest text a match can span, counted from its keyword. The
  /// redactor only searches near keyword hits (see redactor.h); 0 means the
  /// default, 1 KiB. Rules for long secrets (PEM blocks) set more.
  size_t max_match_bytes = 0;
};

/// A secret found in a text: bytes [begin, end).
struct Span {
  size_t begin = 0;
  size_t end = 0;
};

class CompiledRule {
 public:
  /// kConfig naming the rule when the pattern does not compile, the group
  /// does not exist, or a keyword breaks the keyword rules above.
  static Result<std::unique_ptr<CompiledRule>> Compile(const RuleSpec& spec);

  const RuleSpec& spec() const { return spec_; }
  const RE2& regex() const { return *regex_; }

  /// Appends the secret spans of the matches in `text`, each search going on
  /// from the previous secret's end (so secrets never overlap, while text a
  /// match took after its secret is searched again), skipping values that are
  /// placeholders, already-redacted markers, or below the entropy floor.
  void FindAll(std::string_view text, std::vector<Span>* out) const { FindAll(text, 0, text.size(), out); }
  /// The same, for matches inside text[begin, end): `\b` and `^` still see
  /// the bytes around the range, so a window never invents a boundary.
  void FindAll(std::string_view text, size_t begin, size_t end, std::vector<Span>* out) const;

  /// True when every match of the pattern begins with one of the rule's
  /// keywords (RE2's possible match range has a common prefix that starts
  /// with one, as for `\b(eyJ…`): a match can then only start at a keyword
  /// hit, and FindAt there replaces a search of the window around it.
  bool match_starts_at_keyword() const { return starts_at_keyword_; }
  /// Appends the secret span of the match that starts exactly at text[at]
  /// and ends by `end`, if there is one (same filters as FindAll).
  void FindAt(std::string_view text, size_t at, size_t end, std::vector<Span>* out) const;

 private:
  CompiledRule(RuleSpec spec, std::unique_ptr<RE2> regex, bool starts_at_keyword)
      : spec_(std::move(spec)), regex_(std::move(regex)), starts_at_keyword_(starts_at_keyword) {}

  /// One match from `pos` (anchored or not) within text[.., end); appends its
  /// secret span when it passes the filters and returns where the next
  /// search goes on, or npos when there was no match.
  size_t MatchFrom(std::string_view text, size_t pos, size_t end, RE2::Anchor anchor, std::vector<Span>* out) const;

  RuleSpec spec_;
  std::unique_ptr<RE2> regex_;
  bool starts_at_keyword_ = false;
};

/// Shannon entropy of the byte distribution of `s`, in bits per byte.
double ShannonEntropy(std::string_view s);

/// True for code-like values a shapeless rule must not take for a secret:
/// snake_case / camelCase / PascalCase / dotted identifiers, type names,
/// function calls and variable references.
bool LooksLikeCode(std::string_view value);

/// True for values that stand in for a secret rather than being one:
/// ${API_KEY}, {{ token }}, <your-token>, xxxx…, ****, your_api_key_here, a value
/// that is mostly one filler character (x X * . # 0 - _),
/// changeme, placeholder, example, redacted, an existing [REDACTED:…] marker.
bool IsPlaceholder(std::string_view value);

/// The marker text for a rule id.
std::string Marker(std::string_view rule_id);

}  // namespace tsync::redact
