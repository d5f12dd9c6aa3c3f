// LineBuilder: encodes one transcript line of each kind Claude Code writes,
// in the shapes seen in real files (TRANSCRIPTS.md "Lines", and the samples
// in shared/samples/claude-code-2.1.328/).
//
// 1) Conversation lines (user, assistant, attachment, system, progress)
//    carry the envelope — uuid, parentUuid chained to the previous
//    conversation line, sessionId, isSidechain, cwd, gitBranch, version,
//    timestamp — and, in a subagent file, agentId.
// 2) Bookkeeping lines (summary, file-history-snapshot, queue-operation,
//    last-prompt, cost-state, ...) are small and envelope-less, except that
//    in a subagent file every line gets agentId and sessionId.
// Every builder returns one JSON object without the trailing '\n'; all
// strings go through base/json.h so escaping is exactly the wire's.
// Thread-safety: single owner; it mutates the Envelope and Rng it was given.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/json.h"
#include "testdata/rng.h"

namespace tsync::testdata {

/// Per-file line state: the envelope values and the chain/clock they advance.
struct Envelope {
  std::string session_id;
  std::string agent_id;     // non-empty in a subagent file
  std::string cwd;
  std::string git_branch;
  std::string version;      // "2.1.328" or, for the old layout, "2.0.77"
  std::string prompt_id;    // the current user turn's promptId
  std::string parent_uuid;  // uuid of the previous conversation line; empty = null
  std::string last_prompt;  // text of the latest user prompt (for last-prompt lines)
  uint64_t clock_ms = 0;    // timestamp of the next line, ms since the epoch
  bool sidechain = false;
};

class LineBuilder {
 public:
  LineBuilder(Rng* rng, Envelope* env) : rng_(rng), env_(env) {}

  // --- conversation lines (line_builder.cc) ---
  std::string UserPrompt(std::string_view text);
  /// A user line whose content is one base64 PNG `image` block.
  std::string UserImage(size_t base64_chars);
  std::string AssistantText(const std::string& message_id, std::string_view text);
  /// A thinking block with a base64 `signature`.
  std::string AssistantThinking(const std::string& message_id, std::string_view thinking);
  std::string AssistantToolUse(const std::string& message_id, const std::string& tool_use_id,
                               std::string_view tool_name, std::string_view input_json);
  /// `tool_use_result_json` is the top-level toolUseResult: an encoded object or string.
  std::string ToolResult(const std::string& tool_use_id, std::string_view content,
                         std::string_view tool_use_result_json, bool is_error);
  std::string Attachment(std::string_view attachment_json, std::string_view rendered_text);
  /// `data_json` is the encoded `data` object (hook_progress, agent_progress, ...).
  std::string Progress(std::string_view data_json, const std::string& tool_use_id);
  std::string StopHookSummary();
  std::string TurnDuration(uint64_t duration_ms);
  /// Starts a new chain (parentUuid null) pointing back via logicalParentUuid.
  std::string CompactBoundary(uint64_t pre_tokens);

  // --- bookkeeping lines (bookkeeping_lines.cc) ---
  std::string Summary(std::string_view summary, const std::string& leaf_uuid);
  std::string FileHistorySnapshot(const std::string& message_id, std::string_view file_path);
  std::string QueueOperation(std::string_view operation, std::string_view content);
  std::string LastPrompt();
  /// Types tsync does not know: cost-state, tools-used, mode, atis-latch and
  /// an invented future one. They must pass through untouched.
  std::string UnknownType();

  const std::string& last_uuid() const { return env_->parent_uuid; }
  std::string NewMessageId();

 private:
  void Head(JsonWriter& w);
  std::string Tail(JsonWriter& w, std::string_view type);
  void AssistantMessage(JsonWriter& w, const std::string& message_id, std::string_view block_json,
                        std::string_view stop_reason);
  void TagSubagent(JsonWriter& w);
  std::string Timestamp();

  Rng* rng_;
  Envelope* env_;
};

}  // namespace tsync::testdata
