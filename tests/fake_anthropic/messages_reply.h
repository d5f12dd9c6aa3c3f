// Renders a scripted assistant turn the way the Anthropic Messages API sends
// it: one JSON `message` object ("stream": false), or the server-sent-event
// sequence ("stream": true) that the SDK inside Claude Code reassembles:
//
//   message_start, ping,
//   per block: content_block_start, content_block_delta... (text_delta for
//              text, input_json_delta with partial_json for tool_use),
//              content_block_stop,
//   message_delta (stop_reason, output usage), message_stop
//
// Text and tool input are cut into several deltas so the client's
// reassembly is exercised, not just its happy path of one delta per block.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace tsync::fake_anthropic {

struct ReplyMeta {
  std::string message_id;  // "msg_..."
  std::string model;       // echoed from the request
  int64_t input_tokens = 0;
};

/// The non-streaming reply body.
std::string MessageJson(const ReplyMeta& meta, const nlohmann::json& content, const std::string& stop_reason);

/// The streaming reply: one string per SSE event ("event: X\ndata: {...}\n\n").
std::vector<std::string> MessageEvents(const ReplyMeta& meta, const nlohmann::json& content,
                                       const std::string& stop_reason);

/// A rough token count (bytes / 4, at least 1), for usage and count_tokens.
int64_t RoughTokens(size_t bytes);

/// The API's error body: {"type":"error","error":{"type":..., "message":...}}.
std::string ErrorJson(const std::string& type, const std::string& message);

}  // namespace tsync::fake_anthropic
