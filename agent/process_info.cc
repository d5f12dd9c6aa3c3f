#include "agent/process_info.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "base/fs.h"

namespace tsync::agent {
namespace {

/// A /proc file (its size reads as 0, so base/fs.h ReadFile does not fit);
/// at most `cap` bytes. nullopt when it cannot be opened.
std::optional<std::string> ReadProcFile(const std::string& path, size_t cap) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return std::nullopt;
  std::string out;
  char buf[4096];
  while (out.size() < cap) {
    const ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  if (out.size() > cap) out.resize(cap);
  return out;
}

struct StatFields {
  char state = '?';
  pid_t ppid = 0;
  bool exiting = false;  // PF_EXITING: past exit(), its memory gone, not yet a zombie
  uint64_t start_time = 0;
  std::string comm;
};

/// /proc/<pid>/stat: "pid (comm) state ppid …" — comm may hold spaces and
/// parentheses, so fields are counted from the last ')'.
std::optional<StatFields> ParseStat(std::string_view stat) {
  const size_t open = stat.find('('), close = stat.rfind(')');
  if (open == std::string::npos || close == std::string::npos || close < open) return std::nullopt;
  StatFields f;
  f.comm = std::string(stat.substr(open + 1, close - open - 1));
  // Fields after comm, numbered from 3 (state).
  std::vector<std::string_view> fields;
  std::string_view rest = stat.substr(close + 1);
  while (!rest.empty()) {
    const size_t start = rest.find_first_not_of(' ');
    if (start == std::string_view::npos) break;
    rest.remove_prefix(start);
    const size_t end = rest.find(' ');
    fields.push_back(rest.substr(0, end));
    if (end == std::string_view::npos) break;
    rest.remove_prefix(end);
  }
  if (fields.size() < 20) return std::nullopt;  // start time is field 22: index 19 here
  f.state = fields[0].empty() ? '?' : fields[0][0];
  f.ppid = static_cast<pid_t>(std::strtol(std::string(fields[1]).c_str(), nullptr, 10));
  constexpr unsigned long kPfExiting = 0x4;  // include/linux/sched.h
  f.exiting = (std::strtoul(std::string(fields[6]).c_str(), nullptr, 10) & kPfExiting) != 0;  // field 9
  f.start_time = std::strtoull(std::string(fields[19]).c_str(), nullptr, 10);
  return f;
}

std::optional<StatFields> ReadStat(pid_t pid) {
  std::optional<std::string> text = ReadProcFile("/proc/" + std::to_string(pid) + "/stat", 4096);
  if (!text) return std::nullopt;
  return ParseStat(*text);
}

std::string BaseName(std::string_view path) {
  const size_t slash = path.rfind('/');
  return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

/// argv of `pid`, from /proc/<pid>/cmdline (empty when unreadable).
std::vector<std::string> CommandLine(pid_t pid) {
  std::vector<std::string> args;
  std::optional<std::string> text = ReadProcFile("/proc/" + std::to_string(pid) + "/cmdline", 64 * 1024);
  if (!text) return args;
  size_t start = 0;
  while (start < text->size()) {
    size_t end = text->find('\0', start);
    if (end == std::string::npos) end = text->size();
    args.push_back(text->substr(start, end - start));
    start = end + 1;
  }
  return args;
}

/// The npm package's native binary is bin/claude.exe (2.1.x), reached
/// through a `claude` symlink — or run by its own path.
bool ClaudeName(std::string_view name) { return name == "claude" || name == "claude.exe"; }

bool IsClaude(pid_t pid, const StatFields& stat) {
  if (ClaudeName(stat.comm)) return true;
  std::error_code ec;
  const std::string exe = std::filesystem::read_symlink("/proc/" + std::to_string(pid) + "/exe", ec).string();
  if (!ec && ClaudeName(BaseName(exe))) return true;
  const std::vector<std::string> args = CommandLine(pid);
  if (args.empty()) return false;
  if (ClaudeName(BaseName(args[0]))) return true;
  // The npm package's JavaScript entry point run by node.
  const std::string prog = BaseName(args[0]);
  if (prog == "node" || prog == "nodejs") {
    for (size_t i = 1; i < args.size() && i < 4; ++i) {
      if (args[i].find("claude-code") != std::string::npos || BaseName(args[i]) == "claude") return true;
    }
  }
  return false;
}

// Names of environment variables a detached child keeps.
constexpr std::array<std::string_view, 21> kKeptVariables = {
    "HOME",       "USER",           "LOGNAME",          "PATH",          "LANG",        "TZ",
    "TMPDIR",     "CLAUDE_CONFIG_DIR", "TSYNC_CONFIG",  "TSYNC_BACKEND_URL", "TSYNC_STATE_DIR",
    "SSL_CERT_FILE", "SSL_CERT_DIR", "CURL_CA_BUNDLE", "http_proxy",    "https_proxy", "no_proxy",
    "HTTP_PROXY", "HTTPS_PROXY",    "NO_PROXY",         "NO_COLOR"};

bool Kept(std::string_view name) {
  if (name.starts_with("XDG_") || name.starts_with("LC_")) return true;
  for (std::string_view k : kKeptVariables) {
    if (name == k) return true;
  }
  return false;
}

}  // namespace

std::optional<uint64_t> LiveStartTime(std::string_view stat) {
  std::optional<StatFields> f = ParseStat(stat);
  if (!f || f->state == 'Z' || f->state == 'X' || f->exiting) return std::nullopt;
  return f->start_time;
}

std::optional<uint64_t> ProcessStartTime(pid_t pid) {
  if (pid <= 0) return std::nullopt;
  std::optional<std::string> text = ReadProcFile("/proc/" + std::to_string(pid) + "/stat", 4096);
  if (!text) return std::nullopt;
  return LiveStartTime(*text);
}

bool ProcessAlive(const ProcessId& id) {
  std::optional<uint64_t> start = ProcessStartTime(id.pid);
  return start && *start == id.start_time;
}

ProcessId SelfProcess() {
  ProcessId id;
  id.pid = ::getpid();
  id.start_time = ProcessStartTime(id.pid).value_or(0);
  return id;
}

std::optional<ProcessId> FindClaudeAncestor(pid_t from) {
  pid_t pid = from > 0 ? from : ::getppid();
  for (int generation = 0; generation < 8 && pid > 1; ++generation) {
    std::optional<StatFields> stat = ReadStat(pid);
    if (!stat) return std::nullopt;
    if (IsClaude(pid, *stat)) return ProcessId{pid, stat->start_time};
    pid = stat->ppid;
  }
  return std::nullopt;
}

std::vector<std::string> ChildEnvironment(char** environ_in) {
  std::vector<std::string> env;
  for (char** e = environ_in; e != nullptr && *e != nullptr; ++e) {
    std::string_view entry(*e);
    const size_t eq = entry.find('=');
    if (eq != std::string_view::npos && Kept(entry.substr(0, eq))) env.emplace_back(entry);
  }
  return env;
}

Result<std::string> SelfExecutable() {
  std::error_code ec;
  std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return Status::Io("cannot find tsync's own executable (/proc/self/exe): " + ec.message());
  return exe.string();
}

Status SpawnDetached(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                     std::string_view stdin_data) {
  if (argv.empty() || !argv[0].starts_with("/")) return Status::InvalidInput("SpawnDetached needs an absolute path");
  // Everything the children use is prepared before fork().
  std::vector<char*> args, envp;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  for (const std::string& e : env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  if (stdin_data.size() > 60 * 1024) return Status::InvalidInput("stdin data for a detached child over 60 KiB");
  int pipe_fds[2] = {-1, -1};
  if (!stdin_data.empty() && ::pipe2(pipe_fds, O_CLOEXEC) != 0) return Status::Errno("pipe", errno);

  const pid_t child = ::fork();
  if (child < 0) {
    const int err = errno;
    if (pipe_fds[0] >= 0) ::close(pipe_fds[0]), ::close(pipe_fds[1]);
    return Status::Errno("fork", err);
  }
  if (child == 0) {
    // Intermediate: new session, fork the real child, leave at once so the
    // child is reparented and can never become our zombie.
    ::setsid();
    const pid_t grandchild = ::fork();
    if (grandchild != 0) ::_exit(grandchild < 0 ? 1 : 0);
    const int null_fd = ::open("/dev/null", O_RDWR);
    ::dup2(pipe_fds[0] >= 0 ? pipe_fds[0] : null_fd, 0);
    ::dup2(null_fd, 1);
    ::dup2(null_fd, 2);
    ::close_range(3, ~0u, 0);
    ::signal(SIGPIPE, SIG_DFL);
    ::execve(args[0], args.data(), envp.data());
    ::_exit(127);
  }
  if (pipe_fds[0] >= 0) {
    ::close(pipe_fds[0]);
    // Fits the pipe buffer: the write completes without a reader.
    Status st = WriteAll(pipe_fds[1], stdin_data, "pipe to the detached child");
    ::close(pipe_fds[1]);
    if (!st.ok()) return st;
  }
  int status = 0;
  while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return Status::Io("could not start " + argv[0] + " detached");
  return Status::Ok();
}

}  // namespace tsync::agent
