// Live sync: hook input checks, the watcher registry and reaper, and the real
// `tsync hook` / `tsync watch` / `tsync sync --pending` processes against the
// real refserver — appended lines arrive, a partial line waits, session-end
// sends one session_end, a killed watcher loses nothing, a backend that is
// down leaves the session pending until it is back, and the watcher ends
// with the Claude Code process it belongs to.
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "agent/hook_input.h"
#include "agent/pending_queue.h"
#include "agent/process_info.h"
#include "agent/session_end.h"
#include "agent/watcher_registry.h"
#include "config/config.h"
#include "tests/refserver_process.h"
#include "tests/test_util.h"
#include "uploader/sync_client.h"
#include "uploader/sync_sink.h"

extern char** environ;

namespace tsync::testing {
namespace {

using agent::HookEvent;
using agent::ParseHookInput;

/// Polls `done` every 50 ms for up to `limit`; true once it holds.
bool WaitFor(const std::function<bool()>& done, std::chrono::milliseconds limit = std::chrono::seconds(15)) {
  const auto until = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < until) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return done();
}

struct LiveFixture {
  TempDir home;
  std::string claude = home / ".claude";
  std::string project = claude + "/projects/-home-dev-live";
  std::string id = "5e1f0c2a-live-4b7e-9d3c-000000000001";
  std::string transcript = project + "/" + id + ".jsonl";
  std::string state = home / ".local/state/tsync";
  std::unique_ptr<RefServer> server = std::make_unique<RefServer>();
  std::string backend_url = server->url();

  LiveFixture() { std::filesystem::create_directories(project); }
  ~LiveFixture() {
    // No watcher may outlive its test.
    if (std::optional<agent::WatcherEntry> e = agent::ReadWatcherEntry(state, id); e && agent::WatcherLive(*e)) {
      ::kill(e->process.pid, SIGKILL);
    }
  }

  std::vector<std::string> Env() const {
    return {"HOME=" + home.path(), "PATH=/usr/bin:/bin", "CLAUDE_CONFIG_DIR=" + claude,
            "TSYNC_BACKEND_URL=" + backend_url, "TSYNC_API_KEY=k1"};
  }
  std::string Payload(const std::string& event, const std::string& extra = "") const {
    return R"({"session_id":")" + id + R"(","transcript_path":")" + transcript + R"(","cwd":"/home/dev/live",)" +
           R"("hook_event_name":")" + event + "\"" + extra + "}";
  }
  ProcessResult Hook(const std::string& event, const std::string& json) const {
    return RunProcess({TSYNC_BINARY, "hook", event}, Env(), json);
  }
  std::optional<agent::WatcherEntry> Watcher() const { return agent::ReadWatcherEntry(state, id); }
  bool WatcherRunning() const {
    std::optional<agent::WatcherEntry> e = Watcher();
    return e && agent::WatcherLive(*e) && e->state == agent::WatcherState::kRunning;
  }
  bool WatcherGone() const {
    std::optional<agent::WatcherEntry> e = Watcher();
    return !e || !agent::WatcherLive(*e);
  }

  std::vector<std::string> ServerLines(const std::string& file_name) const {
    config::Config cfg;
    cfg.backend_url = server->url();
    cfg.api_key = "k1";
    auto client = uploader::SyncClient::Create(cfg);
    REQUIRE(client.ok());
    uploader::SyncSink sink(std::move(client.value()));
    Result<std::string> sid = sink.FindSession(id);
    if (!sid.ok()) return {};
    Result<std::vector<std::string>> lines = sink.ReadLines(*sid, file_name, 0);
    return lines.ok() ? *lines : std::vector<std::string>{};
  }
  size_t TranscriptLinesOnServer() const { return ServerLines(id + ".jsonl").size(); }

  /// session_end events the refserver stored for this session.
  std::vector<std::string> EndPayloads() const {
    std::vector<std::string> out;
    sqlite3* db = nullptr;
    if (sqlite3_open_v2((server->dir() / "db").c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
      sqlite3_close(db);
      return out;
    }
    sqlite3_stmt* q = nullptr;
    const char* sql =
        "SELECT e.payload FROM events e JOIN sessions s ON s.id = e.session_id "
        "WHERE s.external_id = ?1 AND e.event_type = 'session_end'";
    if (sqlite3_prepare_v2(db, sql, -1, &q, nullptr) == SQLITE_OK) {
      sqlite3_bind_text(q, 1, id.c_str(), -1, SQLITE_TRANSIENT);
      while (sqlite3_step(q) == SQLITE_ROW) out.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(q, 0)));
    }
    sqlite3_finalize(q);
    sqlite3_close(db);
    return out;
  }
};

std::string Line(int n) { return R"({"type":"user","n":)" + std::to_string(n) + R"(,"message":{"content":"hi"}})" "\n"; }

void RequireLinesOnce(const LiveFixture& fx, int count) {
  std::vector<std::string> lines = fx.ServerLines(fx.id + ".jsonl");
  REQUIRE(lines.size() == static_cast<size_t>(count));
  for (int i = 0; i < count; ++i) CHECK(lines[i] + "\n" == Line(i));
}

}  // namespace

TEST_CASE("hook input — valid payloads are accepted and hostile ones refused with a reason", "[live]") {
  TempDir dir;
  const std::string projects = dir / "projects";
  std::filesystem::create_directories(projects + "/-p");
  const std::string ok_path = projects + "/-p/abc-123.jsonl";
  auto parse = [&](const std::string& json) { return ParseHookInput(HookEvent::kSessionStart, json, projects); };

  Result<agent::HookInput> ok =
      parse(R"({"session_id":"abc-123","transcript_path":")" + ok_path + R"(","source":"resume"})");
  REQUIRE(ok.ok());
  CHECK(ok->session.transcript_path == ok_path);
  CHECK(ok->session.project_dir == projects + "/-p");
  CHECK(ok->source == "resume");
  CHECK(ok->payload_json.find("\"source\":\"resume\"") != std::string::npos);

  auto refused = [&](const std::string& json, const std::string& why) {
    Result<agent::HookInput> r = parse(json);
    INFO(json);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().message().find(why) != std::string::npos);
  };
  refused("not json", "not a JSON object");
  refused("[1,2]", "not a JSON object");
  refused(R"({"transcript_path":")" + ok_path + "\"}", "no session_id");
  refused(R"({"session_id":"abc-123"})", "no transcript_path");
  refused(R"({"session_id":"../../etc","transcript_path":")" + ok_path + "\"}", "session_id is not");
  refused(R"({"session_id":")" + std::string(129, 'a') + R"(","transcript_path":")" + ok_path + "\"}",
          "session_id is not");
  refused(R"({"session_id":"passwd","transcript_path":"/etc/passwd"})", "outside the Claude projects dir");
  refused(R"({"session_id":"abc-123","transcript_path":"relative/abc-123.jsonl"})", "not absolute");
  refused(R"({"session_id":"abc-123","transcript_path":")" + projects + R"(/-p/../../abc-123.jsonl"})", "'..'");
  refused(R"({"session_id":"abc-123","transcript_path":")" + projects + R"(/-p/other.jsonl"})", "not named after");
  refused(R"({"session_id":"abc-123","transcript_path":")" + projects + R"(/abc-123.jsonl"})",
          "not in a project directory");
  // A symlinked project directory that leads outside is caught after resolving.
  std::filesystem::create_directories(dir / "outside");
  std::filesystem::create_directory_symlink(dir / "outside", projects + "/-evil");
  refused(R"({"session_id":"abc-123","transcript_path":")" + projects + R"(/-evil/abc-123.jsonl"})",
          "outside the Claude projects dir");
  refused(std::string(agent::kMaxHookInputBytes + 1, ' '), "over the 1 MiB cap");
}

TEST_CASE("watcher registry — a dead pid or a reused pid is not a live watcher and is reaped", "[live]") {
  TempDir state;
  agent::WatcherEntry live;
  live.session_id = "live";
  live.transcript_path = "/x/live.jsonl";
  live.process = agent::SelfProcess();
  live.state = agent::WatcherState::kRunning;
  REQUIRE(agent::WriteWatcherEntry(state.path(), live).ok());

  agent::WatcherEntry reused = live;  // our pid, another start time: a different process
  reused.session_id = "reused";
  reused.process.start_time += 1;
  REQUIRE(agent::WriteWatcherEntry(state.path(), reused).ok());

  pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  ::waitpid(child, nullptr, 0);
  agent::WatcherEntry dead = live;
  dead.session_id = "dead";
  dead.process = agent::ProcessId{child, 12345};
  REQUIRE(agent::WriteWatcherEntry(state.path(), dead).ok());

  CHECK(agent::WatcherLive(live));
  CHECK_FALSE(agent::WatcherLive(reused));
  CHECK_FALSE(agent::WatcherLive(dead));
  CHECK(agent::ReapWatchers(state.path()) == 2);
  std::vector<agent::WatcherEntry> left = agent::ListWatcherEntries(state.path());
  REQUIRE(left.size() == 1);
  CHECK(left[0].session_id == "live");

  // The lock admits one holder per session.
  Result<agent::WatcherLock> first = agent::WatcherLock::TryAcquire(state.path(), "live");
  REQUIRE(first.ok());
  pid_t other = ::fork();
  if (other == 0) {
    Result<agent::WatcherLock> second = agent::WatcherLock::TryAcquire(state.path(), "live");
    ::_exit(!second.ok() && second.status().kind() == Status::Kind::kConflict ? 0 : 1);
  }
  int status = 0;
  ::waitpid(other, &status, 0);
  CHECK((WIFEXITED(status) && WEXITSTATUS(status) == 0));
}

TEST_CASE("process identity — a process past exit() whose files are still closing is not alive", "[live]") {
  // /proc/<pid>/stat as the kernel writes it: comm with a space and a ')',
  // state, ppid, …, flags (field 9), …, start time (field 22).
  auto stat = [](char state, unsigned long flags) {
    return "4242 (tsync wa)tch) " + std::string(1, state) + " 1 4242 4242 0 -1 " + std::to_string(flags) +
           " 100 0 0 0 5 3 0 0 20 0 1 0 987654 123456789 300\n";
  };
  CHECK(agent::LiveStartTime(stat('S', 0x400140)) == 987654u);
  CHECK(agent::LiveStartTime(stat('R', 0x400000)) == 987654u);
  CHECK_FALSE(agent::LiveStartTime(stat('S', 0x400144)));  // PF_EXITING: argv gone, fds closing
  CHECK_FALSE(agent::LiveStartTime(stat('Z', 0x400000)));
  CHECK_FALSE(agent::LiveStartTime(stat('X', 0x400000)));
  CHECK_FALSE(agent::LiveStartTime("4242 (tsync) S 1 4242"));  // truncated
  CHECK_FALSE(agent::LiveStartTime(""));
  // And this very process, read from /proc.
  CHECK(agent::ProcessStartTime(::getpid()) == agent::SelfProcess().start_time);
  CHECK(agent::ProcessAlive(agent::SelfProcess()));
}

TEST_CASE("pending queue — add keeps the backoff, defer doubles it up to an hour, remove forgets", "[live]") {
  TempDir state;
  agent::SessionRef s{"sess-1", "/p", "/p/sess-1.jsonl"};
  REQUIRE(agent::AddPending(state.path(), s).ok());
  std::vector<agent::PendingEntry> q = agent::ListPending(state.path());
  REQUIRE(q.size() == 1);
  CHECK(q[0].next_attempt == 0);
  REQUIRE(agent::DeferPending(state.path(), q[0], 1000).ok());
  REQUIRE(agent::AddPending(state.path(), s).ok());  // already there: its backoff stays
  q = agent::ListPending(state.path());
  CHECK(q[0].attempts == 1);
  CHECK(q[0].next_attempt == 1030);
  CHECK(agent::PendingBackoffSeconds(2) == 60);
  CHECK(agent::PendingBackoffSeconds(20) == 3600);
  CHECK(agent::AnyPending(state.path()));
  agent::RemovePending(state.path(), "sess-1");
  CHECK_FALSE(agent::AnyPending(state.path()));
}

TEST_CASE("live — hooks start one watcher, lines arrive, a partial line waits, session-end sends one end",
          "[live]") {
  LiveFixture fx;
  WriteFile(fx.transcript, Line(0));
  ProcessResult start = fx.Hook("session-start", fx.Payload("SessionStart", R"(,"source":"startup")"));
  CHECK(start.exit_code == 0);
  CHECK(start.out.empty());
  CHECK(start.err.empty());
  // A second start (and a Stop every turn) keeps the one watcher.
  CHECK(fx.Hook("session-start", fx.Payload("SessionStart", R"(,"source":"resume")")).exit_code == 0);
  REQUIRE(WaitFor([&] { return fx.WatcherRunning(); }));
  const pid_t watcher = fx.Watcher()->process.pid;
  REQUIRE(WaitFor([&] { return fx.TranscriptLinesOnServer() == 1; }));

  AppendFile(fx.transcript, Line(1) + Line(2));
  REQUIRE(WaitFor([&] { return fx.TranscriptLinesOnServer() == 3; }));
  CHECK(fx.Hook("stop", fx.Payload("Stop")).exit_code == 0);
  CHECK(fx.Watcher()->process.pid == watcher);

  // Half a line: held back until its newline arrives.
  const std::string line3 = Line(3);
  AppendFile(fx.transcript, line3.substr(0, 10));
  std::this_thread::sleep_for(std::chrono::milliseconds(3000));  // > max_delay and settle: a pass has run
  CHECK(fx.TranscriptLinesOnServer() == 3);
  AppendFile(fx.transcript, line3.substr(10));
  REQUIRE(WaitFor([&] { return fx.TranscriptLinesOnServer() == 4; }));

  AppendFile(fx.transcript, Line(4));  // written just before the end: the final flush carries it
  ProcessResult end = fx.Hook("session-end", fx.Payload("SessionEnd", R"(,"reason":"prompt_input_exit")"));
  CHECK(end.exit_code == 0);
  REQUIRE(WaitFor([&] { return fx.WatcherGone(); }));
  RequireLinesOnce(fx, 5);
  std::vector<std::string> ends = fx.EndPayloads();
  REQUIRE(ends.size() == 1);
  CHECK(ends[0].find("\"reason\":\"prompt_input_exit\"") != std::string::npos);
  CHECK(fx.Watcher()->state == agent::WatcherState::kDone);
  CHECK_FALSE(agent::AnyPending(fx.state));
  CHECK(TotalViolations(fx.server->port()) == 0);
}

TEST_CASE("live — a watcher killed with SIGKILL is replaced by the next hook and nothing is lost or doubled",
          "[live]") {
  LiveFixture fx;
  WriteFile(fx.transcript, Line(0) + Line(1));
  REQUIRE(fx.Hook("session-start", fx.Payload("SessionStart")).exit_code == 0);
  REQUIRE(WaitFor([&] { return fx.WatcherRunning() && fx.TranscriptLinesOnServer() == 2; }));
  const agent::ProcessId first = fx.Watcher()->process;
  ::kill(first.pid, SIGKILL);
  REQUIRE(WaitFor([&] { return !agent::ProcessAlive(first); }));
  for (int i = 2; i < 40; ++i) AppendFile(fx.transcript, Line(i));

  REQUIRE(fx.Hook("user-prompt-submit", fx.Payload("UserPromptSubmit")).exit_code == 0);
  REQUIRE(WaitFor([&] { return fx.WatcherRunning() && fx.Watcher()->process.pid != first.pid; }));
  REQUIRE(WaitFor([&] { return fx.TranscriptLinesOnServer() == 40; }));
  REQUIRE(fx.Hook("session-end", fx.Payload("SessionEnd", R"(,"reason":"other")")).exit_code == 0);
  REQUIRE(WaitFor([&] { return fx.WatcherGone(); }));
  RequireLinesOnce(fx, 40);
  CHECK(fx.EndPayloads().size() == 1);
}

TEST_CASE("live — with the backend down the session stays pending and sync --pending sends it once back",
          "[live]") {
  LiveFixture fx;
  const std::string real_url = fx.backend_url;
  fx.backend_url = "http://127.0.0.1:1";  // nothing listens
  WriteFile(fx.transcript, Line(0) + Line(1) + Line(2));
  REQUIRE(fx.Hook("session-start", fx.Payload("SessionStart")).exit_code == 0);
  REQUIRE(WaitFor([&] { return agent::AnyPending(fx.state); }));
  REQUIRE(fx.Hook("session-end", fx.Payload("SessionEnd", R"(,"reason":"logout")")).exit_code == 0);
  REQUIRE(WaitFor([&] { return fx.WatcherGone(); }, std::chrono::seconds(60)));
  CHECK(agent::AnyPending(fx.state));
  CHECK(fx.TranscriptLinesOnServer() == 0);

  fx.backend_url = real_url;  // the backend is back
  ProcessResult retry = RunProcess({TSYNC_BINARY, "sync", "--pending"}, fx.Env());
  INFO(retry.out << retry.err);
  CHECK(retry.exit_code == 0);
  RequireLinesOnce(fx, 3);
  std::vector<std::string> ends = fx.EndPayloads();
  REQUIRE(ends.size() == 1);
  CHECK(ends[0].find("\"reason\":\"logout\"") != std::string::npos);
  CHECK_FALSE(agent::AnyPending(fx.state));
  // Again: nothing left to do, nothing sent twice.
  CHECK(RunProcess({TSYNC_BINARY, "sync", "--pending"}, fx.Env()).out.find("nothing pending") != std::string::npos);
  CHECK(fx.EndPayloads().size() == 1);
}

TEST_CASE("live — a new watcher waits for the lock of one on its way out, and leaves a live one alone", "[live]") {
  LiveFixture fx;
  WriteFile(fx.transcript, Line(0));
  const std::vector<std::string> watch = {TSYNC_BINARY, "watch", "--session", fx.id, "--transcript", fx.transcript};
  agent::WatcherEntry holder;
  holder.session_id = fx.id;
  holder.transcript_path = fx.transcript;
  holder.state = agent::WatcherState::kRunning;

  SECTION("held, but its registered watcher is gone: a killed one whose files the kernel is still closing") {
    pid_t child = ::fork();
    if (child == 0) ::_exit(0);
    ::waitpid(child, nullptr, 0);
    holder.process = agent::ProcessId{child, 12345};
    REQUIRE(agent::WriteWatcherEntry(fx.state, holder).ok());
    std::optional<Result<agent::WatcherLock>> lock = agent::WatcherLock::TryAcquire(fx.state, fx.id);
    REQUIRE(lock->ok());
    const pid_t w = SpawnProcess(watch, fx.Env());
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    CHECK(::waitpid(w, nullptr, WNOHANG) == 0);  // it waits for the lock instead of leaving
    lock.reset();                                // the old one is gone now
    REQUIRE(WaitFor([&] { return fx.WatcherRunning() && fx.TranscriptLinesOnServer() == 1; }));
    CHECK(fx.Watcher()->process.pid == w);
    ::kill(w, SIGTERM);
    int status = 0;
    REQUIRE(WaitFor([&] { return ::waitpid(w, &status, WNOHANG) == w; }));
    CHECK((WIFEXITED(status) && WEXITSTATUS(status) == 0));
  }
  SECTION("held by a live watcher: the new one leaves at once and sends nothing") {
    holder.process = agent::SelfProcess();  // this test plays the running watcher
    REQUIRE(agent::WriteWatcherEntry(fx.state, holder).ok());
    Result<agent::WatcherLock> lock = agent::WatcherLock::TryAcquire(fx.state, fx.id);
    REQUIRE(lock.ok());
    const pid_t w = SpawnProcess(watch, fx.Env());
    int status = 0;
    // Well before the 5 s a watcher on its way out gets.
    REQUIRE(WaitFor([&] { return ::waitpid(w, &status, WNOHANG) == w; }, std::chrono::seconds(4)));
    CHECK((WIFEXITED(status) && WEXITSTATUS(status) == 0));
    CHECK(fx.TranscriptLinesOnServer() == 0);
    CHECK(fx.Watcher()->process == agent::SelfProcess());
    holder.state = agent::WatcherState::kDone;  // so the fixture finds no live watcher to kill: this process
    holder.process.start_time += 1;
    REQUIRE(agent::WriteWatcherEntry(fx.state, holder).ok());
  }
}

TEST_CASE("live — a hook never loads libcurl, a command that talks to the backend loads it", "[live]") {
  // The dynamic loader's own report (LD_DEBUG=files on stderr) of every
  // library a process maps: libcurl and the ~27 libraries it needs cost each
  // hook ~5 ms, and a hook sends nothing.
  LiveFixture fx;
  WriteFile(fx.transcript, Line(0));
  std::vector<std::string> env = fx.Env();
  env.push_back("LD_DEBUG=files");
  ProcessResult hook = RunProcess({TSYNC_BINARY, "hook", "user-prompt-submit"}, env, fx.Payload("UserPromptSubmit"));
  INFO("hook stderr: " << hook.err);
  CHECK(hook.exit_code == 0);
  CHECK(hook.out.empty());
  CHECK(hook.err.find("file=libc.so.6") != std::string::npos);  // the report is there
  CHECK(hook.err.find("libcurl") == std::string::npos);
  // The watcher it started loads it, and syncs.
  REQUIRE(WaitFor([&] { return fx.WatcherRunning() && fx.TranscriptLinesOnServer() == 1; }));

  ProcessResult status = RunProcess({TSYNC_BINARY, "status"}, env);
  INFO("status: " << status.out << status.err);
  CHECK(status.out.find("reachable") != std::string::npos);
  CHECK(status.err.find("file=libcurl.so.4 [0];  dynamically loaded by") != std::string::npos);
}

TEST_CASE("live — a libcurl that cannot be loaded is a config error naming the package, exit 2", "[live]") {
  // The dynamic loader looks in LD_LIBRARY_PATH first: a broken
  // libcurl.so.4 there stands for a system without libcurl4.
  LiveFixture fx;
  WriteFile(fx.transcript, Line(0));
  TempDir libs;
  WriteFile(libs / "libcurl.so.4", "not a shared library\n");
  std::vector<std::string> env = fx.Env();
  env.push_back("LD_LIBRARY_PATH=" + libs.path());
  ProcessResult save = RunProcess({TSYNC_BINARY, "save", fx.id}, env);
  INFO(save.out << save.err);
  CHECK(save.exit_code == 2);
  CHECK(save.err.find("cannot load libcurl.so.4") != std::string::npos);
  CHECK(save.err.find("apt install libcurl4") != std::string::npos);
  CHECK(fx.TranscriptLinesOnServer() == 0);
  // A hook needs no libcurl: it still starts the watcher (which has the
  // ordinary environment) and exits 0.
  CHECK(RunProcess({TSYNC_BINARY, "hook", "stop"}, env, fx.Payload("Stop")).exit_code == 0);
  CHECK(WaitFor([&] { return fx.WatcherRunning() && fx.TranscriptLinesOnServer() == 1; }));
}

TEST_CASE("live — the watcher flushes and exits when its Claude Code process exits", "[live]") {
  LiveFixture fx;
  WriteFile(fx.transcript, Line(0));
  const pid_t claude = SpawnProcess({"/bin/sleep", "60"}, {});
  std::optional<uint64_t> start = agent::ProcessStartTime(claude);
  REQUIRE(start);
  const pid_t watcher = SpawnProcess({TSYNC_BINARY, "watch", "--session", fx.id, "--transcript", fx.transcript,
                               "--claude-pid", std::to_string(claude), "--claude-start", std::to_string(*start)},
                              fx.Env());
  REQUIRE(WaitFor([&] { return fx.WatcherRunning() && fx.TranscriptLinesOnServer() == 1; }));
  AppendFile(fx.transcript, Line(1));
  ::kill(claude, SIGKILL);
  ::waitpid(claude, nullptr, 0);
  int status = 0;
  REQUIRE(WaitFor([&] { return ::waitpid(watcher, &status, WNOHANG) == watcher; }));
  CHECK((WIFEXITED(status) && WEXITSTATUS(status) == 0));
  RequireLinesOnce(fx, 2);
  CHECK(fx.EndPayloads().empty());  // no SessionEnd hook ran: no event is made up
}

TEST_CASE("live — hostile hook input starts nothing and still exits 0 silently", "[live]") {
  LiveFixture fx;
  const std::vector<std::string> inputs = {
      "", "{", std::string(10u << 20, 'x'), R"({"session_id":"x/../y","transcript_path":"/etc/passwd"})",
      R"({"session_id":"passwd","transcript_path":"/etc/passwd"})"};
  for (const std::string& in : inputs) {
    ProcessResult r = fx.Hook("session-start", in);
    CHECK(r.exit_code == 0);
    CHECK(r.out.empty());
    CHECK(r.err.empty());
  }
  CHECK(fx.Hook("no-such-event", fx.Payload("X")).exit_code == 0);
  CHECK(agent::ListWatcherEntries(fx.state).empty());
  const std::string log = ReadWholeFile(fx.state + "/logs/tsync.log");
  CHECK(log.find("input ignored: hook input is not a JSON object") != std::string::npos);
  CHECK(log.find("outside the Claude projects dir") != std::string::npos);
  CHECK(log.find("over the 1 MiB cap") != std::string::npos);
  CHECK(log.find("unknown event 'no-such-event'") != std::string::npos);
}

TEST_CASE("live — the watcher gets no secret on its command line or in its environment", "[live]") {
  LiveFixture fx;
  WriteFile(fx.transcript, Line(0));
  std::vector<std::string> env = fx.Env();
  env.push_back("ANTHROPIC_API_KEY=sk-ant-should-not-travel");
  REQUIRE(RunProcess({TSYNC_BINARY, "hook", "session-start"}, env, fx.Payload("SessionStart")).exit_code == 0);
  REQUIRE(WaitFor([&] { return fx.WatcherRunning() && fx.TranscriptLinesOnServer() == 1; }));
  const pid_t pid = fx.Watcher()->process.pid;
  const std::string cmdline = ReadWholeFile("/proc/" + std::to_string(pid) + "/cmdline");
  const std::string environ_text = ReadWholeFile("/proc/" + std::to_string(pid) + "/environ");
  CHECK(cmdline.find("watch") != std::string::npos);
  CHECK(cmdline.find("k1") == std::string::npos);
  CHECK(environ_text.find("TSYNC_API_KEY") == std::string::npos);
  CHECK(environ_text.find("ANTHROPIC_API_KEY") == std::string::npos);
  CHECK(environ_text.find("HOME=" + fx.home.path()) != std::string::npos);
  REQUIRE(fx.Hook("session-end", fx.Payload("SessionEnd")).exit_code == 0);
  REQUIRE(WaitFor([&] { return fx.WatcherGone(); }));
}

}  // namespace tsync::testing

namespace tsync::testing {

TEST_CASE("live — tsync save completes a pending session and takes it off the queue", "[live]") {
  LiveFixture fx;
  WriteFile(fx.transcript, Line(0) + Line(1));
  REQUIRE(agent::AddPending(fx.state, agent::SessionRef{fx.id, fx.project, fx.transcript}).ok());
  ProcessResult saved = RunProcess({TSYNC_BINARY, "save", fx.id.substr(0, 12)}, fx.Env());
  INFO(saved.out << saved.err);
  REQUIRE(saved.exit_code == 0);
  RequireLinesOnce(fx, 2);
  CHECK_FALSE(agent::AnyPending(fx.state));

  // A session with a session end still to send stays queued for `sync --pending`.
  REQUIRE(agent::AddPending(fx.state, agent::SessionRef{fx.id, fx.project, fx.transcript}).ok());
  REQUIRE(agent::WriteEndRequest(fx.state, fx.id, R"({"reason":"other"})").ok());
  REQUIRE(RunProcess({TSYNC_BINARY, "save", fx.id.substr(0, 12)}, fx.Env()).exit_code == 0);
  CHECK(agent::AnyPending(fx.state));
  REQUIRE(RunProcess({TSYNC_BINARY, "sync", "--pending"}, fx.Env()).exit_code == 0);
  CHECK_FALSE(agent::AnyPending(fx.state));
  CHECK(fx.EndPayloads().size() == 1);
}

}  // namespace tsync::testing
