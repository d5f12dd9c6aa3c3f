// The reply script of tsync-fake-anthropic: which canned assistant turn
// answers which Messages API request from Claude Code.
//
// A script is JSON (README.md beside this file has the full format):
//
//   {"turns": [{"name": "...", "match": {...}, "reply": [<content block>...],
//               "times": 1}, ...],
//    "fallback": [<content block>...]}
//
// A request is answered by the first turn, in file order, whose `match`
// holds and which has been used fewer than `times` times (default 1); when
// none does, by `fallback` (default: one text block "ok"). Matching is on
// what any Messages API client sends, never on Claude Code's wording, so a
// new Claude Code release does not silently change which turn answers:
//   agent        "main" | "subagent" | "any" (default): a request is from a
//                subagent when its first user message contains the `prompt`
//                of a subagent tool_use this server has sent (Agent/Task), or
//                when it carries an X-Claude-Code-Agent-Id header (2.1.x
//                sends it on every subagent request, none on the main
//                agent's); everything else is the main agent
//   last         "text" | "tool_result" | "any" (default): what the last
//                user message carries
//   contains     a substring of the last user message's text (text blocks and
//                tool_result contents)
//   first_contains  a substring of the first user message's text
//   has_tool     the request offers a tool of that name (or, given a list,
//                one of those names); side requests such as title
//                generation offer no tools
// Reply blocks: {"type": "text", "text": "..."} and {"type": "tool_use",
// "name": "Agent" or ["Agent", "Task"] (the first the request offers),
// "input": {...}}. A tool_use reply ends with stop_reason "tool_use", any
// other with "end_turn".
//
// Thread-safety: Script is immutable after Load(); Conversation serialises
// Respond() with a mutex (httplib serves requests on a thread pool).
#pragma once

#include <cstdint>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

namespace tsync::fake_anthropic {

/// One scripted assistant turn.
struct Turn {
  std::string name;
  std::string agent = "any";  // main | subagent | any
  std::string last = "any";   // text | tool_result | any
  std::string contains;
  std::string first_contains;
  std::vector<std::string> has_tool;  // any of these
  int times = 1;
  nlohmann::json reply;  // array of content blocks
};

struct Script {
  std::vector<Turn> turns;
  nlohmann::json fallback;  // array of content blocks

  /// Parses and checks a script; false with `err` naming the turn and field.
  static bool Parse(const std::string& text, Script* out, std::string* err);
  static bool Load(const std::string& path, Script* out, std::string* err);
};

/// What the server tells about one /v1/messages request.
struct Classification {
  std::string agent;       // main | subagent
  std::string last;        // text | tool_result | none
  std::string turn;        // the matched turn's name, or "fallback"
};

/// Content blocks ready to send, with the stop reason they imply.
struct Answer {
  Classification why;
  nlohmann::json content;  // array of blocks; tool_use blocks carry ids
  std::string stop_reason;
};

/// The server's state across requests: how often each turn was used and the
/// subagent prompts it has handed out (to recognise the subagents' requests).
class Conversation {
 public:
  explicit Conversation(Script script) : script_(std::move(script)) {}

  /// Picks the reply for one parsed /v1/messages request body;
  /// `agent_id_header` tells whether it came with X-Claude-Code-Agent-Id.
  Answer Respond(const nlohmann::json& request, bool agent_id_header);

 private:
  std::mutex mu_;
  Script script_;
  std::vector<int> used_;
  std::set<std::string> subagent_prompts_;
  uint64_t next_tool_id_ = 1;
};

/// Concatenated text of a message's content (string, text blocks, and the
/// text inside tool_result blocks), for substring matching.
std::string MessageText(const nlohmann::json& message);

}  // namespace tsync::fake_anthropic
