// Examples for every built-in redaction rule, one file per catalogue group
// (tests/rules_<group>_examples.cc). The catalogue test checks each rule on
// its own examples, and the redactor tests plant every positive into
// realistic JSON lines (the planted-secret corpus).
#pragma once

#include <string>
#include <vector>

namespace tsync::redact::testing {

struct RuleExample {
  std::string rule_id;
  /// Realistic decoded text around the secret (a shell command, a config
  /// file excerpt, prose, …) — never just the bare secret.
  std::string text;
  /// Positive: the exact bytes of `text` the rule must report as the secret.
  /// Empty: a near miss — the rule must report nothing in `text`.
  std::string secret;
};

std::vector<RuleExample> CloudExamples();
std::vector<RuleExample> DevExamples();
std::vector<RuleExample> SaasExamples();
std::vector<RuleExample> GenericExamples();

}  // namespace tsync::redact::testing
