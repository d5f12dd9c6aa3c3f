#include "agent/sync_pending.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>

#include <cerrno>
#include <ctime>
#include <ostream>

#include "agent/engine.h"
#include "agent/exit_codes.h"
#include "agent/lifecycle_events.h"
#include "agent/pending_queue.h"
#include "agent/redaction_setup.h"
#include "agent/save_command.h"
#include "agent/session_end.h"
#include "agent/session_lock.h"
#include "agent/watcher_registry.h"
#include "base/fs.h"

namespace tsync::agent {
namespace {

/// Sends the session's queued lifecycle events, or drops them when the
/// backend does not take them (agent/lifecycle_events.h).
Status MirrorLifecycleEvents(const std::string& state_dir, const Destination& dest, const redact::Redactor& redactor,
                             const std::string& id, const std::string& backend_session_id) {
  if (!dest.lifecycle_events) {
    DropLifecycleEvents(state_dir, id);
  } else if (Status st = SendLifecycleEvents(state_dir, *dest.sink, redactor, id, backend_session_id).status;
             !st.ok()) {
    return st;
  }
  RemoveLifecycleDirIfEmpty(state_dir, id);
  return Status::Ok();
}

}  // namespace

int RunSyncPending(const config::Config& config, bool background, std::ostream& out) {
  const std::string& state_dir = config.state_dir;
  if (Status st = MakeDirs(PendingDir(state_dir), 0700); !st.ok()) {
    spdlog::error("{}", st.ToString());
    return ExitCodeFor(st);
  }
  const std::string lock_path = PendingDir(state_dir) + "/.lock";
  UniqueFd lock(::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (lock.get() < 0) {
    const Status st = Status::Errno("open " + lock_path, errno);
    spdlog::error("{}", st.ToString());
    return ExitCodeFor(st);
  }
  if (::flock(lock.get(), LOCK_EX | (background ? LOCK_NB : 0)) != 0) {
    out << "another `tsync sync --pending` is running\n";
    return kExitOk;
  }
  std::vector<PendingEntry> entries = ListPending(state_dir);
  if (entries.empty()) {
    out << "nothing pending\n";
    return kExitOk;
  }
  Result<std::unique_ptr<redact::Redactor>> redactor = UploadRedactor(config.redaction);
  if (!redactor.ok()) {
    spdlog::error("{}", redactor.status().ToString());
    return ExitCodeFor(redactor.status());
  }
  const int64_t now = static_cast<int64_t>(std::time(nullptr));
  Result<Destination> dest = OpenDestination(config, "");
  if (!dest.ok()) {
    spdlog::error("pending sessions wait: {}", dest.status().ToString());
    for (const PendingEntry& e : entries) {
      if (e.next_attempt <= now) (void)DeferPending(state_dir, e, now);
    }
    return ExitCodeFor(dest.status());
  }
  size_t synced = 0, left = 0;
  for (const PendingEntry& e : entries) {
    const std::string& id = e.session.session_id;
    std::optional<WatcherEntry> watcher = ReadWatcherEntry(state_dir, id);
    if ((background && e.next_attempt > now) || (watcher && WatcherLive(*watcher))) {
      ++left;  // its backoff has not passed, or its watcher owns it
      continue;
    }
    // Held through the sync and the events after it (agent/session_lock.h):
    // a watcher that has not registered yet, or a user's save, may be
    // syncing it. In the background, such a session is simply left for them.
    Result<SessionSyncLock> lock = SessionSyncLock::Acquire(
        state_dir, id, background ? std::chrono::milliseconds(0) : std::chrono::milliseconds::max());
    if (!lock.ok() && lock.status().kind() == Status::Kind::kConflict) {
      ++left;
      continue;
    }
    if (!lock.ok()) spdlog::warn("session {}: {}; syncing without the session lock", id, lock.status().ToString());
    SyncOptions options;
    options.include_workflows = dest->workflow_files;
    SyncSession sync(e.session, *dest->sink, **redactor, dest->checkpoint_dir, options);
    SessionReport report = sync.Run();
    // Lifecycle events the watcher could not send go first, then session_end.
    Status end = report.complete() ? MirrorLifecycleEvents(state_dir, *dest, **redactor, id, report.backend_session_id)
                                   : Status::Ok();
    if (end.ok() && report.complete()) end = SendEndRequest(state_dir, *dest->sink, id, report.backend_session_id);
    if (report.complete() && end.ok()) {
      RemovePending(state_dir, id);
      ++synced;
      out << id << "  synced (" << report.lines_sent() << " line(s) sent)\n";
      continue;
    }
    ++left;
    (void)DeferPending(state_dir, e, now);
    const std::string why = !end.ok() ? "events: " + end.ToString()
                                      : report.status.ok() ? "some files are not complete" : report.status.ToString();
    spdlog::warn("session {}: still pending ({}); retried after {} s", id, why, PendingBackoffSeconds(e.attempts + 1));
    out << id << "  pending — " << why << "\n";
  }
  out << synced << " synced, " << left << " still pending\n";
  return left == 0 ? kExitOk : kExitIncomplete;
}

}  // namespace tsync::agent
