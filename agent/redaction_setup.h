// Builds the Redactor that every upload path uses from the configuration:
// the built-in catalogue plus the config's custom rules. An invalid custom
// rule is a kConfig error that names it: uploads must stop (fail closed),
// never run with the rule silently skipped.
#pragma once

#include <memory>

#include "base/status.h"
#include "config/config.h"
#include "redact/redactor.h"

namespace tsync::agent {

Result<std::unique_ptr<redact::Redactor>> BuildRedactor(const config::RedactionConfig& redaction);

/// The redactor uploads use: BuildRedactor when redaction is on; when the
/// config turns it off, one with no rules, after a warning that secrets are
/// sent as written.
Result<std::unique_ptr<redact::Redactor>> UploadRedactor(const config::RedactionConfig& redaction);

}  // namespace tsync::agent
