// SessionScan: finds the Claude Code sessions under a projects directory and
// reads each one exactly as a sync would — every tracked file, agent files
// discovered breadth-first, complete lines in budgeted chunks, with the same
// repairs — but sends nothing and saves no checkpoint. `tsync scan` prints
// its report; it is the dry run of what the engine will upload.
// Thread-safety: free functions over values.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"
#include "tracker/chunk_reader.h"
#include "tracker/file_type.h"

namespace tsync::agent {

/// A session transcript found on disk.
struct SessionRef {
  std::string session_id;
  std::string project_dir;      // <projects>/<enc-cwd>
  std::string transcript_path;  // <project_dir>/<session_id>.jsonl
};

/// Sessions under `projects_dir` (TRANSCRIPTS.md "Layout on disk"), sorted by
/// project then id. Files whose stem is not a valid session id are skipped,
/// and so are symlinked project dirs and (with a warning) symlinked
/// transcripts: nothing outside `projects_dir` is read.
Result<std::vector<SessionRef>> FindSessions(const std::string& projects_dir);

/// Keeps the sessions whose id starts with one of `prefixes` (all when empty).
/// kNotFound names a prefix that matches nothing; kInvalidInput lists the
/// sessions an ambiguous prefix matches.
Result<std::vector<SessionRef>> SelectSessions(const std::vector<SessionRef>& all,
                                               const std::vector<std::string>& prefixes);

/// The one session under `projects_dir` whose id starts with `prefix`
/// (verify, link, status --session); errors as FindSessions and SelectSessions.
Result<SessionRef> FindSessionByPrefix(const std::string& projects_dir, const std::string& prefix);

struct FileScan {
  std::string file_name;
  tracker::FileType type = tracker::FileType::kTranscript;
  std::string path;
  uint64_t lines = 0;          // complete lines that would be sent
  uint64_t encoded_bytes = 0;  // their JSON-encoded size
  uint64_t chunks = 0;         // requests at the chunk budget
  uint64_t pending_bytes = 0;  // an unterminated tail that waits for its newline
  tracker::ChunkStats repairs;
};

struct SessionScan {
  SessionRef session;
  std::vector<FileScan> files;  // transcript first, then agents in discovery order
  uint64_t pending_agent_ids = 0;  // referenced agents whose files do not exist
  std::string error;               // non-empty: the session could not be read fully
};

/// Reads one session completely. Workflow files are included.
SessionScan ScanSession(const SessionRef& session, const tracker::ChunkOptions& options);

}  // namespace tsync::agent
