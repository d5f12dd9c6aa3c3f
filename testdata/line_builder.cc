#include "testdata/line_builder.h"

#include "base/utf8.h"
#include "testdata/fake_text.h"

namespace tsync::testdata {

std::string LineBuilder::Timestamp() {
  env_->clock_ms += rng_->Between(2, 1500);
  return FormatTimestamp(env_->clock_ms);
}

std::string LineBuilder::NewMessageId() { return "msg_01" + RandomHex(*rng_, 22); }

void LineBuilder::Head(JsonWriter& w) {
  w.BeginObject().Key("parentUuid");
  if (env_->parent_uuid.empty()) {
    w.Null();
  } else {
    w.String(env_->parent_uuid);
  }
  w.Key("isSidechain").Bool(env_->sidechain);
  if (!env_->agent_id.empty()) w.Key("agentId").String(env_->agent_id);
}

std::string LineBuilder::Tail(JsonWriter& w, std::string_view type) {
  std::string uuid = RandomUuid(*rng_);
  w.Key("type").String(type).Key("uuid").String(uuid).Key("timestamp").String(Timestamp());
  w.Key("userType").String("external").Key("entrypoint").String("cli");
  w.Key("cwd").String(env_->cwd).Key("sessionId").String(env_->session_id);
  w.Key("version").String(env_->version).Key("gitBranch").String(env_->git_branch);
  w.EndObject();
  env_->parent_uuid = std::move(uuid);
  return w.Take();
}

std::string LineBuilder::UserPrompt(std::string_view text) {
  env_->prompt_id = RandomUuid(*rng_);
  env_->last_prompt = std::string(TruncateUtf8(text, 200));
  JsonWriter w;
  Head(w);
  w.Key("promptId").String(env_->prompt_id);
  w.Key("message").BeginObject().Key("role").String("user").Key("content").String(text).EndObject();
  w.Key("permissionMode").String("default").Key("promptSource").String("user");
  return Tail(w, "user");
}

std::string LineBuilder::UserImage(size_t base64_chars) {
  std::string data = "iVBORw0KGgoAAAANSUhEUgAA";  // the PNG signature, base64-encoded
  AppendBase64(*rng_, &data, base64_chars > data.size() ? base64_chars - data.size() : 4);
  JsonWriter w;
  Head(w);
  w.Key("promptId").String(env_->prompt_id);
  w.Key("message").BeginObject().Key("role").String("user").Key("content").BeginArray();
  w.BeginObject().Key("type").String("image").Key("source").BeginObject();
  w.Key("type").String("base64").Key("media_type").String("image/png").Key("data").String(data);
  w.EndObject().EndObject().EndArray().EndObject();
  w.Key("isMeta").Bool(false);
  return Tail(w, "user");
}

void LineBuilder::AssistantMessage(JsonWriter& w, const std::string& message_id, std::string_view block_json,
                                   std::string_view stop_reason) {
  w.Key("message").BeginObject();
  w.Key("id").String(message_id).Key("type").String("message").Key("role").String("assistant");
  w.Key("model").String("claude-opus-4-5-20251101");
  w.Key("content").BeginArray().Raw(block_json).EndArray();
  w.Key("stop_reason");
  if (stop_reason.empty()) {
    w.Null();
  } else {
    w.String(stop_reason);
  }
  w.Key("stop_sequence").Null();
  w.Key("usage").BeginObject();
  w.Key("input_tokens").UInt(rng_->Between(1, 20));
  w.Key("cache_creation_input_tokens").UInt(rng_->Below(5000));
  w.Key("cache_read_input_tokens").UInt(rng_->Between(10000, 180000));
  w.Key("output_tokens").UInt(rng_->Between(1, 4000));
  w.Key("service_tier").String("standard");
  w.EndObject().EndObject();
  w.Key("requestId").String("req_011C" + RandomHex(*rng_, 20));
}

std::string LineBuilder::AssistantText(const std::string& message_id, std::string_view text) {
  JsonWriter block;
  block.BeginObject().Key("type").String("text").Key("text").String(text).EndObject();
  JsonWriter w;
  Head(w);
  AssistantMessage(w, message_id, block.str(), rng_->Chance(1, 2) ? "end_turn" : "");
  return Tail(w, "assistant");
}

std::string LineBuilder::AssistantThinking(const std::string& message_id, std::string_view thinking) {
  std::string signature;
  AppendBase64(*rng_, &signature, rng_->Between(300, 2400));
  JsonWriter block;
  block.BeginObject().Key("type").String("thinking").Key("thinking").String(thinking);
  block.Key("signature").String(signature).EndObject();
  JsonWriter w;
  Head(w);
  AssistantMessage(w, message_id, block.str(), "");
  return Tail(w, "assistant");
}

std::string LineBuilder::AssistantToolUse(const std::string& message_id, const std::string& tool_use_id,
                                          std::string_view tool_name, std::string_view input_json) {
  JsonWriter block;
  block.BeginObject().Key("type").String("tool_use").Key("id").String(tool_use_id);
  block.Key("name").String(tool_name).Key("input").Raw(input_json).EndObject();
  JsonWriter w;
  Head(w);
  AssistantMessage(w, message_id, block.str(), "tool_use");
  return Tail(w, "assistant");
}

std::string LineBuilder::ToolResult(const std::string& tool_use_id, std::string_view content,
                                    std::string_view tool_use_result_json, bool is_error) {
  const std::string source = env_->parent_uuid;
  JsonWriter w;
  Head(w);
  w.Key("promptId").String(env_->prompt_id);
  w.Key("message").BeginObject().Key("role").String("user").Key("content").BeginArray();
  w.BeginObject().Key("tool_use_id").String(tool_use_id).Key("type").String("tool_result");
  w.Key("content").String(content).Key("is_error").Bool(is_error).EndObject();
  w.EndArray().EndObject();
  w.Key("toolUseResult").Raw(tool_use_result_json);
  w.Key("sourceToolAssistantUUID").String(source);
  return Tail(w, "user");
}

std::string LineBuilder::Attachment(std::string_view attachment_json, std::string_view rendered_text) {
  JsonWriter w;
  Head(w);
  w.Key("attachment").Raw(attachment_json);
  w.Key("rendered").BeginArray().BeginObject();
  w.Key("content").String("<system-reminder>\n" + std::string(rendered_text) + "\n</system-reminder>");
  w.EndObject().EndArray().Key("renderedRole").String(rng_->Chance(1, 3) ? "user" : "system");
  return Tail(w, "attachment");
}

std::string LineBuilder::Progress(std::string_view data_json, const std::string& tool_use_id) {
  JsonWriter w;
  Head(w);
  w.Key("data").Raw(data_json);
  w.Key("toolUseID").String(tool_use_id).Key("parentToolUseID").String(tool_use_id);
  return Tail(w, "progress");
}

std::string LineBuilder::StopHookSummary() {
  JsonWriter w;
  Head(w);
  w.Key("subtype").String("stop_hook_summary").Key("hookCount").UInt(1);
  w.Key("hookInfos").BeginArray().BeginObject();
  w.Key("command").String("cat >> \"$HOME/hooklog.jsonl\"; echo >> \"$HOME/hooklog.jsonl\"");
  w.Key("durationMs").UInt(rng_->Between(1, 40)).EndObject().EndArray();
  w.Key("hookErrors").BeginArray().EndArray().Key("preventedContinuation").Bool(false);
  w.Key("stopReason").String("").Key("hasOutput").Bool(false).Key("level").String("suggestion");
  w.Key("toolUseID").String(RandomUuid(*rng_));
  return Tail(w, "system");
}

std::string LineBuilder::TurnDuration(uint64_t duration_ms) {
  JsonWriter w;
  Head(w);
  w.Key("subtype").String("turn_duration").Key("durationMs").UInt(duration_ms).Key("isMeta").Bool(false);
  return Tail(w, "system");
}

std::string LineBuilder::CompactBoundary(uint64_t pre_tokens) {
  const std::string logical_parent = env_->parent_uuid;
  env_->parent_uuid.clear();
  JsonWriter w;
  Head(w);
  w.Key("logicalParentUuid").String(logical_parent);
  w.Key("subtype").String("compact_boundary").Key("content").String("Conversation compacted");
  w.Key("isMeta").Bool(false).Key("level").String("info");
  w.Key("compactMetadata").BeginObject().Key("trigger").String(rng_->Chance(1, 4) ? "manual" : "auto");
  w.Key("preTokens").UInt(pre_tokens).EndObject();
  return Tail(w, "system");
}

}  // namespace tsync::testdata
