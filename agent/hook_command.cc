#include "agent/hook_command.h"

#include <signal.h>
#include <spdlog/spdlog.h>

#include <istream>

#include "agent/exit_codes.h"
#include "agent/lifecycle_events.h"
#include "agent/link_command.h"
#include "agent/pending_queue.h"
#include "agent/process_info.h"
#include "agent/session_end.h"
#include "agent/watcher_registry.h"

extern char** environ;

namespace tsync::agent {
namespace {

std::string ReadCapped(std::istream& in, size_t cap) {
  std::string data(cap + 1, '\0');
  in.read(data.data(), static_cast<std::streamsize>(data.size()));
  data.resize(static_cast<size_t>(in.gcount()));
  return data;
}

/// Starts `tsync <global flags> <args…>` detached, with the API key (when it
/// did not come from the config file, which the child reads itself) on a
/// pipe instead of the command line or the environment.
Status SpawnTsync(const config::LoadedConfig& loaded, const std::vector<std::string>& global_flags,
                  std::vector<std::string> args) {
  Result<std::string> self = SelfExecutable();
  if (!self.ok()) return self.status();
  std::vector<std::string> argv = {*self};
  argv.insert(argv.end(), global_flags.begin(), global_flags.end());
  const bool key_by_pipe = !loaded.config.api_key.empty() && loaded.sources.api_key != config::Source::kFile;
  if (key_by_pipe) argv.push_back("--read-api-key-from-stdin");
  argv.insert(argv.end(), args.begin(), args.end());
  return SpawnDetached(argv, ChildEnvironment(environ), key_by_pipe ? loaded.config.api_key + "\n" : std::string());
}

std::vector<std::string> WatchArgs(const HookInput& in, bool final_only) {
  std::vector<std::string> args = {"watch", "--session", in.session.session_id, "--transcript",
                                   in.session.transcript_path};
  if (std::optional<ProcessId> claude = FindClaudeAncestor()) {
    args.insert(args.end(), {"--claude-pid", std::to_string(claude->pid), "--claude-start",
                             std::to_string(claude->start_time)});
  }
  if (final_only) args.push_back("--final");
  return args;
}

void EnsureWatcher(const config::LoadedConfig& loaded, const std::vector<std::string>& flags, const HookInput& in) {
  const std::string& state_dir = loaded.config.state_dir;
  if (std::optional<WatcherEntry> e = ReadWatcherEntry(state_dir, in.session.session_id); e && WatcherLive(*e)) return;
  if (Status st = SpawnTsync(loaded, flags, WatchArgs(in, false)); !st.ok()) {
    spdlog::error("hook {}: cannot start the watcher for session {} ({}); run `tsync save {}` after the session",
                  HookCommandName(in.event), in.session.session_id, st.ToString(), in.session.session_id);
    return;
  }
  spdlog::info("hook {}: started a watcher for session {}", HookCommandName(in.event), in.session.session_id);
}

void EndSession(const config::LoadedConfig& loaded, const std::vector<std::string>& flags, const HookInput& in) {
  const std::string& state_dir = loaded.config.state_dir;
  const std::string& id = in.session.session_id;
  if (Status st = WriteEndRequest(state_dir, id, in.payload_json); !st.ok()) {
    spdlog::error("hook session-end: cannot record the end of session {} ({}); its lines still sync, its "
                  "session_end event is lost",
                  id, st.ToString());
  }
  std::optional<WatcherEntry> e = ReadWatcherEntry(state_dir, id);
  if (e && WatcherLive(*e) && ::kill(e->process.pid, SIGUSR1) == 0) {
    spdlog::info("hook session-end: asked the watcher of session {} (pid {}) to flush and end", id, e->process.pid);
    return;
  }
  if (Status st = SpawnTsync(loaded, flags, WatchArgs(in, true)); !st.ok()) {
    spdlog::error("hook session-end: cannot start the final flush of session {} ({}); run `tsync save {}`", id,
                  st.ToString(), id);
  }
}

}  // namespace

int RunHook(HookEvent event, const config::LoadedConfig& loaded, const std::vector<std::string>& global_flags,
            std::istream& in) {
  const std::string input = ReadCapped(in, kMaxHookInputBytes);
  // PostToolUse runs after every Bash call: most payloads cannot hold a
  // GitHub link, and leave here (agent/link_command.h).
  if (event == HookEvent::kPostToolUse && !MayHoldGithubLink(input)) return kExitOk;
  Result<HookInput> parsed = ParseHookInput(event, input, loaded.config.ProjectsDir());
  if (!parsed.ok()) {
    spdlog::warn("hook {}: input ignored: {}", HookCommandName(event), parsed.status().message());
    return kExitOk;
  }
  const std::string& state_dir = loaded.config.state_dir;
  ReapWatchers(state_dir);
  // Recorded before the watcher is asked for, so a watcher started now finds
  // it on its first pass; the watcher sends it, if the backend takes it
  // (agent/lifecycle_events.h). An archive takes none.
  if (std::string_view type = LifecycleEventFor(*parsed); !type.empty() && loaded.config.HasBackend()) {
    if (Status st = RecordLifecycleEvent(state_dir, parsed->session.session_id, type, parsed->payload_json);
        !st.ok()) {
      spdlog::warn("hook {}: cannot record the {} event of session {} ({}); it is not mirrored",
                   HookCommandName(event), type, parsed->session.session_id, st.ToString());
    }
  }
  switch (event) {
    case HookEvent::kSessionEnd:
      EndSession(loaded, global_flags, *parsed);
      break;
    case HookEvent::kPostToolUse:
      // Queued links are sent by the session's watcher after its next pass.
      if (QueueToolUseLinks(loaded.config, *parsed) > 0) EnsureWatcher(loaded, global_flags, *parsed);
      break;
    case HookEvent::kSessionStart:
    case HookEvent::kStop:
    case HookEvent::kPreCompact:
    case HookEvent::kSubagentStop:
    case HookEvent::kUserPromptSubmit:
      EnsureWatcher(loaded, global_flags, *parsed);
      break;
  }
  if (AnyPending(state_dir)) {
    if (Status st = SpawnTsync(loaded, global_flags, {"sync", "--pending", "--background"}); !st.ok()) {
      spdlog::warn("hook: cannot start `tsync sync --pending` ({})", st.ToString());
    }
  }
  return kExitOk;
}

}  // namespace tsync::agent
