// The progress line (agent/progress.h) and the log file (agent/logging.h):
// the renderer on its own, then the real `tsync save` with stderr on a
// pseudo-terminal (bar drawn, colour unless NO_COLOR) and on a file (no bar).
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "agent/progress.h"
#include "tests/samples_home.h"
#include "tests/test_util.h"

namespace tsync::testing {
namespace {

using agent::ProgressSnapshot;
using agent::RenderProgress;

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

bool HasControlBytes(const std::string& s) {
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7f) return true;
  }
  return false;
}

/// Runs `argv` with stderr on a new pseudo-terminal and stdout on a file;
/// returns (exit code, everything written to the terminal).
std::pair<int, std::string> RunWithTerminalStderr(const std::vector<std::string>& argv,
                                                  const std::vector<std::string>& env) {
  int master = -1, slave = -1;
  winsize ws{};
  ws.ws_col = 100;
  ws.ws_row = 24;
  REQUIRE(::openpty(&master, &slave, nullptr, nullptr, &ws) == 0);
  TempDir io;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, (io / "stdout").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_adddup2(&actions, slave, 2);
  posix_spawn_file_actions_addclose(&actions, master);
  const pid_t pid = SpawnProcess(argv, env, &actions);
  posix_spawn_file_actions_destroy(&actions);
  ::close(slave);
  // Read until the child closes its end (EIO on Linux once no slave is open).
  std::string text;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(master, buf, sizeof buf);
    if (n > 0) {
      text.append(buf, static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    break;
  }
  ::close(master);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return {WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), text};
}

std::vector<std::string> SaveArgv(const SamplesHome& fx) {
  return {TSYNC_BINARY, "save", "--all", "--to", fx.home / "archive"};
}

std::vector<std::string> HomeEnv(const SamplesHome& fx, std::vector<std::string> extra = {}) {
  extra.push_back("HOME=" + fx.home.path());
  extra.push_back("PATH=/usr/bin:/bin");
  extra.push_back("CLAUDE_CONFIG_DIR=" + fx.claude);
  extra.push_back("TERM=xterm");
  return extra;
}

}  // namespace

TEST_CASE("progress — the line shows sessions, bytes, rate and ETA within the width", "[progress]") {
  ProgressSnapshot p;
  p.sessions_done = 3;
  p.sessions_total = 10;
  p.bytes_done = 50u << 20;
  p.bytes_total = 100u << 20;
  p.elapsed_seconds = 10;
  const std::string line = RenderProgress(p, 100, false);
  CHECK(line.size() <= 100);
  CHECK_FALSE(HasControlBytes(line));
  CHECK(Contains(line, "3/10 sessions  50.0 MiB / 100.0 MiB  5.0 MiB/s  ETA 10s"));
  // Half done: the bar is half filled.
  const size_t open = line.find('['), close = line.find(']');
  REQUIRE(close != std::string::npos);
  const std::string bar = line.substr(open + 1, close - open - 1);
  CHECK(std::count(bar.begin(), bar.end(), '#') == static_cast<long>(bar.size() / 2));

  // Colour wraps only the filled part; nothing else changes.
  const std::string colored = RenderProgress(p, 100, true);
  CHECK(Contains(colored, "\x1b[32m#"));
  CHECK(Contains(colored, "#\x1b[0m."));

  // No rate yet: no ETA. Narrow: the bar goes, the text is cut to fit.
  p.elapsed_seconds = 0;
  CHECK(Contains(RenderProgress(p, 100, false), "ETA --"));
  const std::string narrow = RenderProgress(p, 30, false);
  CHECK(narrow.size() == 30);
  CHECK(narrow.find('[') == std::string::npos);

  // More done than estimated: the total follows, never a negative ETA.
  p.elapsed_seconds = 1;
  p.bytes_done = 200u << 20;
  CHECK(Contains(RenderProgress(p, 120, false), "200.0 MiB / 200.0 MiB  200.0 MiB/s  ETA 0s"));
}

TEST_CASE("progress — save draws a bar on a terminal, plainly with NO_COLOR, and none on a file", "[progress]") {
  {
    SamplesHome fx;
    auto [code, tty] = RunWithTerminalStderr(SaveArgv(fx), HomeEnv(fx));
    INFO(tty);
    CHECK(code == 0);
    CHECK(Contains(tty, "\r["));
    CHECK(Contains(tty, "2/2 sessions"));
    CHECK(Contains(tty, "\x1b[32m"));
  }
  {
    SamplesHome fx;
    auto [code, tty] = RunWithTerminalStderr(SaveArgv(fx), HomeEnv(fx, {"NO_COLOR=1"}));
    INFO(tty);
    CHECK(code == 0);
    CHECK(Contains(tty, "2/2 sessions"));
    CHECK_FALSE(Contains(tty, "\x1b"));
  }
  {
    SamplesHome fx;
    ProcessResult plain = fx.Run({"save", "--all", "--to", fx.home / "archive"});
    CHECK(plain.exit_code == 0);
    CHECK_FALSE(Contains(plain.err, "\r"));
    CHECK_FALSE(Contains(plain.err, "sessions  "));
  }
}

TEST_CASE("logging — a run leaves a private rotating log file with its summary, never payload", "[progress]") {
  SamplesHome fx;
  ProcessResult r = fx.Run({"save", "--all", "--to", fx.home / "archive"});
  REQUIRE(r.exit_code == 0);
  const std::string logs = fx.home / ".local/state/tsync/logs";
  const std::string log = logs + "/tsync.log";
  struct stat st;
  REQUIRE(::stat(log.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  REQUIRE(::stat(logs.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0700);
  const std::string text = ReadWholeFile(log);
  CHECK(Contains(text, "] info: save: 2 session(s) to " + fx.home.path() + "/archive: "));
  // The default terminal level is warn: the summary is in the file only.
  CHECK_FALSE(Contains(r.err, "save: 2 session(s)"));
  // No line of the transcripts reaches the log.
  CHECK_FALSE(Contains(text, "\"type\""));

  // An explicit level brings info back to the terminal.
  ProcessResult loud = fx.Run({"--log-level", "info", "save", "--all", "--to", fx.home / "archive"});
  CHECK(Contains(loud.err, "info: save: 2 session(s)"));

  // A state dir that cannot hold logs is a warning, not a failure.
  SamplesHome locked;
  WriteFile(locked.home / ".local/state/tsync/logs", "not a directory");
  ProcessResult still = locked.Run({"save", "--all", "--to", locked.home / "archive"});
  CHECK(still.exit_code == 0);
  CHECK(Contains(still.err, "warning: cannot open the log file " + locked.home.path() + "/.local/state/tsync/logs/tsync.log"));
}

}  // namespace tsync::testing
