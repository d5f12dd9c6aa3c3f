// The built-in rule catalogue, grouped by file so that each group can be
// read (and reviewed) on its own:
//   rules_cloud.cc    cloud and infrastructure providers, database/broker URLs
//   rules_dev.cc      source hosting, package registries, AI providers, JWTs, private keys
//   rules_saas.cc     SaaS, messaging and payment providers
//   rules_generic.cc  headers, credentials in URLs and commands, assignments in text and config files
// Thread-safety: BuiltinRules() builds an immutable list once (C++ static
// initialisation is thread-safe).
#pragma once

#include <vector>

#include "redact/rule.h"

namespace tsync::redact {

void AddCloudRules(std::vector<RuleSpec>* rules);
void AddDevRules(std::vector<RuleSpec>* rules);
void AddSaasRules(std::vector<RuleSpec>* rules);
void AddGenericRules(std::vector<RuleSpec>* rules);

/// Every built-in rule, in the order above.
const std::vector<RuleSpec>& BuiltinRules();

}  // namespace tsync::redact
