#include "agent/status_command.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <filesystem>
#include <ostream>

#include "agent/exit_codes.h"
#include "agent/logging.h"
#include "agent/pending_queue.h"
#include "agent/redaction_setup.h"
#include "agent/save_command.h"
#include "agent/scan_report.h"
#include "agent/session_status.h"
#include "agent/sync_state.h"
#include "agent/watcher_registry.h"
#include "base/json.h"
#include "uploader/sync_client.h"

#ifndef TSYNC_VERSION
#define TSYNC_VERSION "0.0.0"
#endif

namespace tsync::agent {
namespace {

/// What was learned about the destination.
struct DestinationCheck {
  DestinationName name;
  bool usable = false;           // reachable backend / writable archive
  std::string problem;           // why not usable; never a secret
  std::string capabilities;      // "workflow_files, …" (backend)
  std::string auth = "n/a";      // valid | missing | refused | unknown | n/a (archive)
  std::string email;             // who the key belongs to
  int exit_code = kExitOk;
};

/// A status check must answer within seconds, not after a sync's retries.
uploader::SyncClientOptions QuickClientOptions() {
  uploader::SyncClientOptions o;
  o.version = TSYNC_VERSION;
  o.retry = uploader::RetryPolicy{2, std::chrono::milliseconds(200), std::chrono::milliseconds(1000)};
  o.connect_timeout = std::chrono::milliseconds(3000);
  o.request_timeout = std::chrono::milliseconds(5000);
  o.low_speed_time = std::chrono::seconds(5);
  return o;
}

void CheckBackend(const config::Config& config, DestinationCheck* check) {
  config::Config run = config;
  run.backend_url = check->name.location;
  auto client = uploader::SyncClient::Create(run, QuickClientOptions());
  if (!client.ok()) {
    check->problem = client.status().message();
    check->exit_code = ExitCodeFor(client.status());
    return;
  }
  auto caps = (*client)->GetCapabilities();
  if (!caps.ok()) {
    check->problem = caps.error().ToStatus().message();
    check->exit_code = ExitCodeFor(caps.status());
    return;
  }
  check->usable = true;
  for (const auto& [name, on] : caps->flags) {
    if (!on) continue;
    check->capabilities += (check->capabilities.empty() ? "" : ", ") + name;
  }
  if (config.api_key.empty()) {
    check->auth = "missing";
    check->exit_code = kExitAuth;
    return;
  }
  auto who = (*client)->ValidateAuth();
  if (who.ok()) {
    check->auth = "valid";
    check->email = who->email;
    return;
  }
  const Status st = who.status();
  check->auth = st.kind() == Status::Kind::kAuth ? "refused" : "unknown";
  check->problem = st.message();
  check->exit_code = ExitCodeFor(st);
}

void CheckArchive(DestinationCheck* check) {
  // The archive directory is made on the first save; usable means it, or the
  // nearest existing parent, is a writable directory.
  std::filesystem::path dir = check->name.location;
  std::error_code ec;
  while (!dir.empty() && !std::filesystem::exists(dir, ec)) dir = dir.parent_path();
  if (dir.empty() || !std::filesystem::is_directory(dir, ec)) {
    check->problem = "no directory to create " + check->name.location + " in";
  } else if (::access(dir.c_str(), W_OK | X_OK) != 0) {
    check->problem = dir.string() + " is not writable: set archive_dir (tsync config set archive_dir DIR)";
  } else {
    check->usable = true;
    return;
  }
  check->exit_code = kExitIncomplete;
}

struct SessionsSummary {
  size_t total = 0, saved = 0, partial = 0, fresh = 0;
  uint64_t unsent_bytes = 0;
  struct Behind {
    std::string session_id;
    FileBacklog file;
  };
  std::vector<Behind> behind;
  bool quarantined = false;
  std::string error;  // the projects dir could not be listed
};

SessionsSummary SummariseSessions(const config::Config& config, const std::string& checkpoint_dir) {
  SessionsSummary out;
  Result<std::vector<SessionRef>> sessions = FindSessions(config.ProjectsDir());
  if (!sessions.ok()) {
    out.error = sessions.status().message();
    return out;
  }
  for (const SessionRef& s : *sessions) {
    SessionSyncState state = LocalSyncState(checkpoint_dir, s);
    ++out.total;
    out.unsent_bytes += state.unsent_bytes;
    switch (state.state) {
      case LocalState::kNew: ++out.fresh; break;
      case LocalState::kSaved: ++out.saved; break;
      case LocalState::kPartial: ++out.partial; break;
    }
    for (FileBacklog& f : state.behind) {
      out.quarantined |= !f.quarantined.empty();
      out.behind.push_back({s.session_id, std::move(f)});
    }
  }
  return out;
}

struct Report {
  const config::LoadedConfig* loaded;
  DestinationCheck dest;
  bool redaction_ok = true;
  std::string redaction_problem;
  size_t rule_count = 0;
  SessionsSummary sessions;
  std::vector<WatcherEntry> watchers;  // live ones
  std::vector<PendingEntry> pending;
  int exit_code = kExitOk;
};

std::string RenderText(const Report& r) {
  const config::Config& c = r.loaded->config;
  const config::ConfigSources& src = r.loaded->sources;
  std::string o = "tsync " TSYNC_VERSION "\n";
  o += "config:      " + r.loaded->path +
       (r.loaded->file_found ? "" : " (no file: defaults, environment and flags only)") + "\n";
  for (const std::string& w : r.loaded->warnings) o += "  warning: " + w + "\n";
  o += "api key:     " + config::MaskSecret(c.api_key) +
       (c.api_key.empty() ? "" : std::string(" (from ") + config::SourceName(src.api_key) + ")") + "\n";
  const DestinationCheck& d = r.dest;
  if (d.name.backend) {
    o += "backend:     " + d.name.location + " — " + (d.usable ? "reachable" : "UNREACHABLE: " + d.problem) + "\n";
    if (d.usable && !d.capabilities.empty()) o += "  capabilities: " + d.capabilities + "\n";
    if (d.auth == "valid") o += "  key:       valid (" + d.email + ")\n";
    if (d.auth == "missing") o += "  key:       not set — run `tsync login` (or set TSYNC_API_KEY)\n";
    if (d.auth == "refused") o += "  key:       REFUSED: " + d.problem + "\n";
    if (d.auth == "unknown") o += "  key:       not checked: " + d.problem + "\n";
  } else {
    o += "archive:     " + d.name.location + " — " + (d.usable ? "writable" : "NOT USABLE: " + d.problem) + "\n";
    o += "  (no backend configured: sessions are archived locally; see `tsync login`)\n";
  }
  if (!c.redaction.enabled) {
    o += "redaction:   OFF — secrets are uploaded as written\n";
  } else if (!r.redaction_ok) {
    o += "redaction:   ERROR: " + r.redaction_problem + "\n";
  } else {
    o += "redaction:   on, " + std::to_string(r.rule_count) + " rules (" +
         std::to_string(c.redaction.rules.size()) + " custom)\n";
  }
  const SessionsSummary& s = r.sessions;
  if (!s.error.empty()) {
    o += "sessions:    cannot list " + c.ProjectsDir() + ": " + s.error + "\n";
  } else {
    o += "sessions:    " + std::to_string(s.total) + " under " + c.ProjectsDir() + ": " + std::to_string(s.saved) +
         " saved, " + std::to_string(s.partial) + " partial, " + std::to_string(s.fresh) + " new";
    if (s.unsent_bytes > 0) o += " (" + HumanBytes(s.unsent_bytes) + " not sent yet)";
    o += "\n";
    for (const SessionsSummary::Behind& b : s.behind) {
      o += "  " + b.session_id.substr(0, 8) + "  " + b.file.file_name + ": ";
      o += b.file.quarantined.empty() ? "pending, " + HumanBytes(b.file.unsent_bytes) + " not sent"
                                      : "QUARANTINED — " + b.file.quarantined;
      o += "\n";
    }
  }
  o += "watchers:    " + std::to_string(r.watchers.size()) + " running\n";
  for (const WatcherEntry& w : r.watchers) {
    o += "  " + w.session_id.substr(0, 8) + "  " + WatcherStateName(w.state) + "  pid " +
         std::to_string(w.process.pid) + "  " + std::to_string(w.files) + " file(s), " +
         std::to_string(w.lines_synced) + " line(s) synced";
    if (!w.last_error.empty()) o += "  last error: " + w.last_error;
    o += "\n";
  }
  o += "pending:     " + std::to_string(r.pending.size()) + " session(s) waiting to be retried" +
       (r.pending.empty() ? "" : " (tsync sync --pending)") + "\n";
  for (const PendingEntry& p : r.pending) {
    o += "  " + p.session.session_id + "  " + std::to_string(p.attempts) + " failed retr" +
         (p.attempts == 1 ? "y" : "ies") + "\n";
  }
  o += "log file:    " + LogFilePath(c.state_dir) + "\n";
  return o;
}

std::string RenderJson(const Report& r) {
  const config::Config& c = r.loaded->config;
  JsonWriter w;
  w.BeginObject();
  w.Key("version").String(TSYNC_VERSION);
  w.Key("exit_code").Int(r.exit_code);
  w.Key("config").BeginObject();
  w.Key("path").String(r.loaded->path);
  w.Key("found").Bool(r.loaded->file_found);
  w.Key("api_key").String(config::MaskSecret(c.api_key));
  w.Key("api_key_source").String(config::SourceName(r.loaded->sources.api_key));
  w.Key("warnings").BeginArray();
  for (const std::string& s : r.loaded->warnings) w.String(s);
  w.EndArray().EndObject();
  const DestinationCheck& d = r.dest;
  w.Key("destination").BeginObject();
  w.Key("kind").String(d.name.backend ? "backend" : "archive");
  w.Key("location").String(d.name.location);
  w.Key("usable").Bool(d.usable);
  w.Key("problem").String(d.problem);
  w.Key("auth").String(d.auth);
  w.Key("email").String(d.email);
  w.Key("capabilities").String(d.capabilities);
  w.EndObject();
  w.Key("redaction").BeginObject();
  w.Key("enabled").Bool(c.redaction.enabled);
  w.Key("error").String(r.redaction_problem);
  w.Key("rules").UInt(r.rule_count);
  w.Key("custom_rules").UInt(c.redaction.rules.size());
  w.EndObject();
  const SessionsSummary& s = r.sessions;
  w.Key("sessions").BeginObject();
  w.Key("projects_dir").String(c.ProjectsDir());
  w.Key("error").String(s.error);
  w.Key("total").UInt(s.total);
  w.Key("saved").UInt(s.saved);
  w.Key("partial").UInt(s.partial);
  w.Key("new").UInt(s.fresh);
  w.Key("unsent_bytes").UInt(s.unsent_bytes);
  w.Key("files_behind").BeginArray();
  for (const SessionsSummary::Behind& b : s.behind) {
    w.BeginObject();
    w.Key("session_id").String(b.session_id);
    w.Key("file_name").String(b.file.file_name);
    w.Key("unsent_bytes").UInt(b.file.unsent_bytes);
    w.Key("state").String(b.file.quarantined.empty() ? "pending" : "quarantined");
    w.Key("reason").String(b.file.quarantined);
    w.EndObject();
  }
  w.EndArray().EndObject();
  w.Key("watchers").BeginArray();
  for (const WatcherEntry& e : r.watchers) {
    w.BeginObject();
    w.Key("session_id").String(e.session_id);
    w.Key("state").String(WatcherStateName(e.state));
    w.Key("pid").Int(e.process.pid);
    w.Key("files").UInt(e.files);
    w.Key("lines_synced").UInt(e.lines_synced);
    w.Key("last_upload").Int(e.last_upload);
    w.Key("last_error").String(e.last_error);
    w.EndObject();
  }
  w.EndArray();
  w.Key("pending").BeginArray();
  for (const PendingEntry& p : r.pending) {
    w.BeginObject().Key("session_id").String(p.session.session_id).Key("attempts").UInt(p.attempts);
    w.Key("next_attempt").Int(p.next_attempt).EndObject();
  }
  w.EndArray();
  w.Key("log_file").String(LogFilePath(c.state_dir));
  w.EndObject();
  return w.Take() + "\n";
}

}  // namespace

int RunStatus(const config::LoadedConfig& loaded, const StatusArgs& args, std::ostream& out) {
  const config::Config& config = loaded.config;
  if (!args.session.empty()) return RunSessionStatus(config, {args.session, args.to, args.json}, out);
  Report r;
  r.loaded = &loaded;
  Result<DestinationName> name = ResolveDestination(config, args.to);
  if (!name.ok()) {
    spdlog::error("{}", name.status().ToString());
    return ExitCodeFor(name.status());
  }
  r.dest.name = *name;
  if (name->backend) {
    CheckBackend(config, &r.dest);
  } else {
    CheckArchive(&r.dest);
  }
  if (config.redaction.enabled) {
    Result<std::unique_ptr<redact::Redactor>> redactor = BuildRedactor(config.redaction);
    if (redactor.ok()) {
      r.rule_count = (*redactor)->rule_count();
    } else {
      r.redaction_ok = false;
      r.redaction_problem = redactor.status().message();
    }
  }
  r.sessions = SummariseSessions(config, CheckpointDirFor(config, name->location));
  for (WatcherEntry& w : ListWatcherEntries(config.state_dir)) {
    if (WatcherLive(w)) r.watchers.push_back(std::move(w));
  }
  r.pending = ListPending(config.state_dir);

  // The most fundamental problem decides the exit code.
  if (!r.redaction_ok) {
    r.exit_code = kExitUsage;
  } else if (r.dest.exit_code != kExitOk) {
    r.exit_code = r.dest.exit_code;
  } else if (r.sessions.quarantined || !r.sessions.error.empty()) {
    r.exit_code = kExitIncomplete;
  }
  out << (args.json ? RenderJson(r) : RenderText(r));
  return r.exit_code;
}

}  // namespace tsync::agent
