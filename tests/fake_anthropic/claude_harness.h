// Running the real Claude Code CLI headless in a test, against
// tsync-fake-anthropic on loopback (README.md beside this file says what the
// CLI does and why each flag and variable is here).
//
//   ClaudeSandbox box;                        // HOME, CLAUDE_CONFIG_DIR, cwd, TMPDIR
//   FakeAnthropic api(box.root / "requests.jsonl");
//   ClaudeResult r = box.Run(ClaudeBinary(), {"-p", "hello", "--output-format", "json"}, api.url());
//
// Header-only so that a test file can include it without a CMake change; it
// relies on tests/test_util.h (TempDir, WriteFile) and Catch2, i.e. on being
// built into tsync_tests, which defines TSYNC_FAKE_ANTHROPIC (the server's
// path) and gets TSYNC_CLAUDE_BIN from the environment.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "tests/test_util.h"
#include "tracker/session_tracker.h"

namespace tsync::testing {

/// The claude executable named by $TSYNC_CLAUDE_BIN (CI sets it from
/// scripts/install-claude-code's last line), or "" when unset or not
/// executable.
inline std::string ClaudeBinary() {
  const char* bin = std::getenv("TSYNC_CLAUDE_BIN");
  if (bin == nullptr || *bin == '\0' || ::access(bin, X_OK) != 0) return "";
  return bin;
}

/// TSYNC_REQUIRE_CLAUDE=1: a missing claude binary is a failure, not a skip.
inline bool ClaudeRequired() {
  const char* v = std::getenv("TSYNC_REQUIRE_CLAUDE");
  return v != nullptr && std::string(v) == "1";
}

/// tsync-fake-anthropic as a child process on a free 127.0.0.1 port, stopped
/// (SIGTERM) on destruction.
class FakeAnthropic {
 public:
  /// `log`: the request log (--log); `script`: "" for the default script.
  explicit FakeAnthropic(const std::string& log, const std::string& script = "") {
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    std::vector<std::string> args = {TSYNC_FAKE_ANTHROPIC, "--port", "0", "--log", log};
    if (!script.empty()) args.insert(args.end(), {"--script", script});
    pid_ = ::fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      ::dup2(fds[1], STDOUT_FILENO);
      ::close(fds[0]);
      ::close(fds[1]);
      std::vector<char*> argv;
      for (std::string& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    ::close(fds[1]);
    std::string line = FirstLine(fds[0]);
    ::close(fds[0]);
    const std::string prefix = "listening on 127.0.0.1:";
    REQUIRE(line.rfind(prefix, 0) == 0);
    port_ = std::stoi(line.substr(prefix.size()));
  }
  ~FakeAnthropic() {
    ::kill(pid_, SIGTERM);
    ::waitpid(pid_, nullptr, 0);
  }
  FakeAnthropic(const FakeAnthropic&) = delete;
  FakeAnthropic& operator=(const FakeAnthropic&) = delete;

  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  /// The child's first stdout line, waiting at most 10 s.
  static std::string FirstLine(int fd) {
    std::string line;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    char c;
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      if (::read(fd, &c, 1) != 1 || c == '\n') break;
      line += c;
    }
    return line;
  }

  pid_t pid_ = -1;
  int port_ = 0;
};

struct ClaudeResult {
  int exit_code = -1;  // 128 + signal when killed by one
  bool timed_out = false;
  double seconds = 0;
  std::string out;
  std::string err;
};

/// A private world for one Claude Code run: its HOME, CLAUDE_CONFIG_DIR
/// (HOME/.claude), the project directory it runs in, and TMPDIR (Claude
/// Code keeps task output under $TMPDIR/claude-<uid>/).
struct ClaudeSandbox {
  TempDir root;
  std::string home = root / "home";
  std::string config_dir = home + "/.claude";
  std::string project = root / "project";
  std::string tmp = root / "tmp";

  ClaudeSandbox() {
    for (const std::string& d : {config_dir, project, tmp}) std::filesystem::create_directories(d);
  }

  /// Where Claude Code keeps this project's sessions (TRANSCRIPTS.md).
  std::string ProjectsDir() const { return config_dir + "/projects/" + tracker::ProjectDirName(project); }

  /// The variables a headless run needs, and nothing from the caller's
  /// environment but PATH: a developer may run the tests inside a Claude Code
  /// session, whose CLAUDE_* and ANTHROPIC_* variables must not leak in.
  std::vector<std::string> Env(const std::string& base_url) const {
    const char* path = std::getenv("PATH");
    return {"PATH=" + std::string(path ? path : "/usr/bin:/bin"),
            "HOME=" + home,
            "TMPDIR=" + tmp,
            "CLAUDE_CONFIG_DIR=" + config_dir,
            "ANTHROPIC_BASE_URL=" + base_url,
            "ANTHROPIC_API_KEY=sk-ant-api03-tsync-e2e-dummy-key",
            "DISABLE_AUTOUPDATER=1",
            "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1",  // no /api/hello probe, no outside DNS
            "DISABLE_TELEMETRY=1",
            "DISABLE_ERROR_REPORTING=1"};
  }

  /// Runs `claude args...` in `project` with Env(base_url) plus `extra_env`,
  /// stdin from /dev/null, killing it (and its process group) after
  /// `timeout_s` seconds.
  ClaudeResult Run(const std::string& claude, const std::vector<std::string>& args, const std::string& base_url,
                   const std::vector<std::string>& extra_env = {}, int timeout_s = 120) const {
    std::vector<std::string> argv = {claude};
    argv.insert(argv.end(), args.begin(), args.end());
    std::vector<std::string> env = Env(base_url);
    env.insert(env.end(), extra_env.begin(), extra_env.end());
    const std::string out_path = root / "claude.stdout", err_path = root / "claude.stderr";
    auto start = std::chrono::steady_clock::now();
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      ::setpgid(0, 0);
      int in = ::open("/dev/null", O_RDONLY);
      int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      if (in < 0 || out < 0 || err < 0 || ::chdir(project.c_str()) != 0) ::_exit(126);
      ::dup2(in, STDIN_FILENO);
      ::dup2(out, STDOUT_FILENO);
      ::dup2(err, STDERR_FILENO);
      std::vector<char*> a, e;
      for (std::string& s : argv) a.push_back(s.data());
      a.push_back(nullptr);
      for (std::string& s : env) e.push_back(s.data());
      e.push_back(nullptr);
      ::execve(a[0], a.data(), e.data());
      ::_exit(127);
    }
    ClaudeResult r;
    int status = 0;
    const auto deadline = start + std::chrono::seconds(timeout_s);
    while (::waitpid(pid, &status, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() > deadline) {
        r.timed_out = true;
        ::kill(-pid, SIGKILL);
        ::waitpid(pid, &status, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    r.out = ReadWholeFile(out_path);
    r.err = ReadWholeFile(err_path);
    return r;
  }
};

}  // namespace tsync::testing
