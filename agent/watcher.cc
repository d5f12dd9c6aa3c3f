#include "agent/watcher.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

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
#include "base/memory.h"

namespace tsync::agent {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr milliseconds kClaudePollEvery{2000};
constexpr milliseconds kNoInotifyScan{1000};
// How long a pass waits for another process's sync of the session (a user's
// `tsync save`) before it gives up until the next change or safety scan.
constexpr milliseconds kSessionLockWait{1000};
// How long a new watcher waits for the lock of one that is no longer live
// (killed or exiting: the kernel releases its lock only once it has closed
// its files, which a loaded machine can stretch).
constexpr milliseconds kLockHandover{5000};
constexpr uint32_t kDirEvents = IN_MODIFY | IN_CLOSE_WRITE | IN_CREATE | IN_MOVED_TO | IN_DELETE | IN_MOVED_FROM;

int64_t UnixNow() { return static_cast<int64_t>(std::time(nullptr)); }

int ToPollTimeout(Clock::time_point now, Clock::time_point until) {
  if (until <= now) return 0;
  auto ms = std::chrono::duration_cast<milliseconds>(until - now).count() + 1;
  return static_cast<int>(std::min<int64_t>(ms, 60'000));
}

class Watcher {
 public:
  Watcher(const config::Config& config, const WatchOptions& options) : config_(config), opt_(options) {}
  ~Watcher() {
    if (inotify_ >= 0) ::close(inotify_);
    if (signal_fd_ >= 0) ::close(signal_fd_);
    if (pidfd_ >= 0) ::close(pidfd_);
  }

  int Run();

 private:
  const std::string& id() const { return opt_.session.session_id; }
  const std::string& state_dir() const { return config_.state_dir; }

  /// The session's watcher lock; kConflict while a live watcher holds it.
  /// One that is not live (killed or exiting) gets `kLockHandover` to let go.
  Result<WatcherLock> AcquireLock();
  Status Open();
  bool Pass();
  void MirrorEvents();
  int FinalFlush(bool send_end);
  void SetUpInotify();
  void AddDirWatches(const std::string& dir);
  bool DrainInotify();
  void DrainSignals();
  void WatchClaude();
  bool ClaudeGone();
  void Sleep(milliseconds d);
  void Record(WatcherState state);

  const config::Config& config_;
  const WatchOptions opt_;
  WatcherEntry entry_;
  std::optional<Destination> dest_;
  std::unique_ptr<redact::Redactor> redactor_;
  std::unique_ptr<SyncSession> sync_;
  std::string backend_session_id_;  // from the last pass that inited
  Clock::time_point next_open_ = Clock::time_point::min();
  milliseconds open_backoff_{1000};

  int signal_fd_ = -1;
  int inotify_ = -1;
  int pidfd_ = -1;
  int project_wd_ = -1;
  int events_wd_ = -1;                  // the lifecycle events the hooks queue
  std::map<int, std::string> dir_wds_;  // session-tree watches
  bool events_due_ = false;             // a hook queued a lifecycle event
  bool end_requested_ = false;
  bool stop_requested_ = false;
  std::optional<Clock::time_point> flush_deadline_;
  std::optional<SessionSyncLock> flush_lock_;  // held through the final flush
  std::optional<WatcherEntry> recorded_;        // what the registry holds, as this watcher last wrote it
};

void Watcher::Record(WatcherState state) {
  entry_.state = state;
  // An idle pass (the 5 s safety scan) changes nothing: no rewrite, no fsync.
  if (recorded_ && *recorded_ == entry_) return;
  if (Status st = WriteWatcherEntry(state_dir(), entry_); !st.ok()) {
    spdlog::warn("session {}: cannot update the watcher registry ({})", id(), st.ToString());
    return;
  }
  recorded_ = entry_;
}

/// Sleeps inside the engine (backoff) wake early for signals and never pass
/// the final flush's bound.
void Watcher::Sleep(milliseconds d) {
  Clock::time_point until = Clock::now() + d;
  if (flush_deadline_) until = std::min(until, *flush_deadline_);
  while (Clock::now() < until && !stop_requested_ && !end_requested_) {
    pollfd p{signal_fd_, POLLIN, 0};
    if (::poll(&p, 1, ToPollTimeout(Clock::now(), until)) > 0) DrainSignals();
  }
}

Status Watcher::Open() {
  if (Clock::now() < next_open_) return Status::Transient("waiting to retry the backend");
  if (!redactor_) {
    Result<std::unique_ptr<redact::Redactor>> redactor = UploadRedactor(config_.redaction);
    if (!redactor.ok()) return redactor.status();
    redactor_ = std::move(redactor).value();
  }
  // Few retries inside the client, and its sleeps wake for signals: the
  // watcher's own loop retries with backoff.
  uploader::SyncClientOptions client;
  client.retry = uploader::RetryPolicy{2, milliseconds(500), milliseconds(5000)};
  client.sleep = [this](milliseconds d) { Sleep(d); };
  Result<Destination> dest = OpenDestination(config_, "", client);
  if (!dest.ok()) {
    next_open_ = Clock::now() + open_backoff_;
    open_backoff_ = std::min(open_backoff_ * 2, milliseconds(60'000));
    return dest.status();
  }
  dest_ = std::move(dest).value();
  SyncOptions options;
  options.include_workflows = dest_->workflow_files;
  options.sleep = [this](milliseconds d) { Sleep(d); };
  sync_ = std::make_unique<SyncSession>(opt_.session, *dest_->sink, *redactor_, dest_->checkpoint_dir, options);
  return Status::Ok();
}

/// One sync pass; true when the session is completely sent.
bool Watcher::Pass() {
  if (!sync_) {
    Status st = Open();
    if (!st.ok()) {
      entry_.last_error = st.message();
      if (st.kind() == Status::Kind::kTransient) (void)AddPending(state_dir(), opt_.session);
      Record(entry_.state);
      return false;
    }
  }
  // One process at a time syncs a session (agent/session_lock.h); the final
  // flush already holds the lock, through its session end.
  std::optional<SessionSyncLock> lock;
  if (!flush_lock_) {
    Result<SessionSyncLock> acquired = SessionSyncLock::Acquire(state_dir(), id(), kSessionLockWait);
    if (acquired.ok()) {
      lock = std::move(acquired).value();
    } else if (acquired.status().kind() == Status::Kind::kConflict) {
      entry_.last_error = acquired.status().message() + "; this watcher tries again";
      Record(entry_.state);
      return false;
    } else {
      spdlog::warn("session {}: {}; syncing without the session lock", id(), acquired.status().ToString());
    }
  }
  SessionReport r = sync_->Run();
  if (!r.backend_session_id.empty()) backend_session_id_ = r.backend_session_id;
  entry_.files = r.files.size();
  entry_.lines_synced += r.lines_sent();
  if (r.lines_sent() > 0) entry_.last_upload = UnixNow();
  bool waiting = !r.status.ok();
  std::string error = r.status.ok() ? "" : r.status.ToString();
  for (const FileReport& f : r.files) {
    if (f.state == FileState::kPending) waiting = true;
    if (error.empty() && f.state != FileState::kSynced) error = f.file_name + ": " + f.error;
  }
  entry_.last_error = error;
  if (waiting) {
    if (Status st = AddPending(state_dir(), opt_.session); !st.ok()) {
      spdlog::error("session {}: cannot record it as pending ({}); run `tsync save {}` later", id(), st.ToString(),
                    id());
    }
  } else {
    RemovePending(state_dir(), id());
  }
  MirrorEvents();
  Record(entry_.state);
  return r.complete();
}

/// Sends the lifecycle events the hooks queued — or drops them, unsent, when
/// the backend does not advertise them. Needs the session initialised.
void Watcher::MirrorEvents() {
  if (!dest_ || backend_session_id_.empty()) return;
  if (!dest_->lifecycle_events) {
    if (size_t n = DropLifecycleEvents(state_dir(), id()); n > 0) {
      spdlog::info("session {}: {} lifecycle event(s) not sent: {} does not advertise {}", id(), n, dest_->display,
                   kLifecycleCapability);
    }
    return;
  }
  LifecycleSendResult sent = SendLifecycleEvents(state_dir(), *dest_->sink, *redactor_, id(), backend_session_id_);
  if (sent.sent > 0) spdlog::debug("session {}: {} lifecycle event(s) sent", id(), sent.sent);
  if (!sent.status.ok()) {
    entry_.last_error = "lifecycle events wait: " + sent.status.ToString();
    spdlog::warn("session {}: {}", id(), entry_.last_error);
  }
}

int Watcher::FinalFlush(bool send_end) {
  Record(WatcherState::kFlushing);
  // Whatever happens next, the session is retried until it is complete.
  (void)AddPending(state_dir(), opt_.session);
  flush_deadline_ = Clock::now() + opt_.final_flush_bound;
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  // The watchdog writes its own copy: the main thread may be mid-pass.
  WatcherEntry timed_out = entry_;
  timed_out.state = WatcherState::kFailed;
  timed_out.last_error = "the final flush did not finish within " + std::to_string(opt_.final_flush_bound.count()) +
                         " s; left pending";
  std::thread watchdog([&, deadline = *flush_deadline_] {
    std::unique_lock lock(mu);
    if (cv.wait_until(lock, deadline, [&] { return done; })) return;
    spdlog::error("session {}: {} (`tsync sync --pending` or the next hook retries it)", id(), timed_out.last_error);
    (void)WriteWatcherEntry(state_dir(), timed_out);
    ::_exit(kExitIncomplete);
  });
  // The session lock is held through the last pass and the session end, so
  // a `sync --pending` that a hook started beside this watcher neither syncs
  // at the same time nor sends the end again.
  bool complete = false;
  const milliseconds left = std::chrono::duration_cast<milliseconds>(*flush_deadline_ - Clock::now());
  Result<SessionSyncLock> lock = SessionSyncLock::Acquire(state_dir(), id(), std::max(milliseconds(0), left));
  if (lock.ok()) {
    flush_lock_ = std::move(lock).value();
    complete = Pass();
  } else if (lock.status().kind() != Status::Kind::kConflict) {
    spdlog::warn("session {}: {}; syncing without the session lock", id(), lock.status().ToString());
    complete = Pass();
  } else {
    entry_.last_error = lock.status().message();
  }
  Status end = Status::Ok();
  if (complete && send_end && sync_) {
    // Sent only after every line is stored; the backend id is the one the
    // last pass used (the checkpoint has it).
    end = SendEndRequest(state_dir(), *dest_->sink, id(), backend_session_id_);
  }
  {
    std::lock_guard lock(mu);
    done = true;
  }
  cv.notify_one();
  watchdog.join();
  const bool end_left = HasEndRequest(state_dir(), id());
  const bool events_left = dest_ && dest_->lifecycle_events && QueuedLifecycleEvents(state_dir(), id()) > 0;
  if (complete && end.ok() && !end_left && !events_left) {
    RemovePending(state_dir(), id());
    Record(WatcherState::kDone);
    spdlog::info("session {}: final flush done, {} line(s) sent by this watcher{}", id(), entry_.lines_synced,
                 send_end ? ", session end sent" : "");
    return kExitOk;
  }
  if (!end.ok()) entry_.last_error = "session_end not sent: " + end.ToString();
  spdlog::warn("session {}: left pending ({}); it is retried by `tsync sync --pending` and the next hook", id(),
               entry_.last_error.empty() ? "not everything was sent" : entry_.last_error);
  Record(WatcherState::kFailed);
  return kExitIncomplete;
}

void Watcher::AddDirWatches(const std::string& dir) {
  if (inotify_ < 0) return;
  const int wd = ::inotify_add_watch(inotify_, dir.c_str(), kDirEvents | IN_ONLYDIR);
  if (wd < 0) return;
  dir_wds_[wd] = dir;
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator(dir, ec); !ec && it != std::filesystem::directory_iterator();
       it.increment(ec)) {
    if (it->is_directory(ec) && !it->is_symlink(ec)) AddDirWatches(it->path().string());
  }
}

void Watcher::SetUpInotify() {
  if (inotify_ < 0) {
    inotify_ = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (inotify_ < 0) {
      spdlog::warn("session {}: inotify unavailable ({}); checking the files every {} ms instead", id(),
                   std::strerror(errno), kNoInotifyScan.count());
      return;
    }
  }
  if (project_wd_ < 0) project_wd_ = ::inotify_add_watch(inotify_, opt_.session.project_dir.c_str(), kDirEvents);
  if (events_wd_ < 0 && config_.HasBackend()) {
    // Hooks write events by rename (agent/lifecycle_events.h).
    events_wd_ = ::inotify_add_watch(inotify_, LifecycleDir(state_dir(), id()).c_str(), IN_MOVED_TO | IN_ONLYDIR);
  }
  const std::string session_dir = opt_.session.project_dir + "/" + id();
  AddDirWatches(session_dir);
}

/// Reads every queued event; true when one concerns this session.
bool Watcher::DrainInotify() {
  alignas(inotify_event) char buf[16 * 1024];
  bool relevant = false;
  for (;;) {
    const ssize_t n = ::read(inotify_, buf, sizeof buf);
    if (n <= 0) break;
    for (char* p = buf; p < buf + n;) {
      const auto* ev = reinterpret_cast<const inotify_event*>(p);
      p += sizeof(inotify_event) + ev->len;
      const std::string_view name = ev->len > 0 ? std::string_view(ev->name) : std::string_view();
      if (ev->mask & IN_Q_OVERFLOW) {
        relevant = true;
        SetUpInotify();  // directories may have appeared unseen
        continue;
      }
      if (ev->mask & IN_IGNORED) {
        dir_wds_.erase(ev->wd);
        if (ev->wd == project_wd_) project_wd_ = -1;
        if (ev->wd == events_wd_) events_wd_ = -1;
        continue;
      }
      if (ev->wd == events_wd_) {
        events_due_ = true;
        continue;
      }
      if (ev->wd == project_wd_) {
        if (name == id() && (ev->mask & IN_ISDIR)) {
          AddDirWatches(opt_.session.project_dir + "/" + id());
          relevant = true;
        } else if (name == id() + ".jsonl" || (name.starts_with("agent-") && name.ends_with(".jsonl"))) {
          relevant = true;
        }
        continue;
      }
      auto dir = dir_wds_.find(ev->wd);
      if (dir == dir_wds_.end()) continue;
      relevant = true;
      if ((ev->mask & (IN_CREATE | IN_MOVED_TO)) && (ev->mask & IN_ISDIR)) {
        AddDirWatches(dir->second + "/" + std::string(name));
      }
    }
  }
  return relevant;
}

void Watcher::DrainSignals() {
  signalfd_siginfo info;
  while (::read(signal_fd_, &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
    if (info.ssi_signo == SIGUSR1) {
      end_requested_ = true;
    } else {
      stop_requested_ = true;
    }
  }
}

void Watcher::WatchClaude() {
  if (opt_.claude.pid <= 0 || !ProcessAlive(opt_.claude)) return;
  const int fd = static_cast<int>(::syscall(SYS_pidfd_open, opt_.claude.pid, 0));
  // The pid may have been reused between the check and the open: check again.
  if (fd >= 0 && !ProcessAlive(opt_.claude)) {
    ::close(fd);
    return;
  }
  pidfd_ = fd;
}

bool Watcher::ClaudeGone() { return opt_.claude.pid > 0 && !ProcessAlive(opt_.claude); }

Result<WatcherLock> Watcher::AcquireLock() {
  const Clock::time_point give_up = Clock::now() + kLockHandover;
  for (;;) {
    Result<WatcherLock> lock = WatcherLock::TryAcquire(state_dir(), id());
    if (lock.ok() || lock.status().kind() != Status::Kind::kConflict) return lock;
    // Held. By a live watcher (its registry entry names a running process):
    // that one owns the session. Otherwise by one on its way out.
    std::optional<WatcherEntry> holder = ReadWatcherEntry(state_dir(), id());
    if ((holder && WatcherLive(*holder)) || Clock::now() >= give_up) return lock;
    std::this_thread::sleep_for(milliseconds(20));
  }
}

int Watcher::Run() {
  // Signals are blocked before the registry entry makes this watcher visible:
  // a hook's SIGUSR1 must never meet the default action (termination).
  sigset_t mask;
  sigemptyset(&mask);
  for (int sig : {SIGUSR1, SIGTERM, SIGINT, SIGHUP}) sigaddset(&mask, sig);
  ::sigprocmask(SIG_BLOCK, &mask, nullptr);
  signal_fd_ = ::signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);

  Result<WatcherLock> lock = AcquireLock();
  if (!lock.ok()) {
    if (lock.status().kind() == Status::Kind::kConflict) {
      spdlog::info("session {}: a watcher already runs; this one leaves", id());
      return kExitOk;
    }
    spdlog::error("session {}: cannot lock the watcher registry ({})", id(), lock.status().ToString());
    return kExitIncomplete;
  }
  entry_.session_id = id();
  entry_.transcript_path = opt_.session.transcript_path;
  entry_.process = SelfProcess();
  entry_.claude = opt_.claude;
  Record(WatcherState::kStarting);
  // Removed, when empty, on the way out — while the lock is still held (it
  // is destroyed after this), so it never pulls the directory from under
  // the next watcher.
  struct EventsDirCleanup {
    const std::string& state_dir;
    const std::string& id;
    ~EventsDirCleanup() { RemoveLifecycleDirIfEmpty(state_dir, id); }
  } events_dir_cleanup{state_dir(), id()};
  if (config_.HasBackend()) (void)MakeDirs(LifecycleDir(state_dir(), id()), 0700);

  Status opened = Open();
  if (!opened.ok() && opened.kind() != Status::Kind::kTransient) {
    spdlog::error("session {}: {}", id(), opened.ToString());
    entry_.last_error = opened.message();
    Record(WatcherState::kFailed);
    return ExitCodeFor(opened);
  }
  if (opt_.final_only) return FinalFlush(true);

  Record(WatcherState::kRunning);
  Pass();
  SetUpInotify();
  WatchClaude();
  const milliseconds scan_every = inotify_ >= 0 ? opt_.safety_scan : kNoInotifyScan;
  Clock::time_point last_activity = Clock::now(), next_scan = Clock::now() + scan_every,
                    next_claude_check = Clock::now() + kClaudePollEvery;
  bool dirty = false;  // a relevant change not synced yet, since first_dirty
  Clock::time_point first_dirty, last_dirty;
  bool memory_released = false;  // in this quiet spell
  for (;;) {
    const Clock::time_point now = Clock::now();
    Clock::time_point wake = std::min(next_scan, last_activity + opt_.idle_timeout);
    if (!memory_released) wake = std::min(wake, last_activity + opt_.release_memory_after);
    if (dirty) wake = std::min({wake, last_dirty + opt_.settle, first_dirty + opt_.max_delay});
    if (opt_.claude.pid > 0 && pidfd_ < 0) wake = std::min(wake, next_claude_check);
    pollfd fds[3] = {{signal_fd_, POLLIN, 0}, {inotify_, POLLIN, 0}, {pidfd_, POLLIN, 0}};
    ::poll(fds, 3, ToPollTimeout(now, wake));
    if (fds[0].revents & POLLIN) DrainSignals();
    if (inotify_ >= 0 && (fds[1].revents & POLLIN) && DrainInotify()) {
      last_dirty = Clock::now();
      if (!dirty) first_dirty = last_dirty;
      dirty = true;
    }
    if (events_due_) {
      events_due_ = false;
      if (backend_session_id_.empty()) {
        Pass();  // inits the session, then sends them
      } else {
        MirrorEvents();
        Record(entry_.state);
      }
    }
    bool claude_gone = pidfd_ >= 0 && (fds[2].revents & (POLLIN | POLLHUP));
    const Clock::time_point after = Clock::now();
    if (!claude_gone && opt_.claude.pid > 0 && pidfd_ < 0 && after >= next_claude_check) {
      claude_gone = ClaudeGone();
      next_claude_check = after + kClaudePollEvery;
    }
    if (end_requested_ || stop_requested_ || claude_gone) {
      spdlog::info("session {}: {}; final flush", id(),
                   end_requested_ ? "session ended" : claude_gone ? "Claude Code exited" : "asked to stop");
      return FinalFlush(end_requested_);
    }
    if (after >= last_activity + opt_.idle_timeout) {
      spdlog::info("session {}: idle for {} s; final flush", id(), opt_.idle_timeout.count());
      return FinalFlush(false);
    }
    const bool due = dirty && (after >= last_dirty + opt_.settle || after >= first_dirty + opt_.max_delay);
    if (due || after >= next_scan) {
      if (due) {
        last_activity = after;
        memory_released = false;
      }
      dirty = false;
      if (after >= next_scan && project_wd_ < 0) SetUpInotify();  // the project dir may exist now
      Pass();
      next_scan = Clock::now() + scan_every;
    }
    if (!memory_released && !dirty && Clock::now() >= last_activity + opt_.release_memory_after) {
      memory_released = true;
      const MemoryRelease r = ReleaseIdleMemory();
      spdlog::debug("session {}: quiet for {} ms; resident memory {} -> {} KiB", id(),
                    opt_.release_memory_after.count(), r.rss_before / 1024, r.rss_after / 1024);
    }
  }
}

}  // namespace

int RunWatch(const config::Config& config, const WatchOptions& options) {
  Watcher watcher(config, options);
  return watcher.Run();
}

}  // namespace tsync::agent
