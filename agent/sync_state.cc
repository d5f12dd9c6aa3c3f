#include "agent/sync_state.h"

#include <sys/stat.h>

#include <filesystem>

#include "tracker/checkpoint.h"

namespace tsync::agent {
namespace {

/// The file's size, or 0 when it is gone or unreadable.
uint64_t SizeOf(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
}

/// The transcript plus everything under the session's own directory
/// (subagents, workflow runs): what a first save will read.
uint64_t NewSessionBytes(const SessionRef& session) {
  uint64_t total = SizeOf(session.transcript_path);
  std::error_code ec;
  const std::filesystem::path dir = std::filesystem::path(session.project_dir) / session.session_id;
  if (!std::filesystem::is_directory(dir, ec)) return total;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_regular_file(ec) && it->path().extension() == ".jsonl") total += it->file_size(ec);
  }
  return total;
}

}  // namespace

const char* LocalStateName(LocalState state) {
  switch (state) {
    case LocalState::kNew: return "new";
    case LocalState::kSaved: return "saved";
    case LocalState::kPartial: return "partial";
  }
  return "?";
}

SessionSyncState LocalSyncState(const std::string& checkpoint_dir, const SessionRef& session) {
  SessionSyncState out;
  tracker::LoadedCheckpoint cp = tracker::LoadCheckpoint(checkpoint_dir, session.session_id);
  if (!cp.checkpoint) {
    out.bytes = out.unsent_bytes = NewSessionBytes(session);
    return out;
  }
  out.state = LocalState::kSaved;
  for (const tracker::TrackedFile& f : cp.checkpoint->files) {
    const uint64_t size = SizeOf(f.path);
    out.bytes += size;
    // A shrunken file starts a new generation on the next save: all of it is
    // unsent. An unterminated tail counts as unsent until its newline comes.
    const uint64_t unsent = size >= f.pos.offset ? size - f.pos.offset : size;
    if (unsent == 0 && f.quarantined.empty()) continue;
    out.unsent_bytes += unsent;
    out.behind.push_back(FileBacklog{f.file_name, unsent, f.quarantined});
    out.state = LocalState::kPartial;
  }
  return out;
}

}  // namespace tsync::agent
