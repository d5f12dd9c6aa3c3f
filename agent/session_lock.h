// SessionSyncLock: at most one process syncs a session at a time.
//
// PROTOCOL.md "/sync/chunk": the server has no lock, so a client must keep at
// most one chunk in flight per file. One SyncSession does; but several tsync
// processes can sync the same session at once — the watcher a hook started,
// a `tsync save` the user runs beside it, a `tsync sync --pending` another
// hook started before the new watcher registered. Two of them sending the
// same first_line at once could make a real server store the lines twice;
// the reference backend refuses the second (422), which quarantined the file
// (found by the crash matrix, tests/crash_matrix_test.cc). The same race could
// send a session_end twice.
//
// So every sync pass — and the session_end and lifecycle events sent after
// it — runs under an flock on <state_dir>/locks/<session-id>.lock. The lock
// dies with its process (a SIGKILLed holder releases it at once), so it never
// needs cleaning up. It is per session, whatever the destination.
// Thread-safety: a move-only handle; Acquire may block the calling thread.
#pragma once

#include <chrono>
#include <string>

#include "base/fs.h"
#include "base/status.h"

namespace tsync::agent {

class SessionSyncLock {
 public:
  /// Waits until `wait` has passed for the lock (0: one try; max(): as long
  /// as it takes). kConflict when another process still holds it; another
  /// status when the lock file cannot be made (the caller may go on unlocked
  /// rather than not sync at all).
  static Result<SessionSyncLock> Acquire(const std::string& state_dir, const std::string& session_id,
                                         std::chrono::milliseconds wait);
  SessionSyncLock(SessionSyncLock&&) = default;
  SessionSyncLock& operator=(SessionSyncLock&&) = default;

 private:
  explicit SessionSyncLock(UniqueFd fd) : fd_(std::move(fd)) {}
  UniqueFd fd_;
};

/// <state_dir>/locks/<session_id>.lock
std::string SessionLockPath(const std::string& state_dir, const std::string& session_id);

}  // namespace tsync::agent
