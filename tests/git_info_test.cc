#include "agent/git_info.h"

#include <signal.h>
#include <simdjson.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "tests/test_util.h"

using namespace std::chrono_literals;
using tsync::Status;
using tsync::agent::EncodeGitInfo;
using tsync::agent::GitInfo;
using tsync::agent::GitRemote;
using tsync::agent::ReadGitInfo;
using tsync::agent::ReadGitInfoShared;
using tsync::agent::StripUrlCredentials;
using tsync::testing::RunProcess;
using tsync::testing::TempDir;
using tsync::testing::WriteFile;

namespace {

constexpr auto kTimeout = 20s;  // generous: a loaded CI machine, not a timing assertion

std::string GitBinary() {
  for (const char* p : {"/usr/bin/git", "/usr/local/bin/git", "/bin/git"}) {
    if (::access(p, X_OK) == 0) return p;
  }
  return "";
}

/// Sets an environment variable for one test (ReadGitInfo inherits the environment) and puts
/// the old value back.
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

/// The user's and the system's git configuration must not change what the tests see (an
/// insteadOf rule would rewrite remote URLs), and discovery must stop at the temp directory.
struct IsolatedGit {
  explicit IsolatedGit(const TempDir& root)
      : global("GIT_CONFIG_GLOBAL", "/dev/null"),
        nosystem("GIT_CONFIG_NOSYSTEM", "1"),
        ceiling("GIT_CEILING_DIRECTORIES", root.path()) {}
  ScopedEnv global, nosystem, ceiling;
};

/// Runs the real git for fixture setup; fails the test when it fails.
std::string Git(const TempDir& home, const std::string& repo, std::vector<std::string> args) {
  std::vector<std::string> argv = {GitBinary(), "-C", repo};
  argv.insert(argv.end(), args.begin(), args.end());
  auto r = RunProcess(argv, {"HOME=" + home.path(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1",
                             "PATH=/usr/bin:/bin", "LC_ALL=C"});
  INFO("git " << args.front() << ": " << r.err);
  REQUIRE(r.exit_code == 0);
  return r.out;
}

std::string InitRepo(const TempDir& tmp, const std::string& name, const std::string& branch = "main") {
  std::string repo = tmp / name;
  WriteFile(repo + "/README", "hello\n");
  Git(tmp, repo, {"init", "-q", "-b", branch});
  Git(tmp, repo, {"config", "user.name", "Test"});
  Git(tmp, repo, {"config", "user.email", "test@example.com"});
  return repo;
}

void Commit(const TempDir& tmp, const std::string& repo) {
  Git(tmp, repo, {"add", "-A"});
  Git(tmp, repo, {"commit", "-q", "-m", "commit"});
}

const GitRemote* FindRemote(const GitInfo& info, const std::string& name) {
  for (const auto& r : info.remotes) {
    if (r.name == name) return &r;
  }
  return nullptr;
}

// Size of the array at `key` of a JSON object, or -1 when there is none.
long ArraySize(const std::string& json, const char* key) {
  simdjson::dom::parser parser;
  simdjson::dom::array array;
  if (parser.parse(json).at_key(key).get(array) != simdjson::SUCCESS) return -1;
  return static_cast<long>(array.size());
}

std::string FakeGit(const TempDir& tmp, const std::string& name, const std::string& script) {
  std::string path = tmp / name;
  WriteFile(path, "#!/bin/sh\n" + script, 0755);
  return path;
}

}  // namespace

TEST_CASE("git_info: ReadGitInfo on a real repository — branch, commit, dirty, remotes with credentials stripped",
          "[git_info]") {
  if (GitBinary().empty()) {
    WARN("git is not installed: skipped");
    return;
  }
  TempDir tmp;
  IsolatedGit isolated(tmp);
  std::string repo = InitRepo(tmp, "repo");
  Commit(tmp, repo);
  Git(tmp, repo, {"checkout", "-q", "-b", "feature/x"});
  Git(tmp, repo, {"remote", "add", "origin", "https://user:s3cr3t@example.com/r.git"});
  Git(tmp, repo, {"remote", "add", "upstream", "git@github.com:o/r.git"});
  Git(tmp, repo, {"remote", "set-url", "--push", "upstream", "https://t0ken-s3cr3t@example.com/p.git"});
  WriteFile(repo + "/README", "changed\n");  // the index's stat data for README is now stale
  std::string head = Git(tmp, repo, {"rev-parse", "HEAD"});
  head.erase(head.find_last_not_of('\n') + 1);
  struct stat index_before;
  REQUIRE(::stat((repo + "/.git/index").c_str(), &index_before) == 0);

  auto info = ReadGitInfo(repo, kTimeout);
  INFO(info.status().ToString());
  REQUIRE(info.ok());
  CHECK(info->branch == "feature/x");
  CHECK(info->commit == head);
  CHECK(info->commit.size() == 40);
  CHECK(info->dirty);
  REQUIRE(info->remotes.size() == 2);
  const GitRemote* origin = FindRemote(*info, "origin");
  const GitRemote* upstream = FindRemote(*info, "upstream");
  REQUIRE(origin);
  REQUIRE(upstream);
  CHECK(origin->fetch_url == "https://example.com/r.git");
  CHECK(origin->push_url == "https://example.com/r.git");
  CHECK(upstream->fetch_url == "git@github.com:o/r.git");
  CHECK(upstream->push_url == "https://example.com/p.git");

  std::string json = EncodeGitInfo(*info);
  CHECK(json.find("s3cr3t") == std::string::npos);
  CHECK(json.find("user:") == std::string::npos);
  CHECK(json.find(R"({"branch":"feature/x","commit":")" + head + R"(","dirty":true,"remotes":[)") == 0);
  CHECK(ArraySize(json, "remotes") == 2);

  // GIT_OPTIONAL_LOCKS=0: a plain `git status` would have rewritten the stale index (new inode
  // via index.lock); the probe must not write next to the user's own git.
  struct stat index_after;
  REQUIRE(::stat((repo + "/.git/index").c_str(), &index_after) == 0);
  CHECK(index_after.st_ino == index_before.st_ino);
  CHECK(index_after.st_mtim.tv_sec == index_before.st_mtim.tv_sec);
  CHECK(index_after.st_mtim.tv_nsec == index_before.st_mtim.tv_nsec);
}

TEST_CASE("git_info: ReadGitInfo — clean tree, untracked files, detached HEAD and an unborn branch", "[git_info]") {
  if (GitBinary().empty()) {
    WARN("git is not installed: skipped");
    return;
  }
  TempDir tmp;
  IsolatedGit isolated(tmp);

  std::string empty = InitRepo(tmp, "empty", "trunk");  // README exists but nothing is committed
  auto unborn = ReadGitInfo(empty, kTimeout);
  REQUIRE(unborn.ok());
  CHECK(unborn->branch == "trunk");
  CHECK(unborn->commit.empty());
  CHECK_FALSE(unborn->dirty);  // untracked files do not count
  CHECK(unborn->remotes.empty());
  CHECK(EncodeGitInfo(*unborn) == R"({"branch":"trunk","dirty":false})");

  std::string repo = InitRepo(tmp, "repo");
  Commit(tmp, repo);
  auto clean = ReadGitInfo(repo, kTimeout);
  REQUIRE(clean.ok());
  CHECK(clean->branch == "main");
  CHECK_FALSE(clean->dirty);

  WriteFile(repo + "/untracked.txt", "x\n");
  CHECK_FALSE(ReadGitInfo(repo, kTimeout)->dirty);

  WriteFile(repo + "/staged.txt", "x\n");
  Git(tmp, repo, {"add", "staged.txt"});
  CHECK(ReadGitInfo(repo, kTimeout)->dirty);

  Git(tmp, repo, {"checkout", "-q", "--detach"});
  auto detached = ReadGitInfo(repo + "/", kTimeout);
  REQUIRE(detached.ok());
  CHECK(detached->branch.empty());
  CHECK(detached->commit.size() == 40);

  WriteFile(repo + "/sub/dir/file", "x\n");
  auto from_subdir = ReadGitInfo(repo + "/sub/dir", kTimeout);
  REQUIRE(from_subdir.ok());
  CHECK(from_subdir->commit == detached->commit);
}

TEST_CASE("git_info: ReadGitInfo outside a repository or without git — kNotFound", "[git_info]") {
  TempDir tmp;
  IsolatedGit isolated(tmp);
  WriteFile(tmp / "plain/file", "x");
  if (!GitBinary().empty()) {
    auto plain = ReadGitInfo(tmp / "plain", kTimeout);
    REQUIRE_FALSE(plain.ok());
    CHECK(plain.status().kind() == Status::Kind::kNotFound);
    CHECK(plain.status().message().find("not a git repository") != std::string::npos);

    auto missing = ReadGitInfo(tmp / "does-not-exist", kTimeout);
    REQUIRE_FALSE(missing.ok());
    CHECK(missing.status().kind() == Status::Kind::kNotFound);
  }

  auto no_binary = ReadGitInfo(tmp / "plain", kTimeout, tmp / "bin/git");
  REQUIRE_FALSE(no_binary.ok());
  CHECK(no_binary.status().kind() == Status::Kind::kNotFound);
  CHECK(no_binary.status().message().find("git is not installed") != std::string::npos);

  auto not_on_path = ReadGitInfo(tmp / "plain", kTimeout, "tsync-test-no-such-git");
  REQUIRE_FALSE(not_on_path.ok());
  CHECK(not_on_path.status().kind() == Status::Kind::kNotFound);
  CHECK(not_on_path.status().message().find("not installed") != std::string::npos);
}

TEST_CASE("git_info: ReadGitInfo kills a hung git at the deadline — kTransient long before it would finish",
          "[git_info]") {
  TempDir tmp;
  // The shell records its pid and that of a helper it started, then waits 10 s.
  std::string fake = FakeGit(tmp, "hung-git",
                             "echo $$ > '" + tmp / "pid" + "'\n"
                             "sleep 10 &\n"
                             "echo $! > '" + tmp / "helper-pid" + "'\n"
                             "wait\n");
  auto start = std::chrono::steady_clock::now();
  auto result = ReadGitInfo(tmp.path(), 200ms, fake);
  auto elapsed = std::chrono::steady_clock::now() - start;

  REQUIRE_FALSE(result.ok());
  CHECK(result.status().kind() == Status::Kind::kTransient);
  CHECK(result.status().message().find("git timed out after 200 ms") == 0);
  CHECK(elapsed < 5s);

  // The child was reaped and its process group killed: neither process is still running (the
  // helper is reparented, so it may linger briefly as a zombie of init).
  for (const char* file : {"pid", "helper-pid"}) {
    std::ifstream in(tmp / file);
    pid_t pid = 0;
    REQUIRE(in >> pid);
    bool gone = false;
    for (int i = 0; i < 200 && !gone; ++i) {
      std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
      std::string line;
      gone = !std::getline(stat, line) || line.find(") Z ") != std::string::npos;
      if (!gone) std::this_thread::sleep_for(10ms);
    }
    INFO(file << " " << pid);
    CHECK(gone);
  }
}

TEST_CASE("git_info: ReadGitInfo output limits — a huge status means dirty, a huge remote list is an error",
          "[git_info]") {
  TempDir tmp;
  const std::string status_header =
      "printf '# branch.oid 0123456789abcdef0123456789abcdef01234567\\n# branch.head main\\n'\n";
  const std::string huge_status =
      "yes '1 .M N... 100644 100644 100644 0123456 0123456 some/changed/file' | head -c 5000000\n";
  const std::string one_remote = "printf 'origin\\thttps://u:p4ss@example.com/r.git (fetch)\\n'\n";
  const std::string huge_remotes = "yes 'origin\thttps://example.com/r.git (fetch)' | head -c 5000000\n";

  std::string big_status = FakeGit(tmp, "big-status-git",
                                   "case \"$*\" in\n *status*) " + status_header + huge_status +
                                       " ;;\n *remote*) " + one_remote + " ;;\nesac\n");
  auto start = std::chrono::steady_clock::now();
  auto dirty = ReadGitInfo(tmp.path(), kTimeout, big_status);
  INFO(dirty.status().ToString());
  REQUIRE(dirty.ok());
  CHECK(std::chrono::steady_clock::now() - start < 5s);
  CHECK(dirty->dirty);
  CHECK(dirty->branch == "main");
  CHECK(dirty->commit == "0123456789abcdef0123456789abcdef01234567");
  REQUIRE(dirty->remotes.size() == 1);
  CHECK(dirty->remotes[0].fetch_url == "https://example.com/r.git");
  CHECK(dirty->remotes[0].push_url.empty());

  std::string big_remotes = FakeGit(tmp, "big-remote-git",
                                    "case \"$*\" in\n *status*) " + status_header + " ;;\n *remote*) " +
                                        huge_remotes + " ;;\nesac\n");
  auto refused = ReadGitInfo(tmp.path(), kTimeout, big_remotes);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.status().kind() == Status::Kind::kIo);
  CHECK(refused.status().message().find("exceeded") != std::string::npos);

  std::string failing = FakeGit(tmp, "failing-git", "exit 3\n");
  auto failed = ReadGitInfo(tmp.path(), kTimeout, failing);
  REQUIRE_FALSE(failed.ok());
  CHECK(failed.status().kind() == Status::Kind::kIo);
}

TEST_CASE("git_info: StripUrlCredentials — userinfo of URLs removed, scp-like and plain URLs kept", "[git_info]") {
  CHECK(StripUrlCredentials("https://user:s3cr3t@example.com/r.git") == "https://example.com/r.git");
  CHECK(StripUrlCredentials("https://ghp_token@github.com/o/r") == "https://github.com/o/r");
  CHECK(StripUrlCredentials("http://a:b@127.0.0.1:8080/r.git") == "http://127.0.0.1:8080/r.git");
  CHECK(StripUrlCredentials("https://user:p@ss@host/r") == "https://host/r");  // unencoded '@' in password
  CHECK(StripUrlCredentials("https://github.com/o/r.git") == "https://github.com/o/r.git");
  CHECK(StripUrlCredentials("https://host/path@v1/r.git") == "https://host/path@v1/r.git");
  CHECK(StripUrlCredentials("ssh://git@host:2222/o/r.git") == "ssh://host:2222/o/r.git");
  CHECK(StripUrlCredentials("git@github.com:o/r.git") == "git@github.com:o/r.git");
  CHECK(StripUrlCredentials("github.com:o/r.git") == "github.com:o/r.git");
  CHECK(StripUrlCredentials("user:pw@host:o/r.git") == "host:o/r.git");
  CHECK(StripUrlCredentials("/srv/git/a@b:c.git") == "/srv/git/a@b:c.git");
  CHECK(StripUrlCredentials("file:///srv/x@y/r.git") == "file:///srv/x@y/r.git");
  CHECK(StripUrlCredentials("") == "");
}

TEST_CASE("git_info: EncodeGitInfo — empty fields omitted, remote limits enforced, UTF-8 repaired", "[git_info]") {
  CHECK(EncodeGitInfo(GitInfo{}) == R"({"dirty":false})");

  GitInfo info;
  info.branch = "feat/\xff";
  info.commit = "abc";
  info.dirty = true;
  info.remotes = {
      {"origin", "https://u:tok@example.com/r.git", ""},
      {"", "https://example.com/nameless.git", ""},
      {"too-long", "https://example.com/" + std::string(2100, 'a'), ""},
      {"push-only", "https://example.com/" + std::string(2100, 'a'), "git@h:o/r.git"},
      {"no-urls", "", ""},
  };
  std::string json = EncodeGitInfo(info);
  CHECK(json == R"({"branch":"feat/)" "\xEF\xBF\xBD" R"(","commit":"abc","dirty":true,"remotes":[)"
                R"({"name":"origin","fetch_url":"https://example.com/r.git"},)"
                R"({"name":"push-only","push_url":"git@h:o/r.git"}]})");

  SECTION("at most 50 remotes") {
    GitInfo many;
    for (int i = 0; i < 60; ++i) {
      many.remotes.push_back({"r" + std::to_string(i), "https://h/" + std::to_string(i), ""});
    }
    CHECK(ArraySize(EncodeGitInfo(many), "remotes") == 50);
  }
  SECTION("the whole object stays within its byte budget") {
    GitInfo huge;
    huge.branch = "main";
    for (int i = 0; i < 50; ++i) {
      std::string url = "https://h/" + std::string(2030, 'x') + std::to_string(i);
      huge.remotes.push_back({"r" + std::to_string(i), url, url + "p"});
    }
    std::string encoded = EncodeGitInfo(huge);
    CHECK(encoded.size() <= tsync::agent::kMaxGitInfoJsonBytes);
    long kept = ArraySize(encoded, "remotes");
    CHECK(kept > 10);
    CHECK(kept < 50);
  }
}

TEST_CASE("git_info: ReadGitInfoShared asks git once per directory — later callers get the first answer",
          "[git_info]") {
  REQUIRE_FALSE(GitBinary().empty());  // scripts/install-deps installs git
  TempDir tmp;
  IsolatedGit isolated(tmp);
  std::string repo = InitRepo(tmp, "repo");
  Commit(tmp, repo);
  auto first = ReadGitInfoShared(repo, std::chrono::seconds(10));
  REQUIRE(first.ok());
  CHECK(first->branch == "main");
  Git(tmp, repo, {"checkout", "-q", "-b", "moved-on"});
  // git itself sees the new branch; the shared answer is the first one.
  auto fresh = ReadGitInfo(repo, std::chrono::seconds(10));
  REQUIRE(fresh.ok());
  CHECK(fresh->branch == "moved-on");
  auto again = ReadGitInfoShared(repo, std::chrono::seconds(10));
  REQUIRE(again.ok());
  CHECK(again->branch == "main");
  CHECK(again->commit == first->commit);
  // Another directory is asked on its own.
  std::string other = InitRepo(tmp, "other", "trunk");
  Commit(tmp, other);
  auto separate = ReadGitInfoShared(other, std::chrono::seconds(10));
  REQUIRE(separate.ok());
  CHECK(separate->branch == "trunk");
}
