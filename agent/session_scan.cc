#include "agent/session_scan.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <filesystem>

#include "tracker/checkpoint.h"
#include "tracker/session_tracker.h"

namespace tsync::agent {

namespace fs = std::filesystem;

Result<std::vector<SessionRef>> FindSessions(const std::string& projects_dir) {
  std::error_code ec;
  if (!fs::is_directory(projects_dir, ec)) {
    return Status::NotFound(projects_dir + " is not a directory; is Claude Code's directory right? "
                            "(set CLAUDE_CONFIG_DIR or claude_dir in the config)");
  }
  std::vector<SessionRef> out;
  for (const fs::directory_entry& project : fs::directory_iterator(projects_dir, ec)) {
    if (!project.is_directory(ec) || project.is_symlink(ec)) continue;
    for (const fs::directory_entry& file : fs::directory_iterator(project.path(), ec)) {
      const fs::path& p = file.path();
      if (p.extension() != ".jsonl" || !file.is_regular_file(ec)) continue;
      // A symlinked transcript can lead to any file of the user's, outside
      // the projects dir; like a symlinked project dir, it is not followed
      // (hook payloads are held to the same rule: agent/hook_input.h).
      if (file.is_symlink(ec)) {
        spdlog::warn("skipping {}: a symbolic link, and tsync reads only files inside {}", p.string(), projects_dir);
        continue;
      }
      std::string stem = p.stem().string();
      // agent-*.jsonl beside a session is the old subagent layout, not a session.
      if (stem.starts_with("agent-") || !tracker::IsValidSessionId(stem)) continue;
      out.push_back(SessionRef{stem, project.path().string(), p.string()});
    }
  }
  if (ec) return Status::Io("reading " + projects_dir + ": " + ec.message());
  std::sort(out.begin(), out.end(), [](const SessionRef& a, const SessionRef& b) {
    return std::tie(a.project_dir, a.session_id) < std::tie(b.project_dir, b.session_id);
  });
  return out;
}

Result<SessionRef> FindSessionByPrefix(const std::string& projects_dir, const std::string& prefix) {
  Result<std::vector<SessionRef>> all = FindSessions(projects_dir);
  if (!all.ok()) return all.status();
  Result<std::vector<SessionRef>> chosen = SelectSessions(*all, {prefix});
  if (!chosen.ok()) return chosen.status();
  return chosen->front();
}

Result<std::vector<SessionRef>> SelectSessions(const std::vector<SessionRef>& all,
                                               const std::vector<std::string>& prefixes) {
  if (prefixes.empty()) return all;
  std::vector<SessionRef> out;
  for (const std::string& prefix : prefixes) {
    std::vector<const SessionRef*> matches;
    for (const SessionRef& s : all) {
      if (s.session_id.starts_with(prefix)) matches.push_back(&s);
    }
    if (matches.empty()) return Status::NotFound("no session id starts with '" + prefix + "'");
    if (matches.size() > 1) {
      std::string list;
      for (const SessionRef* s : matches) list += "\n  " + s->session_id;
      return Status::InvalidInput("'" + prefix + "' matches " + std::to_string(matches.size()) +
                                  " sessions; give more characters:" + list);
    }
    out.push_back(*matches[0]);
  }
  return out;
}

namespace {

// Reads one tracked file to its end as the engine would, acknowledging each
// chunk locally so discovery learns the agent ids its lines reference.
Status ScanFile(tracker::SessionTracker& tracker, tracker::TrackedFile& file, FileScan* out) {
  for (;;) {
    Result<tracker::PendingChunk> pending = tracker.Next(file);
    if (!pending.ok()) return pending.status();
    const tracker::Chunk& chunk = pending->chunk;
    if (!chunk.empty()) {
      out->lines += chunk.lines.size();
      out->encoded_bytes += chunk.encoded_size;
      out->chunks += 1;
      out->repairs.Add(chunk.stats);
      tracker.Acknowledge(file, *pending);
    }
    if (chunk.reached_eof) {
      std::error_code ec;
      uint64_t size = fs::file_size(file.path, ec);
      out->pending_bytes = ec || size < file.pos.offset ? 0 : size - file.pos.offset;
      return Status::Ok();
    }
  }
}

}  // namespace

SessionScan ScanSession(const SessionRef& session, const tracker::ChunkOptions& options) {
  SessionScan scan;
  scan.session = session;
  tracker::SessionTracker tracker({session.project_dir, session.session_id, session.transcript_path}, options);
  // Breadth-first: every pass reads the files found by the previous one.
  size_t done = 0;
  while (tracker.Discover(/*include_workflows=*/true) > 0 || done < tracker.files().size()) {
    for (; done < tracker.files().size(); ++done) {
      tracker::TrackedFile& file = tracker.files()[done];
      FileScan fs_out{file.file_name, file.type, file.path, 0, 0, 0, 0, {}};
      Status st = ScanFile(tracker, file, &fs_out);
      scan.files.push_back(std::move(fs_out));
      if (!st.ok()) {
        scan.error = st.message();
        return scan;
      }
    }
  }
  scan.pending_agent_ids = tracker.discovery().pending_ids();
  return scan;
}

}  // namespace tsync::agent
