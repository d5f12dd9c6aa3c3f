// Processes, as the hooks and the watcher need them: a process identity that
// survives pid reuse (pid + start time), the Claude Code process a hook runs
// under, and starting a detached child that keeps secrets off its command
// line and out of its environment.
// Thread-safety: free functions. SpawnDetached forks: call it from a
// single-threaded process (the hook) or accept fork's usual caveats.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace tsync::agent {

/// A process, told apart from a later one that reuses its pid.
struct ProcessId {
  pid_t pid = 0;
  uint64_t start_time = 0;  // clock ticks after boot (/proc/<pid>/stat field 22)

  bool operator==(const ProcessId&) const = default;
};

/// The start time of `pid`, or nullopt when there is no such process — or
/// only its remains: a zombie, or one already exiting (PF_EXITING: its argv
/// and memory are gone while the kernel closes its files, which a loaded
/// machine can stretch to a noticeable time).
std::optional<uint64_t> ProcessStartTime(pid_t pid);

/// The same, read from the text of a /proc/<pid>/stat file.
std::optional<uint64_t> LiveStartTime(std::string_view stat);

/// True while the very process `id` names runs (not exiting, not a zombie,
/// not a newer process with the same pid).
bool ProcessAlive(const ProcessId& id);

/// This process.
ProcessId SelfProcess();

/// The nearest ancestor of `from` (default: this process's parent, inclusive)
/// that is Claude Code: its command name, executable or argv[0] is "claude"
/// (or "claude.exe", the npm package's native binary),
/// or node runs a script from a claude-code package. Hooks run under a shell,
/// so the search walks up to 8 generations.
std::optional<ProcessId> FindClaudeAncestor(pid_t from = 0);

/// Environment entries a detached tsync child gets: paths, locale, proxies
/// and tsync's own non-secret settings (an allow-list, so ANTHROPIC_API_KEY,
/// TSYNC_API_KEY and other secrets of the parent never reach it).
std::vector<std::string> ChildEnvironment(char** environ_in);

/// Starts `argv` (argv[0] an absolute path) detached: its own session,
/// reparented to init (double fork), stdio on /dev/null — except stdin, which
/// is a pipe carrying `stdin_data` when that is non-empty — and no other file
/// descriptors. Returns once the child is started; never waits for it.
Status SpawnDetached(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                     std::string_view stdin_data = {});

/// The absolute path of the running executable (/proc/self/exe).
Result<std::string> SelfExecutable();

}  // namespace tsync::agent
