// The sync engine: one Claude Code session from disk to a Sink.
//
// SyncSession::Run() does, in order:
//  1) restore the session's checkpoint (an optimisation only: the sink's
//     counts are authoritative);
//  2) learn the session's metadata from the transcript head (cwd, git
//     branch; git_info from `git` run once with a timeout — once per
//     session: the checkpoint keeps the answer for later processes) and Init;
//  3) breadth-first over the tracked files (transcript, then agents and
//     workflow files as they are discovered): Resume each at the sink's
//     last_synced_line, then read, redact and append its chunks in order, one
//     in flight per file, advancing the checkpoint only after the sink
//     acknowledged a chunk;
//  4) discover again (lines just sent may name new agents) until a pass
//     finds no new file.
//
// Failures, by what the caller must do (one mechanism: re-init and adopt the
// sink's counts):
//  - a contiguity answer, or a failed/unanswered chunk (kTransient): back off
//    (Retry-After when the server sent one), re-Init, Resume the file at the
//    sink's count — a chunk stored while its reply was lost is not resent;
//    the chunk budget halves after a transient failure so a slow link still
//    finishes inside the server's read timeout, and grows back on success;
//  - the sink holds more lines than the local file: warn, leave the file
//    pending, never resend;
//  - kAuth: stop the session ("log in again");
//  - a line that outgrows the chunk cap only once redacted: sent as the
//    reader's oversize placeholder (size and hash), like a line too big raw;
//  - a permanent refusal (kInvalidInput from the sink): quarantine the file
//    with the reason in the checkpoint; the other files go on;
//  - too many transient failures in a row: the session stops, pending.
//
// Thread-safety: one SyncSession per thread; the Sink and Redactor are shared
// (both are safe for concurrent use).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "agent/session_scan.h"
#include "base/status.h"
#include "redact/redactor.h"
#include "tracker/chunk_reader.h"
#include "tracker/file_type.h"
#include "uploader/retry.h"
#include "uploader/sink.h"

namespace tsync::agent {

enum class FileState { kSynced, kPending, kQuarantined };
const char* FileStateName(FileState state);

/// What one sync did to one file.
struct FileReport {
  std::string file_name;  // the backend file_name (current generation)
  tracker::FileType type = tracker::FileType::kTranscript;
  uint64_t lines_sent = 0;
  uint64_t bytes_sent = 0;    // JSON-encoded line bytes acknowledged
  uint64_t chunks_sent = 0;
  uint64_t synced_lines = 0;  // lines the sink holds for the file afterwards
  uint64_t retries = 0;       // re-inits after failed, unanswered or conflicting chunks
  std::map<std::string, uint64_t> redactions;  // rule id -> spans replaced
  FileState state = FileState::kSynced;
  std::string error;  // why pending or quarantined; never payload
};

/// What one sync did to one session.
struct SessionReport {
  SessionRef session;
  std::string backend_session_id;
  std::vector<FileReport> files;
  /// Not OK when the session stopped early: kAuth, kTransient (gave up
  /// retrying), kIo... Files not reached are reported pending.
  Status status;

  uint64_t lines_sent() const;
  uint64_t bytes_sent() const;
  /// Every file synced and the session did not stop.
  bool complete() const;
};

struct SyncOptions {
  tracker::ChunkOptions chunk;
  /// Workflow files are sent only when the backend's capabilities allow.
  bool include_workflows = true;
  /// Backoff between attempts after a failed chunk or init.
  uploader::RetryPolicy backoff{6, std::chrono::milliseconds(500), std::chrono::milliseconds(30'000)};
  /// Consecutive transient failures before the session is left pending.
  int max_transient_failures = 6;
  /// Timeout for the one `git` run per session (0 disables git).
  std::chrono::milliseconds git_timeout{2000};
  /// Injectable for tests.
  std::function<void(std::chrono::milliseconds)> sleep;
  std::function<double()> random_unit;
  /// Called after each acknowledged chunk with the source bytes it covered
  /// (the progress bar); may be called from any SyncSession's thread.
  std::function<void(uint64_t)> on_progress;
  std::string hostname;  // default: gethostname()
  std::string username;  // default: the login name
};

/// Syncs one session into `sink`, checkpointing under `checkpoint_dir`.
class SyncSession {
 public:
  SyncSession(SessionRef session, uploader::Sink& sink, const redact::Redactor& redactor,
              std::string checkpoint_dir, SyncOptions options);
  ~SyncSession();
  SyncSession(const SyncSession&) = delete;
  SyncSession& operator=(const SyncSession&) = delete;

  /// One pass: everything complete on disk now goes to the sink. The first
  /// pass restores the checkpoint, reads the metadata and inits; later passes
  /// (the watcher calls Run on every change) reuse that state and the counts
  /// the sink acknowledged, and init again only after a pass that stopped.
  /// The report covers this pass.
  SessionReport Run();

 private:
  struct Impl;
  SessionRef session_;
  uploader::Sink& sink_;
  const redact::Redactor& redactor_;
  std::string checkpoint_dir_;
  SyncOptions options_;
  std::unique_ptr<Impl> impl_;  // made by the first Run()
};

}  // namespace tsync::agent
