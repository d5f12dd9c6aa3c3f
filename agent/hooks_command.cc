#include "agent/hooks_command.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <ostream>
#include <span>
#include <vector>

#include "agent/exit_codes.h"
#include "agent/hook_settings.h"
#include "agent/lifecycle_events.h"
#include "agent/process_info.h"
#include "base/json.h"
#include "uploader/sync_client.h"

#ifndef TSYNC_VERSION
#define TSYNC_VERSION "0.0.0"
#endif

namespace tsync::agent {
namespace {

namespace fs = std::filesystem;

std::string BaseName(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

/// The file `invoked_as` names: itself made absolute when it holds a '/',
/// else the first executable of that name on `path_env` (as a shell finds
/// it). "" when there is none.
std::string InvokedPath(std::string_view invoked_as, std::string_view path_env) {
  if (invoked_as.empty()) return "";
  std::error_code ec;
  if (invoked_as.find('/') != std::string_view::npos) {
    fs::path p = fs::absolute(fs::path(invoked_as), ec);
    return ec ? "" : p.lexically_normal().string();
  }
  size_t start = 0;
  while (start <= path_env.size()) {
    size_t end = path_env.find(':', start);
    if (end == std::string_view::npos) end = path_env.size();
    std::string dir(path_env.substr(start, end - start));
    if (dir.empty()) dir = ".";
    const std::string candidate = dir + "/" + std::string(invoked_as);
    if (::access(candidate.c_str(), X_OK) == 0 && fs::is_regular_file(candidate, ec)) {
      fs::path p = fs::absolute(candidate, ec);
      return ec ? "" : p.lexically_normal().string();
    }
    start = end + 1;
  }
  return "";
}

/// "outdated" rather than hook_settings' "other-binary": what the user
/// should read is that the entry points at an old path.
const char* StateWord(HookState state) { return state == HookState::kOtherBinary ? "outdated" : HookStateName(state); }

void WriteList(JsonWriter& w, std::string_view key, const std::vector<std::string>& items) {
  w.Key(key).BeginArray();
  for (const std::string& s : items) w.String(s);
  w.EndArray();
}

std::string Joined(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& s : items) out += (out.empty() ? "" : ", ") + s;
  return out;
}

int EditFailed(const Status& st, const std::string& settings, bool json, std::ostream& out) {
  const int code = ExitCodeFor(st);
  spdlog::error("{}", st.message());
  if (json) {
    JsonWriter w;
    w.BeginObject().Key("settings_path").String(settings).Key("error").String(st.message());
    w.Key("exit_code").Int(code).EndObject();
    out << w.Take() << "\n";
  }
  return code;
}

/// One line for the user after an install: what changed, or that nothing did.
void PrintInstall(const HookChange& c, const std::string& settings, const std::string& binary, std::ostream& out) {
  if (!c.changed) {
    out << "tsync's hooks are already installed in " << settings << "; nothing changed\n";
  } else {
    out << "installed tsync's hooks in " << settings << (c.created ? " (new file)" : "") << "\n";
    if (!c.added.empty()) out << "  added: " << Joined(c.added) << "\n";
    if (!c.updated.empty()) out << "  now running this binary: " << Joined(c.updated) << "\n";
    if (!c.removed.empty()) out << "  duplicates removed: " << Joined(c.removed) << "\n";
    if (!c.backup.empty()) out << "  the previous file is kept as " << c.backup << "\n";
  }
  out << "  each runs: " << HookCommand(binary, "<event>") << "\n";
}

int Install(const std::string& settings, const std::string& binary, bool json, std::ostream& out) {
  Result<HookChange> change = InstallHooks(settings, binary);
  if (!change.ok()) return EditFailed(change.status(), settings, json, out);
  const bool disabled = HooksStatus(settings, binary).all_disabled;
  if (json) {
    JsonWriter w;
    w.BeginObject().Key("settings_path").String(settings).Key("binary").String(binary);
    w.Key("changed").Bool(change->changed).Key("created").Bool(change->created);
    w.Key("backup").String(change->backup);
    WriteList(w, "added", change->added);
    WriteList(w, "updated", change->updated);
    WriteList(w, "removed", change->removed);
    w.Key("all_hooks_disabled").Bool(disabled).Key("exit_code").Int(kExitOk).EndObject();
    out << w.Take() << "\n";
    return kExitOk;
  }
  PrintInstall(*change, settings, binary, out);
  if (disabled) {
    out << "  note: settings.json sets \"disableAllHooks\": true, so Claude Code runs no hooks until it is removed\n";
  }
  if (change->changed) {
    out << "  Claude Code sessions already running keep the hooks they started with; new sessions sync live\n";
  }
  return kExitOk;
}

int Uninstall(const std::string& settings, bool json, std::ostream& out) {
  Result<HookChange> change = UninstallHooks(settings);
  if (!change.ok()) return EditFailed(change.status(), settings, json, out);
  if (json) {
    JsonWriter w;
    w.BeginObject().Key("settings_path").String(settings).Key("changed").Bool(change->changed);
    w.Key("backup").String(change->backup);
    WriteList(w, "removed", change->removed);
    w.Key("exit_code").Int(kExitOk).EndObject();
    out << w.Take() << "\n";
    return kExitOk;
  }
  if (!change->changed) {
    out << "no tsync hooks in " << settings << "; nothing changed\n";
  } else {
    out << "removed tsync's hooks from " << settings << ": " << Joined(change->removed) << "\n";
    if (!change->backup.empty()) out << "  the previous file is kept as " << change->backup << "\n";
  }
  return kExitOk;
}

int StatusExitCode(const HooksReport& r) {
  if (!r.valid) return kExitUsage;
  return r.AllInstalled() && !r.all_disabled ? kExitOk : kExitIncomplete;
}

std::string StatusJson(const HooksReport& r, const std::string& binary) {
  JsonWriter w;
  w.BeginObject().Key("settings_path").String(r.settings_path).Key("binary").String(binary);
  w.Key("exists").Bool(r.exists).Key("valid").Bool(r.valid);
  if (!r.valid) w.Key("problem").String(r.problem);
  w.Key("all_hooks_disabled").Bool(r.all_disabled);
  w.Key("hooks").BeginArray();
  for (const HookStatus& h : r.hooks) {
    w.BeginObject().Key("event").String(h.hook.event).Key("matcher").String(h.hook.matcher);
    w.Key("state").String(StateWord(h.state)).Key("command").String(h.command).EndObject();
  }
  w.EndArray().Key("exit_code").Int(StatusExitCode(r)).EndObject();
  return w.Take();
}

std::string StatusText(const HooksReport& r, const std::string& binary) {
  std::string o = "settings: " + r.settings_path + (r.exists ? "" : " (does not exist)") + "\n";
  o += "binary:   " + binary + "\n";
  if (!r.valid) return o + "cannot check the hooks: " + r.problem + "\n";
  size_t width = 0;
  for (const HookStatus& h : r.hooks) width = std::max(width, h.hook.Label().size());
  size_t installed = 0, missing = 0, outdated = 0;
  for (const HookStatus& h : r.hooks) {
    const std::string label = h.hook.Label();
    o += "  " + label + std::string(width - label.size() + 2, ' ') + StateWord(h.state);
    if (h.state == HookState::kOtherBinary) o += ": " + h.command;
    o += "\n";
    (h.state == HookState::kInstalled ? installed : h.state == HookState::kMissing ? missing : outdated)++;
  }
  o += std::to_string(r.hooks.size()) + " hooks: " + std::to_string(installed) + " installed";
  if (missing > 0) o += ", " + std::to_string(missing) + " missing";
  if (outdated > 0) o += ", " + std::to_string(outdated) + " running another tsync";
  o += missing + outdated > 0 ? " — run `tsync hooks install`\n" : "\n";
  if (r.all_disabled) o += "settings.json sets \"disableAllHooks\": true: Claude Code runs none of them\n";
  return o;
}

int ShowStatus(const std::string& settings, const std::string& binary, bool json, std::ostream& out) {
  const HooksReport report = HooksStatus(settings, binary);
  out << (json ? StatusJson(report, binary) + "\n" : StatusText(report, binary));
  return StatusExitCode(report);
}

/// setup's brief look at the backend: reachable, key accepted. Seconds, not
/// a sync's retries. Returns the exit code.
int CheckBackend(const config::Config& config, std::ostream& out) {
  uploader::SyncClientOptions o;
  o.version = TSYNC_VERSION;
  o.retry = uploader::RetryPolicy{2, std::chrono::milliseconds(200), std::chrono::milliseconds(1000)};
  o.connect_timeout = std::chrono::milliseconds(3000);
  o.request_timeout = std::chrono::milliseconds(5000);
  o.low_speed_time = std::chrono::seconds(5);
  auto client = uploader::SyncClient::Create(config, o);
  if (!client.ok()) {
    out << "  cannot use it: " << client.status().message() << "\n";
    return ExitCodeFor(client.status());
  }
  auto caps = (*client)->GetCapabilities();
  if (!caps.ok()) {
    out << "  unreachable: " << caps.status().message() << "\n"
        << "  sessions wait in the pending queue until it answers (`tsync status` checks again)\n";
    return ExitCodeFor(caps.status());
  }
  auto who = (*client)->ValidateAuth();
  if (!who.ok()) {
    const Status st = who.status();
    out << (st.kind() == Status::Kind::kAuth ? "  the backend refused the API key: run `tsync login`\n"
                                             : "  cannot check the API key: " + st.message() + "\n");
    return ExitCodeFor(st);
  }
  out << "  reachable; the API key is valid (" << who->email << ")";
  if (caps->Has(std::string(kLifecycleCapability))) out << "; it takes lifecycle events";
  out << "\n";
  return kExitOk;
}

}  // namespace

std::string ClaudeSettingsPath(const config::Config& config) { return config.claude_dir + "/settings.json"; }

Result<std::string> HookBinaryPath(std::string_view invoked_as, std::string_view path_env) {
  Result<std::string> exe = SelfExecutable();
  if (!exe.ok()) return exe.status();
  if (exe->ends_with(" (deleted)")) {
    return Status::Io("the running tsync binary was deleted or replaced (" + *exe + "); run the installed tsync");
  }
  std::string chosen = *exe;
  const std::string invoked = InvokedPath(invoked_as, path_env);
  std::error_code ec;
  if (!invoked.empty() && invoked != *exe && BaseName(invoked) == "tsync" && fs::equivalent(invoked, *exe, ec) &&
      !ec) {
    chosen = invoked;
  }
  if (BaseName(chosen) != "tsync") {
    return Status::InvalidInput("Claude Code's hooks must run a binary named `tsync`, but this one is " + chosen +
                                "; install or link it under that name and run this again");
  }
  return chosen;
}

int RunHooks(HooksAction action, const config::Config& config, const std::string& binary, bool json,
             std::ostream& out) {
  const std::string settings = ClaudeSettingsPath(config);
  switch (action) {
    case HooksAction::kInstall: return Install(settings, binary, json, out);
    case HooksAction::kUninstall: return Uninstall(settings, json, out);
    case HooksAction::kStatus: return ShowStatus(settings, binary, json, out);
  }
  return kExitUsage;
}

int RunSetup(const config::LoadedConfig& loaded, const std::string& binary, std::ostream& out) {
  const config::Config& config = loaded.config;
  const std::string settings = ClaudeSettingsPath(config);
  out << "1. Claude Code hooks\n";
  Result<HookChange> change = InstallHooks(settings, binary);
  if (!change.ok()) {
    out << "  not installed: " << change.status().message() << "\n";
    return ExitCodeFor(change.status());
  }
  PrintInstall(*change, settings, binary, out);
  if (HooksStatus(settings, binary).all_disabled) {
    out << "  note: settings.json sets \"disableAllHooks\": true, so Claude Code runs no hooks until it is removed\n";
  }

  out << "2. Where sessions go\n";
  int code = kExitOk;
  if (!config.HasBackend()) {
    out << "  no backend configured: sessions are saved to the local archive " << config.archive_dir << "\n"
        << "  to sync to a server instead: tsync login --backend-url https://your-server\n";
  } else if (config.api_key.empty()) {
    out << "  backend " << config.backend_url << ", but no API key yet: run `tsync login` (it opens a page to approve)\n"
        << "  or, for scripts: printf '%s\\n' \"$KEY\" | tsync login --api-key-stdin\n";
    code = kExitAuth;
  } else {
    out << "  backend " << config.backend_url << "\n";
    code = CheckBackend(config, out);
  }

  out << "3. Next\n"
      << "  new Claude Code sessions now sync live (running ones keep the hooks they started with);\n"
      << "  `tsync status` shows watchers and anything pending; `tsync save --all` sends sessions from before\n";
  return code;
}

}  // namespace tsync::agent
