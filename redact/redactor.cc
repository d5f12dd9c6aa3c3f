#include "redact/redactor.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <unordered_map>

#include "base/utf8.h"
#include "redact/catalogue.h"
#include "redact/json_strings.h"
#include "redact/key_names.h"

namespace tsync::redact {

namespace {

// Fragments of secret key names (redact/key_names.h): a key can only be
// secret-named when one of them occurs in it.
constexpr std::string_view kKeyFragments[] = {"pass", "pwd", "secret", "token", "key", "auth", "cred", "cookie"};

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// `text` equals `lower`, a lower-case word, ignoring ASCII case.
bool EqualsIgnoringCase(std::string_view text, std::string_view lower) {
  if (text.size() != lower.size()) return false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != lower[i]) return false;
  }
  return true;
}

constexpr std::string_view kMarkerOpen = "[REDACTED:";

bool MarkerIdChar(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'; }

// The end (one past ']') of the marker [REDACTED:<rule-id>] that starts at
// `i`, or npos when none starts there.
size_t MarkerEndAt(std::string_view text, size_t i) {
  if (text.substr(i, kMarkerOpen.size()) != kMarkerOpen) return std::string_view::npos;
  size_t end = i + kMarkerOpen.size();
  while (end < text.size() && MarkerIdChar(text[end])) ++end;
  if (end == i + kMarkerOpen.size() || end >= text.size() || text[end] != ']') return std::string_view::npos;
  return end + 1;
}

// The end of the marker that `pos` is inside, or npos. Walks back over the
// marker's characters only.
size_t MarkerEndAround(std::string_view text, size_t pos) {
  if (pos >= text.size()) return std::string_view::npos;
  size_t i = pos;
  auto marker_char = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == ':';
  };
  while (i > 0 && pos - i <= 128 && marker_char(text[i])) --i;
  if (text[i] != '[') return std::string_view::npos;
  const size_t end = MarkerEndAt(text, i);
  return end != std::string_view::npos && pos < end ? end : std::string_view::npos;
}

// Whether `pos` is inside a marker: rule ids name keywords
// ("postgres-url-password"), and a hit there would wake rules again next to
// text that was already redacted, so a second pass could differ from the
// first.
bool InsideMarker(std::string_view text, size_t pos) { return MarkerEndAround(text, pos) != std::string_view::npos; }

// The first marker that begins in [from, to): its begin, and its end in
// *end; npos when there is none.
size_t NextMarker(std::string_view text, size_t from, size_t to, size_t* end) {
  // Searches [from, to) only: a line of many spans and no marker must not be
  // searched to its end once per span.
  const std::string_view range = text.substr(0, to);
  for (size_t at = range.find('[', from); at != std::string_view::npos; at = range.find('[', at + 1)) {
    if ((*end = MarkerEndAt(text, at)) != std::string_view::npos) return at;
  }
  return std::string_view::npos;
}

}  // namespace

struct Redactor::RawSpan {
  size_t begin, end;
  std::string_view rule;
};

struct Redactor::Keyword {
  std::vector<uint32_t> rules;  // indexes into rules_
  bool key_fragment = false;
  std::string word;             // lower case, as the scan matches it
  /// Keywords that can start inside this one and end after it: the scan
  /// resumes after a match, so it never reports them ("AKIAccess_key" gives
  /// "akia" and hides "access_key"). {offset in this word, keywords_ index}.
  std::vector<std::pair<uint32_t, uint32_t>> overlapping;
  /// The bytes those keywords can continue with right after this one: a
  /// hit followed by anything else has none of them (the usual case).
  std::array<uint64_t, 4> next_bytes{};
};

// A rule compiled now (Create's rules) or the first time it is needed
// (built-in rules). Get() is safe from any number of threads.
class Redactor::LazyRule {
 public:
  explicit LazyRule(RuleSpec spec) : spec_(std::move(spec)) {}
  explicit LazyRule(std::unique_ptr<CompiledRule> compiled) : spec_(compiled->spec()), compiled_(std::move(compiled)) {
    std::call_once(once_, [] {});
  }

  /// Never touches compiled_, so it needs no synchronisation.
  const RuleSpec& spec() const { return spec_; }

  const CompiledRule& Get() const {
    std::call_once(once_, [this] {
      Result<std::unique_ptr<CompiledRule>> c = CompiledRule::Compile(spec_);
      if (!c.ok()) {
        // Only built-in rules are lazy, and tests/catalogue_test.cc compiles
        // each of them: this is a bug in the catalogue. Stop rather than send
        // a line this rule should have redacted.
        std::fprintf(stderr, "tsync: bug: built-in %s\n", c.status().message().c_str());
        std::abort();
      }
      compiled_ = std::move(c).value();
    });
    return *compiled_;
  }

 private:
  const RuleSpec spec_;
  mutable std::once_flag once_;
  mutable std::unique_ptr<CompiledRule> compiled_;
};

Redactor::~Redactor() = default;

Result<std::unique_ptr<Redactor>> Redactor::Create(std::vector<RuleSpec> rules, std::vector<KeyRuleSpec> key_rules) {
  return Build(std::move(rules), 0, std::move(key_rules));
}

Result<std::unique_ptr<Redactor>> Redactor::Build(std::vector<RuleSpec> rules, size_t lazy_count,
                                                  std::vector<KeyRuleSpec> key_rules) {
  std::unique_ptr<Redactor> r(new Redactor());
  std::vector<std::string> words;  // every keyword, once
  for (size_t i = 0; i < rules.size(); ++i) {
    RuleSpec& spec = rules[i];
    for (const std::string& k : spec.keywords) words.push_back(k);
    if (i < lazy_count) {
      r->rules_.push_back(std::make_unique<LazyRule>(std::move(spec)));
      continue;
    }
    Result<std::unique_ptr<CompiledRule>> c = CompiledRule::Compile(spec);
    if (!c.ok()) return c.status();
    r->rules_.push_back(std::make_unique<LazyRule>(std::move(c).value()));
  }
  for (std::string_view f : kKeyFragments) words.emplace_back(f);
  for (std::string& w : words) w = Lower(w);
  std::erase(words, std::string());
  std::sort(words.begin(), words.end());
  words.erase(std::unique(words.begin(), words.end()), words.end());

  // A match reports the longest keyword at a position, so each keyword also
  // gates the rules of every keyword it contains ("sk-ant-" implies "sk-"):
  // look every substring of every word up among the rules' keywords (words
  // are short; this runs at every process start).
  std::unordered_map<std::string, std::vector<uint32_t>> rules_of;
  for (uint32_t i = 0; i < r->rules_.size(); ++i) {
    for (const std::string& k : r->rules_[i]->spec().keywords) {
      if (!k.empty()) rules_of[Lower(k)].push_back(i);
    }
  }
  std::string part;
  for (const std::string& word : words) {
    auto kw = std::make_unique<Keyword>();
    for (size_t b = 0; b < word.size(); ++b) {
      for (size_t e = b + 1; e <= word.size(); ++e) {
        part.assign(word, b, e - b);
        auto it = rules_of.find(part);
        if (it != rules_of.end()) kw->rules.insert(kw->rules.end(), it->second.begin(), it->second.end());
      }
    }
    std::sort(kw->rules.begin(), kw->rules.end());
    kw->rules.erase(std::unique(kw->rules.begin(), kw->rules.end()), kw->rules.end());
    for (std::string_view f : kKeyFragments) kw->key_fragment |= word.find(f) != std::string::npos;
    kw->word = word;
    r->keywords_.push_back(std::move(kw));
  }
  // The keywords that can overlap the end of each one: a proper suffix of it
  // is a proper prefix of the other. CollectHits looks for them where their
  // keyword hits.
  std::unordered_map<std::string, std::vector<uint32_t>> by_prefix;
  for (uint32_t i = 0; i < words.size(); ++i) {
    for (size_t n = 1; n < words[i].size(); ++n) by_prefix[words[i].substr(0, n)].push_back(i);
  }
  for (const std::unique_ptr<Keyword>& kw : r->keywords_) {
    for (size_t b = 1; b < kw->word.size(); ++b) {
      part.assign(kw->word, b);
      auto it = by_prefix.find(part);
      if (it == by_prefix.end()) continue;
      for (uint32_t other : it->second) {
        kw->overlapping.emplace_back(static_cast<uint32_t>(b), other);
        const auto next = static_cast<unsigned char>(r->keywords_[other]->word[kw->word.size() - b]);
        kw->next_bytes[next / 64] |= uint64_t{1} << (next % 64);
      }
    }
  }
  r->keyword_scan_ = std::make_unique<KeywordScan>(std::move(words));

  for (KeyRuleSpec& k : key_rules) {
    RE2::Options ko;
    ko.set_log_errors(false);
    auto re = std::make_unique<RE2>(k.key_pattern, ko);
    if (!re->ok()) return Status::Config("redaction rule '" + k.id + "': key_pattern does not compile: " + re->error());
    r->key_rules_.emplace_back(k.id, std::move(re));
  }
  return r;
}

Result<std::unique_ptr<Redactor>> Redactor::CreateDefault(std::vector<RuleSpec> custom,
                                                          std::vector<KeyRuleSpec> custom_key_rules) {
  std::vector<RuleSpec> all = BuiltinRules();
  const size_t builtin = all.size();
  for (RuleSpec& c : custom) all.push_back(std::move(c));
  return Build(std::move(all), builtin, std::move(custom_key_rules));
}

void Redactor::CollectHits(std::string_view text, std::vector<std::pair<size_t, const Keyword*>>* hits) const {
  std::vector<KeywordScan::Hit> found;
  keyword_scan_->Scan(text, &found);
  for (const KeywordScan::Hit& h : found) {
    if (InsideMarker(text, h.pos)) continue;
    const Keyword* kw = keywords_[h.word].get();
    hits->emplace_back(h.pos, kw);
    const size_t end = h.pos + kw->word.size();
    if (kw->overlapping.empty() || end >= text.size()) continue;
    auto next = static_cast<unsigned char>(text[end]);
    if (next >= 'A' && next <= 'Z') next = static_cast<unsigned char>(next - 'A' + 'a');
    if ((kw->next_bytes[next / 64] >> (next % 64) & 1) == 0) continue;
    for (const auto& [offset, other] : kw->overlapping) {
      const Keyword* o = keywords_[other].get();
      const size_t at = h.pos + offset;
      if (at + o->word.size() <= text.size() && EqualsIgnoringCase(text.substr(at, o->word.size()), o->word)) {
        hits->emplace_back(at, o);
      }
    }
  }
}


// The decoded text of the line's string tokens, each decoded on first use.
// Decoded strings live in one vector, reserved at the first decode for all
// of the line's escaped strings so it never moves (callers hold string_views
// into earlier texts while decoding more): a line costs one allocation for
// them, not one per string plus a table of pointers per line.
class Redactor::Segments {
 public:
  Segments(std::string_view line, const std::vector<JsonString>& strings) : line_(line), strings_(strings) {}

  std::string_view Text(size_t s) {
    const JsonString& js = strings_[s];
    if (!js.has_escape) return line_.substr(js.raw_begin, js.raw_end - js.raw_begin);
    return Decode(s).text;
  }
  // The decoded offset of raw byte `raw` (inside string s, already decoded).
  size_t Decoded(size_t s, size_t raw) const {
    const JsonString& js = strings_[s];
    if (!js.has_escape) return raw - js.raw_begin;
    return decoded_[slot_[s]].DecodedAt(raw);
  }
  size_t Raw(size_t s, size_t decoded_offset) const {
    const JsonString& js = strings_[s];
    if (!js.has_escape) return js.raw_begin + decoded_offset;
    return decoded_[slot_[s]].RawOf(decoded_offset);
  }

 private:
  static constexpr uint32_t kNotDecoded = UINT32_MAX;

  const DecodedString& Decode(size_t s) {
    if (slot_.empty()) {
      slot_.assign(strings_.size(), kNotDecoded);
      decoded_.reserve(static_cast<size_t>(
          std::count_if(strings_.begin(), strings_.end(), [](const JsonString& js) { return js.has_escape; })));
    }
    if (slot_[s] == kNotDecoded) {
      slot_[s] = static_cast<uint32_t>(decoded_.size());
      DecodeJsonString(line_, strings_[s], &decoded_.emplace_back());
    }
    return decoded_[slot_[s]];
  }

  std::string_view line_;
  const std::vector<JsonString>& strings_;
  std::vector<uint32_t> slot_;          // per string: its index in decoded_, or kNotDecoded
  std::vector<DecodedString> decoded_;  // never grows past its reserve
};

namespace {

// The string token containing raw byte `pos`, or -1.
int64_t StringAt(const std::vector<JsonString>& strings, size_t pos) {
  auto it = std::upper_bound(strings.begin(), strings.end(), pos,
                             [](size_t p, const JsonString& s) { return p < s.raw_begin; });
  if (it == strings.begin()) return -1;
  --it;
  return pos < it->raw_end ? it - strings.begin() : -1;
}

bool RedactableValue(std::string_view v) { return !v.empty() && !IsPlaceholder(v) && !LooksLikeCode(v); }

bool LooksLikeJsonDocument(std::string_view s) {
  size_t i = s.find_first_not_of(" \t\r\n");
  return i != std::string_view::npos && (s[i] == '{' || s[i] == '[');
}

// The same test on a string's raw (still escaped) bytes, so a large string
// is only decoded when it can hold a document: leading whitespace may be
// written as \n, \t, \r escapes.
bool RawMayHoldJsonDocument(std::string_view raw) {
  size_t i = 0;
  while (i < raw.size()) {
    char c = raw[i];
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
      ++i;
    } else if (c == '\\' && i + 1 < raw.size() && (raw[i + 1] == 'n' || raw[i + 1] == 't' || raw[i + 1] == 'r')) {
      i += 2;
    } else {
      return c == '{' || c == '[' || c == '\\';  // a backslash may escape anything: decide after decoding
    }
  }
  return false;
}

}  // namespace

void Redactor::FindSpans(std::string_view text, bool try_json, int depth, std::vector<RawSpan>* spans) const {
  std::vector<std::pair<size_t, const Keyword*>> hits;
  CollectHits(text, &hits);
  if (hits.empty() && key_rules_.empty()) return;

  std::vector<JsonString> strings;
  const bool json = try_json && ScanJsonStrings(text, &strings);
  if (!json) strings.assign(1, JsonString{0, static_cast<uint32_t>(text.size()), false, false, -1});
  Segments segments(text, strings);

  std::vector<Candidate> candidates;
  std::vector<uint32_t> keys_to_check;
  for (const auto& [pos, kw] : hits) {
    int64_t s = StringAt(strings, pos);
    if (s < 0) continue;
    const uint32_t si = static_cast<uint32_t>(s);
    if (json && strings[s].is_key) {
      // Key names carry no secrets themselves; a hit there only asks
      // whether the key is secret-named ("input_tokens" is not).
      if (kw->key_fragment) keys_to_check.push_back(si);
      continue;
    }
    for (uint32_t rule : kw->rules) candidates.push_back({si, rule, pos});
    // Any hit in a string holding JSON may concern its keys: search it whole.
    if (json && kw->rules.empty()) candidates.push_back({si, kNoRule, pos});
  }
  std::sort(candidates.begin(), candidates.end());
  candidates.erase(std::unique(candidates.begin(), candidates.end()), candidates.end());
  std::sort(keys_to_check.begin(), keys_to_check.end());
  keys_to_check.erase(std::unique(keys_to_check.begin(), keys_to_check.end()), keys_to_check.end());

  auto redact_value_of = [&](uint32_t key, std::string_view rule_id) {
    if (key + 1 >= strings.size() || strings[key + 1].key != static_cast<int32_t>(key)) return;
    std::string_view value = segments.Text(key + 1);
    if (RedactableValue(value)) spans->push_back({strings[key + 1].raw_begin, strings[key + 1].raw_end, rule_id});
  };
  for (uint32_t k : keys_to_check) {
    if (IsSecretKeyName(segments.Text(k))) redact_value_of(k, kJsonSecretFieldRule);
  }
  if (json && !key_rules_.empty()) {
    for (uint32_t k = 0; k < strings.size(); ++k) {
      if (!strings[k].is_key) continue;
      std::string_view name = segments.Text(k);
      for (const auto& [id, re] : key_rules_) {
        if (RE2::FullMatch(re2::StringPiece(name.data(), name.size()), *re)) redact_value_of(k, id);
      }
    }
  }

  std::vector<Span> found;
  std::vector<RawSpan> nested;
  for (size_t i = 0; i < candidates.size();) {
    const uint32_t s = candidates[i].string;
    size_t group_end = i;
    while (group_end < candidates.size() && candidates[group_end].string == s) ++group_end;
    const bool only_key_fragments = candidates[i].rule == kNoRule;  // kNoRule sorts last: all are
    if (only_key_fragments && (!json || !RawMayHoldJsonDocument(text.substr(strings[s].raw_begin,
                                                                            strings[s].raw_end - strings[s].raw_begin)))) {
      i = group_end;  // no rule to run and no nested document to search
      continue;
    }
    std::string_view decoded = segments.Text(s);
    // A nested scan that finds no JSON falls back to plain text, which is
    // what the other branch does: recursing is always safe.
    if (json && depth < kMaxNesting && LooksLikeJsonDocument(decoded)) {
      nested.clear();
      FindSpans(decoded, true, depth + 1, &nested);
      for (const RawSpan& n : nested) spans->push_back({segments.Raw(s, n.begin), segments.Raw(s, n.end), n.rule});
    } else {
      for (size_t c = i; c < group_end;) {
        const uint32_t rule_index = candidates[c].rule;
        size_t rule_end = c;
        while (rule_end < group_end && candidates[rule_end].rule == rule_index) ++rule_end;
        if (rule_index != kNoRule) {
          const CompiledRule& rule = rules_[rule_index]->Get();
          found.clear();
          SearchNearHits(rule, decoded, segments, s, candidates, c, rule_end, &found);
          for (const Span& f : found) spans->push_back({segments.Raw(s, f.begin), segments.Raw(s, f.end), rule.spec().id});
        }
        c = rule_end;
      }
    }
    i = group_end;
  }
}

// Runs `rule` only around its keyword hits: from kLookback bytes before a hit
// (keywords may sit inside a match, like Mailchimp's "-us") to the rule's
// longest match after it. Overlapping windows are merged, so each byte is
// searched at most once per rule; RE2 still sees the whole text around a
// window, so boundaries are not invented at its edges.
void Redactor::SearchNearHits(const CompiledRule& rule, std::string_view decoded, const Segments& segments, uint32_t s,
                              const std::vector<Candidate>& candidates, size_t from, size_t to,
                              std::vector<Span>* found) const {
  const size_t reach = rule.spec().max_match_bytes ? rule.spec().max_match_bytes : kDefaultMaxMatch;
  if (rule.match_starts_at_keyword()) {
    // A match can only start at a hit: try there, anchored, instead of
    // searching the whole window (a JWT's reaches 64 KiB past each "eyJ").
    size_t last = std::string_view::npos;
    for (size_t c = from; c < to; ++c) {
      const size_t at = segments.Decoded(s, candidates[c].raw_pos);
      if (at != last) rule.FindAt(decoded, at, at + reach, found);
      last = at;
    }
    return;
  }
  size_t win_begin = 0, win_end = 0;
  bool open = false;
  for (size_t c = from; c < to; ++c) {
    size_t at = segments.Decoded(s, candidates[c].raw_pos);
    size_t b = at > kLookback ? at - kLookback : 0;
    size_t e = std::min(decoded.size(), at + reach);
    if (open && b <= win_end) {
      win_end = std::max(win_end, e);
      continue;
    }
    if (open) rule.FindAll(decoded, win_begin, win_end, found);
    win_begin = b;
    win_end = e;
    open = true;
  }
  if (open) rule.FindAll(decoded, win_begin, win_end, found);
}

RedactResult Redactor::Redact(std::string_view text, bool try_json) const {
  RedactResult result = RedactOnce(text, try_json);
  // Ends by itself (see the header); the bound is a guard against a rule
  // set that could prove that wrong.
  constexpr int kMaxPasses = 64;
  for (int pass = 1; result.changed() && pass < kMaxPasses; ++pass) {
    RedactResult again = RedactOnce(result.owned, try_json);
    if (!again.changed()) break;
    result.owned = std::move(again.owned);
    result.fired.insert(result.fired.end(), again.fired.begin(), again.fired.end());
  }
  return result;
}

RedactResult Redactor::RedactOnce(std::string_view text, bool try_json) const {
  RedactResult result;
  result.input = text;
  std::vector<RawSpan> spans;
  FindSpans(text, try_json, 0, &spans);
  if (spans.empty()) return result;

  // Overlapping spans become one marker, named by the earliest (longest) one.
  std::sort(spans.begin(), spans.end(), [](const RawSpan& a, const RawSpan& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end > b.end;
  });
  std::string& out = result.owned;
  out.reserve(text.size());
  size_t copied = 0;
  for (size_t i = 0; i < spans.size();) {
    size_t begin = spans[i].begin, end = spans[i].end;
    std::string_view rule = spans[i].rule;
    for (++i; i < spans.size() && spans[i].begin < end; ++i) end = std::max(end, spans[i].end);
    // A marker already in the text (an earlier pass, a quoted one) stays as
    // it is: the span is cut around it and each piece gets its own marker,
    // so only secrets change and a second pass finds nothing new.
    auto replace = [&](size_t piece_begin, size_t piece_end) {
      out.append(text.substr(copied, piece_begin - copied));
      out.append(kMarkerOpen).append(rule).append("]");
      result.fired.push_back(rule);
      copied = piece_end;
    };
    size_t at = begin;
    if (size_t inside = MarkerEndAround(text, at); inside != std::string_view::npos) at = inside;
    while (at < end) {
      size_t marker_end = 0;
      const size_t marker = NextMarker(text, at, end, &marker_end);
      if (marker == std::string_view::npos) {
        replace(at, end);
        break;
      }
      if (marker > at) replace(at, marker);
      at = marker_end;
    }
  }
  out.append(text.substr(copied));
  return result;
}

RedactResult Redactor::RedactLine(std::string_view line) const { return Redact(line, true); }

RedactResult Redactor::RedactText(std::string_view text) const { return Redact(text, false); }

size_t MarkerBytes(const RedactResult& result) {
  size_t n = 0;
  for (std::string_view rule : result.fired) n += kMarkerOpen.size() + rule.size() + 1;
  return n;
}

std::string_view CutRedacted(std::string_view redacted, size_t max_bytes) {
  std::string_view cut = TruncateUtf8(redacted, max_bytes);
  if (cut.size() == redacted.size()) return cut;
  // A rule id holds no '[', so a marker the cut splits opens at the last '['.
  const size_t open = cut.rfind('[');
  if (open != std::string_view::npos) {
    const size_t end = MarkerEndAt(redacted, open);
    if (end != std::string_view::npos && end > cut.size()) cut = cut.substr(0, open);
  }
  return cut;
}

std::string StripUrlUserinfo(std::string_view url) {
  size_t scheme = url.find("://");
  if (scheme == std::string_view::npos) return std::string(url);
  size_t host = scheme + 3;
  size_t authority_end = url.find_first_of("/?#", host);
  if (authority_end == std::string_view::npos) authority_end = url.size();
  size_t at = url.rfind('@', authority_end - 1);
  if (at == std::string_view::npos || at < host) return std::string(url);
  return std::string(url.substr(0, host)) + std::string(url.substr(at + 1));
}

}  // namespace tsync::redact
