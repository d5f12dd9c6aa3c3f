// The watcher registry: one entry per session watcher under
// <state_dir>/watchers/, so hooks can tell whether a session already has a
// live watcher and `tsync status` can list them.
//
//   <id>.lock      flock()ed by the watcher for its whole life: at most one
//                  watcher per session, whatever races between hooks.
//   <id>.json      the entry: pid *and* start time (a reused pid is not a
//                  live watcher), state, counters, last error. Written by the
//                  watcher only (atomic 0600); removed by the reaper when
//                  the process is gone.
//   <id>.end.json  a session-end request: the SessionEnd hook's payload,
//                  waiting for the watcher's final flush to send it.
// Thread-safety: free functions over files; WatcherLock is a move-only handle.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "agent/process_info.h"
#include "base/fs.h"
#include "base/status.h"

namespace tsync::agent {

enum class WatcherState { kStarting, kRunning, kFlushing, kDone, kFailed };
const char* WatcherStateName(WatcherState state);

struct WatcherEntry {
  std::string session_id;
  std::string transcript_path;
  ProcessId process;
  ProcessId claude;  // pid 0: not known
  WatcherState state = WatcherState::kStarting;
  uint64_t files = 0;
  uint64_t lines_synced = 0;  // lines this watcher sent
  int64_t last_upload = 0;    // unix seconds; 0: none yet
  std::string last_error;
  int64_t updated_at = 0;

  bool operator==(const WatcherEntry&) const = default;
};

std::string WatchersDir(const std::string& state_dir);
std::string EndRequestPath(const std::string& state_dir, const std::string& session_id);

Status WriteWatcherEntry(const std::string& state_dir, const WatcherEntry& entry);
/// nullopt when there is none or it does not parse (then it is treated as absent).
std::optional<WatcherEntry> ReadWatcherEntry(const std::string& state_dir, const std::string& session_id);
std::vector<WatcherEntry> ListWatcherEntries(const std::string& state_dir);

/// True when the entry's process runs (pid and start time match).
bool WatcherLive(const WatcherEntry& entry);

/// Removes entries whose process is gone; returns how many. A watcher that
/// died without finishing is logged, so the user can look at its last error.
size_t ReapWatchers(const std::string& state_dir);

/// The per-session lock a watcher holds while it lives.
class WatcherLock {
 public:
  /// kConflict when another process holds it.
  static Result<WatcherLock> TryAcquire(const std::string& state_dir, const std::string& session_id);
  WatcherLock(WatcherLock&&) = default;
  WatcherLock& operator=(WatcherLock&&) = default;

 private:
  explicit WatcherLock(UniqueFd fd) : fd_(std::move(fd)) {}
  UniqueFd fd_;
};

}  // namespace tsync::agent
