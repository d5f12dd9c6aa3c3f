// GitHub links: URL and remote parsing, what PostToolUse payloads yield (with
// a fake git and with real temporary repositories) — the repository each git
// ran in included — and the queue drained into the real refserver and into a
// fake sink: duplicates, unknown sessions, a refusing archive, a drain killed
// midway, concurrent drains, transient failures and giving up, torn and
// oversized queues.
#include "agent/github_links.h"

#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "agent/github_link_queue.h"
#include "base/json.h"
#include "config/config.h"
#include "redact/redactor.h"
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

/// One repository FakeRepos knows: its origin, its commits (full hashes) and
/// its branches.
struct FakeRepo {
  std::optional<std::string> origin;
  std::vector<std::string> commits;
  std::vector<std::pair<std::string, std::string>> branches;  // {name, full hash}
};

/// A git that knows repositories by directory, as git finds them: from the
/// directory (lexically normalized) or from its .git directory.
GitQueries FakeRepos(std::map<std::string, FakeRepo> known) {
  auto repos = std::make_shared<const std::map<std::string, FakeRepo>>(std::move(known));
  auto find = [repos](const std::string& dir) -> const FakeRepo* {
    std::string d = std::filesystem::path(dir).lexically_normal().string();
    if (d.size() > 1 && d.ends_with("/")) d.pop_back();
    if (d.ends_with("/.git")) d.resize(d.size() - 5);
    auto it = repos->find(d);
    return it == repos->end() ? nullptr : &it->second;
  };
  GitQueries q;
  q.origin_url = [find](const std::string& dir) -> std::optional<std::string> {
    const FakeRepo* r = find(dir);
    return r ? r->origin : std::nullopt;
  };
  q.resolve_commit = [find](const std::string& dir, const std::string& rev) -> std::optional<std::string> {
    const FakeRepo* r = find(dir);
    if (!r) return std::nullopt;
    for (const auto& [name, hash] : r->branches) {
      if (name == rev) return hash;
    }
    for (const std::string& c : r->commits) {
      if (c.starts_with(rev)) return c;
    }
    return std::nullopt;
  };
  return q;
}

/// The URLs LinksFromToolUse finds for a Bash command run in `cwd`.
std::vector<std::string> LinkUrls(const GitQueries& git, const std::string& command, const std::string& out,
                                  const std::string& err = "", const std::string& cwd = "/w/cwd") {
  std::vector<std::string> urls;
  for (const GithubLink& l : LinksFromToolUse(BashPayload(command, out, err, cwd), git)) urls.push_back(l.url);
  return urls;
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
  ProcessResult Git(std::vector<std::string> args) const { return GitAt(dir, std::move(args)); }
  /// git in another directory of the same root (a second repository).
  ProcessResult GitAt(const std::string& at, std::vector<std::string> args) const {
    std::vector<std::string> argv = {GitBinary(), "-C", at, "-c", "user.name=T", "-c", "user.email=t@example.com"};
    argv.insert(argv.end(), args.begin(), args.end());
    ProcessResult r = RunProcess(argv, {"HOME=" + root.path(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1",
                                        "PATH=/usr/bin:/bin", "LC_ALL=C"});
    INFO("git " << args.front() << ": " << r.err);
    REQUIRE(r.exit_code == 0);
    return r;
  }
  std::string Head(const std::string& at = "") const {
    std::string out = GitAt(at.empty() ? dir : at, {"rev-parse", "HEAD"}).out;
    return out.substr(0, out.find('\n'));
  }
};

/// A backend for links alone: answers AddGithubLink with `answer` (OK when
/// none) and appends every URL it took to the file `wire`, so that sends
/// from threads and from a forked child all count.
class LinkSink : public uploader::ArchiveSink {
 public:
  LinkSink(const std::string& root, std::string wire, std::function<Status(const GithubLink&)> answer = {})
      : ArchiveSink(root), wire_(std::move(wire)), answer_(std::move(answer)) {}
  Status AddGithubLink(const std::string&, const GithubLink& link) override {
    Status st = answer_ ? answer_(link) : Status::Ok();
    if (!st.ok()) return st;
    const std::string line = link.url + "\n";
    const int fd = ::open(wire_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0) return Status::Io("test wire");
    const bool whole = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());  // one write: atomic
    ::close(fd);
    return whole ? Status::Ok() : Status::Io("test wire");
  }

 private:
  std::string wire_;
  std::function<Status(const GithubLink&)> answer_;
};

/// How often each URL reached a LinkSink's wire.
std::map<std::string, int> WireCounts(const std::string& wire) {
  std::map<std::string, int> counts;
  if (!std::filesystem::exists(wire)) return counts;
  std::istringstream in(ReadWholeFile(wire));
  for (std::string line; std::getline(in, line);) ++counts[line];
  return counts;
}

/// Pull requests first+1 … first+n of acme/app, titled with `title_bytes` letters.
std::vector<GithubLink> PullRequests(int first, int n, size_t title_bytes = 5) {
  std::vector<GithubLink> links;
  for (int i = first + 1; i <= first + n; ++i) {
    GithubLink l;
    l.url = "https://github.com/acme/app/pull/" + std::to_string(i);
    l.link_type = "pull_request";
    l.title = std::string(title_bytes, 'T');
    links.push_back(l);
  }
  return links;
}

constexpr const char* kQueueSession = "7d6c5b4a-3210-4fed-8cba-987654321000";

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

TEST_CASE("github links: a title is queued whole and cut to 500 characters only after redaction", "[github_links]") {
  auto redactor = redact::Redactor::CreateDefault();
  REQUIRE(redactor.ok());
  const std::string token = "ghp_aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5";
  // "é" is 2 bytes: 490 characters, then the token across character 500.
  std::string head;
  for (int i = 0; i < 490; ++i) head += "\u00e9";
  const std::string queued = agent::QueuedLinkTitle(head + " " + token + " in CI\n");
  CHECK(queued == head + " " + token + " in CI");  // cleaned, not cut
  const std::string sent = agent::SendableLinkTitle(**redactor, queued);
  CHECK(sent == head);  // the marker would pass 500 characters: it goes whole, never "ghp_aB3dE"
  // A marker within the limit stays whole; the cut falls after it.
  const std::string short_head(400, 't');
  const std::string with_marker = agent::SendableLinkTitle(**redactor, short_head + " " + token + " " + head);
  CHECK(with_marker.starts_with(short_head + " [REDACTED:github-pat] "));
  size_t chars = 0;
  for (unsigned char c : with_marker) chars += (c & 0xC0) != 0x80;
  CHECK(chars == 500);
  // No real title is this long: none is kept rather than a cut one, and the log says so.
  LogCapture log;
  CHECK(agent::QueuedLinkTitle(std::string(agent::kMaxQueuedTitleBytes + 1, 'x')).empty());
  CHECK(log.text().find("goes without one") != std::string::npos);
  CHECK(log.text().find("xxxx") == std::string::npos);  // sizes, never the text
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

TEST_CASE("github links: git -C, --git-dir and cd decide the repository a commit is linked to — not the cwd's",
          "[github_links]") {
  const std::string mine = "c0ffee0000000000000000000000000000000001";
  const std::string theirs = "0123456789abcdef0123456789abcdef01234567";
  const std::map<std::string, FakeRepo> repos = {
      {"/w/cwd", {"git@github.com:acme/cwd.git", {mine}, {{"feat", mine}}}},
      {"/w/other", {"https://github.com/acme/other.git", {theirs}, {{"feat", theirs}}}},
  };
  const GitQueries git = FakeRepos(repos);
  const std::string out = "[main 0123456] Fix it\n 1 file changed\n";
  const std::vector<std::string> other = {"https://github.com/acme/other/commit/" + theirs};

  for (const char* command : {
           "git -C /w/other commit -m 'Fix it'",  // was linked as acme/cwd/commit/0123456
           "git -C ../other commit -m 'Fix it'",
           "git -C /w -C other commit -m 'Fix it'",  // each -C relative to the one before
           "git -C /nowhere -C /w/other commit -am 'Fix it'",
           "git -C '' -C /w/other commit -m 'Fix it'",  // -C '' changes nothing
           "git -c user.name=x -C /w/other --no-pager commit -m 'Fix it'",
           "git --git-dir=/w/other/.git commit -m 'Fix it'",
           "git --git-dir ../other/.git commit -m 'Fix it'",
           "git -C /w --git-dir=other/.git commit -m 'Fix it'",  // --git-dir relative to where -C led
           "cd /w/other && git commit -m 'Fix it'",
           "cd .. && git -C other commit -m 'Fix it'",
           "git add -A && /usr/bin/git -C /w/other commit -m 'Fix it'",
       }) {
    INFO(command);
    CHECK(LinkUrls(git, command, out) == other);
  }
  // --work-tree changes the work tree, not the repository.
  CHECK(LinkUrls(git, "git --work-tree=/w/other commit -m x", "[main c0ffee0] x\n") ==
        std::vector<std::string>{"https://github.com/acme/cwd/commit/" + mine});
  CHECK(LinkUrls(git, "git --work-tree /w/other commit -m x", out).empty());
  // A commit line whose hash the repository does not hold is not linked (was: the cwd's repository, short hash).
  CHECK(LinkUrls(git, "git commit -m 'Fix it'", out).empty());
  // Options before the subcommand are skipped; other subcommands are no commit.
  CHECK(LinkUrls(git, "git -c commit.gpgsign=false commit -m x", "[main c0ffee0] x\n") ==
        std::vector<std::string>{"https://github.com/acme/cwd/commit/" + mine});
  CHECK(LinkUrls(git, "git -C /w/other log --oneline commit", out).empty());
  // After the subcommand, -C is commit's own option (reuse a message), no directory.
  CHECK(LinkUrls(git, "git commit --amend -C HEAD", "[main c0ffee0] x\n") ==
        std::vector<std::string>{"https://github.com/acme/cwd/commit/" + mine});
  // Two repositories in one command: each commit to its own.
  CHECK(LinkUrls(git, "git -C /w/cwd commit -m a && git -C /w/other commit -m b",
                 "[main c0ffee0] a\n[main 0123456] b\n") ==
        std::vector<std::string>{"https://github.com/acme/cwd/commit/" + mine, other[0]});
  // Push: the To line names the repository; the new branch is resolved where git ran.
  const std::string new_branch = "To github.com:acme/other.git\n * [new branch]      feat -> feat\n";
  CHECK(LinkUrls(git, "git -C /w/other push -u origin feat", "", new_branch) == other);
  CHECK(LinkUrls(git, "cd \"$REPO\" && git push -u origin feat", "", new_branch).empty());
  CHECK(LinkUrls(git, "cd \"$REPO\" && git push", "", "To github.com:acme/other.git\n   fedcba9..0123456  main -> main\n") ==
        std::vector<std::string>{"https://github.com/acme/other/commit/0123456"});
}

TEST_CASE("github links: a git whose directory cannot be known for sure links nothing rather than the cwd's repository",
          "[github_links]") {
  const std::string hash = "0123456789abcdef0123456789abcdef01234567";
  // Both repositories hold the commit: following the cwd would give a link, and a wrong one.
  const GitQueries git = FakeRepos({
      {"/w/cwd", {"git@github.com:acme/cwd.git", {hash}, {}}},
      {"/w/other", {"git@github.com:acme/other.git", {hash}, {}}},
  });
  const std::string out = "[main 0123456] x\n";
  CHECK(LinkUrls(git, "git commit -m x", out) == std::vector<std::string>{"https://github.com/acme/cwd/commit/" + hash});
  for (const char* command : {
           "cd \"$REPO\" && git commit -m x",
           "cd ~/other && git commit -m x",
           "cd && git commit -m x",
           "(cd /w/other && git commit -m x)",
           "git -C $REPO commit -m x",
           "git -C ~/other commit -m x",
           "git -C \"$(pwd)/x\" commit -m x",
           "git --git-dir=\"$D\" commit -m x",
           "GIT_DIR=/w/other/.git git commit -m x",
           "export GIT_DIR=/w/other/.git; git commit -m x",
           "for d in a b; do cd $d; git commit -m x; done",
           "if cd /w/other; then git commit -m x; fi",
           "pushd /w/other && popd && git commit -m x",
           "git -C /w/cwd commit -m a && git -C /w/other commit -m b",  // both hold it: which one?
       }) {
    INFO(command);
    CHECK(LinkUrls(git, command, out).empty());
  }
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

TEST_CASE("github links: real repositories — git -C and --git-dir link the commit of the repository git ran in",
          "[github_links]") {
  REQUIRE_FALSE(GitBinary().empty());
  Repo repo;
  repo.Git({"remote", "add", "origin", "git@github.com:acme/app.git"});
  repo.Git({"commit", "-q", "--allow-empty", "-m", "In app"});
  const std::string other = repo.root / "other";
  std::filesystem::create_directories(other);
  repo.GitAt(other, {"init", "-q", "-b", "main"});
  repo.GitAt(other, {"remote", "add", "origin", "https://github.com/acme/other.git"});
  repo.GitAt(other, {"commit", "-q", "--allow-empty", "-m", "In other"});
  const std::string line = repo.GitAt(other, {"log", "-1", "--format=[main %h] %s"}).out;
  const std::string want = "https://github.com/acme/other/commit/" + repo.Head(other);
  const GitQueries git = agent::RealGitQueries(std::chrono::seconds(20));
  for (const std::string& command : {"git -C " + other + " commit -m 'In other'", std::string("git -C ../other commit -m x"),
                                     std::string("git --git-dir=../other/.git commit -m x")}) {
    INFO(command);
    std::vector<GithubLink> links = LinksFromToolUse(BashPayload(command, line, "", repo.dir), git);
    REQUIRE(links.size() == 1);
    CHECK(links[0].url == want);
    CHECK(links[0].title == "In other");
  }
  // The same output from a plain `git commit` in app: app holds no such commit.
  CHECK(LinksFromToolUse(BashPayload("git commit -m x", line, "", repo.dir), git).empty());
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

TEST_CASE("github link queue: a drain killed mid-send loses no link, and the next one sends each once",
          "[github_links]") {
  TempDir dest;
  const std::string wire = dest / "wire";
  auto redactor = redact::Redactor::CreateDefault();
  REQUIRE(redactor.ok());
  const std::vector<GithubLink> links = PullRequests(0, 3);
  REQUIRE(agent::QueueGithubLinks(dest.path(), kQueueSession, links).ok());

  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    // Killed while the second link is on the wire: the first was sent and recorded, the queue not yet rewritten.
    LinkSink sink(dest / "archive-child", wire, [&](const GithubLink& l) {
      if (l.url == links[1].url) ::raise(SIGKILL);
      return Status::Ok();
    });
    agent::SendQueuedGithubLinks(dest.path(), kQueueSession, "srv-1", sink, **redactor);
    ::_exit(0);
  }
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  REQUIRE(WIFSIGNALED(status));
  CHECK(WireCounts(wire) == std::map<std::string, int>{{links[0].url, 1}});
  CHECK(agent::QueuedGithubLinkCount(dest.path(), kQueueSession) == 3);  // nothing left the queue

  LinkSink sink(dest / "archive", wire);
  const agent::LinkSendResult r = agent::SendQueuedGithubLinks(dest.path(), kQueueSession, "srv-1", sink, **redactor);
  CHECK(r.sent == 2);
  CHECK(r.skipped == 1);  // the sent record says the first one is on the backend
  CHECK(agent::QueuedGithubLinkCount(dest.path(), kQueueSession) == 0);
  CHECK(WireCounts(wire) == std::map<std::string, int>{{links[0].url, 1}, {links[1].url, 1}, {links[2].url, 1}});
}

TEST_CASE("github link queue: two drains at once while the hook queues more — every link sent once, none left",
          "[github_links]") {
  TempDir dest;
  const std::string wire = dest / "wire";
  auto redactor = redact::Redactor::CreateDefault();
  REQUIRE(redactor.ok());
  REQUIRE(agent::QueueGithubLinks(dest.path(), kQueueSession, PullRequests(0, 30)).ok());
  std::atomic<size_t> sent{0};
  auto drainer = [&](const std::string& name) {
    LinkSink sink(dest / name, wire, [](const GithubLink&) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));  // widen the window between read and rewrite
      return Status::Ok();
    });
    for (int pass = 0; pass < 4; ++pass) {
      sent += agent::SendQueuedGithubLinks(dest.path(), kQueueSession, "srv-1", sink, **redactor).sent;
    }
  };
  std::thread watcher(drainer, "a"), save(drainer, "b");
  std::atomic<int> queued{0};
  std::thread hook([&] {
    for (int i = 30; i < 60; ++i) {
      if (agent::QueueGithubLinks(dest.path(), kQueueSession, PullRequests(i, 1)).ok()) ++queued;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  });
  hook.join();
  watcher.join();
  save.join();
  CHECK(queued == 30);
  LinkSink last(dest / "c", wire);
  sent += agent::SendQueuedGithubLinks(dest.path(), kQueueSession, "srv-1", last, **redactor).sent;

  const std::map<std::string, int> counts = WireCounts(wire);
  CHECK(counts.size() == 60);
  for (const auto& [url, n] : counts) {
    INFO(url);
    CHECK(n == 1);
  }
  CHECK(sent == 60);
  CHECK(agent::QueuedGithubLinkCount(dest.path(), kQueueSession) == 0);
}

TEST_CASE("github link queue: an unreachable backend keeps the links, which reach the refserver later, once",
          "[github_links]") {
  RefServer server;
  TempDir dest;
  uploader::SyncClientOptions options;
  options.sleep = [](std::chrono::milliseconds) {};
  config::Config config;
  config.api_key = "k1";
  config.backend_url = "http://127.0.0.1:1";  // nothing listens
  auto down_client = uploader::SyncClient::Create(config, options);
  REQUIRE(down_client.ok());
  uploader::SyncSink down(std::move(down_client.value()));
  config.backend_url = server.url();
  auto client = uploader::SyncClient::Create(config, options);
  REQUIRE(client.ok());
  uploader::SyncSink sink(std::move(client.value()));
  uploader::SessionInfo info;
  info.external_id = kQueueSession;
  info.transcript_path = "/home/u/.claude/projects/p/" + info.external_id + ".jsonl";
  auto init = sink.Init(info);
  REQUIRE(init.ok());
  auto redactor = redact::Redactor::CreateDefault();
  REQUIRE(redactor.ok());
  const std::vector<GithubLink> links = PullRequests(0, 2);
  REQUIRE(agent::QueueGithubLinks(dest.path(), kQueueSession, links).ok());

  for (int pass = 0; pass < 3; ++pass) {
    const agent::LinkSendResult r = agent::SendQueuedGithubLinks(dest.path(), kQueueSession, init->session_id, down,
                                                                 **redactor);
    CHECK(r.sent == 0);
    CHECK(r.kept == 2);  // the first failed, the second waits behind it
    CHECK(r.dropped == 0);
  }
  CHECK(agent::QueuedGithubLinkCount(dest.path(), kQueueSession) == 2);

  const agent::LinkSendResult r = agent::SendQueuedGithubLinks(dest.path(), kQueueSession, init->session_id, sink,
                                                               **redactor);
  CHECK(r.sent == 2);
  CHECK(agent::QueuedGithubLinkCount(dest.path(), kQueueSession) == 0);
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open_v2((server.dir() / "db").c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  sqlite3_stmt* q = nullptr;
  REQUIRE(sqlite3_prepare_v2(db, "SELECT url FROM github_links ORDER BY url", -1, &q, nullptr) == SQLITE_OK);
  std::vector<std::string> urls;
  while (sqlite3_step(q) == SQLITE_ROW) urls.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(q, 0)));
  sqlite3_finalize(q);
  sqlite3_close(db);
  CHECK(urls == std::vector<std::string>{links[0].url, links[1].url});
  CHECK(TotalViolations(server.port()) == 0);
}

TEST_CASE("github link queue: a link the backend keeps failing with 503 is given up after 50 tries, with a warning",
          "[github_links]") {
  TempDir dest;
  const std::string wire = dest / "wire";
  auto redactor = redact::Redactor::CreateDefault();
  REQUIRE(redactor.ok());
  GithubLink pr = PullRequests(0, 1).front();
  pr.title = "Secret plans";
  REQUIRE(agent::QueueGithubLinks(dest.path(), kQueueSession, {pr}).ok());
  LinkSink sink(dest / "archive", wire, [](const GithubLink&) { return Status::Transient("HTTP 503"); });
  LogCapture log;
  size_t kept = 0;
  for (int pass = 1; pass < 50; ++pass) kept += agent::SendQueuedGithubLinks(dest.path(), kQueueSession, "srv-1", sink,
                                                                             **redactor).kept;
  CHECK(kept == 49);
  CHECK(agent::QueuedGithubLinkCount(dest.path(), kQueueSession) == 1);
  CHECK(log.text().empty());
  const agent::LinkSendResult last = agent::SendQueuedGithubLinks(dest.path(), kQueueSession, "srv-1", sink, **redactor);
  CHECK(last.dropped == 1);
  CHECK(agent::QueuedGithubLinkCount(dest.path(), kQueueSession) == 0);
  const std::string logged = log.text();
  INFO(logged);
  CHECK(logged.find("a GitHub pull_request link was dropped after 50 tries") != std::string::npos);
  CHECK(logged.find("tsync link") != std::string::npos);  // what to do
  CHECK(logged.find("github.com") == std::string::npos);  // never the URL
  CHECK(logged.find("Secret") == std::string::npos);      // nor the title
  CHECK(WireCounts(wire).empty());
}

TEST_CASE("github link queue: a torn record and a queue over 4 MiB — every link after them is sent, the torn one logged",
          "[github_links]") {
  TempDir dest;
  const std::string wire = dest / "wire";
  const std::string queue = agent::GithubLinkDir(dest.path()) + "/" + kQueueSession + ".jsonl";
  auto redactor = redact::Redactor::CreateDefault();
  REQUIRE(redactor.ok());
  LinkSink sink(dest / "archive", wire);
  LogCapture log;

  SECTION("a writer died mid-record: the next record still starts on a line of its own") {
    WriteFile(queue, R"({"url":"https://github.com/acme/app/pull/1","ti)", 0600);
    const std::vector<GithubLink> next = PullRequests(1, 1);
    REQUIRE(agent::QueueGithubLinks(dest.path(), kQueueSession, next).ok());
    const agent::LinkSendResult r = agent::SendQueuedGithubLinks(dest.path(), kQueueSession, "srv-1", sink, **redactor);
    CHECK(r.sent == 1);
    CHECK(WireCounts(wire) == std::map<std::string, int>{{next[0].url, 1}});
    CHECK(log.text().find("1 unreadable line(s) in the GitHub link queue") != std::string::npos);
  }
  SECTION("5 MiB of links are all sent (they were cut at 4 MiB), and a record over 4 MiB is skipped") {
    // ~3 KiB a record: two rounds of reading.
    REQUIRE(agent::QueueGithubLinks(dest.path(), kQueueSession, PullRequests(0, 1700, 3000)).ok());
    AppendFile(queue, std::string(5 << 20, 'x') + "\n");
    REQUIRE(agent::QueueGithubLinks(dest.path(), kQueueSession, PullRequests(1700, 10)).ok());
    REQUIRE(std::filesystem::file_size(queue) > (9u << 20));
    const agent::LinkSendResult r = agent::SendQueuedGithubLinks(dest.path(), kQueueSession, "srv-1", sink, **redactor);
    CHECK(r.sent == 1710);
    const std::map<std::string, int> counts = WireCounts(wire);
    CHECK(counts.size() == 1710);
    CHECK(std::all_of(counts.begin(), counts.end(), [](const auto& c) { return c.second == 1; }));
    CHECK(agent::QueuedGithubLinkCount(dest.path(), kQueueSession) == 0);
    CHECK(std::filesystem::file_size(queue) == 0);
    CHECK(log.text().find("1 unreadable line(s)") != std::string::npos);
  }
}

}  // namespace tsync::testing
