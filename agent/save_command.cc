#include "agent/save_command.h"

#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <filesystem>
#include <mutex>
#include <ostream>
#include <thread>

#include "agent/exit_codes.h"
#include "agent/pending_queue.h"
#include "agent/progress.h"
#include "agent/redaction_setup.h"
#include "agent/scan_report.h"
#include "agent/session_end.h"
#include "agent/session_lock.h"
#include "agent/sync_state.h"
#include "base/json.h"
#include "base/sha256.h"
#include "config/backend_url.h"
#include "tracker/session_tracker.h"
#include "uploader/archive_sink.h"
#include "uploader/sync_client.h"
#include "uploader/sync_sink.h"

#ifndef TSYNC_VERSION
#define TSYNC_VERSION "0.0.0"
#endif

namespace tsync::agent {
namespace {

int64_t MtimeSeconds(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return 0;
  return static_cast<int64_t>(st.st_mtime);
}

bool LooksLikeUrl(std::string_view to) { return to.starts_with("http://") || to.starts_with("https://"); }

std::string AbsolutePath(const std::string& path) {
  std::error_code ec;
  std::filesystem::path abs = std::filesystem::absolute(path, ec);
  return ec ? path : abs.lexically_normal().string();
}

}  // namespace

Result<std::chrono::seconds> ParseAge(std::string_view text) {
  uint64_t n = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  const std::string_view unit(ptr, static_cast<size_t>(text.data() + text.size() - ptr));
  const std::string help = "--since takes a number and a unit: 30m, 12h, 5d or 2w (got '" + std::string(text) + "')";
  if (ec != std::errc() || ptr == text.data() || unit.size() != 1 || n == 0 || n > 100'000) {
    return Status::InvalidInput(help);
  }
  switch (unit[0]) {
    case 'm': return std::chrono::seconds(n * 60);
    case 'h': return std::chrono::seconds(n * 3600);
    case 'd': return std::chrono::seconds(n * 86400);
    case 'w': return std::chrono::seconds(n * 7 * 86400);
  }
  return Status::InvalidInput(help);
}

Result<std::vector<SessionRef>> SelectForSave(const config::Config& config, const SaveArgs& args) {
  if (args.prefixes.empty() && !args.all) {
    return Status::InvalidInput("name the sessions to save (id prefixes, see `tsync list`) or pass --all");
  }
  if (!args.prefixes.empty() && args.all) return Status::InvalidInput("give session prefixes or --all, not both");
  Result<std::vector<SessionRef>> found = FindSessions(config.ProjectsDir());
  if (!found.ok()) return found.status();
  std::vector<SessionRef> sessions = std::move(found).value();
  if (!args.project.empty()) {
    const std::string wanted = tracker::ProjectDirName(AbsolutePath(args.project));
    std::erase_if(sessions, [&](const SessionRef& s) {
      return std::filesystem::path(s.project_dir).filename().string() != wanted;
    });
    if (sessions.empty()) {
      return Status::NotFound("no sessions for project " + args.project + " (looked for " + config.ProjectsDir() +
                              "/" + wanted + ")");
    }
  }
  if (!args.since.empty()) {
    Result<std::chrono::seconds> age = ParseAge(args.since);
    if (!age.ok()) return age.status();
    const int64_t cutoff =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count() -
        age->count();
    std::erase_if(sessions, [&](const SessionRef& s) { return MtimeSeconds(s.transcript_path) < cutoff; });
  }
  if (!args.prefixes.empty()) return SelectSessions(sessions, args.prefixes);
  return sessions;
}

std::string CheckpointDirFor(const config::Config& config, const std::string& display) {
  return config.state_dir + "/dest-" + Sha256Hex(display).substr(0, 16);
}

Result<DestinationName> ResolveDestination(const config::Config& config, const std::string& to) {
  DestinationName name;
  if (to.empty()) {
    name.backend = config.HasBackend();
    name.location = name.backend ? config.backend_url : config.archive_dir;
  } else if (LooksLikeUrl(to)) {
    Result<std::string> valid = config::ValidateBackendUrl(to, config.allow_insecure_http);
    if (!valid.ok()) return Status::InvalidInput("--to: " + valid.status().message());
    name.backend = true;
    name.location = *valid;
  } else {
    name.location = AbsolutePath(to);
  }
  if (name.location.empty()) return Status::Config("no backend_url and no archive_dir: nowhere to save to");
  return name;
}

Result<Destination> OpenDestination(const config::Config& config, const std::string& to,
                                    uploader::SyncClientOptions options) {
  Result<DestinationName> name = ResolveDestination(config, to);
  if (!name.ok()) return name.status();
  Destination dest;
  const std::string url = name->backend ? name->location : std::string();
  const std::string archive = name->backend ? std::string() : name->location;
  if (!url.empty()) {
    config::Config run = config;
    run.backend_url = url;
    options.version = TSYNC_VERSION;
    auto client = uploader::SyncClient::Create(run, options);
    if (!client.ok()) return client.status();
    auto caps = (*client)->GetCapabilities();
    if (!caps.ok()) return caps.status();
    dest.workflow_files = caps->Has("workflow_files");
    dest.lifecycle_events = caps->Has("lifecycle_events");
    // Calls at once (`--jobs N`) each get their own client and connection.
    auto more = [run, options]() { return uploader::SyncClient::Create(run, options); };
    dest.sink = std::make_unique<uploader::SyncSink>(std::move(client.value()), std::move(more));
    dest.display = url;
    dest.backend = true;
  } else {
    dest.sink = std::make_unique<uploader::ArchiveSink>(archive);
    dest.display = archive;
  }
  dest.checkpoint_dir = CheckpointDirFor(config, dest.display);
  return dest;
}

int ExitCodeForReports(const std::vector<SessionReport>& reports) {
  int code = kExitOk;
  for (const SessionReport& r : reports) {
    if (r.status.kind() == Status::Kind::kAuth) return kExitAuth;
    if (r.status.kind() == Status::Kind::kTransient) code = kExitUnreachable;
    if (code == kExitOk && !r.complete()) code = kExitIncomplete;
  }
  return code;
}

std::string SaveReportText(const std::vector<SessionReport>& reports, const Destination& dest) {
  std::string out;
  uint64_t lines = 0, bytes = 0, files = 0, redactions = 0;
  size_t incomplete = 0;
  for (const SessionReport& r : reports) {
    lines += r.lines_sent();
    bytes += r.bytes_sent();
    files += r.files.size();
    uint64_t session_redactions = 0;
    for (const FileReport& f : r.files) {
      for (const auto& [rule, n] : f.redactions) session_redactions += n;
    }
    redactions += session_redactions;
    std::string state = r.complete() ? "synced" : "INCOMPLETE";
    out += r.session.session_id + "  " + state + "  " + std::to_string(r.files.size()) + " file(s), " +
           std::to_string(r.lines_sent()) + " line(s) sent (" + HumanBytes(r.bytes_sent()) + ")";
    if (session_redactions > 0) out += ", " + std::to_string(session_redactions) + " redaction(s)";
    out += "\n";
    if (!r.complete()) {
      ++incomplete;
      if (!r.status.ok()) out += "    stopped: " + r.status.ToString() + "\n";
      for (const FileReport& f : r.files) {
        if (f.state == FileState::kSynced) continue;
        out += "    " + f.file_name + ": " + FileStateName(f.state) + (f.error.empty() ? "" : " — " + f.error) + "\n";
      }
    }
  }
  out += std::to_string(reports.size()) + " session(s), " + std::to_string(files) + " file(s): ";
  if (lines == 0 && incomplete == 0) {
    out += "everything was already saved, nothing new to send";
  } else {
    out += std::to_string(lines) + " new line(s) sent (" + HumanBytes(bytes) + "), " + std::to_string(redactions) +
           " redaction(s)";
  }
  out += "\n" + std::string(dest.backend ? "backend: " : "archive: ") + dest.display + "\n";
  if (incomplete > 0) out += std::to_string(incomplete) + " session(s) incomplete; run `tsync save` again later\n";
  return out;
}

std::string SaveReportJson(const std::vector<SessionReport>& reports, const Destination& dest) {
  JsonWriter w;
  w.BeginObject();
  w.Key("destination").BeginObject();
  w.Key("kind").String(dest.backend ? "backend" : "archive");
  w.Key("location").String(dest.display);
  w.EndObject();
  w.Key("exit_code").Int(ExitCodeForReports(reports));
  w.Key("sessions").BeginArray();
  for (const SessionReport& r : reports) {
    w.BeginObject();
    w.Key("session_id").String(r.session.session_id);
    w.Key("backend_session_id").String(r.backend_session_id);
    w.Key("transcript_path").String(r.session.transcript_path);
    w.Key("complete").Bool(r.complete());
    w.Key("error").String(r.status.ok() ? "" : r.status.ToString());
    w.Key("lines_sent").UInt(r.lines_sent());
    w.Key("bytes_sent").UInt(r.bytes_sent());
    w.Key("files").BeginArray();
    for (const FileReport& f : r.files) {
      w.BeginObject();
      w.Key("file_name").String(f.file_name);
      w.Key("file_type").String(tracker::FileTypeName(f.type));
      w.Key("state").String(FileStateName(f.state));
      w.Key("lines_sent").UInt(f.lines_sent);
      w.Key("bytes_sent").UInt(f.bytes_sent);
      w.Key("chunks_sent").UInt(f.chunks_sent);
      w.Key("synced_lines").UInt(f.synced_lines);
      w.Key("retries").UInt(f.retries);
      w.Key("redactions").BeginObject();
      for (const auto& [rule, n] : f.redactions) w.Key(rule).UInt(n);
      w.EndObject();
      w.Key("error").String(f.error);
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return w.Take() + "\n";
}

int RunSave(const config::Config& config, const SaveArgs& args, std::ostream& out) {
  Result<std::vector<SessionRef>> sessions = SelectForSave(config, args);
  if (!sessions.ok()) {
    spdlog::error("{}", sessions.status().ToString());
    return ExitCodeFor(sessions.status());
  }
  if (args.dry_run) {
    std::vector<SessionScan> scans;
    for (const SessionRef& s : *sessions) scans.push_back(ScanSession(s, tracker::ChunkOptions{}));
    out << (args.json ? ScanReportJson(scans) : ScanReportText(scans));
    return kExitOk;
  }
  Result<Destination> dest = OpenDestination(config, args.to);
  if (!dest.ok()) {
    spdlog::error("{}", dest.status().ToString());
    return ExitCodeFor(dest.status());
  }
  Result<std::unique_ptr<redact::Redactor>> redactor = UploadRedactor(config.redaction);
  if (!redactor.ok()) {
    spdlog::error("{}", redactor.status().ToString());
    return ExitCodeFor(redactor.status());
  }

  ProgressBar progress(STDERR_FILENO, sessions->size());
  if (progress.enabled()) {
    uint64_t unsent = 0;
    for (const SessionRef& s : *sessions) unsent += LocalSyncState(dest->checkpoint_dir, s).unsent_bytes;
    progress.SetBytesTotal(unsent);
  }
  SyncOptions options;
  options.include_workflows = dest->workflow_files;
  options.on_progress = [&progress](uint64_t bytes) { progress.AddBytes(bytes); };
  std::vector<SessionReport> reports(sessions->size());
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (size_t i; (i = next.fetch_add(1)) < sessions->size();) {
      // One process at a time per session (agent/session_lock.h): a
      // watcher's pass in progress finishes first.
      const std::string& id = (*sessions)[i].session_id;
      Result<SessionSyncLock> lock = SessionSyncLock::Acquire(config.state_dir, id, std::chrono::milliseconds::max());
      if (!lock.ok()) spdlog::warn("session {}: {}; syncing without the session lock", id, lock.status().ToString());
      SyncSession sync((*sessions)[i], *dest->sink, **redactor, dest->checkpoint_dir, options);
      reports[i] = sync.Run();
      progress.SessionDone();
    }
  };
  const int jobs = std::clamp(args.jobs, 1, 16);
  std::vector<std::thread> threads;
  for (int j = 1; j < jobs; ++j) threads.emplace_back(worker);
  worker();
  for (std::thread& t : threads) t.join();
  progress.Finish();

  uint64_t lines = 0, bytes = 0;
  size_t incomplete = 0;
  for (const SessionReport& r : reports) {
    if (!r.status.ok()) spdlog::error("session {}: {}", r.session.session_id, r.status.ToString());
    // A session the live sync left pending is done once save completes it
    // (a pending session end still goes with `tsync sync --pending`).
    if (args.to.empty() && r.complete() && !HasEndRequest(config.state_dir, r.session.session_id)) {
      RemovePending(config.state_dir, r.session.session_id);
    }
    lines += r.lines_sent();
    bytes += r.bytes_sent();
    incomplete += r.complete() ? 0 : 1;
  }
  spdlog::info("save: {} session(s) to {}: {} line(s) sent ({} bytes), {} incomplete", reports.size(), dest->display,
               lines, bytes, incomplete);
  out << (args.json ? SaveReportJson(reports, *dest) : SaveReportText(reports, *dest));
  return ExitCodeForReports(reports);
}

}  // namespace tsync::agent
