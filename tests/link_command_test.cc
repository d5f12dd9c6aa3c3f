// GitHub links through the real binary: `tsync hook post-tool-use` (queue,
// watcher, backend), `tsync link` with its exit codes, and
// `tsync status --session` — all against the real refserver.
#include "agent/link_command.h"

#include <signal.h>
#include <sqlite3.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "agent/github_link_queue.h"
#include "agent/save_command.h"
#include "agent/watcher_registry.h"
#include "base/json.h"
#include "config/config.h"
#include "tests/refserver_process.h"
#include "tests/test_util.h"

namespace tsync::testing {
namespace {

constexpr const char* kId = "aaaaaaaa-1111-4111-8111-000000000001";

std::string Quoted(std::string_view s) {
  std::string out;
  AppendJsonString(&out, s);
  return out;
}

std::string Message(int n) {
  return R"({"type":"user","message":{"role":"user","content":"step )" + std::to_string(n) + R"("},"uuid":"u-)" +
         std::to_string(n) + R"(","cwd":"/home/dev/app","sessionId":")" + kId + "\"}\n";
}

bool WaitFor(const std::function<bool()>& done, std::chrono::milliseconds limit = std::chrono::seconds(20)) {
  const auto until = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < until) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return done();
}

struct Home {
  TempDir home;
  std::string claude = home / ".claude";
  std::string project = claude + "/projects/-home-dev-app";
  std::string transcript = project + "/" + kId + ".jsonl";
  std::string state = home / ".local/state/tsync";
  RefServer server;

  Home() { WriteFile(transcript, Message(1) + Message(2) + Message(3)); }
  ~Home() {
    // No watcher may outlive its test.
    if (std::optional<agent::WatcherEntry> e = agent::ReadWatcherEntry(state, kId); e && agent::WatcherLive(*e)) {
      ::kill(e->process.pid, SIGKILL);
    }
  }
  std::vector<std::string> Env(const std::string& url, const std::string& key = "k1") const {
    std::vector<std::string> env = {"HOME=" + home.path(), "PATH=/usr/bin:/bin", "CLAUDE_CONFIG_DIR=" + claude};
    if (!url.empty()) env.push_back("TSYNC_BACKEND_URL=" + url);
    if (!key.empty()) env.push_back("TSYNC_API_KEY=" + key);
    return env;
  }
  ProcessResult Tsync(std::vector<std::string> args, std::string_view input = {}) const {
    args.insert(args.begin(), TSYNC_BINARY);
    return RunProcess(args, Env(server.url()), input);
  }
  std::string Payload(const std::string& command, const std::string& out, const std::string& err = "") const {
    return R"({"session_id":")" + std::string(kId) + R"(","transcript_path":")" + transcript +
           R"(","cwd":"/home/dev/app","permission_mode":"default","hook_event_name":"PostToolUse",)"
           R"("tool_name":"Bash","tool_input":{"command":)" +
           Quoted(command) + R"(},"tool_response":{"stdout":)" + Quoted(out) + R"(,"stderr":)" + Quoted(err) +
           R"(,"interrupted":false,"isImage":false},"tool_use_id":"toolu_01"})";
  }
  /// What Claude Code sends after the GitHub MCP server's create_pull_request:
  /// the PR as JSON text in a content block.
  std::string McpPayload(const std::string& title, const std::string& pr_json) const {
    return R"({"session_id":")" + std::string(kId) + R"(","transcript_path":")" + transcript +
           R"(","cwd":"/home/dev/app","permission_mode":"default","hook_event_name":"PostToolUse",)"
           R"("tool_name":"mcp__github__create_pull_request","tool_input":{"owner":"acme","repo":"app","title":)" +
           Quoted(title) + R"(,"head":"feat","base":"main","body":"Retries with jitter."},)"
           R"("tool_response":[{"type":"text","text":)" +
           Quoted(pr_json) + R"(}],"tool_use_id":"toolu_02"})";
  }
  std::string DestDir() const {
    config::Config cfg;
    cfg.state_dir = state;
    return agent::CheckpointDirFor(cfg, server.url());
  }
  /// {url, source, title} of every link the server holds, by URL.
  std::vector<std::vector<std::string>> Links() const {
    std::vector<std::vector<std::string>> rows;
    sqlite3* db = nullptr;
    if (sqlite3_open_v2((server.dir() / "db").c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
      sqlite3_stmt* q = nullptr;
      if (sqlite3_prepare_v2(db, "SELECT url, source, COALESCE(title, '') FROM github_links ORDER BY url", -1, &q,
                             nullptr) == SQLITE_OK) {
        while (sqlite3_step(q) == SQLITE_ROW) {
          rows.emplace_back();
          for (int c = 0; c < 3; ++c) rows.back().emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(q, c)));
        }
      }
      sqlite3_finalize(q);
    }
    sqlite3_close(db);
    return rows;
  }
  bool WatcherRunning() const {
    std::optional<agent::WatcherEntry> e = agent::ReadWatcherEntry(state, kId);
    return e && agent::WatcherLive(*e);
  }
};

}  // namespace

TEST_CASE("post-tool-use hook — gh pr create is linked after the session's init, the tool call never blocked",
          "[links]") {
  Home h;
  const ProcessResult hook = h.Tsync(
      {"hook", "post-tool-use"},
      h.Payload("gh pr create --title \"Add retries\" --fill", "https://github.com/acme/app/pull/57\n"));
  CHECK(hook.exit_code == 0);
  CHECK(hook.out.empty());  // nothing for Claude Code to parse, nothing denied
  CHECK(hook.err.empty());
  // The session was not on the backend: the watcher the hook started inits it, then sends the link.
  REQUIRE(WaitFor([&] { return h.Links().size() == 1; }));
  const auto links = h.Links();
  CHECK(links[0] == std::vector<std::string>{"https://github.com/acme/app/pull/57", "cli_hook", "Add retries"});
  CHECK(agent::QueuedGithubLinkCount(h.DestDir(), kId) == 0);
  CHECK(TotalViolations(h.server.port()) == 0);
}

TEST_CASE("post-tool-use hook — the GitHub MCP create_pull_request result is linked with source cli_hook", "[links]") {
  Home h;
  const std::string pr_json =
      R"({"id":1,"number":58,"url":"https://api.github.com/repos/acme/app/pulls/58",)"
      R"("html_url":"https://github.com/acme/app/pull/58","diff_url":"https://github.com/acme/app/pull/58.diff",)"
      R"("user":{"login":"octocat","html_url":"https://github.com/octocat"},"title":"Add retries","state":"open"})";
  const ProcessResult hook = h.Tsync({"hook", "post-tool-use"}, h.McpPayload("Add retries", pr_json));
  CHECK(hook.exit_code == 0);
  CHECK(hook.out.empty());
  CHECK(hook.err.empty());
  // Queued by the hook, sent by the watcher it started once the session is on the backend.
  REQUIRE(WaitFor([&] { return h.Links().size() == 1; }));
  CHECK(h.Links()[0] == std::vector<std::string>{"https://github.com/acme/app/pull/58", "cli_hook", "Add retries"});
  REQUIRE(WaitFor([&] { return agent::QueuedGithubLinkCount(h.DestDir(), kId) == 0; }));
  CHECK(TotalViolations(h.server.port()) == 0);
}

TEST_CASE("post-tool-use hook — ordinary, foreign and malformed payloads: no output, nothing queued, no watcher",
          "[links]") {
  Home h;
  const std::vector<std::string> payloads = {
      h.Payload("ls -la", "total 0\n"),
      h.Payload("git commit -m 'x'", "[main 1234567] x\n"),  // /home/dev/app is no repository: no origin
      h.Payload("git push", "", "To https://gitlab.com/acme/app.git\n   1111111..2222222  main -> main\n"),
      "not json at all, but github.com",
      R"({"session_id":"../etc","transcript_path":"/etc/passwd","tool_name":"Bash","tool_input":{"command":"gh pr create"},)"
      R"("tool_response":{"stdout":"https://github.com/acme/app/pull/1"}})",
      std::string(2 << 20, 'x') + "github.com",
  };
  for (const std::string& p : payloads) {
    INFO(p.size() << " bytes");
    const ProcessResult r = h.Tsync({"hook", "post-tool-use"}, p);
    CHECK(r.exit_code == 0);
    CHECK(r.out.empty());
    CHECK(r.err.empty());
  }
  CHECK_FALSE(std::filesystem::exists(h.DestDir() + "/github-links"));
  CHECK_FALSE(h.WatcherRunning());
  CHECK(h.Links().empty());
}

TEST_CASE("tsync link — bad URL, unknown session, no backend, bad key, unreachable: the README's exit codes",
          "[links]") {
  Home h;
  const std::string url = "https://github.com/acme/app/pull/5";
  CHECK(h.Tsync({"link", "aaaa", "https://gitlab.com/acme/app/merge_requests/5"}).exit_code == 2);
  CHECK(h.Tsync({"link", "aaaa", "https://github.com/acme/app/issues/5"}).exit_code == 2);
  CHECK(h.Tsync({"link", "zzzz", url}).exit_code == 2);
  CHECK(h.Tsync({"link", "aaaa"}).exit_code == 2);
  CHECK(RunProcess({TSYNC_BINARY, "link", "aaaa", url}, h.Env("", "")).exit_code == 2);  // archive only
  CHECK(RunProcess({TSYNC_BINARY, "link", "aaaa", url}, h.Env(h.server.url(), "wrong")).exit_code == 3);
  CHECK(RunProcess({TSYNC_BINARY, "link", "aaaa", url}, h.Env("http://127.0.0.1:1")).exit_code == 4);
  CHECK(h.Links().empty());
}

TEST_CASE("tsync link — queued for a session not synced yet, sent by hand afterwards, a hook's repeat not resent",
          "[links]") {
  Home h;
  const std::string pr = "https://github.com/acme/app/pull/5";
  ProcessResult r = h.Tsync({"link", "aaaa", pr + "/files", "--title", "Manual\tlink"});
  INFO(r.out << r.err);
  CHECK(r.exit_code == 1);  // done in part: queued
  CHECK(r.out.find("queued") != std::string::npos);
  CHECK(h.Links().empty());

  REQUIRE(h.Tsync({"save", "aaaa"}).exit_code == 0);
  CHECK(h.Links() == std::vector<std::vector<std::string>>{{pr, "manual", "Manual link"}});

  const std::string commit = "https://github.com/acme/app/commit/0123456789abcdef0123456789abcdef01234567";
  r = h.Tsync({"link", "aaaa", commit});
  INFO(r.out << r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("linked acme/app commit 0123456789ab") != std::string::npos);
  CHECK(h.Links().size() == 2);

  // The hook sees the same pull request: it is not sent again, so its source stays "manual".
  CHECK(h.Tsync({"hook", "post-tool-use"}, h.Payload("gh pr create --fill", pr + "\n")).exit_code == 0);
  REQUIRE(WaitFor([&] { return agent::QueuedGithubLinkCount(h.DestDir(), kId) == 0; }));
  const auto links = h.Links();
  REQUIRE(links.size() == 2);
  CHECK(links[1] == std::vector<std::string>{pr, "manual", "Manual link"});
}

TEST_CASE("tsync status --session — lines synced, last upload and pending lines per file", "[links]") {
  Home h;
  ProcessResult r = h.Tsync({"status", "--session", "aaaa", "--json"});
  CHECK(r.exit_code == 1);  // never synced
  CHECK(r.out.find("\"synced_before\":false") != std::string::npos);
  CHECK(r.out.find("\"pending_lines\":3") != std::string::npos);

  REQUIRE(h.Tsync({"save", "aaaa"}).exit_code == 0);
  r = h.Tsync({"status", "--session", "aaaa", "--json"});
  INFO(r.out << r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.out.find(std::string("\"file_name\":\"") + kId + ".jsonl\"") != std::string::npos);
  CHECK(r.out.find("\"lines_synced\":3") != std::string::npos);
  CHECK(r.out.find("\"pending_lines\":0") != std::string::npos);
  CHECK(r.out.find("\"last_upload\":0") == std::string::npos);  // set, for the session and the file

  AppendFile(h.transcript, Message(4) + Message(5) + "{\"type\":\"user\",\"partial");
  r = h.Tsync({"status", "--session", "aaaa"});
  INFO(r.out << r.err);
  CHECK(r.exit_code == 1);
  CHECK(r.out.find("lines synced 3") != std::string::npos);
  CHECK(r.out.find("pending 2 line(s)") != std::string::npos);
  CHECK(r.out.find("unterminated") != std::string::npos);
  CHECK(h.Tsync({"status", "--session", "zzzz"}).exit_code == 2);
}

}  // namespace tsync::testing
