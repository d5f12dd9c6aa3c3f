#include "tests/fake_anthropic/messages_reply.h"

#include <algorithm>

namespace tsync::fake_anthropic {
namespace {

using nlohmann::json;

constexpr size_t kDeltaBytes = 24;

std::string Event(const std::string& name, const json& data) {
  return "event: " + name + "\ndata: " + data.dump() + "\n\n";
}

int64_t OutputTokens(const json& content) { return RoughTokens(content.dump().size()); }

json Usage(const ReplyMeta& meta, int64_t output_tokens) {
  return {{"input_tokens", meta.input_tokens},
          {"cache_creation_input_tokens", 0},
          {"cache_read_input_tokens", 0},
          {"output_tokens", output_tokens},
          {"service_tier", "standard"}};
}

/// `s` cut into pieces of about kDeltaBytes, never inside a UTF-8 sequence
/// (each delta's JSON must be valid on its own).
std::vector<std::string> Pieces(const std::string& s) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < s.size()) {
    size_t end = std::min(s.size(), pos + kDeltaBytes);
    while (end < s.size() && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80) ++end;
    out.push_back(s.substr(pos, end - pos));
    pos = end;
  }
  if (out.empty()) out.push_back("");
  return out;
}

}  // namespace

int64_t RoughTokens(size_t bytes) { return std::max<int64_t>(1, static_cast<int64_t>(bytes / 4)); }

std::string ErrorJson(const std::string& type, const std::string& message) {
  return json{{"type", "error"}, {"error", {{"type", type}, {"message", message}}}}.dump();
}

std::string MessageJson(const ReplyMeta& meta, const json& content, const std::string& stop_reason) {
  json msg = {{"id", meta.message_id},      {"type", "message"},
              {"role", "assistant"},        {"model", meta.model},
              {"content", content},         {"stop_reason", stop_reason},
              {"stop_sequence", nullptr},   {"usage", Usage(meta, OutputTokens(content))}};
  return msg.dump();
}

std::vector<std::string> MessageEvents(const ReplyMeta& meta, const json& content, const std::string& stop_reason) {
  std::vector<std::string> events;
  json start = {{"id", meta.message_id}, {"type", "message"},        {"role", "assistant"},
                {"model", meta.model},   {"content", json::array()}, {"stop_reason", nullptr},
                {"stop_sequence", nullptr}, {"usage", Usage(meta, 1)}};
  events.push_back(Event("message_start", {{"type", "message_start"}, {"message", start}}));
  events.push_back(Event("ping", {{"type", "ping"}}));
  for (size_t i = 0; i < content.size(); ++i) {
    const json& block = content[i];
    const bool tool = block["type"] == "tool_use";
    json empty = tool ? json{{"type", "tool_use"}, {"id", block["id"]}, {"name", block["name"]}, {"input", json::object()}}
                      : json{{"type", "text"}, {"text", ""}};
    events.push_back(Event("content_block_start", {{"type", "content_block_start"}, {"index", i}, {"content_block", empty}}));
    const std::string whole = tool ? block["input"].dump() : block["text"].get<std::string>();
    for (const std::string& piece : Pieces(whole)) {
      json delta = tool ? json{{"type", "input_json_delta"}, {"partial_json", piece}}
                        : json{{"type", "text_delta"}, {"text", piece}};
      events.push_back(Event("content_block_delta", {{"type", "content_block_delta"}, {"index", i}, {"delta", delta}}));
    }
    events.push_back(Event("content_block_stop", {{"type", "content_block_stop"}, {"index", i}}));
  }
  events.push_back(Event("message_delta", {{"type", "message_delta"},
                                           {"delta", {{"stop_reason", stop_reason}, {"stop_sequence", nullptr}}},
                                           {"usage", {{"output_tokens", OutputTokens(content)}}}}));
  events.push_back(Event("message_stop", {{"type", "message_stop"}}));
  return events;
}

}  // namespace tsync::fake_anthropic
