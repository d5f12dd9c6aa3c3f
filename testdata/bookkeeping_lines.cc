// The envelope-less line kinds of LineBuilder (see line_builder.h).
#include "testdata/fake_text.h"
#include "testdata/line_builder.h"

namespace tsync::testdata {

void LineBuilder::TagSubagent(JsonWriter& w) {
  if (env_->agent_id.empty()) return;
  w.Key("agentId").String(env_->agent_id).Key("sessionId").String(env_->session_id);
}

std::string LineBuilder::Summary(std::string_view summary, const std::string& leaf_uuid) {
  JsonWriter w;
  w.BeginObject().Key("type").String("summary").Key("summary").String(summary);
  w.Key("leafUuid").String(leaf_uuid);
  TagSubagent(w);
  return w.EndObject().Take();
}

std::string LineBuilder::FileHistorySnapshot(const std::string& message_id, std::string_view file_path) {
  JsonWriter w;
  w.BeginObject().Key("type").String("file-history-snapshot").Key("messageId").String(message_id);
  w.Key("snapshot").BeginObject().Key("messageId").String(message_id);
  w.Key("trackedFileBackups").BeginObject();
  if (!file_path.empty()) {
    w.Key(file_path).BeginObject();
    w.Key("backupFileName").String(RandomHex(*rng_, 16) + "@v" + std::to_string(rng_->Between(1, 9)));
    w.Key("version").UInt(rng_->Between(1, 9)).Key("backupTime").String(FormatTimestamp(env_->clock_ms));
    w.EndObject();
  }
  w.EndObject().Key("timestamp").String(FormatTimestamp(env_->clock_ms)).EndObject();
  w.Key("isSnapshotUpdate").Bool(!file_path.empty());
  TagSubagent(w);
  return w.EndObject().Take();
}

std::string LineBuilder::QueueOperation(std::string_view operation, std::string_view content) {
  env_->clock_ms += rng_->Between(1, 30);
  JsonWriter w;
  w.BeginObject().Key("type").String("queue-operation").Key("operation").String(operation);
  w.Key("timestamp").String(FormatTimestamp(env_->clock_ms)).Key("sessionId").String(env_->session_id);
  if (!content.empty()) w.Key("content").String(content);
  if (!env_->agent_id.empty()) w.Key("agentId").String(env_->agent_id);
  return w.EndObject().Take();
}

std::string LineBuilder::LastPrompt() {
  JsonWriter w;
  w.BeginObject().Key("type").String("last-prompt").Key("lastPrompt").String(env_->last_prompt);
  w.Key("leafUuid").String(env_->parent_uuid).Key("sessionId").String(env_->session_id);
  if (!env_->agent_id.empty()) w.Key("agentId").String(env_->agent_id);
  return w.EndObject().Take();
}

std::string LineBuilder::UnknownType() {
  JsonWriter w;
  w.BeginObject();
  switch (rng_->Below(5)) {
    case 0:
      w.Key("type").String("cost-state").Key("totalCostUSD").Raw("0.0007000000000000001");
      w.Key("totalAPIDuration").UInt(rng_->Between(100, 90000)).Key("totalLinesAdded").UInt(rng_->Below(500));
      w.Key("modelUsage").BeginObject().Key("claude-opus-4-5-20251101").BeginObject();
      w.Key("inputTokens").UInt(rng_->Below(100000)).Key("outputTokens").UInt(rng_->Below(20000));
      w.EndObject().EndObject().Key("hasUnknownModelCost").Bool(false);
      break;
    case 1:
      w.Key("type").String("tools-used").Key("tools").BeginArray().String("Bash").String("Read");
      w.String("Edit").EndArray();
      break;
    case 2:
      w.Key("type").String("mode").Key("mode").String(rng_->Chance(1, 2) ? "normal" : "plan");
      break;
    case 3:
      w.Key("type").String("atis-latch").Key("atis").String("");
      break;
    default:
      // Not a real type (yet): stands for whatever the next release adds.
      w.Key("type").String("context-ledger").Key("schema").UInt(7);
      w.Key("entries").BeginArray().BeginObject().Key("kind").String("file");
      w.Key("path").String(RandomFilePath(*rng_)).Key("tokens").UInt(rng_->Below(9000));
      w.Key("note").String("naïve \"ledger\" \\ 日本語 🚀").EndObject().EndArray();
      w.Key("timestamp").String(FormatTimestamp(env_->clock_ms));
      break;
  }
  w.Key("sessionId").String(env_->session_id);
  if (!env_->agent_id.empty()) w.Key("agentId").String(env_->agent_id);
  return w.EndObject().Take();
}

}  // namespace tsync::testdata
