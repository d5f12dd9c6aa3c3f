#include "agent/resume_check.h"

#include <spdlog/spdlog.h>

#include <string_view>

#include "agent/verify_command.h"

namespace tsync::agent {

ResumePoint CheckResumePoint(uploader::Sink& sink, const std::string& session_id, const tracker::TrackedFile& file,
                             uint64_t count, const redact::Redactor& redactor, const tracker::ChunkOptions& options) {
  if (count == 0) return ResumePoint::kAgrees;
  Result<tracker::OpenedFile> opened = tracker::OpenTracked(file.path);
  if (!opened.ok()) return ResumePoint::kUnknown;
  Result<uint64_t> offset = tracker::FindLineOffset(opened->fd.get(), count - 1);
  if (!offset.ok()) return ResumePoint::kUnknown;
  tracker::ChunkOptions one = options;
  one.log_name = file.file_name;
  Result<tracker::Chunk> local = tracker::ReadChunk(opened->fd.get(), *offset, count, one);
  if (!local.ok() || local->empty()) return ResumePoint::kUnknown;
  Result<std::vector<std::string>> stored = sink.ReadLines(session_id, file.file_name, count - 1);
  if (!stored.ok() || stored->empty()) {
    spdlog::debug("{}: cannot read line {} back ({}); resuming on the backend's count", file.file_name, count,
                  stored.ok() ? "none returned" : stored.status().ToString());
    return ResumePoint::kUnknown;
  }
  const std::string& theirs = stored->front();
  const std::string_view ours = local->lines.front();
  // Equal as sent: verbatim, or redacted (by these rules or, through the
  // markers, by another version's), or a placeholder for a line too big.
  if (theirs == ours || MatchesWithRedactions(theirs, ours) || theirs == redactor.RedactLine(ours).text() ||
      theirs.starts_with(R"({"type":"tsync_oversize_line",)")) {
    return ResumePoint::kAgrees;
  }
  return ResumePoint::kDiffers;
}

}  // namespace tsync::agent
