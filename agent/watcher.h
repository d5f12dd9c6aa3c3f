// The per-session watcher (`tsync watch`), started detached by the hooks.
//
// It holds the session's WatcherLock for its whole life (so there is never a
// second one), keeps a registry entry (agent/watcher_registry.h) and keeps one
// SyncSession (agent/engine.h) whose passes send what is complete on disk.
//
// When it syncs: inotify on the project directory (the transcript, old-layout
// agent files, the session directory appearing) and on every directory under
// <session>/ as they appear; a pass runs once writes have settled for
// `settle` (250 ms), and at least every `max_delay` (2 s) under a continuous
// stream — around one request a second, well under the per-user limit. A
// `safety_scan` pass (every 5 s, every 1 s without inotify) covers a lost
// inotify event, an overflowing queue or a filesystem without inotify.
//
// Lifecycle events (agent/lifecycle_events.h): it watches the directory
// where hooks queue session_start/resume/compact/stop, and after each pass
// that knows the backend session sends them — or, to a backend that does not
// advertise lifecycle_events, deletes them unsent. They go before the
// session_end; a final flush that leaves some unsent leaves the session
// pending.
//
// When it ends, always after a final flush:
//  - SIGUSR1 (the SessionEnd hook left an end request): flush, then send one
//    session_end with the hook's payload (agent/session_end.h);
//  - SIGTERM, SIGINT, SIGHUP; the Claude Code process it belongs to exits
//    (pidfd, or a start-time check every 2 s); `idle_timeout` without a write.
// Between sessions' writes it mostly waits: `release_memory_after` into a
// quiet spell it returns its free heap pages and its libraries' start-up
// pages to the system, so an idle watcher holds a few MiB.
// The final flush is bounded by `final_flush_bound`: a watchdog ends the
// process when it is over, and sleeps inside it stop at the bound. A session
// not completely sent (backend down, bound hit) stays in the pending queue
// (agent/pending_queue.h) — checkpoints only advance on acknowledgement, so
// nothing is lost by stopping at any moment.
// Thread-safety: RunWatch runs the process's one event loop.
#pragma once

#include <chrono>

#include "agent/process_info.h"
#include "agent/session_scan.h"
#include "config/config.h"

namespace tsync::agent {

struct WatchOptions {
  SessionRef session;
  ProcessId claude;    // pid 0: unknown, so only signals and idleness end the watcher
  bool final_only = false;  // flush, send a pending session end, exit (no watching)
  std::chrono::milliseconds settle{250};
  std::chrono::milliseconds max_delay{2000};
  std::chrono::milliseconds safety_scan{5000};
  std::chrono::seconds idle_timeout{3600};
  std::chrono::seconds final_flush_bound{30};
  // Quiet this long after its last write, the watcher hands memory back
  // (base/memory.h ReleaseIdleMemory) — once per quiet spell.
  std::chrono::milliseconds release_memory_after{5000};
};

/// Exit code: 0 when everything was sent (or another watcher owns the
/// session), 1 when the session is left pending, 3/2 for auth/config.
int RunWatch(const config::Config& config, const WatchOptions& options);

}  // namespace tsync::agent
