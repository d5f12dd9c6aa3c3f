#include "agent/session_status.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <ctime>
#include <ostream>

#include "agent/exit_codes.h"
#include "agent/github_link_queue.h"
#include "agent/save_command.h"
#include "agent/scan_report.h"
#include "agent/session_scan.h"
#include "agent/summary_links.h"
#include "agent/watcher_registry.h"
#include "base/fs.h"
#include "base/json.h"
#include "tracker/checkpoint.h"

namespace tsync::agent {
namespace {

struct FileStats {
  std::string file_name;
  std::string type;
  uint32_t generation = 1;
  uint64_t lines_synced = 0;
  uint64_t pending_lines = 0;
  uint64_t pending_bytes = 0;       // complete lines not sent
  uint64_t unterminated_bytes = 0;  // a last line waiting for its newline
  int64_t last_upload = 0;          // unix seconds; 0: never
  bool missing = false;             // the file is gone from disk
  std::string quarantined;
};

struct SessionStats {
  SessionRef session;
  std::string destination;
  std::string backend_session_id;
  bool synced_before = false;  // a checkpoint exists
  int64_t last_upload = 0;
  std::vector<FileStats> files;
  std::optional<WatcherEntry> watcher;  // live only
  size_t links_queued = 0;
  size_t summaries_waiting = 0;
};

/// Counts the complete lines in [from, end of file) and the bytes after the
/// last newline; `from` falls back to 0 when the file is not the one the
/// checkpoint knew (it syncs as a new generation, whole).
void CountPending(const tracker::TrackedFile& f, FileStats* out) {
  UniqueFd fd(::open(f.path.c_str(), O_RDONLY | O_CLOEXEC));
  struct stat st;
  if (!fd.valid() || ::fstat(fd.get(), &st) != 0) {
    out->missing = true;
    return;
  }
  const auto size = static_cast<uint64_t>(st.st_size);
  const bool same = !f.has_identity() ||
                    (f.pos.dev == static_cast<uint64_t>(st.st_dev) && f.pos.ino == static_cast<uint64_t>(st.st_ino));
  uint64_t at = same && size >= f.pos.offset ? f.pos.offset : 0;
  std::string buf(1 << 20, '\0');
  uint64_t since_newline = 0;
  while (at < size) {
    Result<size_t> n = PreadFull(fd.get(), buf.data(), static_cast<size_t>(std::min<uint64_t>(buf.size(), size - at)), at);
    if (!n.ok() || *n == 0) break;
    for (size_t i = 0; i < *n; ++i) {
      ++since_newline;
      if (buf[i] == '\n') {
        ++out->pending_lines;
        out->pending_bytes += since_newline;
        since_newline = 0;
      }
    }
    at += *n;
  }
  out->unterminated_bytes = since_newline;
}

int64_t MtimeOf(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 ? static_cast<int64_t>(st.st_mtime) : 0;
}

SessionStats Collect(const config::Config& config, const SessionRef& session, const DestinationName& name) {
  SessionStats s;
  s.session = session;
  s.destination = name.location;
  const std::string dest_dir = CheckpointDirFor(config, name.location);
  tracker::LoadedCheckpoint cp = tracker::LoadCheckpoint(dest_dir, session.session_id);
  std::vector<tracker::TrackedFile> files;
  if (cp.checkpoint) {
    s.synced_before = true;
    s.backend_session_id = cp.checkpoint->backend_session_id;
    files = cp.checkpoint->files;
  } else {
    tracker::TrackedFile t;
    t.path = session.transcript_path;
    t.file_name = t.base_name = session.session_id + ".jsonl";
    files.push_back(std::move(t));
  }
  const int64_t checkpoint_written = cp.checkpoint ? MtimeOf(tracker::CheckpointPath(dest_dir, session.session_id)) : 0;
  for (const tracker::TrackedFile& f : files) {
    FileStats fs;
    fs.file_name = f.file_name;
    fs.type = std::string(tracker::FileTypeName(f.type));
    fs.generation = f.generation;
    fs.lines_synced = f.pos.lines;
    fs.quarantined = f.quarantined;
    // Checkpoints written before acked_at existed: when it was last written.
    fs.last_upload = f.acked_at > 0 ? f.acked_at : (f.pos.lines > 0 ? checkpoint_written : 0);
    CountPending(f, &fs);
    s.last_upload = std::max(s.last_upload, fs.last_upload);
    s.files.push_back(std::move(fs));
  }
  if (std::optional<WatcherEntry> w = ReadWatcherEntry(config.state_dir, session.session_id); w && WatcherLive(*w)) {
    s.last_upload = std::max(s.last_upload, w->last_upload);
    s.watcher = std::move(w);
  }
  s.links_queued = QueuedGithubLinkCount(dest_dir, session.session_id);
  s.summaries_waiting = WaitingSummaryCount(dest_dir, session.session_id);
  return s;
}

std::string Time(int64_t t) {
  if (t <= 0) return "never";
  std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  ::gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

bool Complete(const SessionStats& s) {
  if (!s.synced_before) return false;
  return std::all_of(s.files.begin(), s.files.end(), [](const FileStats& f) {
    return f.quarantined.empty() && (f.pending_lines == 0 || f.missing);
  });
}

std::string RenderText(const SessionStats& s) {
  std::string o = "session:     " + s.session.session_id + "\n";
  o += "project:     " + s.session.project_dir + "\n";
  o += "destination: " + s.destination + "\n";
  if (!s.synced_before) {
    o += "state:       never synced to this destination (tsync save " + s.session.session_id.substr(0, 8) + ")\n";
  } else {
    o += "backend id:  " + (s.backend_session_id.empty() ? std::string("(not initialised yet)") : s.backend_session_id) +
         "\n";
    o += "state:       " + std::string(Complete(s) ? "synced" : "behind") + ", last upload " + Time(s.last_upload) +
         "\n";
  }
  if (s.watcher) {
    o += "watcher:     " + std::string(WatcherStateName(s.watcher->state)) + ", pid " +
         std::to_string(s.watcher->process.pid) + ", " + std::to_string(s.watcher->lines_synced) + " line(s) sent";
    if (!s.watcher->last_error.empty()) o += ", last error: " + s.watcher->last_error;
    o += "\n";
  } else {
    o += "watcher:     none running\n";
  }
  o += "files:\n";
  for (const FileStats& f : s.files) {
    o += "  " + f.file_name + " (" + f.type + (f.generation > 1 ? ", generation " + std::to_string(f.generation) : "") +
         ")\n";
    o += "    lines synced " + std::to_string(f.lines_synced) + ", last upload " + Time(f.last_upload) + ", ";
    if (f.missing) {
      o += "file gone from disk";
    } else {
      o += "pending " + std::to_string(f.pending_lines) + " line(s)";
      if (f.pending_bytes > 0) o += " (" + HumanBytes(f.pending_bytes) + ")";
      if (f.unterminated_bytes > 0) o += " + " + HumanBytes(f.unterminated_bytes) + " unterminated (waits for its newline)";
    }
    if (!f.quarantined.empty()) o += ", QUARANTINED — " + f.quarantined;
    o += "\n";
  }
  o += "github links queued: " + std::to_string(s.links_queued) +
       ", summaries waiting for this session: " + std::to_string(s.summaries_waiting) + "\n";
  return o;
}

std::string RenderJson(const SessionStats& s, int exit_code) {
  JsonWriter w;
  w.BeginObject();
  w.Key("exit_code").Int(exit_code);
  w.Key("session_id").String(s.session.session_id);
  w.Key("project_dir").String(s.session.project_dir);
  w.Key("destination").String(s.destination);
  w.Key("synced_before").Bool(s.synced_before);
  w.Key("backend_session_id").String(s.backend_session_id);
  w.Key("complete").Bool(Complete(s));
  w.Key("last_upload").Int(s.last_upload);
  w.Key("files").BeginArray();
  for (const FileStats& f : s.files) {
    w.BeginObject();
    w.Key("file_name").String(f.file_name).Key("file_type").String(f.type).Key("generation").UInt(f.generation);
    w.Key("lines_synced").UInt(f.lines_synced).Key("last_upload").Int(f.last_upload);
    w.Key("pending_lines").UInt(f.pending_lines).Key("pending_bytes").UInt(f.pending_bytes);
    w.Key("unterminated_bytes").UInt(f.unterminated_bytes).Key("missing").Bool(f.missing);
    w.Key("state").String(!f.quarantined.empty() ? "quarantined" : f.pending_lines > 0 && !f.missing ? "pending" : "synced");
    w.Key("reason").String(f.quarantined);
    w.EndObject();
  }
  w.EndArray();
  w.Key("watcher");
  if (s.watcher) {
    w.BeginObject().Key("state").String(WatcherStateName(s.watcher->state)).Key("pid").Int(s.watcher->process.pid);
    w.Key("lines_synced").UInt(s.watcher->lines_synced).Key("last_upload").Int(s.watcher->last_upload);
    w.Key("last_error").String(s.watcher->last_error).EndObject();
  } else {
    w.Null();
  }
  w.Key("github_links_queued").UInt(s.links_queued);
  w.Key("summaries_waiting").UInt(s.summaries_waiting);
  w.EndObject();
  return w.Take() + "\n";
}

}  // namespace

int RunSessionStatus(const config::Config& config, const SessionStatusArgs& args, std::ostream& out) {
  auto fail = [](const Status& st) {
    spdlog::error("{}", st.ToString());
    return ExitCodeFor(st);
  };
  Result<SessionRef> chosen = FindSessionByPrefix(config.ProjectsDir(), args.prefix);
  if (!chosen.ok()) return fail(chosen.status());
  Result<DestinationName> name = ResolveDestination(config, args.to);
  if (!name.ok()) return fail(name.status());
  const SessionStats stats = Collect(config, *chosen, *name);
  const int code = Complete(stats) ? kExitOk : kExitIncomplete;
  out << (args.json ? RenderJson(stats, code) : RenderText(stats));
  return code;
}

}  // namespace tsync::agent
