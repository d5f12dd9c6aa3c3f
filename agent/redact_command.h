// `tsync redact [FILE|-] [--report]`: redacts a JSONL file (or stdin) exactly
// as uploads are redacted and writes it to stdout. --report prints how many
// times each rule fired to stderr — counts only, never the values.
#pragma once

#include <iosfwd>
#include <string>

#include "redact/redactor.h"

namespace tsync::agent {

struct RedactArgs {
  std::string input = "-";  // a path, or "-" for stdin
  bool report = false;
};

/// Streams `in` to `out` line by line (memory: one line). Returns the exit
/// code. A final line without a newline is written without one.
int RunRedact(const redact::Redactor& redactor, const RedactArgs& args, std::ostream& out, std::ostream& err);

}  // namespace tsync::agent
