#include "agent/verify_command.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>

#include <map>
#include <ostream>

#include "agent/exit_codes.h"
#include "agent/save_command.h"
#include "agent/session_scan.h"
#include "base/fs.h"
#include "base/json.h"
#include "tracker/checkpoint.h"
#include "tracker/session_tracker.h"

namespace tsync::agent {
namespace {

constexpr std::string_view kMarkerHead = "[REDACTED:";
constexpr size_t kMaxListed = 20;

bool IsRuleChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
         c == '.';
}

/// `stored` split at its redaction markers: the literal text around them.
std::vector<std::string_view> LiteralSegments(std::string_view stored) {
  std::vector<std::string_view> segments;
  size_t start = 0;
  for (size_t at = stored.find(kMarkerHead); at != std::string_view::npos; at = stored.find(kMarkerHead, at + 1)) {
    size_t end = at + kMarkerHead.size();
    while (end < stored.size() && IsRuleChar(stored[end])) ++end;
    if (end == at + kMarkerHead.size() || end >= stored.size() || stored[end] != ']') continue;
    segments.push_back(stored.substr(start, at - start));
    start = end + 1;
    at = end;
  }
  segments.push_back(stored.substr(start));
  return segments;
}

struct LocalFile {
  Status status;
  std::vector<std::string> lines;  // as a sync reads them (repairs applied)
};

LocalFile ReadLocal(const std::string& path, const std::string& file_name) {
  LocalFile local;
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    local.status = Status::Errno("open " + path, errno);
    return local;
  }
  tracker::ChunkOptions options;
  options.log_name = file_name;
  uint64_t offset = 0;
  for (;;) {
    Result<tracker::Chunk> chunk = tracker::ReadChunk(fd.get(), offset, local.lines.size() + 1, options);
    if (!chunk.ok()) {
      local.status = chunk.status();
      return local;
    }
    for (std::string_view line : chunk->lines) local.lines.emplace_back(line);
    offset = chunk->end_offset;
    if (chunk->reached_eof || chunk->empty()) return local;
  }
}

}  // namespace

bool MatchesWithRedactions(std::string_view stored, std::string_view local) {
  if (stored == local) return true;
  const std::vector<std::string_view> seg = LiteralSegments(stored);
  if (seg.size() == 1) return false;
  const std::string_view first = seg.front(), last = seg.back();
  if (!local.starts_with(first) || local.size() < first.size() + last.size() || !local.ends_with(last)) return false;
  // Each marker stands for at least one byte; the middle literals are found
  // leftmost, which is optimal for a pattern of the form a*b*c.
  size_t pos = first.size();
  const size_t limit = local.size() - last.size();
  for (size_t i = 1; i + 1 < seg.size(); ++i) {
    const size_t at = local.find(seg[i], pos + 1);
    if (at == std::string_view::npos || at + seg[i].size() > limit) return false;
    pos = at + seg[i].size();
  }
  return limit >= pos + 1;
}

int RunVerify(const config::Config& config, const VerifyArgs& args, std::ostream& out) {
  auto fail = [](const Status& st) {
    spdlog::error("{}", st.ToString());
    return ExitCodeFor(st);
  };
  Result<SessionRef> chosen = FindSessionByPrefix(config.ProjectsDir(), args.prefix);
  if (!chosen.ok()) return fail(chosen.status());
  const SessionRef& session = *chosen;
  Result<Destination> dest = OpenDestination(config, args.to);
  if (!dest.ok()) return fail(dest.status());
  Result<std::string> backend_id = dest->sink->FindSession(session.session_id);
  if (!backend_id.ok()) {
    if (backend_id.status().kind() != Status::Kind::kNotFound) return fail(backend_id.status());
    spdlog::error("session {} has not been saved to {} yet; run `tsync save {}`", session.session_id,
                  dest->display, args.prefix);
    return kExitIncomplete;
  }
  Result<std::vector<uploader::FileInfo>> stored_files = dest->sink->ListFiles(*backend_id);
  if (!stored_files.ok()) return fail(stored_files.status());

  // The files a sync tracks, with the generation names the last sync used.
  tracker::SessionTracker tracker({session.project_dir, session.session_id, session.transcript_path},
                                  tracker::ChunkOptions{});
  tracker::LoadedCheckpoint cp = tracker::LoadCheckpoint(dest->checkpoint_dir, session.session_id);
  if (cp.checkpoint) tracker.Restore(*cp.checkpoint);
  tracker.Discover(dest->workflow_files);

  std::vector<FileVerification> results;
  std::map<std::string, bool> compared;
  bool ok = true;
  for (const tracker::TrackedFile& f : tracker.files()) {
    FileVerification v;
    v.file_name = f.file_name;
    compared[f.file_name] = true;
    LocalFile local = ReadLocal(f.path, f.file_name);
    if (!local.status.ok()) {
      if (local.status.kind() == Status::Kind::kNotFound || local.status.kind() == Status::Kind::kIo) {
        spdlog::warn("{}: cannot read the local file ({}); only the stored copy is counted", f.file_name,
                     local.status.ToString());
      }
    }
    Result<std::vector<std::string>> stored = dest->sink->ReadLines(*backend_id, f.file_name, 0);
    if (!stored.ok()) return fail(stored.status());
    v.local_lines = local.lines.size();
    v.stored_lines = stored->size();
    const size_t common = std::min(local.lines.size(), stored->size());
    for (size_t i = 0; i < common; ++i) {
      if ((*stored)[i] == local.lines[i]) continue;
      if (MatchesWithRedactions((*stored)[i], local.lines[i])) {
        ++v.redacted_lines;
        continue;
      }
      ++v.differing_count;
      if (v.differing.size() < kMaxListed) v.differing.push_back(i + 1);
    }
    ok = ok && v.ok();
    results.push_back(std::move(v));
  }
  std::vector<uploader::FileInfo> unknown;
  for (const uploader::FileInfo& f : *stored_files) {
    if (!compared.count(f.file_name)) unknown.push_back(f);
  }

  if (args.json) {
    JsonWriter w;
    w.BeginObject();
    w.Key("session_id").String(session.session_id);
    w.Key("backend_session_id").String(*backend_id);
    w.Key("destination").String(dest->display);
    w.Key("ok").Bool(ok);
    w.Key("files").BeginArray();
    for (const FileVerification& v : results) {
      w.BeginObject();
      w.Key("file_name").String(v.file_name);
      w.Key("ok").Bool(v.ok());
      w.Key("local_lines").UInt(v.local_lines);
      w.Key("stored_lines").UInt(v.stored_lines);
      w.Key("redacted_lines").UInt(v.redacted_lines);
      w.Key("missing").UInt(v.missing());
      w.Key("extra").UInt(v.extra());
      w.Key("differing").UInt(v.differing_count);
      w.Key("differing_lines").BeginArray();
      for (uint64_t n : v.differing) w.UInt(n);
      w.EndArray();
      w.EndObject();
    }
    w.EndArray();
    w.Key("stored_only").BeginArray();
    for (const uploader::FileInfo& f : unknown) w.String(f.file_name);
    w.EndArray();
    w.EndObject();
    out << w.Take() << "\n";
  } else {
    for (const FileVerification& v : results) {
      out << (v.ok() ? "ok        " : "MISMATCH  ") << v.file_name << ": " << v.local_lines << " local, "
          << v.stored_lines << " stored";
      if (v.redacted_lines) out << ", " << v.redacted_lines << " equal up to redaction";
      if (v.missing()) out << ", " << v.missing() << " missing (not saved yet)";
      if (v.extra()) out << ", " << v.extra() << " extra";
      if (v.differing_count) {
        out << ", " << v.differing_count << " differing (line";
        for (uint64_t n : v.differing) out << " " << n;
        out << (v.differing_count > v.differing.size() ? " …)" : ")");
      }
      out << "\n";
    }
    for (const uploader::FileInfo& f : unknown) {
      out << "stored    " << f.file_name << ": " << f.last_synced_line
          << " lines with no local file now (an earlier generation or a removed file)\n";
    }
    out << (ok ? "verified: " : "NOT verified: ") << session.session_id << " at " << dest->display << "\n";
  }
  return ok ? kExitOk : kExitIncomplete;
}

}  // namespace tsync::agent
