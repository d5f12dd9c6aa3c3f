// Fuzz target: the redactor (redact/redactor.h), with the built-in catalogue
// and once more with a custom rule and a custom key rule added.
//
// Input: one transcript line (or metadata text). What reaches the redactor
// is valid UTF-8 (the chunk reader repairs lines first), so ill-formed input
// is repaired the same way before use.
// Properties, for RedactLine and RedactText alike:
//  - nothing fired: the result is the input itself (byte-identical, no copy);
//  - something fired: one new [REDACTED:<id>] marker per fired span, with the
//    fired rule's id, and the output is the input with some non-empty runs of
//    bytes replaced by markers — nothing else changed;
//  - idempotent: redacting the output again fires nothing (the redactor
//    runs to a fixed point);
//  - RedactLine on a valid JSON object or array (simdjson) gives valid JSON
//    with the same structure: same types, the same keys in the same order,
//    same array lengths, numbers and booleans; a string value that changed
//    differs only by markers.
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/utf8.h"
#include "fuzz/fuzz_util.h"
#include "redact/redactor.h"

namespace {

using tsync::fuzz::Shown;
using tsync::redact::RedactResult;
using tsync::redact::Redactor;

constexpr std::string_view kMarkerOpen = "[REDACTED:";

bool IsIdChar(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'; }

// Length of a marker starting at s[i], 0 when there is none.
size_t MarkerAt(std::string_view s, size_t i) {
  if (s.substr(i, kMarkerOpen.size()) != kMarkerOpen) return 0;
  size_t j = i + kMarkerOpen.size();
  while (j < s.size() && IsIdChar(s[j])) ++j;
  if (j == i + kMarkerOpen.size() || j >= s.size() || s[j] != ']') return 0;
  return j + 1 - i;
}

size_t CountMarkers(std::string_view s) {
  size_t n = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if (size_t len = MarkerAt(s, i)) {
      ++n;
      i += len - 1;
    }
  }
  return n;
}

// Whether `out` is `in` with zero or more non-empty runs of bytes replaced
// by markers. Every marker of `out` is taken as a wildcard for one or more
// bytes (a marker that was already in `in` matches itself), so the literal
// pieces between them must occur in `in` in order (leftmost placement).
bool OnlyMarkersChanged(std::string_view in, std::string_view out) {
  std::vector<std::string_view> pieces;
  size_t start = 0;
  for (size_t i = 0; i < out.size(); ++i) {
    if (size_t len = MarkerAt(out, i)) {
      pieces.push_back(out.substr(start, i - start));
      i += len - 1;
      start = i + 1;
    }
  }
  pieces.push_back(out.substr(start));
  const size_t k = pieces.size() - 1;
  if (k == 0) return in == out;
  if (!in.starts_with(pieces.front()) || !in.ends_with(pieces.back())) return false;
  size_t pos = pieces[0].size();
  for (size_t p = 1; p < k; ++p) {
    const size_t at = in.find(pieces[p], pos + 1);  // the wildcard before it takes >= 1 byte
    if (at == std::string_view::npos) return false;
    pos = at + pieces[p].size();
  }
  return in.size() - pieces[k].size() >= pos + 1;
}

void CheckResult(const Redactor& r, std::string_view in, const RedactResult& res, bool as_line, const char* which) {
  const std::string what = std::string(which) + (as_line ? " RedactLine" : " RedactText") + " of \"" + Shown(in) + "\"";
  if (!res.changed()) {
    FUZZ_CHECK(res.text().data() == in.data() && res.text().size() == in.size(), what + ": nothing fired but copied");
    return;
  }
  const std::string_view out = res.text();
  FUZZ_CHECK(CountMarkers(out) == CountMarkers(in) + res.fired.size(),
             what + ": " + std::to_string(res.fired.size()) + " fired but markers went from " +
                 std::to_string(CountMarkers(in)) + " to " + std::to_string(CountMarkers(out)) + ": \"" + Shown(out) +
                 "\"");
  for (std::string_view id : res.fired) {
    FUZZ_CHECK(out.find(std::string(kMarkerOpen) + std::string(id) + "]") != std::string_view::npos,
               what + ": no marker for fired rule " + std::string(id));
  }
  FUZZ_CHECK(OnlyMarkersChanged(in, out), what + ": more than secrets changed: \"" + Shown(out) + "\"");
  FUZZ_CHECK(simdjson::validate_utf8(out.data(), out.size()), what + ": output is not valid UTF-8");
  // Idempotent: the redactor runs to a fixed point, so a second pass finds
  // nothing — even where a marker changed its surroundings (a word boundary
  // after its ']', a window reaching further, a line that became JSON).
  RedactResult again = as_line ? r.RedactLine(out) : r.RedactText(out);
  FUZZ_CHECK(!again.changed(), what + ": not idempotent, the output \"" + Shown(out, 4000) + "\" fired " +
                                   (again.changed() ? std::string(again.fired.front()) : std::string()) +
                                   " again: \"" + Shown(again.text(), 4000) + "\"");
}

void CheckJson(std::string_view in, const RedactResult& res, const char* which) {
  if (!res.changed()) return;  // the input itself
  simdjson::dom::parser pin, pout;
  simdjson::dom::element din, dout;
  if (!tsync::fuzz::ParseJson(pin, in, &din) || !(din.is_object() || din.is_array())) return;
  const std::string what = std::string(which) + " RedactLine of JSON \"" + Shown(in) + "\"";
  FUZZ_CHECK(tsync::fuzz::ParseJson(pout, res.text(), &dout), what + ": output is not JSON: \"" + Shown(res.text()) + "\"");
  std::string diff = tsync::fuzz::JsonDifference(
      din, dout, [](std::string_view a, std::string_view b) { return OnlyMarkersChanged(a, b); });
  FUZZ_CHECK(diff.empty(), what + ": structure changed at " + diff);
}

const Redactor& Make(bool custom) {
  std::vector<tsync::redact::RuleSpec> rules;
  std::vector<tsync::redact::KeyRuleSpec> key_rules;
  if (custom) {
    tsync::redact::RuleSpec rule;
    rule.id = "acme-token";
    rule.pattern = "acme_[a-z0-9]{8,32}";
    rule.keywords = {"acme_"};
    rules.push_back(rule);
    key_rules.push_back({"acme-key", "(?i)acme.*"});
  }
  auto made = Redactor::CreateDefault(std::move(rules), std::move(key_rules));
  if (!made.ok()) std::abort();
  return *made->release();  // lives for the whole run
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  tsync::fuzz::QuietLogs();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const Redactor& builtin = Make(false);
  static const Redactor& custom = Make(true);
  std::string_view raw(reinterpret_cast<const char*>(data), size);
  std::string repaired;
  if (!tsync::IsValidUtf8(raw)) {
    tsync::AppendRepairedUtf8(&repaired, raw);
    raw = repaired;
  }
  for (const auto& [r, which] : {std::pair{&builtin, "built-in"}, std::pair{&custom, "custom"}}) {
    RedactResult line = r->RedactLine(raw);
    CheckResult(*r, raw, line, true, which);
    CheckJson(raw, line, which);
    CheckResult(*r, raw, r->RedactText(raw), false, which);
  }
  return 0;
}
