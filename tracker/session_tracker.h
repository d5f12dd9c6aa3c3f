// SessionTracker: every file of one Claude Code session that tsync syncs —
// the transcript and the agent/workflow files discovered from it — with the
// three operations the engine needs:
//  1) Resume(): align a file with the backend's last_synced_line, from the
//     checkpoint in O(1) when it agrees, else by rescanning the file;
//  2) Next(): detect what changed and read the next chunk of complete lines
//     (starting a new generation when continuity broke, tracked_file.h);
//  3) Acknowledge(): after the backend stored a chunk, advance the file and
//     learn the agent ids its lines reference.
// The tracker never talks to the network; the engine sits between Next() and
// Acknowledge(). Thread-safety: single-owner; one engine thread per session.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "tracker/agent_discovery.h"
#include "tracker/checkpoint.h"
#include "tracker/chunk_reader.h"
#include "tracker/tracked_file.h"

namespace tsync::tracker {

struct SessionLocation {
  std::string project_dir;      // directory holding <session_id>.jsonl
  std::string session_id;
  std::string transcript_path;  // <project_dir>/<session_id>.jsonl
};

/// A chunk read but not yet acknowledged, with the position it leads to.
struct PendingChunk {
  Change change = Change::kUnchanged;  // what Next() found before reading
  Chunk chunk;                         // empty: nothing complete to send now
  FilePosition next;                   // valid when !chunk.empty()
};

enum class ResumeFrom {
  kCheckpoint,     // the checkpoint agreed with the backend: read on from its offset
  kRescan,         // offset found by counting the backend's lines from the start
  kNewGeneration,  // continuity broke: call Resume() again for the new file_name
  kMissing,        // the file is gone; its synced lines stay on the server
};
const char* ResumeFromName(ResumeFrom from);

/// Claude Code's directory name for a launch directory: every character
/// outside [A-Za-z0-9] becomes '-' ("/home/dev/x.y" -> "-home-dev-x-y";
/// TRANSCRIPTS.md "Layout on disk").
std::string ProjectDirName(std::string_view cwd);

class SessionTracker {
 public:
  SessionTracker(SessionLocation location, ChunkOptions options);

  /// Adopts the files and backend session id of a checkpoint for this session.
  void Restore(const Checkpoint& checkpoint);
  Checkpoint Snapshot() const;

  const std::string& backend_session_id() const { return backend_session_id_; }
  void set_backend_session_id(std::string id) { backend_session_id_ = std::move(id); }
  /// The session's settled init metadata (Checkpoint::metadata_json).
  const std::string& metadata_json() const { return metadata_json_; }
  void set_metadata_json(std::string json) { metadata_json_ = std::move(json); }

  /// Tracks the transcript and every agent file discovered so far (workflow
  /// files only when `include_workflows`). Returns how many were added.
  size_t Discover(bool include_workflows);

  /// Transcript first, then agent files in discovery (breadth-first) order.
  std::vector<TrackedFile>& files() { return files_; }
  TrackedFile* Find(std::string_view file_name);

  /// Aligns `file` with the backend holding `backend_lines` of its lines.
  /// kConflict when the backend holds more lines than the file has: the
  /// caller must wait (and never resend), not guess.
  Result<ResumeFrom> Resume(TrackedFile& file, uint64_t backend_lines);

  /// `budget` > 0 reads a smaller chunk than the configured budget (the
  /// engine's answer to a chunk that grew past the cap when redacted, or that
  /// could not finish in time). Until Acknowledge(), calling Next() again
  /// reads the same lines.
  Result<PendingChunk> Next(TrackedFile& file, size_t budget = 0);
  void Acknowledge(TrackedFile& file, const PendingChunk& pending);

  const AgentDiscovery& discovery() const { return discovery_; }

 private:
  bool Tracks(const std::string& path, const std::string& file_name) const;

  SessionLocation location_;
  ChunkOptions options_;
  std::string backend_session_id_;
  std::string metadata_json_;
  std::vector<TrackedFile> files_;
  AgentDiscovery discovery_;
};

}  // namespace tsync::tracker
