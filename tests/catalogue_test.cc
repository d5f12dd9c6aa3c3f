// The built-in catalogue: every rule compiles, has a unique id, and finds
// exactly its secret in each of its positive examples and nothing in its
// near misses (at least two of each per rule).
#include <catch2/catch.hpp>
#include <chrono>
#include <map>
#include <set>

#include "redact/catalogue.h"
#include "tests/rule_examples.h"

using namespace tsync::redact;
using tsync::redact::testing::RuleExample;

namespace {

const CompiledRule& RuleById(const std::string& id) {
  static const std::map<std::string, std::unique_ptr<CompiledRule>> compiled = [] {
    std::map<std::string, std::unique_ptr<CompiledRule>> m;
    for (const RuleSpec& spec : BuiltinRules()) {
      auto r = CompiledRule::Compile(spec);
      if (r.ok()) m.emplace(spec.id, std::move(r).value());
    }
    return m;
  }();
  auto it = compiled.find(id);
  if (it == compiled.end()) FAIL("no compiled rule with id " << id);
  return *it->second;
}

// Checks one group's examples and that each of the group's rules has
// enough of them.
void CheckGroup(void (*add_rules)(std::vector<RuleSpec>*), const std::vector<RuleExample>& examples) {
  std::vector<RuleSpec> group;
  add_rules(&group);
  std::map<std::string, std::pair<int, int>> counts;  // id -> (positives, negatives)
  for (const RuleExample& ex : examples) {
    INFO("rule " << ex.rule_id << " on: " << ex.text);
    const CompiledRule& rule = RuleById(ex.rule_id);
    std::vector<Span> spans;
    rule.FindAll(ex.text, &spans);
    if (ex.secret.empty()) {
      CHECK(spans.empty());
      if (!spans.empty()) INFO("matched: " << ex.text.substr(spans[0].begin, spans[0].end - spans[0].begin));
      ++counts[ex.rule_id].second;
    } else {
      REQUIRE(ex.text.find(ex.secret) != std::string::npos);
      bool found = false;
      for (const Span& s : spans) found |= ex.text.substr(s.begin, s.end - s.begin) == ex.secret;
      if (!found && !spans.empty()) {
        INFO("reported instead: " << ex.text.substr(spans[0].begin, spans[0].end - spans[0].begin));
        CHECK(found);
      } else {
        CHECK(found);
      }
      ++counts[ex.rule_id].first;
    }
  }
  for (const RuleSpec& spec : group) {
    INFO("rule " << spec.id);
    CHECK(counts[spec.id].first >= 2);
    CHECK(counts[spec.id].second >= 2);
  }
  for (const auto& [id, c] : counts) {
    INFO("examples name rule " << id);
    bool in_group = false;
    for (const RuleSpec& spec : group) in_group |= spec.id == id;
    CHECK(in_group);
  }
}

}  // namespace

TEST_CASE("every built-in rule compiles, with a unique id, family and description", "[catalogue]") {
  std::set<std::string> ids;
  for (const RuleSpec& spec : BuiltinRules()) {
    INFO("rule " << spec.id);
    auto compiled = CompiledRule::Compile(spec);
    CHECK(compiled.ok());
    if (!compiled.ok()) INFO(compiled.status().message());
    CHECK(ids.insert(spec.id).second);
    CHECK_FALSE(spec.family.empty());
    CHECK_FALSE(spec.description.empty());
    for (char c : spec.id) CHECK(((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'));
  }
}

TEST_CASE("cloud rules find their secrets and ignore near misses", "[catalogue][cloud]") {
  CheckGroup(AddCloudRules, testing::CloudExamples());
}
TEST_CASE("dev rules find their secrets and ignore near misses", "[catalogue][dev]") {
  CheckGroup(AddDevRules, testing::DevExamples());
}
TEST_CASE("saas rules find their secrets and ignore near misses", "[catalogue][saas]") {
  CheckGroup(AddSaasRules, testing::SaasExamples());
}
TEST_CASE("generic rules find their secrets and ignore near misses", "[catalogue][generic]") {
  CheckGroup(AddGenericRules, testing::GenericExamples());
}

TEST_CASE("a rule that breaks the rules of rules is a config error naming it", "[catalogue]") {
  RuleSpec bad{"my-rule", "custom", "d", "(unclosed", {"abc"}, 0, 0, false};
  auto r = CompiledRule::Compile(bad);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().kind() == tsync::Status::Kind::kConfig);
  CHECK(r.status().message().find("my-rule") != std::string::npos);
  bad.pattern = "abc([0-9]+)";
  bad.secret_group = 2;
  CHECK_FALSE(CompiledRule::Compile(bad).ok());
  bad.secret_group = 1;
  bad.keywords = {"AB"};
  CHECK_FALSE(CompiledRule::Compile(bad).ok());
  bad.keywords = {"a/b"};
  CHECK_FALSE(CompiledRule::Compile(bad).ok());
  bad.keywords = {"abc"};
  CHECK(CompiledRule::Compile(bad).ok());
}

TEST_CASE("rules whose matches begin with a keyword find at each keyword hit, anchored, what a whole search finds",
          "[catalogue]") {
  std::vector<RuleExample> all;
  for (auto examples : {testing::CloudExamples(), testing::DevExamples(), testing::SaasExamples(),
                        testing::GenericExamples()}) {
    all.insert(all.end(), examples.begin(), examples.end());
  }
  int anchored_rules = 0, checked = 0;
  for (const RuleSpec& spec : BuiltinRules()) {
    const CompiledRule& rule = RuleById(spec.id);
    if (!rule.match_starts_at_keyword()) continue;
    ++anchored_rules;
    for (const RuleExample& e : all) {
      if (e.rule_id != spec.id) continue;
      INFO("rule " << spec.id << ", example " << e.text);
      std::vector<Span> whole, at_hits;
      rule.FindAll(e.text, &whole);
      std::string lower = e.text;
      for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      for (const std::string& k : spec.keywords) {
        for (size_t p = lower.find(k); p != std::string::npos; p = lower.find(k, p + 1)) {
          rule.FindAt(e.text, p, e.text.size(), &at_hits);
        }
      }
      auto key = [](const Span& s) { return std::pair(s.begin, s.end); };
      std::set<std::pair<size_t, size_t>> a, b;
      for (const Span& s : whole) a.insert(key(s));
      for (const Span& s : at_hits) b.insert(key(s));
      CHECK(a == b);
      ++checked;
    }
  }
  // Token shapes with a literal prefix (JWT's eyJ, GitHub's ghp_, …).
  CHECK(anchored_rules >= 20);
  CHECK(RuleById("jwt").match_starts_at_keyword());
  CHECK(checked >= 2 * anchored_rules);
}
