// AgentDiscovery: finds the subagent (and workflow) files that belong to one
// session, breadth-first, from three sources (TRANSCRIPTS.md "Layout on disk",
// "Subagent references"):
//  1) ids referenced by lines the engine reads (ObserveLine): a user line's
//     `toolUseResult.agentId`, `message.content[].content.toolUseResult.agentId`,
//     and `progress` lines with data.type == "agent_progress" carrying
//     `data.agentId`. Only lines containing the bytes "agentId" are parsed.
//  2) a recursive scan of <project>/<session>/subagents/: agent-<id>.jsonl
//     (file_type agent, file_name "agent-<id>.jsonl"), and
//     workflows/<runId>/agent-<id>.jsonl and workflows/<runId>/journal.jsonl
//     (file_name "subagents/workflows/<runId>/<file>", flagged workflow).
//  3) the old layout: <project>/agent-<id>.jsonl whose lines carry this
//     session's `sessionId`.
// Lines of discovered files are observed too, so discovery is transitive;
// a reference cycle is harmless (each file is reported once). An id whose
// file does not exist yet stays pending and is retried by the next Poll().
//
// Safety: ids must match [A-Za-z0-9_-]{6,64} (run ids likewise, 1..128) — an
// id builds a path, so anything else is rejected and logged. Every file is
// resolved with realpath() and refused (logged) unless it lies inside the
// session's project directory, so a symlink cannot lead outside.
// A symlink whose target is a regular file inside the project directory is
// accepted and reported by its canonical path; the session's own transcript
// and any file already reported are never reported again under another name.
// Thread-safety: single-owner; not thread-safe. Instances on several threads
// are fine: what they share (the owners of old-layout files) is locked.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "tracker/file_type.h"

namespace tsync::tracker {

struct DiscoveredFile {
  std::string path;       // canonical absolute path
  std::string file_name;  // backend file_name (PROTOCOL.md /sync/chunk)
  FileType type = FileType::kAgent;
  bool workflow = false;  // under subagents/workflows/: send only if capabilities allow
};

/// True for ids that may be used in a path: [A-Za-z0-9_-]{6,64}.
bool IsValidAgentId(std::string_view id);
/// True for workflow run ids that may be used in a path: [A-Za-z0-9_-]{1,128}.
bool IsValidRunId(std::string_view id);

class AgentDiscovery {
 public:
  /// `project_dir`: the directory holding <session_id>.jsonl.
  AgentDiscovery(std::string project_dir, std::string session_id);
  ~AgentDiscovery();
  AgentDiscovery(AgentDiscovery&&) noexcept;
  AgentDiscovery& operator=(AgentDiscovery&&) noexcept;

  /// Extracts agent ids referenced by one transcript/agent line (cheap when the
  /// line cannot contain one). Malformed JSON is ignored.
  void ObserveLine(std::string_view line);

  /// Files not reported before, in discovery order: referenced ids whose files
  /// now exist first (in the order they were referenced), then files found by
  /// the directory scans in sorted path order.
  std::vector<DiscoveredFile> Poll();

  /// Referenced ids whose files have not appeared yet.
  size_t pending_ids() const { return pending_.size(); }
  /// Ids rejected as unsafe so far (for reports).
  uint64_t rejected_ids() const { return rejected_ids_; }

 private:
  struct LineParser;  // simdjson parser + reusable padded copy buffer
  struct Candidate;   // a path that may become a DiscoveredFile
  enum class Resolution { kAbsent, kRefused, kOk };
  enum class Probe { kUndecided, kMatch, kOther };
  struct FileId {
    uint64_t dev = 0, ino = 0, size = 0;
  };
  struct ProbeVerdict {  // old-layout sessionId check, cached per (path, dev, ino)
    FileId id;
    Probe state = Probe::kUndecided;
  };

  void Reference(std::string_view id);
  void Reject(std::string_view where, std::string_view id);
  void RejectOnce(const std::string& path, std::string_view id);
  void WarnOnce(const std::string& path, const std::string& why);
  bool EnsureProjectReal();
  void PollPending(std::vector<DiscoveredFile>* out);
  void ScanSubagents(std::vector<Candidate>* found);
  void ScanOldLayout(std::vector<Candidate>* found);
  void OfferScanned(const Candidate& c, std::vector<DiscoveredFile>* out);
  Resolution Resolve(const std::string& path, std::string* canonical, FileId* id);
  /// realpath(dir), cached while `dir` still leads to the same directory (checked once per Poll);
  /// nullptr when it does not resolve (yet).
  const std::string* RealDir(const std::string& dir);
  void Take(const Candidate& c, const std::string& canonical, std::vector<DiscoveredFile>* out);
  bool OldLayoutMatches(const std::string& path, const std::string& canonical, const FileId& id);
  /// The file's first sessionId into `owner` ("" when its head names none).
  Probe ProbeSessionId(const std::string& canonical, const FileId& id, std::string* owner);

  std::string project_dir_;
  std::string session_id_;
  bool session_dir_ok_ = false;  // session id is safe as a path component
  std::string project_real_;     // realpath(project_dir_), "" until it exists
  struct RealDirEntry {
    std::string real;
    uint64_t dev = 0, ino = 0;  // the directory realpath found
    uint64_t checked_in_poll = 0;
  };
  uint64_t polls_ = 0;
  std::unordered_map<std::string, RealDirEntry> real_dirs_;  // RealDir's
  bool transcript_seeded_ = false;
  std::deque<std::string> pending_;
  std::unordered_set<std::string> referenced_;      // every id ever referenced
  std::unordered_set<std::string> reported_ids_;    // agent ids reported by any route
  std::unordered_set<std::string> reported_paths_;  // canonical paths (+ the transcript)
  std::unordered_set<std::string> reported_names_;  // backend file_names
  std::unordered_set<std::string> settled_paths_;   // candidate paths taken or duplicate
  std::unordered_set<std::string> warned_paths_;    // log each bad path once per run
  std::unordered_map<std::string, ProbeVerdict> probes_;
  std::unique_ptr<LineParser> parser_;
  uint64_t rejected_ids_ = 0;
};

}  // namespace tsync::tracker
