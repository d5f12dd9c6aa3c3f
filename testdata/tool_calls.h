// Fake tool calls for generated transcripts: what the model asked for
// (tool name and input) and what came back (the tool_result text and the
// richer toolUseResult object Claude Code stores beside it).
//
// Sizes follow real sessions: most results are a few KiB, a few reach
// ~100 KiB, and toolUseResult repeats the output, so a tool_result line is
// often twice its visible text. About one call in twenty fails, and then
// toolUseResult is a plain string, the other form TRANSCRIPTS.md mentions.
// Thread-safety: pure functions of the Rng passed in.
#pragma once

#include <string>
#include <string_view>

#include "testdata/rng.h"

namespace tsync::testdata {

struct ToolCall {
  std::string name;              // "Bash", "Read", "Edit", "Grep", "Write"
  std::string input_json;        // encoded `input` object of the tool_use block
  std::string result_text;       // tool_result `content`
  std::string tool_use_result;   // encoded toolUseResult (object or string)
  bool is_error = false;
  bool streams_progress = false; // a long Bash run that reports bash_progress
};

/// Text that must appear verbatim inside the call: in the input (a shell
/// command) or in the output (a file or command output). Either may be empty.
struct Embedded {
  std::string_view in_input;
  std::string_view in_output;
};

/// A random tool call run in `cwd`. With something to embed, the call is a
/// Bash command, so both places exist.
ToolCall MakeToolCall(Rng& rng, std::string_view cwd, const Embedded& embed);

}  // namespace tsync::testdata
