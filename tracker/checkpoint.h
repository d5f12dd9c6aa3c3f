// Checkpoint: the per-session state file that lets tsync resume reading at a
// saved byte offset instead of rescanning every file from its start.
//
// Stored at <state_dir>/sessions/<session-id>.json (0600, directory 0700),
// written atomically (temp file, rename) but NOT fsync'd: a reader never sees
// a half-written checkpoint while tsync runs, and a crash of tsync alone
// leaves the old or the new one, but after a power loss or kernel crash the
// file may be old, empty or torn. That is accepted because a checkpoint is
// only an optimisation: the backend's last_synced_line is authoritative, so a
// missing, empty, corrupt or foreign-version file is reported and ignored —
// never fatal — and the files are rescanned (see Resume in session_tracker.h).
// Durability would cost two fsyncs per acknowledged chunk (bench/save_bench.cc).
// Thread-safety: free functions; one writer per session (the engine).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "tracker/tracked_file.h"

namespace tsync::tracker {

inline constexpr int kCheckpointVersion = 1;

struct Checkpoint {
  std::string session_id;          // Claude Code session id (the backend's external_id)
  std::string backend_session_id;  // the server's UUID from /sync/init ("" before the first init)
  std::vector<TrackedFile> files;
  /// The session's /sync/init metadata (a JSON object: cwd, git_info, host),
  /// kept once it is settled so git runs once per session, not once per
  /// `tsync save`. "" until then; a stored value that is not an object of at
  /// most kMaxCheckpointMetadata bytes is dropped on load (git runs again).
  std::string metadata_json;
};

inline constexpr size_t kMaxCheckpointMetadata = 64 * 1024;

/// True for session ids safe to use in a path: [A-Za-z0-9_-]{1,128}.
bool IsValidSessionId(std::string_view id);

/// <state_dir>/sessions/<session_id>.json
std::string CheckpointPath(const std::string& state_dir, const std::string& session_id);

std::string SerializeCheckpoint(const Checkpoint& checkpoint);
/// Parses and validates; kCorrupt with the reason on any problem.
Result<Checkpoint> ParseCheckpoint(std::string_view json);

Status SaveCheckpoint(const std::string& state_dir, const Checkpoint& checkpoint);

/// The outcome of loading: a checkpoint, or none with the reason it was
/// ignored ("" when there simply was none yet).
struct LoadedCheckpoint {
  std::optional<Checkpoint> checkpoint;
  std::string ignored_because;
};

/// Never fails: problems are logged with what happens next and returned in
/// `ignored_because`.
LoadedCheckpoint LoadCheckpoint(const std::string& state_dir, const std::string& session_id);

}  // namespace tsync::tracker
