// The planted-secret corpus: any text (a rule example with its secret, or a
// near miss) embedded in the JSON line shapes Claude Code writes, so the
// redactor is measured on lines, not bare strings. Each shape stresses
// something different: a tool result (text with newlines), a Bash tool_use
// command, JSON text nested inside a string (double escaping), and a writer
// that escapes '/' and every non-ASCII character (\/ and \uXXXX), as some
// JSON libraries do.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace tsync::testdata {

struct CorpusLine {
  std::string context;  // "tool_result", "bash_command", "nested_json", "escaped_writer"
  std::string line;     // one JSON object, no newline
};

/// The text embedded in every context shape.
std::vector<CorpusLine> PlantInContexts(std::string_view text);

}  // namespace tsync::testdata
