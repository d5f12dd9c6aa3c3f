#include "agent/cli.h"

#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string_view>
#include <vector>

#include "agent/config_command.h"
#include "agent/exit_codes.h"
#include "agent/hook_command.h"
#include "agent/hooks_command.h"
#include "agent/logging.h"
#include "agent/login_command.h"
#include "agent/redact_command.h"
#include "agent/redaction_setup.h"
#include "agent/link_command.h"
#include "agent/list_command.h"
#include "agent/save_command.h"
#include "agent/verify_command.h"
#include "agent/version_command.h"
#include "agent/scan_report.h"
#include "agent/session_scan.h"
#include "agent/status_command.h"
#include "agent/sync_pending.h"
#include "agent/watcher.h"
#include "config/config.h"

#ifndef TSYNC_VERSION
#define TSYNC_VERSION "0.0.0"
#endif

namespace tsync::agent {

namespace {

std::string AbsoluteFlagPath(const std::string& path) {
  if (path.starts_with("/") || path.starts_with("~/")) return path;
  std::error_code ec;
  std::filesystem::path abs = std::filesystem::absolute(path, ec);
  return ec ? path : abs.lexically_normal().string();
}

/// CLI11 repeats unexpected arguments as typed, and one may be an API key
/// typed where tsync never takes one (`tsync login cfb_…`, `--api-key cfb_…`).
/// This names the unexpected options (`message` is CLI11's, which lists them)
/// and shows every value as <value>.
std::string UnexpectedArguments(std::string_view message, int argc, char** argv) {
  std::vector<std::string_view> listed;
  for (size_t pos = 0; pos < message.size();) {
    const size_t end = std::min(message.find_first_of(" \n", pos), message.size());
    if (end > pos) listed.push_back(message.substr(pos, end - pos));
    pos = end + 1;
  }
  std::string shown;
  bool hid_value = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg(argv[i]);
    if (std::find(listed.begin(), listed.end(), arg) == listed.end()) continue;
    const size_t eq = arg.find('=');
    const bool option = arg.starts_with("-");
    shown += shown.empty() ? "" : " ";
    shown += option ? std::string(arg.substr(0, eq)) + (eq == std::string_view::npos ? "" : "=<value>") : "<value>";
    hid_value = hid_value || !option || eq != std::string_view::npos;
  }
  std::string out = "The following arguments were not expected: " + (shown.empty() ? "(not shown)" : shown) + "\n";
  if (hid_value) {
    out += "(values are not repeated: tsync never takes an API key as an argument; use `tsync login "
           "--api-key-stdin` or TSYNC_API_KEY)\n";
  }
  return out;
}

int Fail(const Status& status) {
  spdlog::error("{}", status.ToString());
  return ExitCodeFor(status);
}

struct ScanArgs {
  std::vector<std::string> prefixes;
  bool json = false;
};

int RunScan(const config::Config& cfg, const ScanArgs& args) {
  Result<std::vector<SessionRef>> all = FindSessions(cfg.ProjectsDir());
  if (!all.ok()) return Fail(all.status());
  Result<std::vector<SessionRef>> chosen = SelectSessions(*all, args.prefixes);
  if (!chosen.ok()) return Fail(chosen.status());
  std::vector<SessionScan> scans;
  for (const SessionRef& s : *chosen) scans.push_back(ScanSession(s, tracker::ChunkOptions{}));
  std::cout << (args.json ? ScanReportJson(scans) : ScanReportText(scans));
  for (const SessionScan& s : scans) {
    if (!s.error.empty()) return kExitIncomplete;
  }
  return kExitOk;
}

}  // namespace

int RunCli(int argc, char** argv) {
  CLI::App app{"tsync: syncs Claude Code transcripts, redacted, line by line"};
  app.require_subcommand(1);
  app.set_version_flag("--version", TSYNC_VERSION);

  config::ConfigOverrides flags;
  std::string config_path, claude_dir, state_dir, log_level;
  app.add_option("--config", config_path, "Config file (default $TSYNC_CONFIG or ~/.config/tsync/config.json)");
  app.add_option("--claude-dir", claude_dir, "Claude Code's directory (default $CLAUDE_CONFIG_DIR or ~/.claude)");
  app.add_option("--state-dir", state_dir, "Where tsync keeps checkpoints (default ~/.local/state/tsync)");
  app.add_option("--log-level", log_level, "trace|debug|info|warn|error|off");
  // How hooks hand the API key to the watchers they start: never on a command
  // line or in an environment (agent/hook_command.h).
  bool key_from_stdin = false;
  app.add_flag("--read-api-key-from-stdin", key_from_stdin)->group("");

  ScanArgs scan;
  CLI::App* scan_cmd = app.add_subcommand(
      "scan", "Read sessions exactly as a sync would and report what would be sent (sends nothing)");
  scan_cmd->add_option("sessions", scan.prefixes, "Session id prefixes (default: every session)");
  scan_cmd->add_flag("--json", scan.json, "Print one JSON document");

  SaveArgs save;
  CLI::App* save_cmd = app.add_subcommand(
      "save", "Sync sessions, redacted, to the backend (or the local archive when none is configured)");
  save_cmd->add_option("sessions", save.prefixes, "Session id prefixes (see `tsync list`)");
  save_cmd->add_flag("--all", save.all, "Every session under the Claude projects directory");
  save_cmd->add_option("--since", save.since, "Only sessions active in the last 30m, 12h, 5d, 2w...");
  save_cmd->add_option("--project", save.project, "Only sessions started in this project directory");
  save_cmd->add_option("--to", save.to, "A backend URL or an archive directory, for this run only");
  save_cmd->add_option("--jobs", save.jobs, "Sessions synced in parallel (default 1)")->check(CLI::Range(1, 16));
  save_cmd->add_flag("--json", save.json, "Print one JSON report (stable, for CI)");
  save_cmd->add_flag("--dry-run", save.dry_run, "Report what would be sent; send nothing");

  ListArgs list;
  CLI::App* list_cmd = app.add_subcommand("list", "Sessions on disk: id, state, size, last activity, project, title");
  list_cmd->add_option("--since", list.since, "Only sessions active in the last 30m, 12h, 5d, 2w...");
  list_cmd->add_option("--to", list.to, "Show the sync state for this backend URL or archive directory");
  list_cmd->add_flag("--json", list.json, "Print one JSON document");

  VerifyArgs verify;
  CLI::App* verify_cmd = app.add_subcommand(
      "verify", "Compare a saved session line by line with the local files (differences only inside redactions)");
  verify_cmd->add_option("session", verify.prefix, "Session id prefix")->required();
  verify_cmd->add_option("--to", verify.to, "The backend URL or archive directory to check (default: configured)");
  verify_cmd->add_flag("--json", verify.json, "Print one JSON document");

  StatusArgs status;
  CLI::App* status_cmd = app.add_subcommand(
      "status", "Config in use, backend reachability and key, redaction, pending and quarantined files, log file");
  status_cmd->add_option("--to", status.to, "Check this backend URL or archive directory instead of the configured one");
  status_cmd->add_flag("--json", status.json, "Print one JSON document");
  status_cmd->add_option("--session", status.session,
                         "One session (id prefix): per-file lines synced, last upload, pending lines");

  LinkArgs link;
  CLI::App* link_cmd = app.add_subcommand("link", "Link a GitHub pull request or commit to a session by hand");
  link_cmd->add_option("session", link.prefix, "Session id prefix")->required();
  link_cmd->add_option("url", link.url, "https://github.com/<owner>/<repo>/pull/<n> or …/commit/<sha>")->required();
  link_cmd->add_option("--title", link.title, "A title for the link");

  // --- Live sync: hooks, the watcher, the pending queue ---
  std::string hook_event;
  CLI::App* hook_cmd = app.add_subcommand("hook", "Run by Claude Code's hooks (tsync hooks install); reads the hook "
                                                  "JSON on stdin, prints nothing, always exits 0");
  hook_cmd->add_option("event", hook_event, "session-start, session-end, stop, pre-compact, subagent-stop, "
                                            "user-prompt-submit, post-tool-use")
      ->required();
  WatchOptions watch;
  int64_t claude_pid = 0;
  uint64_t claude_start = 0;
  int64_t idle_timeout_s = watch.idle_timeout.count(), flush_bound_s = watch.final_flush_bound.count();
  CLI::App* watch_cmd = app.add_subcommand("watch", "Follow one session and sync it live (started by the hooks)");
  watch_cmd->add_option("--session", watch.session.session_id, "Session id")->required();
  watch_cmd->add_option("--transcript", watch.session.transcript_path, "The session's transcript (absolute)")
      ->required();
  watch_cmd->add_option("--claude-pid", claude_pid, "The Claude Code process: the watcher ends when it exits");
  watch_cmd->add_option("--claude-start", claude_start, "Its start time (/proc/<pid>/stat field 22)");
  watch_cmd->add_flag("--final", watch.final_only, "Flush, send a pending session end, and exit");
  watch_cmd->add_option("--idle-timeout", idle_timeout_s, "Seconds without a write before the watcher ends")
      ->check(CLI::Range(int64_t{1}, int64_t{7 * 86400}));
  watch_cmd->add_option("--flush-timeout", flush_bound_s, "Bound of the final flush, seconds")
      ->check(CLI::Range(int64_t{1}, int64_t{600}));
  bool sync_pending = false;
  CLI::App* sync_cmd = app.add_subcommand("sync", "Retry sessions whose upload is pending (backend was down)");
  sync_cmd->add_flag("--pending", sync_pending, "Retry the pending queue")->required();
  bool sync_background = false;
  sync_cmd->add_flag("--background", sync_background,
                     "As hooks run it: leave if another run is busy, retry only sessions whose backoff has passed");
  // --- end of live sync ---

  // --- Hooks in Claude Code's settings.json, and setup ---
  CLI::App* hooks_cmd =
      app.add_subcommand("hooks", "Install, remove or check tsync's hooks in Claude Code's settings.json");
  hooks_cmd->require_subcommand(1);
  bool hooks_json = false;
  CLI::App* hooks_install =
      hooks_cmd->add_subcommand("install", "Add tsync's hooks (idempotent; every other setting and hook is kept)");
  CLI::App* hooks_uninstall = hooks_cmd->add_subcommand("uninstall", "Remove tsync's hooks and nothing else");
  CLI::App* hooks_status =
      hooks_cmd->add_subcommand("status", "Each hook: installed, missing, or outdated (running another tsync)");
  for (CLI::App* c : {hooks_install, hooks_uninstall, hooks_status}) {
    c->add_flag("--json", hooks_json, "Print one JSON document");
  }
  CLI::App* setup_cmd = app.add_subcommand(
      "setup", "Set tsync up for Claude Code: install the hooks, then check the backend or say how to log in");
  // --- end of hooks and setup ---

  RedactArgs redact_args;
  CLI::App* redact_cmd = app.add_subcommand(
      "redact", "Redact a JSONL transcript (or stdin) as uploads are redacted and write it to stdout");
  redact_cmd->add_option("input", redact_args.input, "A file, or - for stdin (default)");
  redact_cmd->add_flag("--report", redact_args.report, "Print per-rule counts to stderr (never the values)");

  // --- Account and configuration: login, logout, config, version ---
  LoginArgs login;
  CLI::App* login_cmd = app.add_subcommand(
      "login", "Log in to the backend (in a browser, or with a key on stdin) and save the API key");
  login_cmd->add_flag("--api-key-stdin", login.api_key_stdin,
                      "Read one API key from stdin and check it (never pass a key as an argument)");
  login_cmd->add_option("--backend-url", login.backend_url, "The backend to log in to; saved with the key");
  CLI::App* logout_cmd = app.add_subcommand("logout", "Remove the saved API key from the config file");
  CLI::App* config_cmd = app.add_subcommand("config", "Show or change settings in the config file");
  config_cmd->require_subcommand(1);
  std::string config_field, config_value;
  CLI::App* config_get =
      config_cmd->add_subcommand("get", "Effective values and their sources (default/file/env/flag)");
  config_get->add_option("field", config_field, "One field (default: all)");
  CLI::App* config_set = config_cmd->add_subcommand("set", "Change a field in the config file (checked first)");
  config_set->add_option("field", config_field, "backend_url, log_level, redaction.enabled, ...")->required();
  config_set->add_option("value", config_value, "true/false, an absolute or ~/ path, a URL, a level")->required();
  CLI::App* config_unset = config_cmd->add_subcommand("unset", "Remove a field from the config file (default applies)");
  config_unset->add_option("field", config_field, "The field to remove")->required();
  bool version_json = false;
  CLI::App* version_cmd = app.add_subcommand("version", "Version and build information");
  version_cmd->add_flag("--json", version_json, "Print one JSON document");
  // --- end of account and configuration ---

  try {
    app.parse(argc, argv);
  } catch (const CLI::ExtrasError& e) {
    std::cerr << UnexpectedArguments(e.what(), argc, argv) << "Run with --help for more information.\n";
    return kExitUsage;
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? kExitOk : kExitUsage;
  }

  // Paths typed on a command line are relative to where the user is;
  // paths in the config file are not (config/ insists on absolute ones).
  if (!config_path.empty()) flags.config_path = AbsoluteFlagPath(config_path);
  if (!claude_dir.empty()) flags.claude_dir = AbsoluteFlagPath(claude_dir);
  if (!state_dir.empty()) flags.state_dir = AbsoluteFlagPath(state_dir);
  if (!log_level.empty()) flags.log_level = log_level;
  // The same settings for the children that hooks start.
  std::vector<std::string> global_flags;
  if (flags.config_path) global_flags.insert(global_flags.end(), {"--config", *flags.config_path});
  if (flags.claude_dir) global_flags.insert(global_flags.end(), {"--claude-dir", *flags.claude_dir});
  if (flags.state_dir) global_flags.insert(global_flags.end(), {"--state-dir", *flags.state_dir});
  if (flags.log_level) global_flags.insert(global_flags.end(), {"--log-level", *flags.log_level});
  if (key_from_stdin) {
    std::string key;
    std::getline(std::cin, key);
    if (!key.empty()) flags.api_key = key;
  }

  // Logging starts at "warn" so config problems are visible before the
  // configured level is known.
  StartLogging(config::LogLevel::kWarn);

  // --- Account and configuration: login, logout, config, version ---
  // Dispatched before the common LoadConfig: `version` needs no
  // configuration, and the others must work on a config file that does not
  // load (to fix it, or to log out of it), so each loads what it needs.
  const config::Environment env = config::ProcessEnvironment();
  if (version_cmd->parsed()) return RunVersion(version_json, std::cout);
  if (login_cmd->parsed()) return RunLogin(env, flags, login, std::cin, std::cout);
  if (logout_cmd->parsed()) return RunLogout(env, flags, std::cout);
  if (config_get->parsed()) return RunConfigGet(env, flags, config_field, std::cout);
  if (config_set->parsed()) return RunConfigSet(env, flags, config_field, config_value, std::cout);
  if (config_unset->parsed()) return RunConfigUnset(env, flags, config_field, std::cout);
  // --- end of account and configuration ---

  Result<config::LoadedConfig> loaded = config::LoadConfig(config::ProcessEnvironment(), flags);
  if (!loaded.ok()) {
    // A hook must never fail Claude Code: the problem is logged, exit 0.
    const int code = Fail(loaded.status());
    return hook_cmd->parsed() ? kExitOk : code;
  }
  // The terminal gets warnings and errors unless a level was chosen; the log
  // file gets the configured level (info by default).
  const config::LogLevel level = loaded->config.log_level;
  SetStderrLevel(loaded->sources.log_level == config::Source::kDefault ? std::max(level, config::LogLevel::kWarn)
                                                                       : level);
  if (Status st = AddLogFile(loaded->config.state_dir, level); !st.ok()) spdlog::warn("{}", st.message());

  if (hook_cmd->parsed()) {
    // Claude Code may show a hook's stderr: everything goes to the log file.
    SetStderrLevel(config::LogLevel::kOff);
    std::optional<HookEvent> event = HookEventFromCommand(hook_event);
    if (!event) {
      spdlog::warn("hook: unknown event '{}' ignored (reinstall the hooks: tsync hooks install)", hook_event);
      return kExitOk;
    }
    return RunHook(*event, *loaded, global_flags, std::cin);
  }
  if (watch_cmd->parsed()) {
    watch.claude = ProcessId{static_cast<pid_t>(claude_pid), claude_start};
    watch.idle_timeout = std::chrono::seconds(idle_timeout_s);
    watch.final_flush_bound = std::chrono::seconds(flush_bound_s);
    Result<SessionRef> session =
        CheckSession(watch.session.session_id, watch.session.transcript_path, loaded->config.ProjectsDir());
    if (!session.ok()) return Fail(session.status());
    watch.session = *session;
    return RunWatch(loaded->config, watch);
  }
  if (sync_cmd->parsed()) return RunSyncPending(loaded->config, sync_background, std::cout);
  if (hooks_cmd->parsed() || setup_cmd->parsed()) {
    const HooksAction action = hooks_install->parsed()     ? HooksAction::kInstall
                               : hooks_uninstall->parsed() ? HooksAction::kUninstall
                                                           : HooksAction::kStatus;
    std::string binary;  // uninstall removes entries of any tsync path
    if (setup_cmd->parsed() || action != HooksAction::kUninstall) {
      const char* path = std::getenv("PATH");
      Result<std::string> self = HookBinaryPath(argc > 0 ? argv[0] : "", path ? path : "");
      if (!self.ok()) return Fail(self.status());
      binary = *self;
    }
    if (setup_cmd->parsed()) return RunSetup(*loaded, binary, std::cout);
    return RunHooks(action, loaded->config, binary, hooks_json, std::cout);
  }
  if (status_cmd->parsed()) return RunStatus(*loaded, status, std::cout);
  if (link_cmd->parsed()) return RunLink(loaded->config, link, std::cout);

  if (scan_cmd->parsed()) return RunScan(loaded->config, scan);
  if (save_cmd->parsed()) return RunSave(loaded->config, save, std::cout);
  if (list_cmd->parsed()) return RunList(loaded->config, list, std::cout);
  if (verify_cmd->parsed()) return RunVerify(loaded->config, verify, std::cout);
  if (redact_cmd->parsed()) {
    // `tsync redact` is an explicit request: it redacts even when uploads
    // have redaction turned off.
    Result<std::unique_ptr<redact::Redactor>> redactor = BuildRedactor(loaded->config.redaction);
    if (!redactor.ok()) return Fail(redactor.status());
    std::ios::sync_with_stdio(false);
    return RunRedact(**redactor, redact_args, std::cout, std::cerr);
  }
  return kExitUsage;
}

}  // namespace tsync::agent
