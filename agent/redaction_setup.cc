#include "agent/redaction_setup.h"

#include <spdlog/spdlog.h>

namespace tsync::agent {

Result<std::unique_ptr<redact::Redactor>> BuildRedactor(const config::RedactionConfig& redaction) {
  std::vector<redact::RuleSpec> rules;
  std::vector<redact::KeyRuleSpec> key_rules;
  for (const config::CustomRule& c : redaction.rules) {
    std::string description = c.description.empty() ? "custom rule from the config file" : c.description;
    rules.push_back(redact::RuleSpec{c.id, "custom", description, c.regex, c.keywords, c.secret_group, 0, false});
    if (!c.key_pattern.empty()) key_rules.push_back(redact::KeyRuleSpec{c.id, c.key_pattern});
  }
  Result<std::unique_ptr<redact::Redactor>> r = redact::Redactor::CreateDefault(std::move(rules), std::move(key_rules));
  if (!r.ok()) {
    return Status::Config(r.status().message() + " (in redaction.rules of the config; fix or remove the rule — "
                                                  "nothing is uploaded until it compiles)");
  }
  return r;
}

Result<std::unique_ptr<redact::Redactor>> UploadRedactor(const config::RedactionConfig& redaction) {
  if (redaction.enabled) return BuildRedactor(redaction);
  spdlog::warn("redaction is turned off in the config: lines are saved exactly as written, secrets included");
  return redact::Redactor::Create({}, {});
}

}  // namespace tsync::agent
