#include "testdata/conversation_writer.h"

#include <utility>

#include "base/json.h"
#include "base/utf8.h"
#include "testdata/fake_text.h"
#include "testdata/tool_calls.h"

namespace tsync::testdata {
namespace {

// One in this many turns after the first five plants a secret.
constexpr uint64_t kSecretOneIn = 12;

std::string SecretInContext(SecretKind kind, const std::string& value) {
  switch (kind) {
    case SecretKind::kAwsAccessKeyId: return "AWS_ACCESS_KEY_ID=" + value;
    case SecretKind::kGithubToken: return "GITHUB_TOKEN=" + value;
    case SecretKind::kAnthropicApiKey: return "ANTHROPIC_API_KEY=\"" + value + "\"";
    case SecretKind::kPassword: return "DATABASE_URL=\"postgres://app@db:5432/app?sslmode=off&" + value + "\"";
    case SecretKind::kPrivateKeyPem: return "cat > deploy/id_rsa <<'EOF'\n" + value + "\nEOF";
  }
  return value;
}

std::string HookProgressData(std::string_view event) {
  JsonWriter d;
  d.BeginObject().Key("type").String("hook_progress").Key("hookEvent").String(event);
  d.Key("hookName").String(std::string(event) + ":startup");
  d.Key("command").String("tsync hook \"$CLAUDE_PROJECT_DIR\" --event=" + std::string(event));
  return d.EndObject().Take();
}

}  // namespace

ConversationWriter::ConversationWriter(JsonlSink* sink, Envelope envelope, Rng rng, ConversationOptions options,
                                       std::vector<PlantedSecret>* secrets)
    : sink_(sink),
      env_(std::move(envelope)),
      rng_(rng),
      lines_(&rng_, &env_),
      options_(std::move(options)),
      secrets_(secrets) {}

void ConversationWriter::Emit(const std::string& line) { sink_->Append(line); }

void ConversationWriter::EmitWithSecret(const std::string& line, const std::optional<SecretPlan>& plan,
                                        Site site) {
  Emit(line);
  if (plan && plan->site == site) secrets_->push_back({plan->kind, plan->value, sink_->path(), sink_->lines()});
}

std::optional<ConversationWriter::SecretPlan> ConversationWriter::PlanSecret() {
  if (!options_.plant_secrets) return std::nullopt;
  SecretKind kind;
  if (turns_ < kSecretKindCount) {
    kind = static_cast<SecretKind>(turns_);
  } else if (rng_.Chance(1, kSecretOneIn)) {
    kind = static_cast<SecretKind>(rng_.Below(kSecretKindCount));
  } else {
    return std::nullopt;
  }
  SecretPlan plan{kind, static_cast<Site>(rng_.Below(4)), MakeFakeSecret(rng_, kind), {}};
  // A subagent's first turn has no prompt of its own.
  if (plan.site == Site::kPrompt && options_.is_subagent && turns_ == 0) plan.site = Site::kToolOutput;
  plan.text = SecretInContext(kind, plan.value);
  return plan;
}

void ConversationWriter::WriteOpening(const std::string& agent_prompt) {
  if (options_.is_subagent) {
    Emit(lines_.UserPrompt(agent_prompt));
    return;
  }
  // Sessions continued with --continue begin with the summary of the old one.
  Emit(lines_.Summary(Prose(rng_, rng_.Between(40, 120)), RandomUuid(rng_)));
  Emit(lines_.Progress(HookProgressData("SessionStart"), RandomUuid(rng_)));
}

void ConversationWriter::WritePrompt(bool first, const std::optional<SecretPlan>& plan) {
  const std::string text = Prose(rng_, rng_.Chance(1, 5) ? rng_.Between(1000, 6000) : rng_.Between(20, 600));
  // A secret goes on the user line only: the queued copy and last-prompt
  // quote the text before it, so the recorded line is the only one holding it.
  const bool with_secret = plan && plan->site == Site::kPrompt;
  const std::string prompt = with_secret ? text + "\n\nHere is the config:\n" + plan->text + "\n" : text;
  if (!options_.is_subagent && (first || rng_.Chance(2, 5))) {
    Emit(lines_.QueueOperation("enqueue", text));
    Emit(lines_.QueueOperation("dequeue", ""));
  }
  EmitWithSecret(lines_.UserPrompt(prompt), plan, Site::kPrompt);
  env_.last_prompt = std::string(TruncateUtf8(text, 200));
}

void ConversationWriter::WriteAttachment() {
  JsonWriter a;
  std::string rendered;
  switch (rng_.Below(5)) {
    case 0:
      rendered = "Today's date is " + FormatTimestamp(env_.clock_ms).substr(0, 10) + ".";
      a.BeginObject().Key("type").String("date").Key("date").String(rendered.substr(16, 10)).EndObject();
      break;
    case 1:
      rendered = Prose(rng_, rng_.Between(200, 1200));
      a.BeginObject().Key("type").String("todo_reminder").Key("content").BeginArray().BeginObject();
      a.Key("content").String(rendered).Key("status").String("pending").EndObject().EndArray();
      a.Key("itemCount").UInt(1).EndObject();
      break;
    case 2:
      rendered = Prose(rng_, rng_.Between(1000, 8000));
      a.BeginObject().Key("type").String("nested_memory").Key("path").String(env_.cwd + "/CLAUDE.md");
      a.Key("content").BeginObject().Key("type").String("Project").Key("content").String(rendered);
      a.EndObject().EndObject();
      break;
    case 3:
      rendered = Prose(rng_, rng_.Between(2000, 14000));
      a.BeginObject().Key("type").String("skill_listing").Key("content").String(rendered).EndObject();
      break;
    default:
      rendered = Code(rng_, rng_.Between(200, 3000));
      a.BeginObject().Key("type").String("edited_text_file").Key("filename").String(RandomFilePath(rng_));
      a.Key("snippet").String(rendered).EndObject();
      break;
  }
  Emit(lines_.Attachment(a.str(), rendered));
}

void ConversationWriter::WriteToolStep(bool force_progress, const std::optional<SecretPlan>& plan) {
  const std::string message_id = lines_.NewMessageId();
  if (rng_.Chance(1, 2)) Emit(lines_.AssistantThinking(message_id, Prose(rng_, rng_.Between(200, 4000))));
  if (rng_.Chance(1, 3)) Emit(lines_.AssistantText(message_id, Prose(rng_, rng_.Between(60, 1200))));
  Embedded embed;
  if (plan && plan->site == Site::kToolInput) embed.in_input = plan->text;
  if (plan && plan->site == Site::kToolOutput) embed.in_output = plan->text;
  ToolCall call = MakeToolCall(rng_, env_.cwd, embed);
  const std::string tool_use_id = RandomToolUseId(rng_);
  EmitWithSecret(lines_.AssistantToolUse(message_id, tool_use_id, call.name, call.input_json), plan,
                 Site::kToolInput);
  if (call.streams_progress || force_progress) {
    for (uint64_t i = 0, n = rng_.Between(1, 3); i < n; ++i) {
      std::string out;
      AppendCommandOutput(rng_, &out, rng_.Between(50, 600));
      JsonWriter d;
      d.BeginObject().Key("type").String("bash_progress").Key("output").String(out);
      d.Key("fullOutput").String(out).Key("elapsedTimeSeconds").UInt(i + 1).Key("totalLines").UInt(i * 7 + 3);
      Emit(lines_.Progress(d.EndObject().Take(), tool_use_id));
    }
  }
  EmitWithSecret(lines_.ToolResult(tool_use_id, call.result_text, call.tool_use_result, call.is_error), plan,
                 Site::kToolOutput);
}

void ConversationWriter::WriteAnswer(bool first, const std::optional<SecretPlan>& plan) {
  const std::string message_id = lines_.NewMessageId();
  if (first || rng_.Chance(1, 3)) Emit(lines_.AssistantThinking(message_id, Prose(rng_, rng_.Between(200, 3000))));
  std::string answer = Prose(rng_, rng_.Between(100, 4000));
  if (plan && plan->site == Site::kAnswer) answer += "\n\nI found `" + plan->text + "` in `.env`; rotate it.";
  EmitWithSecret(lines_.AssistantText(message_id, answer), plan, Site::kAnswer);
  if (first || rng_.Chance(1, 2)) Emit(lines_.StopHookSummary());
  if (first || rng_.Chance(1, 2)) Emit(lines_.TurnDuration(rng_.Between(800, 600000)));
  if (!options_.is_subagent && (first || rng_.Chance(1, 2))) Emit(lines_.LastPrompt());
  if (first || rng_.Chance(1, 6)) Emit(lines_.UnknownType());
}

void ConversationWriter::WriteTurn(uint64_t stop_at_bytes) {
  // The first turn has every kind of line, so even a tiny file has the full mix.
  const bool first = turns_ == 0;
  const std::optional<SecretPlan> plan = PlanSecret();
  if (!(options_.is_subagent && first)) WritePrompt(first, plan);
  if (first || rng_.Chance(2, 3)) {
    Emit(lines_.FileHistorySnapshot(lines_.last_uuid(), first ? "" : RandomFilePath(rng_)));
  }
  for (uint64_t i = 0, n = first ? 3 : rng_.Below(3); i < n; ++i) WriteAttachment();
  if (options_.image_threshold > 0 && rng_.Next() < options_.image_threshold) {
    Emit(lines_.UserImage(options_.image_chars));
  }
  for (uint64_t i = 0, n = rng_.Between(1, 6); i < n; ++i) {
    if (i > 0 && sink_->bytes() >= stop_at_bytes) break;
    WriteToolStep(first && i == 0, i == 0 ? plan : std::nullopt);
  }
  WriteAnswer(first, plan);
  ++turns_;
}

std::string ConversationWriter::AgentResult(const AgentSpawn& spawn, std::string* text) {
  JsonWriter r;
  if (!spawn.by_tool_result) {
    *text = "Agent \"" + spawn.description + "\" finished.";
    r.String("Agent completed: " + spawn.description);
    return r.Take();
  }
  r.BeginObject();
  if (spawn.async) {
    *text = "Async agent launched successfully.\nagentId: " + spawn.agent_id +
            " (internal ID - do not mention to user.)\nThe agent is working in the background.";
    r.Key("isAsync").Bool(true).Key("status").String("async_launched");
  } else {
    *text = Prose(rng_, rng_.Between(200, 3000));
    r.Key("status").String("completed").Key("content").BeginArray().BeginObject();
    r.Key("type").String("text").Key("text").String(*text).EndObject().EndArray();
    r.Key("totalDurationMs").UInt(rng_.Between(2000, 900000)).Key("totalTokens").UInt(rng_.Below(90000));
    r.Key("totalToolUseCount").UInt(rng_.Below(40));
  }
  r.Key("agentId").String(spawn.agent_id).Key("description").String(spawn.description);
  r.Key("prompt").String(spawn.prompt);
  return r.EndObject().Take();
}

void ConversationWriter::WriteAgentSpawn(AgentSpawn* spawn) {
  Emit(lines_.UserPrompt("Use a subagent to " + spawn->description + ". " + Prose(rng_, rng_.Between(20, 300))));
  const std::string message_id = lines_.NewMessageId();
  Emit(lines_.AssistantThinking(message_id, Prose(rng_, rng_.Between(200, 1500))));
  JsonWriter in;
  in.BeginObject().Key("description").String(spawn->description).Key("prompt").String(spawn->prompt);
  in.Key("subagent_type").String(spawn->agent_type);
  if (spawn->async) in.Key("run_in_background").Bool(true);
  in.EndObject();
  spawn->spawned_at_ms = env_.clock_ms;
  Emit(lines_.AssistantToolUse(message_id, spawn->tool_use_id, options_.agent_tool_name, in.str()));
  if (spawn->by_progress) {
    for (uint64_t i = 0, n = rng_.Between(2, 4); i < n; ++i) {
      JsonWriter d;
      d.BeginObject().Key("type").String("agent_progress").Key("message").BeginObject();
      d.Key("type").String("assistant").Key("message").BeginObject().Key("role").String("assistant");
      d.Key("content").BeginArray().BeginObject().Key("type").String("text");
      d.Key("text").String(Prose(rng_, rng_.Between(40, 400))).EndObject().EndArray().EndObject();
      d.Key("timestamp").String(FormatTimestamp(env_.clock_ms)).EndObject();
      d.Key("normalizedMessages").BeginArray().EndArray().Key("prompt").String(spawn->prompt);
      d.Key("agentId").String(spawn->agent_id).EndObject();
      Emit(lines_.Progress(d.str(), spawn->tool_use_id));
    }
  }
  std::string text;
  const std::string result = AgentResult(*spawn, &text);
  Emit(lines_.ToolResult(spawn->tool_use_id, text, result, false));
  Emit(lines_.AssistantText(lines_.NewMessageId(), Prose(rng_, rng_.Between(60, 800))));
  Emit(lines_.StopHookSummary());
}

void ConversationWriter::WriteWorkflowSpawn(WorkflowSpawn* run) {
  Emit(lines_.UserPrompt("Run the " + run->workflow + " workflow on the last commit."));
  const std::string message_id = lines_.NewMessageId();
  JsonWriter in;
  in.BeginObject().Key("workflow").String(run->workflow).Key("args").BeginObject();
  in.Key("target").String("HEAD~1..HEAD").EndObject().EndObject();
  run->spawned_at_ms = env_.clock_ms;
  Emit(lines_.AssistantToolUse(message_id, run->tool_use_id, "Workflow", in.str()));
  JsonWriter r;
  r.BeginObject().Key("runId").String(run->run_id).Key("workflow").String(run->workflow);
  r.Key("status").String("completed").EndObject();
  Emit(lines_.ToolResult(run->tool_use_id, "Workflow run " + run->run_id + " completed.", r.str(), false));
  Emit(lines_.AssistantText(lines_.NewMessageId(), Prose(rng_, rng_.Between(60, 800))));
}

void ConversationWriter::WriteCompaction() {
  const std::string leaf = lines_.last_uuid();
  Emit(lines_.CompactBoundary(rng_.Between(150000, 190000)));
  Emit(lines_.UserPrompt("This session is being continued from a previous conversation that ran out of "
                         "context. The conversation is summarized below:\n" +
                         Prose(rng_, rng_.Between(2000, 8000))));
  Emit(lines_.Summary(Prose(rng_, rng_.Between(40, 120)), leaf));
}

void ConversationWriter::WriteClosing() {
  if (!options_.is_subagent) Emit(lines_.LastPrompt());
  Emit(lines_.UnknownType());
}

}  // namespace tsync::testdata
