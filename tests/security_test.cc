// Security checks (issue 7) with the real `tsync` binary, the real refserver
// and real processes:
// 1) the API key never appears on the command line or in the environment of
//    a process tsync starts (detached watchers and `sync --pending`, git), in
//    the log files, in other files tsync writes, or in anything a command
//    prints, failing ones included (refused key, unreachable backend, bad
//    config, bad flags) — neither whole, nor its secret middle, nor base64;
// 2) config and state files are 0600 and their directories 0700, even under
//    umask 0;
// 3) a config file other users may write is refused by every command;
// 4) TLS verification cannot be switched off: no flag, field or variable
//    does it, and the one way to trust a private CA (ca_file) is explicit;
// 5) http:// to a non-loopback host is refused unless allow_insecure_http,
//    and warned about when it is allowed;
// 6) a hostile hook payload makes tsync neither read (inotify) nor upload
//    (the refserver's whole database) a file outside the Claude projects dir.
#include <signal.h>
#include <sqlite3.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "agent/pending_queue.h"
#include "agent/process_info.h"
#include "agent/watcher_registry.h"
#include "tests/refserver_process.h"
#include "tests/test_certs.h"
#include "tests/test_util.h"

namespace tsync::testing {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

bool Has(std::string_view haystack, std::string_view needle) { return haystack.find(needle) != std::string_view::npos; }

/// Polls `done` every 50 ms for up to `limit`; true once it holds.
bool WaitFor(const std::function<bool()>& done, std::chrono::milliseconds limit = 30s) {
  const auto until = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < until) {
    if (done()) return true;
    std::this_thread::sleep_for(50ms);
  }
  return done();
}

/// A key no other test uses, so finding it anywhere means this test leaked it.
std::string DistinctiveKey() {
  static constexpr char kAlnum[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  std::random_device random;
  std::string key = "cfb_sec";
  for (int i = 0; i < 28; ++i) key += kAlnum[random() % (sizeof kAlnum - 1)];
  return key;
}

std::string Base64(std::string_view in) {
  static constexpr char kTable[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (size_t i = 0; i + 3 <= in.size(); i += 3) {  // whole groups only: see KeyForms
    const uint32_t v =
        (static_cast<uint8_t>(in[i]) << 16) | (static_cast<uint8_t>(in[i + 1]) << 8) | static_cast<uint8_t>(in[i + 2]);
    for (int shift = 18; shift >= 0; shift -= 6) out += kTable[(v >> shift) & 63];
  }
  return out;
}

/// What would give the key away: its secret middle (MaskSecret shows the
/// prefix and the last four characters; the key is alphanumeric, so its URL
/// encoding is itself) and its base64 at each of the three alignments it
/// can have inside a longer encoded text.
std::vector<std::string> KeyForms(const std::string& key) {
  std::vector<std::string> forms = {key.substr(4, key.size() - 8)};
  for (size_t skip = 0; skip < 3; ++skip) forms.push_back(Base64(std::string_view(key).substr(skip)));
  return forms;
}

/// The first form of the key found in `text`, or "".
std::string FindKey(std::string_view text, const std::vector<std::string>& forms) {
  for (const std::string& f : forms) {
    if (Has(text, f)) return f;
  }
  return "";
}

/// Every value of every row of every table of the refserver's database, as
/// text: what a backend holds, whatever endpoint put it there.
std::string DumpDatabase(const RefServer& server) {
  std::string out;
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open_v2((server.dir() / "db").c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  std::vector<std::string> tables;
  sqlite3_stmt* q = nullptr;
  REQUIRE(sqlite3_prepare_v2(db, "SELECT name FROM sqlite_master WHERE type = 'table'", -1, &q, nullptr) == SQLITE_OK);
  while (sqlite3_step(q) == SQLITE_ROW) tables.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(q, 0)));
  sqlite3_finalize(q);
  for (const std::string& t : tables) {
    REQUIRE(sqlite3_prepare_v2(db, ("SELECT * FROM \"" + t + "\"").c_str(), -1, &q, nullptr) == SQLITE_OK);
    while (sqlite3_step(q) == SQLITE_ROW) {
      for (int c = 0; c < sqlite3_column_count(q); ++c) {
        const void* data = sqlite3_column_blob(q, c);
        if (data != nullptr)
          out.append(static_cast<const char*>(data), static_cast<size_t>(sqlite3_column_bytes(q, c)));
        out += '\n';
      }
    }
    sqlite3_finalize(q);
  }
  sqlite3_close(db);
  return out;
}

/// The external ids of the sessions the refserver holds.
std::vector<std::string> StoredSessions(const RefServer& server) {
  std::vector<std::string> ids;
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open_v2((server.dir() / "db").c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  sqlite3_stmt* q = nullptr;
  REQUIRE(sqlite3_prepare_v2(db, "SELECT external_id FROM sessions ORDER BY external_id", -1, &q, nullptr) ==
          SQLITE_OK);
  while (sqlite3_step(q) == SQLITE_ROW) ids.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(q, 0)));
  sqlite3_finalize(q);
  sqlite3_close(db);
  return ids;
}

/// {file_name: last_synced_line} of one stored session.
std::map<std::string, int64_t> StoredFiles(const RefServer& server, const std::string& external_id) {
  std::map<std::string, int64_t> files;
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open_v2((server.dir() / "db").c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  sqlite3_stmt* q = nullptr;
  REQUIRE(sqlite3_prepare_v2(db,
                             "SELECT f.file_name, f.last_synced_line FROM files f JOIN sessions s ON s.id = "
                             "f.session_id WHERE s.external_id = ?1",
                             -1, &q, nullptr) == SQLITE_OK);
  sqlite3_bind_text(q, 1, external_id.c_str(), -1, SQLITE_TRANSIENT);
  while (sqlite3_step(q) == SQLITE_ROW) {
    files[reinterpret_cast<const char*>(sqlite3_column_text(q, 0))] = sqlite3_column_int64(q, 1);
  }
  sqlite3_finalize(q);
  sqlite3_close(db);
  return files;
}

/// Every process whose environment holds HOME=<home> — tsync and all it
/// starts inherit it — looked at every 10 ms from a thread while it lives:
/// who it is, who started it, and whether its command line or environment
/// holds the key. A process is recorded once per command line (an exec
/// changes it).
class ProcessScan {
 public:
  struct Seen {
    pid_t pid = 0;
    pid_t ppid = 0;
    std::string cmdline;  // NUL-separated, as /proc shows it
    bool key_in_cmdline = false;
    bool key_in_environ = false;
  };

  ProcessScan(const std::string& home, std::vector<std::string> forms)
      : home_entry_(std::string(1, '\0') + "HOME=" + home + '\0'), forms_(std::move(forms)) {
    thread_ = std::thread([this] { Loop(); });
  }
  ~ProcessScan() { Stop(); }
  ProcessScan(const ProcessScan&) = delete;
  ProcessScan& operator=(const ProcessScan&) = delete;

  /// Stops scanning (after one last pass) and returns what was seen.
  std::vector<Seen> Stop() {
    if (thread_.joinable()) {
      stop_ = true;
      thread_.join();
    }
    std::vector<Seen> out;
    for (const auto& [key, seen] : seen_) out.push_back(seen);
    return out;
  }

 private:
  void Loop() {
    while (!stop_) {
      Pass();
      std::this_thread::sleep_for(10ms);
    }
    Pass();
  }
  void Pass() {
    std::error_code ec;
    for (const fs::directory_entry& e : fs::directory_iterator("/proc", ec)) {
      const std::string name = e.path().filename().string();
      if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
      // Parent and command line first, the environment last: a process
      // that exits meanwhile shows an empty environment (skipped), never a
      // key beside a command line and parent already gone (which would
      // hide who started it). A leak that lives is seen on the next pass.
      Seen s;
      s.pid = std::stoi(name);
      const std::string stat = ReadWholeFile(e.path().string() + "/stat");
      const size_t paren = stat.rfind(')');
      if (paren != std::string::npos && paren + 4 < stat.size()) s.ppid = std::atoi(stat.c_str() + paren + 4);
      s.cmdline = ReadWholeFile(e.path().string() + "/cmdline");
      if (s.cmdline.empty()) continue;  // exiting (or a kernel thread)
      const std::string environ_text = std::string(1, '\0') + ReadWholeFile(e.path().string() + "/environ");
      if (!Has(environ_text, home_entry_)) continue;
      s.key_in_cmdline = !FindKey(s.cmdline, forms_).empty();
      s.key_in_environ = !FindKey(environ_text, forms_).empty();
      Seen& slot = seen_[{s.pid, s.cmdline}];
      const bool leaked = slot.key_in_cmdline || slot.key_in_environ;
      slot = s;
      if (leaked) slot.key_in_environ = true;  // once seen, stays seen
    }
  }

  const std::string home_entry_;
  const std::vector<std::string> forms_;
  std::atomic<bool> stop_{false};
  std::map<std::pair<pid_t, std::string>, Seen> seen_;  // only the thread touches it until Stop()
  std::thread thread_;
};

std::string Printable(std::string text) {
  for (char& c : text) c = c == '\0' ? ' ' : c;
  return text;
}

/// One line of a transcript whose head names `cwd`.
std::string TranscriptLine(const std::string& id, const std::string& cwd, int n) {
  return R"({"type":"user","sessionId":")" + id + R"(","cwd":")" + cwd +
         R"(","message":{"role":"user","content":"line )" + std::to_string(n) +
         R"("},"uuid":"00000000-0000-4000-8000-)" + std::string(12 - std::to_string(n).size(), '0') +
         std::to_string(n) + "\"}\n";
}

/// A private HOME with one Claude Code session whose working directory is a
/// git repository, `git` on PATH a wrapper that records each run's
/// arguments and environment before running the real one, and a refserver
/// that knows a distinctive key. Every tsync run is recorded (command line,
/// output) for the checks at the end.
struct SecurityHome {
  TempDir home;
  std::string claude = home / ".claude";
  std::string projects = claude + "/projects";
  std::string project = projects + "/-home-dev-sec";
  std::string id = "5ec0a11d-5ec0-4000-8000-000000000001";
  std::string transcript = project + "/" + id + ".jsonl";
  std::string state = home / ".local/state/tsync";
  std::string config_path = home / ".config/tsync/config.json";
  std::string repo = home / "repo";
  std::string bin = home / "bin";
  std::string git_runs = home / "git-runs.txt";
  std::string key = DistinctiveKey();
  std::vector<std::string> forms = KeyForms(key);
  std::unique_ptr<RefServer> server;
  std::vector<std::pair<std::string, ProcessResult>> runs;  // "args" -> result
  std::set<std::string> direct_cmdlines;                    // as /proc shows them

  explicit SecurityHome(std::vector<std::string> server_args = {}) {
    server = std::make_unique<RefServer>(std::move(server_args));
    WriteFile(server->dir() / "keys", "k1 one@example.com\nk2\n" + key + " sec@example.com\n");
    server->Restart();
    fs::create_directories(project);
    fs::create_directories(repo);
    REQUIRE(RunProcess({"/usr/bin/git", "init", "-q", repo}, {"HOME=" + home.path(), "PATH=/usr/bin:/bin"}).exit_code ==
            0);
    WriteFile(bin + "/git",
              "#!/bin/sh\n{ echo '--- git run'; for a in \"$@\"; do echo \"arg: $a\"; done; env; } >> '" + git_runs +
                  "'\nexec /usr/bin/git \"$@\"\n",
              0755);
    REQUIRE(::chmod((bin + "/git").c_str(), 0755) == 0);
    WriteFile(transcript, TranscriptLine(id, repo, 0) + TranscriptLine(id, repo, 1));
  }
  ~SecurityHome() {
    // No watcher may outlive its test.
    for (const agent::WatcherEntry& e : agent::ListWatcherEntries(state)) {
      if (agent::WatcherLive(e)) ::kill(e.process.pid, SIGKILL);
    }
  }

  std::vector<std::string> Env(bool key_in_env, std::vector<std::string> extra = {}) const {
    std::vector<std::string> env = {"HOME=" + home.path(), "PATH=" + bin + ":/usr/bin:/bin",
                                    "CLAUDE_CONFIG_DIR=" + claude};
    if (key_in_env) {
      env.push_back("TSYNC_BACKEND_URL=" + server->url());
      env.push_back("TSYNC_API_KEY=" + key);
    }
    env.insert(env.end(), extra.begin(), extra.end());
    return env;
  }
  ProcessResult Tsync(std::vector<std::string> args, const std::vector<std::string>& env, std::string_view input = {}) {
    args.insert(args.begin(), TSYNC_BINARY);
    std::string cmdline, shown;
    for (const std::string& a : args) cmdline += a + '\0';
    for (size_t i = 1; i < args.size(); ++i) shown += (i > 1 ? " " : "") + args[i];
    direct_cmdlines.insert(cmdline);
    ProcessResult r = RunProcess(args, env, input);
    runs.emplace_back(shown, r);
    return r;
  }
  std::string Payload(const std::string& event, const std::string& extra = "") const {
    return R"({"session_id":")" + id + R"(","transcript_path":")" + transcript + R"(","cwd":")" + repo +
           R"(","hook_event_name":")" + event + "\"" + extra + "}";
  }
  bool WatcherRunning() const {
    std::optional<agent::WatcherEntry> e = agent::ReadWatcherEntry(state, id);
    return e && agent::WatcherLive(*e) && e->state == agent::WatcherState::kRunning;
  }
  /// The watcher a hook started has registered (or already ended): a
  /// session-end now reaches it rather than racing its start.
  bool WatcherRegistered() const {
    std::optional<agent::WatcherEntry> e = agent::ReadWatcherEntry(state, id);
    return e && (e->state != agent::WatcherState::kStarting || !agent::WatcherLive(*e));
  }
  bool WatcherGone() const {
    std::optional<agent::WatcherEntry> e = agent::ReadWatcherEntry(state, id);
    return !e || !agent::WatcherLive(*e);
  }
  int64_t TranscriptLinesStored() const {
    std::map<std::string, int64_t> files = StoredFiles(*server, id);
    auto it = files.find(id + ".jsonl");
    return it == files.end() ? 0 : it->second;
  }

  /// Every file under `dir` (recursively) that holds the key, as "path (form)".
  std::vector<std::string> FilesHoldingKey(const std::string& dir, const std::set<std::string>& except = {}) const {
    std::vector<std::string> found;
    std::error_code ec;
    for (const fs::directory_entry& e : fs::recursive_directory_iterator(dir, ec)) {
      if (!e.is_regular_file() || except.count(e.path().string())) continue;
      if (std::string form = FindKey(ReadWholeFile(e.path().string()), forms); !form.empty()) {
        found.push_back(e.path().string() + " (" + form + ")");
      }
    }
    return found;
  }
  /// Every recorded command whose output holds the key.
  std::vector<std::string> OutputsHoldingKey() const {
    std::vector<std::string> found;
    for (const auto& [args, r] : runs) {
      if (!FindKey(r.out + r.err, forms).empty()) found.push_back("tsync " + args + ": " + r.out + r.err);
    }
    return found;
  }
};

/// No process the scan saw held the key, except — when the test put it in
/// TSYNC_API_KEY — those the test started itself and their forks before
/// exec (same command line).
void CheckNoProcessHeldKey(const SecurityHome& h, const std::vector<ProcessScan::Seen>& seen, bool key_in_env) {
  for (const ProcessScan::Seen& s : seen) {
    const bool excused = key_in_env && (s.ppid == ::getpid() || h.direct_cmdlines.count(s.cmdline) > 0);
    INFO("pid " << s.pid << " ppid " << s.ppid << ": " << Printable(s.cmdline));
    CHECK_FALSE((s.key_in_cmdline && !excused));
    CHECK_FALSE((s.key_in_environ && !excused));
  }
}

/// Runs the live and batch commands a user and Claude Code's hooks run —
/// save, status, list, verify, config get, then a hook-started watcher
/// through a whole session and sync --pending — while a ProcessScan looks
/// at every process, then checks that the key is nowhere it must not be.
/// `key_in_env`: the key comes from TSYNC_API_KEY (given only to the
/// processes this test starts, which it then excuses, and handed to the
/// watcher on a pipe); else from the 0600 config file `login` wrote, and
/// then no process at all may hold it.
void RunFlowsAndCheckForKey(SecurityHome& h, bool key_in_env) {
  const std::vector<std::string> env = h.Env(key_in_env);
  ProcessScan scan(h.home.path(), h.forms);

  {
    ProcessResult saved = h.Tsync({"--log-level", "trace", "save", "--all"}, env);
    INFO(saved.out << saved.err);
    REQUIRE(saved.exit_code == 0);
  }
  REQUIRE(h.TranscriptLinesStored() == 2);
  CHECK(h.Tsync({"--log-level", "trace", "status"}, env).exit_code == 0);
  CHECK(h.Tsync({"list"}, env).exit_code == 0);
  CHECK(h.Tsync({"verify", h.id.substr(0, 8)}, env).exit_code == 0);
  ProcessResult got = h.Tsync({"config", "get"}, env);
  CHECK(got.exit_code == 0);
  CHECK(Has(got.out, "…" + h.key.substr(h.key.size() - 4)));  // shown masked

  // Live: the hook starts a detached watcher; its command line and
  // environment are read while it runs, not only sampled by the scan.
  AppendFile(h.transcript, TranscriptLine(h.id, h.repo, 2));
  ProcessResult start = h.Tsync({"--log-level", "trace", "hook", "session-start"}, env,
                                h.Payload("SessionStart", R"(,"source":"startup")"));
  CHECK(start.exit_code == 0);
  REQUIRE(WaitFor([&] { return h.WatcherRunning() && h.TranscriptLinesStored() == 3; }));
  const pid_t watcher = agent::ReadWatcherEntry(h.state, h.id)->process.pid;
  const std::string proc = "/proc/" + std::to_string(watcher);
  const std::string watcher_cmdline = ReadWholeFile(proc + "/cmdline");
  const std::string watcher_environ = ReadWholeFile(proc + "/environ");
  CHECK(Has(watcher_cmdline, std::string("\0watch\0", 7)));
  CHECK(Has(watcher_environ, "HOME=" + h.home.path()));
  CHECK(FindKey(watcher_cmdline, h.forms).empty());
  CHECK(FindKey(watcher_environ, h.forms).empty());
  CHECK_FALSE(Has(watcher_environ, "TSYNC_API_KEY"));

  AppendFile(h.transcript, TranscriptLine(h.id, h.repo, 3));
  REQUIRE(WaitFor([&] { return h.TranscriptLinesStored() == 4; }));
  CHECK(h.Tsync({"hook", "stop"}, env, h.Payload("Stop")).exit_code == 0);
  CHECK(h.Tsync({"hook", "session-end"}, env, h.Payload("SessionEnd", R"(,"reason":"other")")).exit_code == 0);
  REQUIRE(WaitFor([&] { return h.WatcherGone(); }));
  CHECK(h.Tsync({"sync", "--pending"}, env).exit_code == 0);
  const std::vector<ProcessScan::Seen> seen = scan.Stop();

  // The scan saw tsync's own children: the watcher, by its command line.
  bool saw_watcher = false;
  for (const ProcessScan::Seen& s : seen) saw_watcher |= s.pid == watcher;
  CHECK(saw_watcher);
  CheckNoProcessHeldKey(h, seen, key_in_env);

  // git ran (from save and from the watcher) and never got the key.
  const std::string git = ReadWholeFile(h.git_runs);
  CHECK(Has(git, "arg: status"));
  CHECK(Has(git, "arg: remote"));
  CHECK(Has(git, "HOME=" + h.home.path()));
  CHECK(FindKey(git, h.forms).empty());
  CHECK_FALSE(Has(git, "TSYNC_API_KEY"));

  // Logs (written at trace level), checkpoints, queues, registry: none holds it.
  CHECK(Has(ReadWholeFile(h.state + "/logs/tsync.log"), "started a watcher"));
  CHECK(h.FilesHoldingKey(h.state).empty());
  CHECK(h.FilesHoldingKey(h.claude).empty());
  CHECK(h.OutputsHoldingKey().empty());
  // Nor does the backend (it stores the key it was given only in its own table).
  std::string db = DumpDatabase(*h.server);
  CHECK(Has(db, "line 3"));
}

}  // namespace

TEST_CASE("security — key from TSYNC_API_KEY never reaches a child's argv or environment, git, logs or output",
          "[security]") {
  SecurityHome h;
  RunFlowsAndCheckForKey(h, /*key_in_env=*/true);
}

TEST_CASE("security — key from the 0600 config file login wrote is in no process's argv or environment, log or output",
          "[security]") {
  SecurityHome h;
  ProcessResult login =
      h.Tsync({"login", "--api-key-stdin", "--backend-url", h.server->url()}, h.Env(false), h.key + "\n");
  INFO(login.out << login.err);
  REQUIRE(login.exit_code == 0);
  REQUIRE(Has(ReadWholeFile(h.config_path), h.key));  // where it belongs, and only there
  RunFlowsAndCheckForKey(h, /*key_in_env=*/false);
  CHECK(h.FilesHoldingKey(h.home.path(), {h.config_path, h.server->dir() / "keys"}).empty());
}

TEST_CASE("security — the sync --pending a hook starts gets the key on a pipe — not argv, not environment",
          "[security]") {
  // Every write takes 300 ms, so the short-lived `sync --pending` lives long
  // enough for the scan to see it.
  SecurityHome h({"--delay-ms", "300"});
  const std::string id2 = "5ec0a11d-5ec0-4000-8000-000000000002";
  const std::string t2 = h.project + "/" + id2 + ".jsonl";
  WriteFile(t2, TranscriptLine(id2, h.repo, 0));
  REQUIRE(agent::AddPending(h.state, agent::SessionRef{id2, h.project, t2}).ok());
  const std::vector<std::string> env = h.Env(true);

  ProcessScan scan(h.home.path(), h.forms);
  REQUIRE(h.Tsync({"hook", "user-prompt-submit"}, env, h.Payload("UserPromptSubmit")).exit_code == 0);
  REQUIRE(WaitFor([&] { return !agent::AnyPending(h.state); }, 60s));
  REQUIRE(WaitFor([&] { return h.WatcherRegistered(); }));
  REQUIRE(h.Tsync({"hook", "session-end"}, env, h.Payload("SessionEnd")).exit_code == 0);
  REQUIRE(WaitFor([&] { return h.WatcherGone(); }, 60s));
  const std::vector<ProcessScan::Seen> seen = scan.Stop();

  int pending_syncs = 0;
  for (const ProcessScan::Seen& s : seen) {
    if (!Has(s.cmdline, std::string("\0sync\0--pending\0", 16))) continue;
    ++pending_syncs;
    INFO(Printable(s.cmdline));
    CHECK(Has(s.cmdline, "--read-api-key-from-stdin"));  // the key came on its stdin
    CHECK(s.ppid != ::getpid());                          // detached, not the test's
    CHECK_FALSE(s.key_in_cmdline);
    CHECK_FALSE(s.key_in_environ);
  }
  CHECK(pending_syncs >= 1);
  CheckNoProcessHeldKey(h, seen, /*key_in_env=*/true);
  CHECK(StoredFiles(*h.server, id2) == std::map<std::string, int64_t>{{id2 + ".jsonl", 1}});  // and it worked
  CHECK(FindKey(ReadWholeFile(h.git_runs), h.forms).empty());
  CHECK(h.FilesHoldingKey(h.state).empty());
  CHECK(h.OutputsHoldingKey().empty());
}

TEST_CASE("security — failing commands never print the key — refused, unreachable, bad config, bad flags",
          "[security]") {
  SecurityHome h;
  const std::string other = DistinctiveKey();  // unknown to the server
  const std::vector<std::string> other_forms = KeyForms(other);
  auto run = [&](std::vector<std::string> args, std::vector<std::string> env, std::string input = {}) {
    ProcessResult r = h.Tsync(std::move(args), env, input);
    INFO(r.out << r.err);
    CHECK(FindKey(r.out + r.err, other_forms).empty());
    return r;
  };
  const std::vector<std::string> base = h.Env(false);
  auto with = [&](std::vector<std::string> extra) {
    std::vector<std::string> env = base;
    env.insert(env.end(), extra.begin(), extra.end());
    return env;
  };

  // A key the backend refuses: exit 3, everywhere.
  const std::vector<std::string> refused = with({"TSYNC_BACKEND_URL=" + h.server->url(), "TSYNC_API_KEY=" + other});
  CHECK(run({"--log-level", "trace", "status"}, refused).exit_code == 3);
  CHECK(run({"--log-level", "trace", "save", "--all"}, refused).exit_code == 3);
  CHECK(run({"login", "--api-key-stdin"}, with({"TSYNC_BACKEND_URL=" + h.server->url()}), other + "\n").exit_code == 3);
  CHECK(run({"link", h.id.substr(0, 8), "https://github.com/acme/app/pull/1"}, refused).exit_code == 3);
  CHECK(run({"hook", "session-start"}, refused, h.Payload("SessionStart")).exit_code == 0);
  REQUIRE(WaitFor([&] { return h.WatcherRegistered(); }));
  CHECK(run({"hook", "session-end"}, refused, h.Payload("SessionEnd")).exit_code == 0);
  REQUIRE(WaitFor([&] { return h.WatcherGone(); }, 60s));

  // The backend unreachable: exit 4.
  const std::vector<std::string> down = with({"TSYNC_BACKEND_URL=http://127.0.0.1:1", "TSYNC_API_KEY=" + h.key});
  CHECK(run({"--log-level", "trace", "status"}, down).exit_code == 4);
  CHECK(run({"--log-level", "trace", "save", "--all"}, down).exit_code == 4);
  CHECK(run({"login", "--api-key-stdin"}, with({"TSYNC_BACKEND_URL=http://127.0.0.1:1"}), other + "\n").exit_code == 4);

  // Keys that cannot be keys, and broken config files holding the key: exit 2.
  CHECK(run({"status"}, with({"TSYNC_BACKEND_URL=" + h.server->url(), "TSYNC_API_KEY=" + other + "\r\nX-Evil: 1"}))
            .exit_code == 2);
  CHECK(run({"status"}, with({"TSYNC_BACKEND_URL=" + h.server->url(), "TSYNC_API_KEY=" + other + " trailing"}))
            .exit_code == 2);
  const std::vector<std::string> broken_files = {
      "{\"api_key\": \"" + other + "\", \"log_level\": }",    // syntax error after the key
      "{\"api_key\": \"" + other + "\" \"backend_url\": 1}",  // missing comma right after it
      "{\"api_key\": " + other + "}",                         // the key unquoted
      "{\"api_key\": \"" + other + "\\u0001\"}",              // a control character in it
      "{\"api_key\": [\"" + other + "\"]}",                   // the wrong type
      "{\"api_key\": \"" + other + "\", \"backend_url\": \"ftp://" + other + "@example.com\"}",
      "{\"api_key\": \"" + other + "\", \"backend_url\": \"https://u:" + other + "@example.com\"}",
  };
  for (const std::string& text : broken_files) {
    INFO(text);
    WriteFile(h.config_path, text, 0600);
    for (std::vector<std::string> args : {std::vector<std::string>{"status"}, {"save", "--all"}, {"config", "get"}}) {
      CHECK(run(args, base).exit_code == 2);
    }
    CHECK(run({"hook", "session-start"}, base, h.Payload("SessionStart")).exit_code == 0);
    // An edit refuses a file that is not JSON, and may fix one that is
    // (config/config_edit.h): either way it names no key.
    run({"config", "set", "log_level", "debug"}, base);
    run({"logout"}, base);
  }
  // The key pasted where the backend URL goes (two variables swapped).
  CHECK(run({"status"}, with({"TSYNC_BACKEND_URL=" + other, "TSYNC_API_KEY=" + other})).exit_code == 2);
  WriteFile(h.config_path, "{\"api_key\": \"" + other + "\"}", 0600);
  REQUIRE(::chmod(h.config_path.c_str(), 0666) == 0);
  CHECK(run({"status"}, base).exit_code == 2);

  // The key typed as an argument: refused as usage, and not echoed back.
  fs::remove(h.config_path);
  for (std::vector<std::string> args : {std::vector<std::string>{"--api-key", other, "status"},
                                        {"status", "--api-key=" + other},
                                        {"save", "--all", "--api-key", other},
                                        {"login", other},
                                        {"config", "set", "api_key", other},
                                        {"login", "--api-key-stdin", "--backend-url", h.server->url(), other}}) {
    ProcessResult r = run(args, base);
    CHECK(r.exit_code == 2);
    // What was wrong is still said: the option by name, or where the key goes.
    CHECK((Has(r.err, "--api-key") || Has(r.err, "login --api-key-stdin")));
  }

  CHECK(h.FilesHoldingKey(h.state).empty());
  for (const auto& [args, r] : h.runs) {
    INFO("tsync " << args);
    CHECK(FindKey(r.out + r.err, other_forms).empty());
  }
  std::error_code ec;
  for (const fs::directory_entry& e : fs::recursive_directory_iterator(h.state, ec)) {
    if (!e.is_regular_file()) continue;
    INFO(e.path());
    CHECK(FindKey(ReadWholeFile(e.path().string()), other_forms).empty());
  }
  CHECK(Has(ReadWholeFile(h.state + "/logs/tsync.log"), "tsync"));  // the log was written, and checked
}

namespace {

/// Sets the process umask for its lifetime (children inherit it).
class UmaskGuard {
 public:
  explicit UmaskGuard(mode_t mask) : saved_(::umask(mask)) {}
  ~UmaskGuard() { ::umask(saved_); }
  UmaskGuard(const UmaskGuard&) = delete;
  UmaskGuard& operator=(const UmaskGuard&) = delete;

 private:
  mode_t saved_;
};

mode_t ModeOf(const std::string& path) {
  struct stat st;
  REQUIRE(::lstat(path.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

}  // namespace

TEST_CASE("security — config, state, log, queue and archive files are 0600 in 0700 directories even under umask 0",
          "[security]") {
  UmaskGuard open_umask(0);  // anything created without an explicit mode would show as 0666 / 0777
  SecurityHome h({"--lifecycle-events"});
  const std::vector<std::string> no_key = h.Env(false);
  REQUIRE(h.Tsync({"login", "--api-key-stdin", "--backend-url", h.server->url()}, no_key, h.key + "\n").exit_code == 0);
  REQUIRE(h.Tsync({"config", "set", "log_level", "debug"}, no_key).exit_code == 0);
  REQUIRE(h.Tsync({"save", "--all"}, no_key).exit_code == 0);
  const std::string archive = h.home / ".local/share/tsync/archive";
  REQUIRE(h.Tsync({"save", "--all", "--to", archive}, no_key).exit_code == 0);

  // Live: watcher registry, lifecycle events, end request, GitHub link queue.
  REQUIRE(h.Tsync({"hook", "session-start"}, no_key, h.Payload("SessionStart", R"(,"source":"startup")")).exit_code ==
          0);
  REQUIRE(WaitFor([&] { return h.WatcherRunning(); }));
  const std::string pr =
      R"(,"tool_name":"Bash","tool_input":{"command":"gh pr create --fill"},)"
      R"("tool_response":{"stdout":"https://github.com/acme/app/pull/7\n","stderr":"","interrupted":false})";
  REQUIRE(h.Tsync({"hook", "post-tool-use"}, no_key, h.Payload("PostToolUse", pr)).exit_code == 0);
  REQUIRE(h.Tsync({"hook", "stop"}, no_key, h.Payload("Stop")).exit_code == 0);
  REQUIRE(h.Tsync({"hook", "session-end"}, no_key, h.Payload("SessionEnd", R"(,"reason":"other")")).exit_code == 0);
  REQUIRE(WaitFor([&] { return h.WatcherGone(); }));

  // The pending queue: a second session whose backend is down.
  const std::string id2 = "5ec0a11d-5ec0-4000-8000-000000000002";
  const std::string t2 = h.project + "/" + id2 + ".jsonl";
  WriteFile(t2, TranscriptLine(id2, h.repo, 0));
  ProcessResult pending =
      h.Tsync({"watch", "--session", id2, "--transcript", t2, "--idle-timeout", "1", "--flush-timeout", "2"},
              h.Env(false, {"TSYNC_BACKEND_URL=http://127.0.0.1:1"}));
  INFO(pending.out << pending.err);
  REQUIRE(agent::AnyPending(h.state));

  std::vector<std::string> files, dirs;
  for (const std::string& root : {fs::path(h.config_path).parent_path().string(), h.state, archive}) {
    dirs.push_back(root);
    for (const fs::directory_entry& e : fs::recursive_directory_iterator(root)) {
      (e.is_directory() ? dirs : files).push_back(e.path().string());
    }
  }
  for (const std::string& d : dirs) {
    INFO("directory " << d);
    CHECK(ModeOf(d) == 0700);
  }
  for (const std::string& f : files) {
    INFO("file " << f);
    CHECK(ModeOf(f) == 0600);
  }
  // The walk covered every kind of file tsync keeps.
  auto any = [&](std::string_view part) {
    for (const std::string& f : files) {
      if (Has(f, part)) return true;
    }
    return false;
  };
  CHECK(any("/config.json"));
  CHECK(any("/logs/tsync.log"));
  CHECK(any("/dest-"));      // checkpoints per destination
  CHECK(any("/watchers/"));  // registry and end requests
  CHECK(any("/pending/"));
  CHECK(any("/github-links/"));
  CHECK(any(archive + "/"));  // the archive's files and manifest
  CHECK(files.size() >= 10);
}

TEST_CASE("security — a config file other users may write is refused by every command — nothing is sent",
          "[security]") {
  SecurityHome h;
  const mode_t mode = GENERATE(mode_t{0666}, mode_t{0620});
  // Someone else's file: their backend (the refserver), their key, redaction off.
  const std::string planted =
      "{\"backend_url\": \"" + h.server->url() + "\", \"api_key\": \"k2\", \"redaction\": {\"enabled\": false}}";
  WriteFile(h.config_path, planted, 0600);
  REQUIRE(::chmod(h.config_path.c_str(), mode) == 0);
  struct stat before;
  REQUIRE(::stat(h.config_path.c_str(), &before) == 0);
  char octal[8];
  std::snprintf(octal, sizeof octal, "%04o", static_cast<unsigned>(mode));

  const std::vector<std::string> env = h.Env(false, {"TSYNC_API_KEY=" + h.key});  // the victim's own key
  for (std::vector<std::string> args : {std::vector<std::string>{"save", "--all"},
                                        {"status"},
                                        {"list"},
                                        {"scan"},
                                        {"sync", "--pending"},
                                        {"config", "get"},
                                        {"config", "set", "log_level", "debug"},
                                        {"config", "unset", "redaction.enabled"},
                                        {"logout"},
                                        {"verify", h.id.substr(0, 8)},
                                        {"link", h.id.substr(0, 8), "https://github.com/a/b/pull/1"}}) {
    ProcessResult r = h.Tsync(args, env);
    INFO("tsync " << args[0] << " " << (args.size() > 1 ? args[1] : "") << ": " << r.out << r.err);
    CHECK(r.exit_code == 2);
    CHECK(Has(r.err, h.config_path));
    CHECK(Has(r.err, "writable by other users"));
    CHECK(Has(r.err, std::string("mode ") + octal));
    CHECK(Has(r.err, "chmod 600 " + h.config_path));
  }
  ProcessResult login = h.Tsync({"login", "--api-key-stdin"}, h.Env(false), h.key + "\n");
  CHECK(login.exit_code == 2);
  CHECK(Has(login.err, "writable by other users"));
  ProcessResult hook = h.Tsync({"hook", "session-start"}, env, h.Payload("SessionStart"));
  CHECK(hook.exit_code == 0);
  CHECK(hook.out.empty());

  // Nothing was sent, started or rewritten.
  CHECK(StoredSessions(*h.server).empty());
  CHECK(agent::ListWatcherEntries(h.state).empty());
  struct stat after;
  REQUIRE(::stat(h.config_path.c_str(), &after) == 0);
  CHECK(after.st_ino == before.st_ino);
  CHECK((after.st_mode & 07777) == mode);
  CHECK(ReadWholeFile(h.config_path) == planted);
  CHECK(h.OutputsHoldingKey().empty());

  // Once only its owner may write it, it loads (the refusal was the only reason).
  REQUIRE(::chmod(h.config_path.c_str(), 0600) == 0);
  CHECK(h.Tsync({"config", "get", "log_level"}, env).exit_code == 0);
}

TEST_CASE("security — TLS verification cannot be switched off — no flag, field or variable, only an explicit ca_file",
          "[security]") {
  TempDir certs;
  const CertFiles cert = MakeSelfSigned(certs, "server", "localhost", "DNS:localhost,IP:127.0.0.1");
  SecurityHome h({"--tls-cert", cert.cert, "--tls-key", cert.key});
  const std::string https = "https://127.0.0.1:" + std::to_string(h.server->port());
  const std::vector<std::string> env = h.Env(false, {"TSYNC_BACKEND_URL=" + https, "TSYNC_API_KEY=" + h.key});

  auto refused = [&](const ProcessResult& r) {
    INFO(r.out << r.err);
    CHECK(r.exit_code == 2);  // a configuration problem, not a network one
    CHECK(Has(r.out + r.err, "TLS verification"));
    CHECK(Has(r.out + r.err, "certificate"));
    CHECK(Has(r.out + r.err, "set ca_file"));
  };
  refused(h.Tsync({"status"}, env));

  // Switches other tools know: none has any effect on tsync.
  for (const char* var :
       {"TSYNC_INSECURE=1", "TSYNC_TLS_VERIFY=0", "TSYNC_SSL_VERIFY=false", "TSYNC_SKIP_TLS_VERIFY=1",
        "TSYNC_ALLOW_INSECURE_HTTP=1", "CURL_INSECURE=1", "CURLOPT_SSL_VERIFYPEER=0", "GIT_SSL_NO_VERIFY=1",
        "NODE_TLS_REJECT_UNAUTHORIZED=0", "PYTHONHTTPSVERIFY=0", "REQUESTS_CA_BUNDLE=", "SSL_NO_VERIFY=1"}) {
    INFO(var);
    std::vector<std::string> e = env;
    e.emplace_back(var);
    refused(h.Tsync({"status"}, e));
  }
  // Config fields that look like switches: unknown fields, warned about, no effect.
  for (const char* field : {"\"insecure\": true", "\"tls_verify\": false", "\"verify_tls\": false",
                            "\"ssl_verify\": false", "\"skip_tls_verify\": true", "\"allow_insecure_http\": true"}) {
    INFO(field);
    WriteFile(h.config_path, std::string("{") + field + "}", 0600);
    ProcessResult r = h.Tsync({"status"}, env);
    refused(r);
    if (!Has(field, "allow_insecure_http")) CHECK(Has(r.err, "unknown field"));
  }
  fs::remove(h.config_path);
  // Flags: there are none.
  for (std::vector<std::string> args : {std::vector<std::string>{"--insecure", "status"},
                                        {"status", "-k"},
                                        {"status", "--no-verify"},
                                        {"--allow-insecure-http", "status"},
                                        {"save", "--all", "--insecure"}}) {
    ProcessResult r = h.Tsync(args, env);
    INFO(r.out << r.err);
    CHECK(r.exit_code == 2);
  }
  for (const char* field : {"tls_verify", "insecure", "verify_tls"}) {
    ProcessResult r = h.Tsync({"config", "set", field, "false"}, env);
    CHECK(r.exit_code == 2);
    CHECK(Has(r.err, "unknown config field"));
  }
  // Saving and the hooks send nothing to the unverified server.
  CHECK(h.Tsync({"save", "--all"}, env).exit_code != 0);
  CHECK(h.Tsync({"hook", "session-start"}, env, h.Payload("SessionStart")).exit_code == 0);
  REQUIRE(WaitFor([&] { return h.WatcherRegistered(); }));
  CHECK(h.Tsync({"hook", "session-end"}, env, h.Payload("SessionEnd")).exit_code == 0);
  REQUIRE(WaitFor([&] { return h.WatcherGone(); }, 60s));
  CHECK(StoredSessions(*h.server).empty());

  // The explicit way: ca_file names the certificate, and it works.
  WriteFile(h.config_path, "{\"ca_file\": \"" + cert.cert + "\"}", 0600);
  ProcessResult trusted = h.Tsync({"status"}, env);
  INFO(trusted.out << trusted.err);
  CHECK(trusted.exit_code == 0);
  CHECK(h.Tsync({"save", "--all"}, env).exit_code == 0);
  CHECK(StoredSessions(*h.server) == std::vector<std::string>{h.id});
  CHECK(h.OutputsHoldingKey().empty());
}

TEST_CASE("security — http:// to a non-loopback host is refused unless allow_insecure_http, then warned about",
          "[security]") {
  SecurityHome h;
  // 0.0.0.0 is no loopback address to tsync (config/backend_url.h), yet
  // Linux connects it to this machine: the refserver stands in for a remote
  // backend without a network.
  const std::string remote = "http://0.0.0.0:" + std::to_string(h.server->port());
  const std::vector<std::string> env = h.Env(false, {"TSYNC_BACKEND_URL=" + remote, "TSYNC_API_KEY=" + h.key});

  for (std::vector<std::string> args :
       {std::vector<std::string>{"status"}, {"save", "--all"}, {"list"}, {"hook", "session-start"}}) {
    ProcessResult r = h.Tsync(args, env, h.Payload("SessionStart"));
    INFO("tsync " << args[0] << ": " << r.out << r.err);
    if (args[0] == "hook") {
      CHECK(r.exit_code == 0);  // a hook never fails Claude Code; it starts nothing
      continue;
    }
    CHECK(r.exit_code == 2);
    CHECK(Has(r.err, "TSYNC_BACKEND_URL"));
    CHECK(Has(r.err, "allow_insecure_http"));
  }
  ProcessResult to = h.Tsync({"save", "--all", "--to", remote}, h.Env(false, {"TSYNC_API_KEY=" + h.key}));
  CHECK(to.exit_code == 2);
  CHECK(Has(to.err, "allow_insecure_http"));
  ProcessResult set = h.Tsync({"config", "set", "backend_url", remote}, h.Env(false));
  CHECK(set.exit_code == 2);
  CHECK_FALSE(fs::exists(h.config_path));
  CHECK(agent::ListWatcherEntries(h.state).empty());
  CHECK(StoredSessions(*h.server).empty());

  // Allowed explicitly: it works, and every run says the key travels in clear.
  WriteFile(h.config_path, "{\"allow_insecure_http\": true}", 0600);
  for (std::vector<std::string> args : {std::vector<std::string>{"status"}, {"save", "--all"}}) {
    ProcessResult r = h.Tsync(args, env);
    INFO("tsync " << args[0] << ": " << r.out << r.err);
    CHECK(r.exit_code == 0);
    CHECK(Has(r.err, "plain http://"));
    CHECK(Has(r.err, "unencrypted"));
  }
  CHECK(StoredSessions(*h.server) == std::vector<std::string>{h.id});
  CHECK(Has(ReadWholeFile(h.state + "/logs/tsync.log"), "plain http://"));

  // Loopback needs no permission and gets no warning.
  ProcessResult local = h.Tsync({"status"}, h.Env(true));
  CHECK(local.exit_code == 0);
  CHECK_FALSE(Has(local.err, "plain http://"));
  CHECK(h.OutputsHoldingKey().empty());
}

namespace {

/// inotify on files and a directory: whether anything opened or read them.
class ReadWatch {
 public:
  explicit ReadWatch(const std::vector<std::string>& paths) : fd_(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) {
    REQUIRE(fd_ >= 0);
    for (const std::string& p : paths) REQUIRE(::inotify_add_watch(fd_, p.c_str(), IN_OPEN | IN_ACCESS) >= 0);
  }
  ~ReadWatch() { ::close(fd_); }
  ReadWatch(const ReadWatch&) = delete;
  ReadWatch& operator=(const ReadWatch&) = delete;

  /// Events since the watch began ("open <name>" / "read <name>").
  std::vector<std::string> Events() const {
    std::vector<std::string> out;
    alignas(inotify_event) char buf[16384];
    for (ssize_t n; (n = ::read(fd_, buf, sizeof buf)) > 0;) {
      for (char* p = buf; p < buf + n;) {
        const auto* ev = reinterpret_cast<const inotify_event*>(p);
        out.push_back(std::string(ev->mask & IN_OPEN ? "open " : "read ") + (ev->len ? ev->name : "(watched file)"));
        p += sizeof(inotify_event) + ev->len;
      }
    }
    return out;
  }

 private:
  int fd_;
};

}  // namespace

TEST_CASE("security — hostile hook payloads read and upload nothing outside the Claude projects dir", "[security]") {
  SecurityHome h;
  TempDir outside;
  const std::string marker = "OUTSIDE-" + DistinctiveKey();
  const std::string secret = outside / "secret.jsonl";
  const std::string outside_line = R"({"type":"user","sessionId":")" + h.id + R"(","message":")" + marker + "\"}\n";
  WriteFile(secret, outside_line);
  // Files an attacker would like read, each named as a session or agent file would be.
  const std::string sid = "5ec0a11d-5ec0-4000-8000-00000000beef";
  WriteFile(outside / (sid + ".jsonl"), outside_line);
  WriteFile(outside / "agent.jsonl", outside_line);
  WriteFile(outside / ("evil/" + sid + ".jsonl"), outside_line);
  fs::create_directories(h.project);
  fs::create_symlink(outside / (sid + ".jsonl"), h.project + "/" + sid + ".jsonl");  // transcript symlinked out
  fs::create_directory_symlink(outside / "evil", h.projects + "/-evil");             // project dir symlinked out
  // The legitimate session references agents: a hostile id, and two agent
  // files that are symlinks out of the project (both on-disk layouts), next
  // to a real one.
  const std::string real_agent = "a1234567c0ffee";
  AppendFile(h.transcript,
             R"({"type":"user","message":{"role":"user","content":"x"},"toolUseResult":{"agentId":"../../../../)" +
                 outside.path().substr(1) +
                 R"(/secret"}})"
                 "\n" +
                 R"({"type":"user","message":{"role":"user","content":"x"},"toolUseResult":{"agentId":"aaaaaaaaaaaa"}})"
                 "\n" +
                 R"({"type":"user","message":{"role":"user","content":"x"},"toolUseResult":{"agentId":"bbbbbbbbbbbb"}})"
                 "\n" +
                 R"({"type":"user","message":{"role":"user","content":"x"},"toolUseResult":{"agentId":")" + real_agent +
                 R"("}})"
                 "\n");
  const std::string subagents = h.project + "/" + h.id + "/subagents";
  WriteFile(subagents + "/agent-" + real_agent + ".jsonl", R"({"type":"assistant","agentId":")" + real_agent +
                                                               R"(","sessionId":")" + h.id +
                                                               R"(","message":{"role":"assistant","content":"inside"}})"
                                                               "\n");
  fs::create_symlink(outside / "agent.jsonl", subagents + "/agent-aaaaaaaaaaaa.jsonl");
  fs::create_symlink(secret, h.project + "/agent-bbbbbbbbbbbb.jsonl");
  const int64_t transcript_lines = 6;

  const std::vector<std::string> files = {secret, outside / (sid + ".jsonl"), outside / "agent.jsonl",
                                          outside / ("evil/" + sid + ".jsonl")};
  std::vector<std::string> watched = files;
  watched.push_back(outside.path());
  watched.push_back(outside / "evil");
  ReadWatch reads(watched);

  const std::string p = h.projects;
  const std::vector<std::pair<std::string, std::string>> hostile = {
      {R"({"session_id":"passwd","transcript_path":"/etc/passwd"})", "outside the Claude projects dir"},
      {R"({"session_id":"environ","transcript_path":"/proc/self/environ"})", "outside the Claude projects dir"},
      {R"({"session_id":"secret","transcript_path":")" + secret + "\"}", "outside the Claude projects dir"},
      {R"({"session_id":"secret","transcript_path":")" + p + "/-home-dev-sec/../../../../" + outside.path().substr(1) +
           "/secret.jsonl\"}",
       "'..'"},
      {R"({"session_id":")" + sid + R"(","transcript_path":")" + h.project + "/" + sid + ".jsonl\"}",
       "outside the Claude projects dir"},
      {R"({"session_id":")" + sid + R"(","transcript_path":")" + p + "/-evil/" + sid + ".jsonl\"}",
       "outside the Claude projects dir"},
      {R"({"session_id":"../../)" + outside.path().substr(1) + R"(/secret","transcript_path":")" + h.transcript + "\"}",
       "session_id is not"},
      {R"({"session_id":"a/b","transcript_path":")" + p + "/-home-dev-sec/a/b.jsonl\"}", "session_id is not"},
      {R"({"session_id":"secret","transcript_path":"-home-dev-sec/secret.jsonl"})", "not absolute"},
      {R"({"session_id":"secret","transcript_path":"~/../../)" + outside.path().substr(1) + "/secret.jsonl\"}",
       "not absolute"},
      {R"({"session_id":")" + h.id + R"(","transcript_path":")" + h.transcript + R"(\u0000/../../../../)" +
           outside.path().substr(1) + "/secret.jsonl\"}",
       "NUL"},
      {R"({"session_id":")" + h.id + R"(","transcript_path":[")" + secret + "\"]}", "no transcript_path"},
  };
  for (const char* event : {"session-start", "session-end", "stop", "subagent-stop", "pre-compact"}) {
    for (const auto& [payload, why] : hostile) {
      INFO(event << " " << payload);
      const auto t0 = std::chrono::steady_clock::now();
      ProcessResult r = h.Tsync({"hook", event}, h.Env(true), payload);
      const auto took = std::chrono::steady_clock::now() - t0;
      CHECK(r.exit_code == 0);
      CHECK(r.out.empty());
      CHECK(r.err.empty());
      CHECK(took < 5s);  // refused at once, not after touching anything slow
    }
  }
  const std::string log = ReadWholeFile(h.state + "/logs/tsync.log");
  CHECK(Has(log, "input ignored"));
  for (const auto& [payload, why] : hostile) {
    INFO(why);
    CHECK(Has(log, why));
  }
  CHECK(agent::ListWatcherEntries(h.state).empty());  // none of them started anything

  // The watcher re-checks what it is given, whoever starts it.
  ProcessResult direct = h.Tsync({"watch", "--session", "secret", "--transcript", secret}, h.Env(true));
  CHECK(direct.exit_code == 2);
  CHECK(Has(direct.err, "outside the Claude projects dir"));

  // The legitimate session syncs, with its real agent and without the others.
  REQUIRE(h.Tsync({"hook", "session-start"}, h.Env(true), h.Payload("SessionStart")).exit_code == 0);
  REQUIRE(WaitFor([&] {
    std::map<std::string, int64_t> stored = StoredFiles(*h.server, h.id);
    return stored[h.id + ".jsonl"] == transcript_lines && stored["agent-" + real_agent + ".jsonl"] == 1;
  }));
  REQUIRE(h.Tsync({"hook", "session-end"}, h.Env(true), h.Payload("SessionEnd")).exit_code == 0);
  REQUIRE(WaitFor([&] { return h.WatcherGone(); }));
  auto check_nothing_outside = [&](const char* after) {
    INFO("after " << after);
    const std::map<std::string, int64_t> stored = StoredFiles(*h.server, h.id);
    CHECK(stored ==
          std::map<std::string, int64_t>{{h.id + ".jsonl", transcript_lines}, {"agent-" + real_agent + ".jsonl", 1}});
    CHECK(StoredSessions(*h.server) == std::vector<std::string>{h.id});
    const std::string db = DumpDatabase(*h.server);
    CHECK(Has(db, "inside"));
    CHECK_FALSE(Has(db, marker));
    // Not read either: no outside file was opened by anything.
    std::string events;
    for (const std::string& e : reads.Events()) events += e + "\n";
    CHECK(events == "");
    // And no state file is named after a hostile id or the symlinked session.
    std::error_code ec;
    for (const fs::directory_entry& e : fs::recursive_directory_iterator(h.state, ec)) {
      INFO(e.path());
      CHECK_FALSE(Has(e.path().string(), "secret"));
      CHECK_FALSE(Has(e.path().string(), "passwd"));
      CHECK_FALSE(Has(e.path().string(), sid));
    }
  };
  check_nothing_outside("the hooks and the watcher");

  // Commands that find sessions themselves do not follow the symlinked
  // transcript either (nor the symlinked project dir), and say so.
  ProcessResult saved = h.Tsync({"save", "--all"}, h.Env(true));
  CHECK(saved.exit_code == 0);
  CHECK(Has(saved.err, "skipping " + h.project + "/" + sid + ".jsonl: a symbolic link"));
  for (std::vector<std::string> args : {std::vector<std::string>{"list"}, {"scan"}, {"status"}}) {
    ProcessResult r = h.Tsync(args, h.Env(true));
    INFO("tsync " << args[0] << ": " << r.out << r.err);
    CHECK(r.exit_code == 0);
    CHECK_FALSE(Has(r.out, sid));
    CHECK_FALSE(Has(r.out, marker));
  }
  check_nothing_outside("save, list, scan and status");
}

}  // namespace tsync::testing
