// The JSON a Claude Code hook receives on stdin (TRANSCRIPTS.md "Hooks"),
// read with a size cap and checked before anything acts on it: a session id
// safe to use in paths, and a transcript path that is really inside the
// Claude projects directory (after resolving symlinks), named after the
// session. Anything else is refused with a message for the log — a hostile
// or broken payload can never make tsync read or upload another file.
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "agent/session_scan.h"
#include "base/status.h"

namespace tsync::agent {

enum class HookEvent {
  kSessionStart,
  kSessionEnd,
  kStop,
  kPreCompact,
  kSubagentStop,
  kUserPromptSubmit,
  kPostToolUse,
};

/// "session-start" → kSessionStart …; nullopt for anything else.
std::optional<HookEvent> HookEventFromCommand(std::string_view name);
/// "session-start" …
const char* HookCommandName(HookEvent event);

inline constexpr size_t kMaxHookInputBytes = 1 << 20;

struct HookInput {
  HookEvent event = HookEvent::kSessionStart;
  SessionRef session;      // transcript_path resolved; project_dir its directory
  std::string source;      // SessionStart: startup | resume | clear | compact | fork
  std::string reason;      // SessionEnd
  std::string payload_json;  // the whole input, minified (sent with session_end)
};

/// A session named by id and transcript path, checked: a safe id, and a
/// transcript `<projects_dir>/<project>/<id>.jsonl` after resolving symlinks
/// (the file itself need not exist yet).
Result<SessionRef> CheckSession(const std::string& session_id, const std::string& transcript_path,
                                const std::string& projects_dir);

/// Checks and extracts the hook input. kInvalidInput says what is wrong
/// (never echoing more than a short prefix of the payload).
Result<HookInput> ParseHookInput(HookEvent event, std::string_view json, const std::string& projects_dir);

/// `path` with every symlink of its existing part resolved and the part
/// that does not exist yet appended as written; kInvalidInput for relative
/// paths and ".." components.
Result<std::string> ResolveUnderConstruction(const std::string& path);

}  // namespace tsync::agent
