// ConversationWriter: writes one transcript file turn by turn — the main
// session or a subagent's — composing LineBuilder lines into the patterns
// real sessions show:
//
//   queue-operation enqueue/dequeue, user prompt, file-history-snapshot,
//   attachments, then tool steps (thinking, text, tool_use, progress,
//   tool_result), a final answer, a system line, last-prompt and the odd
//   unknown-type line; now and then an image, a compaction (system
//   compact_boundary + continuation prompt + summary), a subagent spawn or a
//   workflow run.
//
// Sizes are steered from outside: WriteTurn stops adding tool steps once
// the file reaches `stop_at_bytes`, so a file overshoots its target by at
// most one step and a turn's tail. With plant_secrets, the first five turns
// each plant one secret kind and later turns plant one now and then; each
// is recorded with its file and 1-based line.
// Thread-safety: single owner.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "testdata/fake_secrets.h"
#include "testdata/jsonl_sink.h"
#include "testdata/line_builder.h"
#include "testdata/rng.h"

namespace tsync::testdata {

/// A subagent launch as the parent transcript records it.
struct AgentSpawn {
  std::string agent_id;
  std::string tool_use_id;
  std::string agent_type;      // "general-purpose", "Explore", ...
  std::string description;
  std::string prompt;          // also the first line of the agent's own file
  bool by_tool_result = true;  // parent's tool_result carries toolUseResult.agentId
  bool by_progress = true;     // parent has agent_progress lines with data.agentId
  bool async = true;           // 2.1.x background launch; 2.0.x waited for the result
  uint64_t spawned_at_ms = 0;  // set by WriteAgentSpawn: the agent's clock starts here
};

/// A Workflow tool run as the parent transcript records it.
struct WorkflowSpawn {
  std::string run_id;
  std::string tool_use_id;
  std::string workflow;
  uint64_t spawned_at_ms = 0;  // set by WriteWorkflowSpawn
};

struct ConversationOptions {
  bool is_subagent = false;
  std::string agent_tool_name = "Agent";  // "Task" before 2.1
  uint64_t image_threshold = 0;           // a turn has an image when Rng::Next() < this
  size_t image_chars = 1u << 20;          // base64 characters per image (~1 MiB line)
  bool plant_secrets = false;
};

class ConversationWriter {
 public:
  ConversationWriter(JsonlSink* sink, Envelope envelope, Rng rng, ConversationOptions options,
                     std::vector<PlantedSecret>* secrets);
  // lines_ points into this object.
  ConversationWriter(const ConversationWriter&) = delete;
  ConversationWriter& operator=(const ConversationWriter&) = delete;

  /// Main file: a summary left by an earlier session and the SessionStart
  /// hook's progress. Subagent file: the agent's prompt as its first line.
  void WriteOpening(const std::string& agent_prompt);
  void WriteTurn(uint64_t stop_at_bytes);
  void WriteAgentSpawn(AgentSpawn* spawn);
  void WriteWorkflowSpawn(WorkflowSpawn* run);
  void WriteCompaction();
  void WriteClosing();

  Envelope& envelope() { return env_; }
  ConversationOptions& options() { return options_; }

 private:
  enum class Site { kPrompt, kToolInput, kToolOutput, kAnswer };
  struct SecretPlan {
    SecretKind kind;
    Site site;
    std::string value;
    std::string text;  // the value in context, e.g. "GITHUB_TOKEN=ghp_..."
  };

  void Emit(const std::string& line);
  void EmitWithSecret(const std::string& line, const std::optional<SecretPlan>& plan, Site site);
  std::optional<SecretPlan> PlanSecret();
  void WritePrompt(bool first, const std::optional<SecretPlan>& plan);
  void WriteAttachment();
  void WriteToolStep(bool force_progress, const std::optional<SecretPlan>& plan);
  void WriteAnswer(bool first, const std::optional<SecretPlan>& plan);
  std::string AgentResult(const AgentSpawn& spawn, std::string* text);

  JsonlSink* sink_;
  Envelope env_;
  Rng rng_;
  LineBuilder lines_;
  ConversationOptions options_;
  std::vector<PlantedSecret>* secrets_;
  uint64_t turns_ = 0;
};

}  // namespace tsync::testdata
