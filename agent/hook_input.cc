#include "agent/hook_input.h"

#include <simdjson.h>

#include <array>
#include <filesystem>
#include <utility>

#include "base/fs.h"
#include "tracker/checkpoint.h"

namespace tsync::agent {
namespace {

constexpr std::array<std::pair<HookEvent, const char*>, 7> kEvents = {{
    {HookEvent::kSessionStart, "session-start"},
    {HookEvent::kSessionEnd, "session-end"},
    {HookEvent::kStop, "stop"},
    {HookEvent::kPreCompact, "pre-compact"},
    {HookEvent::kSubagentStop, "subagent-stop"},
    {HookEvent::kUserPromptSubmit, "user-prompt-submit"},
    {HookEvent::kPostToolUse, "post-tool-use"},
}};

std::string OptionalField(simdjson::dom::element doc, const char* key) {
  std::string_view v;
  return doc[key].get(v) == simdjson::SUCCESS ? std::string(v) : std::string();
}

}  // namespace

std::optional<HookEvent> HookEventFromCommand(std::string_view name) {
  for (const auto& [event, command] : kEvents) {
    if (name == command) return event;
  }
  return std::nullopt;
}

const char* HookCommandName(HookEvent event) {
  for (const auto& [e, command] : kEvents) {
    if (e == event) return command;
  }
  return "?";
}

Result<std::string> ResolveUnderConstruction(const std::string& path) {
  if (!path.starts_with("/")) return Status::InvalidInput("transcript_path is not absolute");
  // JSON can encode a NUL byte (U+0000); system calls would see only the part before it.
  if (path.find('\0') != std::string::npos) return Status::InvalidInput("transcript_path contains a NUL byte");
  std::filesystem::path p(path);
  for (const auto& part : p) {
    if (part == "..") return Status::InvalidInput("transcript_path contains '..'");
  }
  // Walk up to the longest prefix that exists, resolve it, append the rest.
  // A dangling or looping symlink counts as existing (symlink_status, not
  // exists()): left in `rest` it would stay unresolved, naming whatever later
  // appears at its target, outside the projects dir; canonical() refuses it.
  std::filesystem::path existing = p.lexically_normal(), rest;
  std::error_code ec;
  while (!std::filesystem::exists(std::filesystem::symlink_status(existing, ec))) {
    if (!existing.has_relative_path()) break;
    rest = existing.filename() / rest;
    existing = existing.parent_path();
  }
  std::filesystem::path resolved = std::filesystem::canonical(existing, ec);
  if (ec) return Status::InvalidInput("cannot resolve transcript_path: " + ec.message());
  if (!rest.empty()) resolved /= rest;
  std::string out = resolved.string();
  if (out.size() > 1 && out.ends_with("/")) out.pop_back();
  return out;
}

Result<SessionRef> CheckSession(const std::string& session_id, const std::string& transcript_path,
                                const std::string& projects_dir) {
  if (!tracker::IsValidSessionId(session_id)) {
    return Status::InvalidInput("session_id is not [A-Za-z0-9_-]{1,128} (" + std::to_string(session_id.size()) +
                                " bytes)");
  }
  Result<std::string> resolved = ResolveUnderConstruction(transcript_path);
  if (!resolved.ok()) return resolved.status();
  Result<std::string> root = ResolveUnderConstruction(projects_dir);
  if (!root.ok()) return Status::Config("the Claude projects dir " + projects_dir + ": " + root.status().message());
  if (!PathIsInside(*resolved, *root)) {
    return Status::InvalidInput("transcript_path is outside the Claude projects dir " + *root +
                                " (set CLAUDE_CONFIG_DIR for Claude Code and tsync alike)");
  }
  const std::filesystem::path tp(*resolved);
  if (tp.filename() != session_id + ".jsonl") {
    return Status::InvalidInput("transcript_path is not named after the session (<session_id>.jsonl)");
  }
  if (tp.parent_path().parent_path() != std::filesystem::path(*root)) {
    return Status::InvalidInput("transcript_path is not in a project directory of " + *root);
  }
  return SessionRef{session_id, tp.parent_path().string(), *resolved};
}

Result<HookInput> ParseHookInput(HookEvent event, std::string_view json, const std::string& projects_dir) {
  if (json.size() > kMaxHookInputBytes) {
    return Status::InvalidInput("hook input is " + std::to_string(json.size()) + " bytes, over the 1 MiB cap");
  }
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(json.data(), json.size()).get(doc) != simdjson::SUCCESS || !doc.is_object()) {
    return Status::InvalidInput("hook input is not a JSON object (" + std::to_string(json.size()) + " bytes)");
  }
  HookInput in;
  in.event = event;
  std::string_view sid, transcript;
  if (doc["session_id"].get(sid) != simdjson::SUCCESS) return Status::InvalidInput("hook input has no session_id");
  if (doc["transcript_path"].get(transcript) != simdjson::SUCCESS || transcript.empty()) {
    return Status::InvalidInput("hook input has no transcript_path");
  }
  Result<SessionRef> session = CheckSession(std::string(sid), std::string(transcript), projects_dir);
  if (!session.ok()) return session.status();
  in.session = std::move(session).value();
  in.source = OptionalField(doc, "source");
  in.reason = OptionalField(doc, "reason");
  in.payload_json = simdjson::minify(doc);
  return in;
}

}  // namespace tsync::agent
