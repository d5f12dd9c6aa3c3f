#include "tracker/session_tracker.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <ctime>

namespace tsync::tracker {

std::string ProjectDirName(std::string_view cwd) {
  std::string name(cwd);
  for (char& c : name) {
    const bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (!keep) c = '-';
  }
  return name;
}

const char* ResumeFromName(ResumeFrom from) {
  switch (from) {
    case ResumeFrom::kCheckpoint: return "checkpoint";
    case ResumeFrom::kRescan: return "rescan";
    case ResumeFrom::kNewGeneration: return "new generation";
    case ResumeFrom::kMissing: return "missing";
  }
  return "unknown";
}

SessionTracker::SessionTracker(SessionLocation location, ChunkOptions options)
    : location_(std::move(location)),
      options_(options),
      discovery_(location_.project_dir, location_.session_id) {}

void SessionTracker::Restore(const Checkpoint& checkpoint) {
  if (checkpoint.session_id != location_.session_id) return;
  backend_session_id_ = checkpoint.backend_session_id;
  metadata_json_ = checkpoint.metadata_json;
  for (const TrackedFile& f : checkpoint.files) {
    if (Tracks(f.path, f.base_name)) continue;
    files_.push_back(f);
  }
}

Checkpoint SessionTracker::Snapshot() const {
  return Checkpoint{location_.session_id, backend_session_id_, files_, metadata_json_};
}

bool SessionTracker::Tracks(const std::string& path, const std::string& base_name) const {
  for (const TrackedFile& f : files_) {
    if (f.path == path || f.base_name == base_name) return true;
  }
  return false;
}

TrackedFile* SessionTracker::Find(std::string_view file_name) {
  for (TrackedFile& f : files_) {
    if (f.file_name == file_name) return &f;
  }
  return nullptr;
}

size_t SessionTracker::Discover(bool include_workflows) {
  size_t added = 0;
  std::string transcript_name = location_.session_id + ".jsonl";
  if (!Tracks(location_.transcript_path, transcript_name)) {
    // The transcript always comes first: the engine uploads in files_ order.
    files_.insert(files_.begin(), TrackedFile{location_.transcript_path, transcript_name, transcript_name,
                                              FileType::kTranscript, 1, {}, {}});
    ++added;
  }
  for (DiscoveredFile& d : discovery_.Poll()) {
    if (d.workflow && !include_workflows) continue;
    if (Tracks(d.path, d.file_name)) continue;
    files_.push_back(TrackedFile{d.path, d.file_name, d.file_name, d.type, 1, {}, {}});
    ++added;
  }
  return added;
}

Result<ResumeFrom> SessionTracker::Resume(TrackedFile& file, uint64_t backend_lines) {
  Result<OpenedFile> opened = OpenTracked(file.path);
  if (!opened.ok()) {
    if (opened.status().kind() == Status::Kind::kNotFound) return ResumeFrom::kMissing;
    return opened.status();
  }
  if (file.has_identity() && file.pos.lines == backend_lines) {
    Result<Change> change = DetectChange(file, &*opened);
    if (!change.ok()) return change.status();
    if (*change == Change::kUnchanged || *change == Change::kGrown) return ResumeFrom::kCheckpoint;
    StartNewGeneration(&file, *change, *opened);
    return ResumeFrom::kNewGeneration;
  }
  Result<uint64_t> offset = FindLineOffset(opened->fd.get(), backend_lines);
  if (!offset.ok()) {
    return Status::Conflict(file.path + ": the backend holds " + std::to_string(backend_lines) + " lines of " +
                            file.file_name + " but " + offset.status().message() +
                            "; nothing is resent — waiting for the file to catch up");
  }
  Result<FilePosition> pos = PositionAfter(*opened, FilePosition{}, *offset, backend_lines);
  if (!pos.ok()) return pos.status();
  if (file.has_identity()) {
    spdlog::info("{}: checkpoint had {} line(s), backend has {}; resuming after a rescan", file.file_name,
                 file.pos.lines, backend_lines);
  }
  file.pos = std::move(*pos);
  return ResumeFrom::kRescan;
}

Result<PendingChunk> SessionTracker::Next(TrackedFile& file, size_t budget) {
  PendingChunk pending;
  Result<OpenedFile> opened = OpenTracked(file.path);
  if (!opened.ok()) {
    if (opened.status().kind() != Status::Kind::kNotFound) return opened.status();
    pending.change = Change::kMissing;
    pending.chunk.first_line = file.pos.lines + 1;
    pending.chunk.reached_eof = true;
    return pending;
  }
  Result<Change> change = DetectChange(file, &*opened);
  if (!change.ok()) return change.status();
  pending.change = *change;
  if (*change == Change::kTruncated || *change == Change::kReplaced || *change == Change::kRewritten) {
    StartNewGeneration(&file, *change, *opened);
  } else if (*change == Change::kUnchanged) {
    pending.chunk.first_line = file.pos.lines + 1;
    pending.chunk.start_offset = pending.chunk.end_offset = file.pos.offset;
    pending.chunk.reached_eof = true;
    return pending;
  }
  ChunkOptions options = options_;
  options.log_name = file.file_name;
  if (budget > 0) options.budget = std::min(budget, options_.budget);
  options.line_limit = options_.budget;  // a smaller chunk, never a smaller line
  Result<Chunk> chunk = ReadChunk(opened->fd.get(), file.pos.offset, file.pos.lines + 1, options);
  if (!chunk.ok()) return chunk.status();
  pending.chunk = std::move(chunk).value();
  if (!pending.chunk.empty()) {
    Result<FilePosition> next = PositionAfter(*opened, file.pos, pending.chunk.end_offset,
                                              file.pos.lines + pending.chunk.lines.size());
    if (!next.ok()) return next.status();
    pending.next = std::move(*next);
  }
  return pending;
}

void SessionTracker::Acknowledge(TrackedFile& file, const PendingChunk& pending) {
  if (pending.chunk.empty()) return;
  file.pos = pending.next;
  file.acked_at = static_cast<int64_t>(std::time(nullptr));
  for (std::string_view line : pending.chunk.lines) discovery_.ObserveLine(line);
}

}  // namespace tsync::tracker
