#include "redact/rule.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <string>

namespace tsync::redact {

namespace {

// Characters no JSON writer escapes, so a keyword is found in the raw line.
bool IsKeywordChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-' || c == '=' || c == ':';
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool AllOf(std::string_view s, bool (*pred)(char)) {
  for (char c : s) {
    if (!pred(c)) return false;
  }
  return !s.empty();
}

bool IsLowerOrDigit(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool IsAlnum(char c) { return IsLowerOrDigit(c) || (c >= 'A' && c <= 'Z'); }
bool IsIdentChar(char c) { return IsAlnum(c) || c == '_'; }

}  // namespace

Result<std::unique_ptr<CompiledRule>> CompiledRule::Compile(const RuleSpec& spec) {
  auto fail = [&spec](const std::string& why) {
    return Status::Config("redaction rule '" + spec.id + "': " + why);
  };
  if (spec.id.empty()) return Status::Config("a redaction rule has no id");
  if (spec.keywords.empty()) return fail("needs at least one keyword");
  for (const std::string& k : spec.keywords) {
    if (k.size() < 3) return fail("keyword '" + k + "' is shorter than 3 characters");
    for (char c : k) {
      if (!IsKeywordChar(c)) return fail("keyword '" + k + "' may only use lower-case a-z, 0-9, '_', '.', '-', '=', ':'");
    }
  }
  RE2::Options options;
  options.set_log_errors(false);
  options.set_max_mem(64 << 20);
  auto regex = std::make_unique<RE2>(spec.pattern, options);
  if (!regex->ok()) return fail("pattern does not compile: " + regex->error());
  if (spec.secret_group < 0 || spec.secret_group > regex->NumberOfCapturingGroups()) {
    return fail("secret group " + std::to_string(spec.secret_group) + " does not exist in the pattern");
  }
  // Every anchored match m has min <= m <= max, so it begins with their
  // common prefix; case-folded patterns ("(?i)") have none.
  bool starts_at_keyword = false;
  std::string min, max;
  if (regex->PossibleMatchRange(&min, &max, 16)) {
    size_t common = 0;
    while (common < min.size() && common < max.size() && min[common] == max[common]) ++common;
    std::string prefix = min.substr(0, common);
    for (char& c : prefix) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    for (const std::string& k : spec.keywords) starts_at_keyword = starts_at_keyword || prefix.starts_with(k);
  }
  return std::unique_ptr<CompiledRule>(new CompiledRule(spec, std::move(regex), starts_at_keyword));
}

size_t CompiledRule::MatchFrom(std::string_view text, size_t pos, size_t end, RE2::Anchor anchor,
                               std::vector<Span>* out) const {
  const int groups = spec_.secret_group + 1;
  std::array<re2::StringPiece, 10> local;
  std::vector<re2::StringPiece> heap;
  re2::StringPiece* m = local.data();
  if (groups > static_cast<int>(local.size())) {
    heap.resize(static_cast<size_t>(groups));
    m = heap.data();
  }
  const re2::StringPiece input(text.data(), text.size());
  if (pos > end || !regex_->Match(input, pos, end, anchor, m, groups)) return std::string_view::npos;
  size_t match_end = static_cast<size_t>(m[0].data() - text.data()) + m[0].size();
  const re2::StringPiece& secret = m[spec_.secret_group];
  if (secret.data() != nullptr && !secret.empty()) {
    // Go on from the secret's end, not the match's: what a pattern matches
    // after the secret (a YAML comment to the end of the line) may hold
    // another one, which a second pass would otherwise find.
    match_end = static_cast<size_t>(secret.data() - text.data()) + secret.size();
    std::string_view value(secret.data(), secret.size());
    bool skip = IsPlaceholder(value) || (spec_.min_entropy > 0 && ShannonEntropy(value) < spec_.min_entropy) ||
                (spec_.shapeless && LooksLikeCode(value));
    if (!skip) {
      size_t begin = static_cast<size_t>(secret.data() - text.data());
      out->push_back(Span{begin, begin + secret.size()});
    }
  }
  // Empty matches must still make progress.
  return match_end > pos ? match_end : pos + 1;
}

void CompiledRule::FindAll(std::string_view text, size_t begin, size_t end, std::vector<Span>* out) const {
  end = std::min(end, text.size());
  for (size_t pos = begin; pos != std::string_view::npos;) pos = MatchFrom(text, pos, end, RE2::UNANCHORED, out);
}

void CompiledRule::FindAt(std::string_view text, size_t at, size_t end, std::vector<Span>* out) const {
  MatchFrom(text, at, std::min(end, text.size()), RE2::ANCHOR_START, out);
}

double ShannonEntropy(std::string_view s) {
  if (s.empty()) return 0;
  std::array<uint32_t, 256> counts{};
  for (unsigned char c : s) ++counts[c];
  double h = 0;
  const double n = static_cast<double>(s.size());
  for (uint32_t c : counts) {
    if (c == 0) continue;
    double p = c / n;
    h -= p * std::log2(p);
  }
  return h;
}

bool LooksLikeCode(std::string_view v) {
  if (v.empty()) return true;
  static constexpr std::array<std::string_view, 18> kTypeWords = {
      "str", "string", "int", "integer", "bool", "boolean", "none", "null", "nil", "true",
      "false", "undefined", "any", "optional", "required", "text", "number", "bytes"};
  std::string lower = Lower(v);
  for (std::string_view w : kTypeWords) {
    if (lower == w) return true;
  }
  // Variable references, calls, subscripts and optional chains:
  // $VAR, process.env.X, os.getenv(...), f(x), cfg["k"], a?.b, a!.b
  if (v[0] == '$' || v.back() == ')' || v.back() == ']' || v.find("process.env") != std::string_view::npos ||
      v.find("?.") != std::string_view::npos || v.find("!.") != std::string_view::npos) {
    return true;
  }
  // kebab-case words are deliberately not code here: "correct-horse-battery"
  // is a passphrase with exactly the shape of "task-management-service", and
  // a leaked password costs more than a redacted identifier.
  if (!AllOf(v, [](char c) { return IsIdentChar(c) || c == '.'; })) return false;
  if (v.find('.') != std::string_view::npos) {
    // dotted path of identifiers: settings.DB_PASSWORD, config.api.key
    return (v[0] < '0' || v[0] > '9') && v.front() != '.' && v.back() != '.';
  }
  const bool has_underscore = v.find('_') != std::string_view::npos;
  bool has_lower = false, has_upper = false, has_digit = false;
  for (char c : v) {
    has_lower |= c >= 'a' && c <= 'z';
    has_upper |= c >= 'A' && c <= 'Z';
    has_digit |= c >= '0' && c <= '9';
  }
  if (has_underscore && !has_digit) return true;                  // snake_case, SCREAMING_CASE
  if (has_lower && has_upper && !has_digit && !has_underscore) {  // camelCase / PascalCase words
    // A word boundary at every capital: no two capitals in a row.
    for (size_t i = 1; i < v.size(); ++i) {
      if (v[i] >= 'A' && v[i] <= 'Z' && v[i - 1] >= 'A' && v[i - 1] <= 'Z') return false;
    }
    return true;
  }
  return false;
}

bool IsPlaceholder(std::string_view v) {
  if (v.find("[REDACTED:") != std::string_view::npos || v.find("REDACTED") != std::string_view::npos) return true;
  if (v.size() >= 2 && ((v.front() == '<' && v.back() == '>') || (v.front() == '{' && v.back() == '}'))) return true;
  if (v.starts_with("${") || v.starts_with("{{") || v.starts_with("%(") || v.starts_with("$(")) return true;
  // A filler character repeated over half the value (xxxxxxxx, ********,
  // 00000000, ghp_XXXXXXXX…). Only conventional filler counts: a real key's
  // shape filled with letters (sk-ant-api03-AAAA…) is still treated as a key.
  auto filler = [](char c) { return c == 'x' || c == 'X' || c == '*' || c == '.' || c == '#' || c == '0' || c == '-' || c == '_'; };
  size_t run = 0, best = 0;
  for (size_t i = 0; i < v.size(); ++i) {
    run = filler(v[i]) && (i == 0 || v[i] == v[i - 1]) ? run + 1 : (filler(v[i]) ? 1 : 0);
    if (run > best) best = run;
  }
  if (v.size() >= 4 && best * 2 >= v.size()) return true;
  // Masks made of multi-byte bullets: ••••••••, ●●●●, ∗∗∗∗
  for (std::string_view bullet : {"\u2022\u2022\u2022", "\u25cf\u25cf\u25cf", "\u2217\u2217\u2217"}) {
    if (v.find(bullet) != std::string_view::npos) return true;
  }
  std::string lower = Lower(v);
  for (std::string_view mask : {"xxxx", "****", "...", "…"}) {
    if (lower.find(mask) != std::string::npos) return true;
  }
  static constexpr std::array<std::string_view, 16> kWords = {
      "your_", "your-", "yourkey", "yourtoken", "placeholder", "changeme", "change_me", "example_",
      "dummy", "replace_me", "replaceme", "insert_", "<", "todo", "fixme", "sample_"};
  for (std::string_view w : kWords) {
    if (lower.find(w) != std::string::npos) return true;
  }
  static constexpr std::array<std::string_view, 9> kWhole = {"secret", "password", "token", "example", "test",
                                                            "none", "null", "redacted", "hidden"};
  for (std::string_view w : kWhole) {
    if (lower == w) return true;
  }
  return false;
}

std::string Marker(std::string_view rule_id) { return "[REDACTED:" + std::string(rule_id) + "]"; }

}  // namespace tsync::redact
