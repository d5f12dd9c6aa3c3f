// GitHub links: URL and remote parsing, what PostToolUse payloads yield (with
// a fake git and with real temporary repositories), and the queue drained
// into the real refserver — duplicates, unknown sessions, a refusing archive.
#include "agent/github_links.h"

#include <sqlite3.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "agent/github_link_queue.h"
#include "base/json.h"
#include "config/config.h"
#include "tests/refserver_process.h"
#include "tests/test_util.h"
#include "uploader/archive_sink.h"
#include "uploader/sync_client.h"
#include "uploader/sync_sink.h"

namespace tsync::testing {
namespace {

using agent::GitQueries;
using agent::LinksFromToolUse;
using agent::ParseGithubLinkUrl;
using uploader::GithubLink;

std::string Quoted(std::string_view s) {
  std::string out;
  AppendJsonString(&out, s);
  return out;
}

std::string BashPayload(const std::string& command, const std::string& stdout_text, const std::string& stderr_text = "",
                        const std::string& cwd = "/home/dev/app") {
  return R"({"session_id":"s1","transcript_path":"/x/s1.jsonl","cwd":)" + Quoted(cwd) +
         R"(,"hook_event_name":"PostToolUse","tool_name":"Bash","tool_input":{"command":)" + Quoted(command) +
         R"(,"description":"d"},"tool_response":{"stdout":)" + Quoted(stdout_text) + R"(,"stderr":)" +
         Quoted(stderr_text) + R"(,"interrupted":false,"isImage":false},"tool_use_id":"toolu_1"})";
}

/// A git that knows one repository: origin `origin` (nullopt: none), and
/// every abbreviation of `full` (or a branch named `branch`) resolves to it.
GitQueries FakeGit(std::optional<std::string> origin, std::string full = std::string(40, 'a'),
                   std::string branch = "feat", int* calls = nullptr) {
  GitQueries q;
  q.origin_url = [origin, calls](const std::string&) {
    if (calls) ++*calls;
    return origin;
  };
  q.resolve_commit = [full, branch, calls](const std::string&, const std::string& rev) -> std::optional<std::string> {
    if (calls) ++*calls;
    if (rev == branch || full.starts_with(rev)) return full;
    return std::nullopt;
  };
  return q;
}

std::string GitBinary() {
  for (const char* p : {"/usr/bin/git", "/usr/local/bin/git", "/bin/git"}) {
    if (::access(p, X_OK) == 0) return p;
  }
  return "";
}

/// Keeps the user's git configuration out of RealGitQueries for one test.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    ::setenv(name, value.c_str(), 1);
  }
  ~ScopedEnv() {
    if (old_) {
      ::setenv(name_, old_->c_str(), 1);
    } else {
      ::unsetenv(name_);
    }
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  const char* name_;
  std::optional<std::string> old_;
};

/// A real repository in a TempDir, made with the git binary.
struct Repo {
  TempDir root;
  std::string dir = root / "app";
  ScopedEnv global{"GIT_CONFIG_GLOBAL", "/dev/null"}, nosystem{"GIT_CONFIG_NOSYSTEM", "1"},
      ceiling{"GIT_CEILING_DIRECTORIES", root.path()};

  Repo() {
    std::filesystem::create_directories(dir);
    Git({"init", "-q", "-b", "main"});
  }
  ProcessResult Git(std::vector<std::string> args) const {
    std::vector<std::string> argv = {GitBinary(), "-C", dir, "-c", "user.name=T", "-c", "user.email=t@example.com"};
    argv.insert(argv.end(), args.begin(), args.end());
    ProcessResult r = RunProcess(argv, {"HOME=" + root.path(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1",
                                        "PATH=/usr/bin:/bin", "LC_ALL=C"});
    INFO("git " << args.front() << ": " << r.err);
    REQUIRE(r.exit_code == 0);
    return r;
  }
  std::string Head() const {
    std::string out = Git({"rev-parse", "HEAD"}).out;
    return out.substr(0, out.find('\n'));
  }
};

}  // namespace

TEST_CASE("github links: only PR and commit URLs on github.com, canonical", "[github_links]") {
  auto pr = ParseGithubLinkUrl("https://github.com/acme/app/pull/42");
  REQUIRE(pr);
  CHECK(pr->link_type == "pull_request");
  CHECK(pr->owner == "acme");
  CHECK(pr->repo == "app");
  CHECK(pr->ref == "42");
  CHECK(ParseGithubLinkUrl("https://github.com/acme/app/pull/42/files?w=1")->url == "https://github.com/acme/app/pull/42");
  CHECK(ParseGithubLinkUrl("https://github.com/acme/app.js/commit/0a1b2c3d#diff")->url ==
        "https://github.com/acme/app.js/commit/0a1b2c3d");
  for (const char* bad : {"http://github.com/acme/app/pull/1", "https://github.com/acme/app/issues/1",
                          "https://github.com/acme/pull/1", "https://github.com/acme/app/pull/",
                          "https://github.com/acme/app/pull/12.diff", "https://github.com/acme/app/pull/new/feat",
                          "https://github.com/acme/app/commit/0A1B2C3D", "https://github.com/acme/app/commit/abc12",
                          "https://gitlab.com/acme/app/pull/1", "https://github.com.evil.io/acme/app/pull/1",
                          "https://github.com/../app/pull/1", "https://github.com/acme/app/pull/0"}) {
    INFO(bad);
    CHECK_FALSE(ParseGithubLinkUrl(bad));
  }
}

TEST_CASE("github links: remotes on github.com in every URL form — other hosts give nothing", "[github_links]") {
  using agent::GithubRepoOfRemote;
  const std::pair<std::string, std::string> acme{"acme", "app"};
  for (const char* url : {"https://github.com/acme/app.git", "https://github.com/acme/app", "http://github.com/acme/app/",
                          "git@github.com:acme/app.git", "ssh://git@github.com/acme/app.git",
                          "ssh://git@github.com:22/acme/app", "git://github.com/acme/app.git",
                          "https://x-access-token@GitHub.com/acme/app.git", "github.com:acme/app"}) {
    INFO(url);
    CHECK(GithubRepoOfRemote(url) == acme);
  }
  for (const char* url : {"https://gitlab.com/acme/app.git", "git@gitlab.com:acme/app.git", "/srv/git/app.git",
                          "file:///srv/git/app.git", "https://github.com/acme", "https://github.enterprise.io/a/b",
                          "../app.git"}) {
    INFO(url);
    CHECK_FALSE(GithubRepoOfRemote(url));
  }
}

TEST_CASE("github links: the hook's first check lets ordinary tool calls leave at once", "[github_links]") {
  using agent::MayHoldGithubLink;
  CHECK_FALSE(MayHoldGithubLink(BashPayload("ls -la", "total 8\ndrwxr-xr-x 2 dev dev 4096 .\n")));
  CHECK_FALSE(MayHoldGithubLink(BashPayload("npm test", "42 passing\n")));
  CHECK(MayHoldGithubLink(BashPayload("gh pr create --fill", "https://github.com/acme/app/pull/7\n")));
  CHECK(MayHoldGithubLink(BashPayload("git commit -m x", "[main 1234567] x\n")));
  CHECK(MayHoldGithubLink(BashPayload("git push", "", "To github.com:acme/app.git\n")));
}

TEST_CASE("github links: gh pr create — the PR URL it prints and the title it was given", "[github_links]") {
  const std::string payload = BashPayload(
      "git push -u origin feat && gh pr create --title \"Fix the \\\"parser\\\"\" --body \"$(cat <<'BODY'\n"
      "Body text https://github.com/acme/app/pull/1\nBODY\n)\"",
      "https://github.com/acme/app/pull/57\n", "Warning: 1 uncommitted change\n");
  const std::vector<GithubLink> links = LinksFromToolUse(payload, FakeGit(std::nullopt));
  REQUIRE(links.size() == 1);
  CHECK(links[0].url == "https://github.com/acme/app/pull/57");
  CHECK(links[0].link_type == "pull_request");
  CHECK(links[0].title == "Fix the \"parser\"");
  CHECK(links[0].source == "cli_hook");

  // -t, --title=, no title, and a PR URL printed by something that is not `gh pr create`.
  CHECK(LinksFromToolUse(BashPayload("gh pr create -t 'Short one' -B main", "https://github.com/o/r/pull/8\n"),
                         FakeGit(std::nullopt))
            .at(0)
            .title == "Short one");
  CHECK(LinksFromToolUse(BashPayload("gh pr create --title=Eq --fill", "https://github.com/o/r/pull/9\n"),
                         FakeGit(std::nullopt))
            .at(0)
            .title == "Eq");
  CHECK(LinksFromToolUse(BashPayload("gh pr create --fill", "https://github.com/o/r/pull/10\n"), FakeGit(std::nullopt))
            .at(0)
            .title.empty());
  CHECK(LinksFromToolUse(BashPayload("gh pr view 8", "https://github.com/o/r/pull/8\n"), FakeGit(std::nullopt)).empty());
  CHECK(LinksFromToolUse(BashPayload("cat notes.md", "see https://github.com/o/r/pull/8\n"), FakeGit(std::nullopt))
            .empty());
}

TEST_CASE("github links: the MCP create_pull_request tool — URL from its result, title from its input",
          "[github_links]") {
  const std::string result_json =
      R"({"id":1,"number":12,"url":"https://api.github.com/repos/acme/app/pulls/12",)"
      R"("html_url":"https://github.com/acme/app/pull/12","diff_url":"https://github.com/acme/app/pull/12.diff",)"
      R"("user":{"html_url":"https://github.com/octocat"},"title":"Add retries"})";
  const std::string payload =
      R"({"session_id":"s1","transcript_path":"/x/s1.jsonl","cwd":"/home/dev/app","hook_event_name":"PostToolUse",)"
      R"("tool_name":"mcp__github__create_pull_request","tool_input":{"owner":"acme","repo":"app",)"
      R"("title":"Add retries","head":"feat","base":"main"},"tool_response":[{"type":"text","text":)" +
      Quoted(result_json) + "}]}";
  const std::vector<GithubLink> links = LinksFromToolUse(payload, FakeGit(std::nullopt));
  REQUIRE(links.size() == 1);
  CHECK(links[0].url == "https://github.com/acme/app/pull/12");
  CHECK(links[0].title == "Add retries");

  // Another server's name for the tool, and a result object instead of blocks.
  const std::string other =
      R"({"cwd":"/w","tool_name":"mcp__GitHub_Enterprise__create_pull_request","tool_input":{"title":"T"},)"
      R"("tool_response":{"content":"Created https://github.com/o/r/pull/3"}})";
  CHECK(LinksFromToolUse(other, FakeGit(std::nullopt)).at(0).url == "https://github.com/o/r/pull/3");
  // A tool that is not a GitHub PR tool.
  const std::string unrelated = R"({"cwd":"/w","tool_name":"mcp__jira__create_issue","tool_input":{},)"
                                R"("tool_response":"https://github.com/o/r/pull/3"})";
  CHECK(LinksFromToolUse(unrelated, FakeGit(std::nullopt)).empty());
}

TEST_CASE("github links: git commit and git push with a fake git — github.com origin, other host, no origin",
          "[github_links]") {
  const std::string full = "0123456789abcdef0123456789abcdef01234567";
  const std::string commit = BashPayload("git add -A && git commit -m 'Fix the parser'",
                                         "[main 0123456] Fix the parser\n 1 file changed, 2 insertions(+)\n");
  int calls = 0;
  std::vector<GithubLink> links = LinksFromToolUse(commit, FakeGit("git@github.com:acme/app.git", full, "feat", &calls));
  REQUIRE(links.size() == 1);
  CHECK(links[0].url == "https://github.com/acme/app/commit/" + full);
  CHECK(links[0].link_type == "commit");
  CHECK(links[0].title == "Fix the parser");
  CHECK(calls == 2);

  CHECK(LinksFromToolUse(commit, FakeGit("https://gitlab.com/acme/app.git", full)).empty());
  CHECK(LinksFromToolUse(commit, FakeGit(std::nullopt, full)).empty());
  // Nothing was committed.
  CHECK(LinksFromToolUse(BashPayload("git commit -m x", "nothing to commit, working tree clean\n"),
                         FakeGit("git@github.com:acme/app.git", full))
            .empty());

  // Push: the "To" line names the repository; new branches resolve by name.
  const std::string push = BashPayload("git push origin main feat", "",
                                       "To github.com:acme/app.git\n   fedcba9..0123456  main -> main\n"
                                       " * [new branch]      feat -> feat\n ! [rejected]        x -> x (fetch first)\n");
  links = LinksFromToolUse(push, FakeGit(std::nullopt, full));
  REQUIRE(links.size() == 1);  // main and feat are the same commit here
  CHECK(links[0].url == "https://github.com/acme/app/commit/" + full);
  CHECK(links[0].title.empty());
  CHECK(LinksFromToolUse(BashPayload("git push", "", "To https://gitlab.com/acme/app.git\n   fedcba9..0123456  main -> main\n"),
                         FakeGit("git@github.com:acme/app.git", full))
            .empty());
  CHECK(LinksFromToolUse(BashPayload("git push", "", "Everything up-to-date\n"), FakeGit("git@github.com:acme/app.git", full))
            .empty());
}

TEST_CASE("github links: malformed payloads give nothing and never throw", "[github_links]") {
  const GitQueries git = FakeGit("git@github.com:acme/app.git");
  const std::vector<std::string> bad = {
      "",
      "not json",
      "[]",
      R"({"tool_name":42})",
      R"({"tool_name":"Bash"})",
      R"({"tool_name":"Bash","tool_input":"gh pr create"})",
      R"({"tool_name":"Bash","tool_input":{"command":7},"tool_response":{}})",
      R"({"tool_name":"Bash","tool_input":{"command":"gh pr create"},"tool_response":null})",
      R"({"tool_name":"Bash","tool_input":{"command":"git commit"},"tool_response":"[main 1234567] x\n"})",
      BashPayload("gh pr create", "https://github.com/o/r/pull/1").substr(0, 120),
      BashPayload("git push", "", "To github.com:acme/app.git\n   abc1234.. main -> main\n   .. x -> x\n + ... y -> y\n"),
      BashPayload("git commit -m x", "[] x\n[main] x\n[ 1234567]\n[main zzzzzzz] x\n")};
  for (const std::string& payload : bad) {
    INFO(payload.size() << " bytes");
    CHECK(LinksFromToolUse(payload, git).empty());
  }
}

TEST_CASE("github links: real repositories — git commit and git push with github.com, another host, no origin",
          "[github_links]") {
  REQUIRE_FALSE(GitBinary().empty());
  Repo repo;
  repo.Git({"commit", "-q", "--allow-empty", "-m", "Fix the parser"});
  const std::string commit_out = repo.Git({"log", "-1", "--format=[main %h] %s"}).out;  // what `git commit` prints
  const std::string head = repo.Head();
  const GitQueries git = agent::RealGitQueries(std::chrono::seconds(20));
  const std::string payload = BashPayload("git commit -m 'Fix the parser'", commit_out, "", repo.dir);

  SECTION("no origin: nothing") { CHECK(LinksFromToolUse(payload, git).empty()); }
  SECTION("origin on another host: nothing") {
    repo.Git({"remote", "add", "origin", "https://gitlab.com/acme/app.git"});
    CHECK(LinksFromToolUse(payload, git).empty());
  }
  SECTION("origin on github.com: the full commit URL") {
    repo.Git({"remote", "add", "origin", "git@github.com:acme/app.git"});
    std::vector<GithubLink> links = LinksFromToolUse(payload, git);
    REQUIRE(links.size() == 1);
    CHECK(links[0].url == "https://github.com/acme/app/commit/" + head);
    CHECK(links[0].title == "Fix the parser");
    // git push of a new branch, its output as git prints it, run from a subdirectory via cd.
    repo.Git({"branch", "feat"});
    std::filesystem::create_directories(repo.dir + "/src");
    const std::string push_err = "To github.com:acme/app.git\n * [new branch]      feat -> feat\n";
    links = LinksFromToolUse(BashPayload("cd src && git push -u origin feat", "", push_err, repo.dir), git);
    REQUIRE(links.size() == 1);
    CHECK(links[0].url == "https://github.com/acme/app/commit/" + head);
  }
}

TEST_CASE("github links: the queue is drained into the refserver once — duplicates, a 404 session, an archive",
          "[github_links]") {
  RefServer server;
  TempDir dest;
  config::Config config;
  config.backend_url = server.url();
  config.api_key = "k1";
  uploader::SyncClientOptions options;
  options.sleep = [](std::chrono::milliseconds) {};
  auto client = uploader::SyncClient::Create(config, options);
  REQUIRE(client.ok());
  uploader::SyncSink sink(std::move(client.value()));
  uploader::SessionInfo info;
  info.external_id = "5e4d3c2b-1a09-4f8e-9d7c-6b5a4f3e2d1c";
  info.transcript_path = "/home/u/.claude/projects/p/" + info.external_id + ".jsonl";
  auto init = sink.Init(info);
  REQUIRE(init.ok());
  auto redactor = redact::Redactor::CreateDefault();
  REQUIRE(redactor.ok());
  const std::string sid = info.external_id;

  GithubLink pr;
  pr.url = "https://github.com/acme/app/pull/42";
  pr.link_type = "pull_request";
  pr.title = "Rotate ghp_8HlrwYMfvea9lkxwkkMxzwwM5hpA6eEfujfo in CI";
  GithubLink commit;
  commit.url = "https://github.com/acme/app/commit/0123456789abcdef0123456789abcdef01234567";
  commit.link_type = "commit";
  REQUIRE(agent::QueueGithubLinks(dest.path(), sid, {pr, commit, pr}).ok());
  CHECK(agent::QueuedGithubLinkCount(dest.path(), sid) == 2);

  // Not initialised yet: nothing is sent, everything stays.
  agent::LinkSendResult none = agent::SendQueuedGithubLinks(dest.path(), sid, "", sink, **redactor);
  CHECK(none.sent == 0);
  CHECK(agent::QueuedGithubLinkCount(dest.path(), sid) == 2);

  agent::LinkSendResult r = agent::SendQueuedGithubLinks(dest.path(), sid, init->session_id, sink, **redactor);
  CHECK(r.sent == 2);
  CHECK(agent::QueuedGithubLinkCount(dest.path(), sid) == 0);

  // The same links again (the hook saw the same push twice): not resent.
  REQUIRE(agent::QueueGithubLinks(dest.path(), sid, {pr, commit}).ok());
  r = agent::SendQueuedGithubLinks(dest.path(), sid, init->session_id, sink, **redactor);
  CHECK(r.sent == 0);
  CHECK(r.skipped == 2);

  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open_v2((server.dir() / "db").c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  sqlite3_stmt* q = nullptr;
  REQUIRE(sqlite3_prepare_v2(db, "SELECT url, link_type, source, COALESCE(title, '') FROM github_links ORDER BY url",
                             -1, &q, nullptr) == SQLITE_OK);
  std::vector<std::vector<std::string>> rows;
  while (sqlite3_step(q) == SQLITE_ROW) {
    rows.emplace_back();
    for (int c = 0; c < 4; ++c) rows.back().emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(q, c)));
  }
  sqlite3_finalize(q);
  sqlite3_close(db);
  REQUIRE(rows.size() == 2);
  CHECK(rows[0][0] == commit.url);
  CHECK(rows[0][1] == "commit");
  CHECK(rows[1][0] == pr.url);
  CHECK(rows[1][2] == "cli_hook");
  CHECK(rows[1][3] == "Rotate [REDACTED:github-pat] in CI");  // titles are redacted like all metadata

  // A session the backend does not know: kept for a few passes, then dropped.
  GithubLink other = pr;
  other.url = "https://github.com/acme/app/pull/43";
  REQUIRE(agent::QueueGithubLinks(dest.path(), sid, {other}).ok());
  const std::string unknown = "0b7c6f1e-1111-4222-8333-944445555666";
  size_t kept = 0, dropped = 0;
  for (int pass = 0; pass < 5; ++pass) {
    agent::LinkSendResult miss = agent::SendQueuedGithubLinks(dest.path(), sid, unknown, sink, **redactor);
    kept += miss.kept;
    dropped += miss.dropped;
  }
  CHECK(kept == 4);
  CHECK(dropped == 1);
  CHECK(agent::QueuedGithubLinkCount(dest.path(), sid) == 0);

  // The local archive keeps no links: refused, dropped at once.
  uploader::ArchiveSink archive(dest / "archive");
  REQUIRE(agent::QueueGithubLinks(dest.path(), sid, {other}).ok());
  agent::LinkSendResult refused = agent::SendQueuedGithubLinks(dest.path(), sid, "x", archive, **redactor);
  CHECK(refused.dropped == 1);
  CHECK(TotalViolations(server.port()) == 0);
}

}  // namespace tsync::testing
