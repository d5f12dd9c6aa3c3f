// What the local checkpoints say about a session's sync state for one
// destination — no connection is made. `tsync list` shows the state per
// session; `tsync status` sums it up and names the pending and quarantined
// files. (The destination's own counts stay authoritative: a checkpoint is an
// optimisation, so "saved" here means "saved as far as this machine knows".)
// Thread-safety: free functions over the filesystem.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "agent/session_scan.h"

namespace tsync::agent {

enum class LocalState {
  kNew,      // no checkpoint: never saved to this destination
  kSaved,    // every tracked file sent up to its current size
  kPartial,  // some bytes not sent yet, or a file quarantined
};
/// "new", "saved", "partial".
const char* LocalStateName(LocalState state);

struct FileBacklog {
  std::string file_name;    // the backend file_name
  uint64_t unsent_bytes = 0;
  std::string quarantined;  // the reason; empty when the file is only behind
};

struct SessionSyncState {
  LocalState state = LocalState::kNew;
  uint64_t bytes = 0;         // tracked files on disk now (when new: the transcript and its session dir's .jsonl files)
  uint64_t unsent_bytes = 0;  // bytes on disk past the checkpoints (all of them when new)
  std::vector<FileBacklog> behind;  // files with unsent bytes or quarantined
};

/// Reads the session's checkpoint under `checkpoint_dir` and stats its files.
SessionSyncState LocalSyncState(const std::string& checkpoint_dir, const SessionRef& session);

}  // namespace tsync::agent
