#include "agent/git_info.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdlib>
#include <ctime>
#include <map>
#include <memory>
#include <mutex>
#include <optional>

#include "base/json.h"
#include "base/utf8.h"
#include "redact/redactor.h"

extern char** environ;

namespace tsync::agent {

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// Status output is headers first, then one line per changed path: past the headers, more output
// only repeats "dirty", so a huge dirty tree is cut here (and git killed) rather than read whole.
constexpr size_t kStatusOutputLimit = 64 * 1024;
constexpr size_t kRemoteOutputLimit = 1024 * 1024;
constexpr size_t kMaxRefBytes = 2048;  // branch and commit; no protocol limit, kept in line with URLs
// After SIGKILL a process in uninterruptible sleep (a hung network mount) cannot die; do not
// let it hold the caller past this.
constexpr milliseconds kReapGrace{1000};

// Variables that would point git at a repository other than DIR, or that we set ourselves,
// and tsync's own API key: git needs none of it, and git runs programs a repository's config
// names (filters, hooks, helpers), so the key would reach them.
constexpr std::array<std::string_view, 12> kDroppedEnv = {
    "GIT_DIR",         "GIT_WORK_TREE",        "GIT_INDEX_FILE",
    "GIT_COMMON_DIR",  "GIT_OBJECT_DIRECTORY", "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_NAMESPACE",   "GIT_PREFIX",           "GIT_TERMINAL_PROMPT",
    "GIT_OPTIONAL_LOCKS", "LC_ALL",            "TSYNC_API_KEY",
};

std::vector<std::string> GitEnvironment() {
  std::vector<std::string> env;
  for (char** e = environ; e && *e; ++e) {
    std::string_view entry(*e);
    std::string_view name = entry.substr(0, entry.find('='));
    if (std::find(kDroppedEnv.begin(), kDroppedEnv.end(), name) == kDroppedEnv.end()) env.emplace_back(entry);
  }
  env.emplace_back("GIT_TERMINAL_PROMPT=0");
  env.emplace_back("GIT_OPTIONAL_LOCKS=0");
  env.emplace_back("LC_ALL=C");
  return env;
}

bool IsExecutableFile(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

// Resolved in the parent (execvp's search, done before fork) so the child only calls execve
// and "git is not installed" is told apart from a failing git.
Result<std::string> ResolveGit(const std::string& git) {
  if (git.find('/') != std::string::npos) {
    if (IsExecutableFile(git)) return git;
    return Status::NotFound("git is not installed: " + git + " is not an executable file");
  }
  const char* path_env = std::getenv("PATH");
  std::string_view path = path_env ? path_env : "/usr/local/bin:/usr/bin:/bin";
  while (true) {
    size_t colon = path.find(':');
    std::string dir(path.substr(0, colon));
    std::string candidate = (dir.empty() ? "." : dir) + "/" + git;
    if (IsExecutableFile(candidate)) return candidate;
    if (colon == std::string_view::npos) break;
    path.remove_prefix(colon + 1);
  }
  return Status::NotFound("git is not installed (no executable '" + git + "' on PATH)");
}

class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() { Reset(); }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  void Reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_;
};

/// A running git child in its own process group. Until it is reaped, destruction kills the
/// whole group (git may have started helpers) and reaps it.
class Child {
 public:
  explicit Child(pid_t pid) : pid_(pid) {}
  ~Child() { Kill(); }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  /// Non-blocking: true once the child has exited (and is reaped).
  bool Exited() {
    if (reaped_) return true;
    int status = 0;
    pid_t r;
    do {
      r = ::waitpid(pid_, &status, WNOHANG);
    } while (r < 0 && errno == EINTR);
    if (r == pid_) {
      reaped_ = true;
      exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    } else if (r < 0) {
      reaped_ = true;  // ECHILD: someone else reaped it (SIGCHLD ignored); status unknown
    }
    return reaped_;
  }

  /// Polls for exit until `deadline`; false when it is still running then.
  bool WaitUntil(Clock::time_point deadline) {
    auto nap = std::chrono::microseconds(200);
    while (!Exited()) {
      if (Clock::now() >= deadline) return false;
      struct timespec ts = {0, static_cast<long>(std::chrono::nanoseconds(nap).count())};
      ::nanosleep(&ts, nullptr);
      nap = std::min(nap * 2, std::chrono::microseconds(5000));
    }
    return true;
  }

  void Kill() {
    if (reaped_) return;
    ::kill(-pid_, SIGKILL);
    ::kill(pid_, SIGKILL);  // in case git left its process group
    if (!WaitUntil(Clock::now() + kReapGrace)) {
      spdlog::warn("git: process {} did not exit after SIGKILL; left unreaped", pid_);
      reaped_ = true;
    }
  }

  std::optional<int> exit_code() const { return exit_code_; }

 private:
  pid_t pid_;
  bool reaped_ = false;
  std::optional<int> exit_code_;
};

struct Invocation {
  std::string dir;
  std::string git_path;
  std::vector<std::string> env;
  Clock::time_point deadline;
  milliseconds timeout;
};

struct GitOutput {
  std::string out;
  bool truncated = false;  // stopped at the limit; git was killed
  std::optional<int> exit_code;
};

enum class Overflow { kTruncate, kFail };

Status TimedOut(const Invocation& inv) {
  return Status::Transient("git timed out after " + std::to_string(inv.timeout.count()) + " ms (in " + inv.dir +
                           ")");
}

// Starts `git <args>` with posix_spawn rather than fork: glibc clones with CLONE_VM|CLONE_VFORK,
// so tsync's address space (its page tables, with a redactor loaded) is not copied for each of
// the two git runs of a session. The child gets its own process group (so the deadline can kill
// git and its helpers), /dev/null as stdin and stderr, `out_fd` as stdout, and no other fds.
Result<pid_t> Spawn(const Invocation& inv, const std::vector<std::string>& args, int out_fd, int null_fd) {
  std::vector<char*> argv, envp;
  argv.push_back(const_cast<char*>(inv.git_path.c_str()));
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  for (const auto& e : inv.env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);

  // Move both fds above 2 first: either could itself be 0, 1 or 2 when tsync runs with a
  // standard stream closed, and a dup2 onto one would clobber the other.
  Fd out(::fcntl(out_fd, F_DUPFD_CLOEXEC, 3)), nul(::fcntl(null_fd, F_DUPFD_CLOEXEC, 3));
  if (out.get() < 0 || nul.get() < 0) return Status::Errno("git: dup", errno);

  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  if (int e = ::posix_spawn_file_actions_init(&actions); e != 0) return Status::Errno("git: spawn", e);
  if (int e = ::posix_spawnattr_init(&attr); e != 0) {
    ::posix_spawn_file_actions_destroy(&actions);
    return Status::Errno("git: spawn", e);
  }
  int err = ::posix_spawn_file_actions_adddup2(&actions, nul.get(), 0);
  if (err == 0) err = ::posix_spawn_file_actions_adddup2(&actions, out.get(), 1);
  if (err == 0) err = ::posix_spawn_file_actions_adddup2(&actions, nul.get(), 2);
  // fds another thread opened without O_CLOEXEC.
  if (err == 0) err = ::posix_spawn_file_actions_addclosefrom_np(&actions, 3);
  if (err == 0) err = ::posix_spawnattr_setpgroup(&attr, 0);
  if (err == 0) err = ::posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
  pid_t pid = -1;
  if (err == 0) err = ::posix_spawn(&pid, inv.git_path.c_str(), &actions, &attr, argv.data(), envp.data());
  ::posix_spawnattr_destroy(&attr);
  ::posix_spawn_file_actions_destroy(&actions);
  if (err != 0) return Status::Errno("git: spawn " + inv.git_path, err);
  return pid;
}

// Runs git with stdout captured (at most `limit` bytes) before the invocation's deadline.
Result<GitOutput> RunGit(const Invocation& inv, const std::vector<std::string>& args, size_t limit,
                         Overflow overflow) {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) return Status::Errno("git: pipe", errno);
  Fd read_end(p[0]), write_end(p[1]);
  Fd null_fd(::open("/dev/null", O_RDWR | O_CLOEXEC));
  if (null_fd.get() < 0) return Status::Errno("git: open /dev/null", errno);
  Result<pid_t> pid = Spawn(inv, args, write_end.get(), null_fd.get());
  if (!pid.ok()) return pid.status();
  Child child(*pid);
  write_end.Reset();  // so EOF arrives when git (and its helpers) close stdout
  ::fcntl(read_end.get(), F_SETFL, O_NONBLOCK);

  GitOutput result;
  std::array<char, 16384> buf;
  bool eof = false, child_gone = false;
  while (!eof) {
    auto left = std::chrono::ceil<milliseconds>(inv.deadline - Clock::now());
    if (left.count() <= 0) return TimedOut(inv);
    // Wake at least every 50 ms: a helper git left behind may hold the pipe open after git
    // itself exited, and then no EOF comes.
    struct pollfd pfd = {read_end.get(), POLLIN, 0};
    int ready = ::poll(&pfd, 1, static_cast<int>(std::min<int64_t>(left.count(), 50)));
    if (ready < 0 && errno != EINTR) return Status::Errno("git: poll", errno);
    if (ready == 0) {
      if (!child.Exited()) continue;
      child_gone = true;  // one last read pass drains what it wrote, then stop
    }
    while (true) {
      ssize_t n = ::read(read_end.get(), buf.data(), buf.size());
      if (n > 0) {
        result.out.append(buf.data(), std::min(static_cast<size_t>(n), limit + 1 - result.out.size()));
        if (result.out.size() > limit) {
          if (overflow == Overflow::kFail) {
            return Status::Io("git output exceeded " + std::to_string(limit) + " bytes (in " + inv.dir + ")");
          }
          result.out.resize(limit);
          result.truncated = true;
          return result;  // ~Child kills and reaps git
        }
      } else if (n == 0) {
        eof = true;
        break;
      } else if (errno != EINTR) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) break;
        return Status::Errno("git: read", errno);
      }
    }
    if (child_gone && !eof) break;
  }
  if (!child.WaitUntil(inv.deadline)) return TimedOut(inv);
  result.exit_code = child.exit_code();
  return result;
}

std::vector<std::string_view> Lines(std::string_view text) {
  std::vector<std::string_view> lines;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    lines.push_back(text.substr(0, nl));
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
  return lines;
}

// `git status --porcelain=v2 --branch`: "# branch.oid <hex>|(initial)",
// "# branch.head <name>|(detached)", other "# " headers, then one line per changed path.
void ParseStatus(std::string_view out, GitInfo* info) {
  for (std::string_view line : Lines(out)) {
    if (line.starts_with("# branch.oid ")) {
      std::string_view oid = line.substr(13);
      if (oid != "(initial)") info->commit = oid;
    } else if (line.starts_with("# branch.head ")) {
      std::string_view head = line.substr(14);
      if (head != "(detached)") info->branch = head;
    } else if (!line.empty() && line[0] != '#') {
      info->dirty = true;
    }
  }
}

// `git remote -v`: "<name>\t<url> (fetch)" and "<name>\t<url> (push)". A remote with several
// URLs lists each; the first of each kind is kept.
void ParseRemotes(std::string_view out, GitInfo* info) {
  size_t dropped = 0;
  for (std::string_view line : Lines(out)) {
    size_t tab = line.find('\t');
    if (tab == 0 || tab == std::string_view::npos) continue;
    std::string_view name = line.substr(0, tab), rest = line.substr(tab + 1);
    bool fetch = rest.ends_with(" (fetch)");
    if (!fetch && !rest.ends_with(" (push)")) continue;
    std::string_view url = rest.substr(0, rest.size() - (fetch ? 8 : 7));
    if (url.empty()) continue;
    auto it = std::find_if(info->remotes.begin(), info->remotes.end(),
                           [&](const GitRemote& r) { return r.name == name; });
    if (it == info->remotes.end()) {
      if (info->remotes.size() >= kMaxGitRemotes) {
        ++dropped;
        continue;
      }
      it = info->remotes.insert(info->remotes.end(), GitRemote{std::string(name), "", ""});
    }
    std::string& slot = fetch ? it->fetch_url : it->push_url;
    if (slot.empty()) slot = StripUrlCredentials(url);
  }
  if (dropped > 0) spdlog::debug("git: {} remote URL lines beyond {} remotes ignored", dropped, kMaxGitRemotes);
}

std::string ValidUtf8(std::string_view s) {
  if (IsValidUtf8(s)) return std::string(s);
  std::string out;
  AppendRepairedUtf8(&out, s);
  return out;
}

}  // namespace

Result<GitInfo> ReadGitInfo(const std::string& dir, milliseconds timeout, const std::string& git) {
  Result<std::string> git_path = ResolveGit(git);
  if (!git_path.ok()) return git_path.status();
  Invocation inv{dir, *git_path, GitEnvironment(), Clock::now() + timeout, timeout};

  Result<GitOutput> status = RunGit(inv,
                                    {"-C", dir, "-c", "core.fsmonitor=false", "status", "--porcelain=v2",
                                     "--branch", "--untracked-files=no", "--ignore-submodules=dirty", "--no-renames"},
                                    kStatusOutputLimit, Overflow::kTruncate);
  if (!status.ok()) return status.status();
  if (!status->truncated && status->exit_code != 0) {
    if (status->exit_code == 128) {
      return Status::NotFound("not a git repository (or git refused it): " + dir);
    }
    return Status::Io("git status exited with " +
                      (status->exit_code ? std::to_string(*status->exit_code) : std::string("unknown status")) +
                      " in " + dir);
  }
  GitInfo info;
  ParseStatus(status->out, &info);

  Result<GitOutput> remotes = RunGit(inv, {"-C", dir, "remote", "-v"}, kRemoteOutputLimit, Overflow::kFail);
  if (!remotes.ok()) return remotes.status();
  if (remotes->exit_code != 0) {
    return Status::Io("git remote -v exited with " +
                      (remotes->exit_code ? std::to_string(*remotes->exit_code) : std::string("unknown status")) +
                      " in " + dir);
  }
  ParseRemotes(remotes->out, &info);
  return info;
}

Result<GitInfo> ReadGitInfoShared(const std::string& dir, milliseconds timeout) {
  struct Entry {
    std::once_flag once;
    std::optional<Result<GitInfo>> info;
  };
  static std::mutex mu;
  static std::map<std::string, std::shared_ptr<Entry>>* entries = new std::map<std::string, std::shared_ptr<Entry>>;
  std::shared_ptr<Entry> e;
  {
    std::lock_guard<std::mutex> lock(mu);
    std::shared_ptr<Entry>& slot = (*entries)[dir];
    if (!slot) slot = std::make_shared<Entry>();
    e = slot;
  }
  std::call_once(e->once, [&] { e->info.emplace(ReadGitInfo(dir, timeout)); });
  return *e->info;
}

Result<std::string> RunGitQuery(const std::string& dir, const std::vector<std::string>& args, milliseconds timeout,
                                const std::string& git) {
  Result<std::string> git_path = ResolveGit(git);
  if (!git_path.ok()) return git_path.status();
  Invocation inv{dir, *git_path, GitEnvironment(), Clock::now() + timeout, timeout};
  std::vector<std::string> argv = {"-C", dir};
  argv.insert(argv.end(), args.begin(), args.end());
  Result<GitOutput> out = RunGit(inv, argv, kStatusOutputLimit, Overflow::kFail);
  if (!out.ok()) return out.status();
  if (out->exit_code != 0) {
    return Status::NotFound("git " + (args.empty() ? std::string() : args[0]) + " exited with " +
                            (out->exit_code ? std::to_string(*out->exit_code) : std::string("unknown status")) +
                            " in " + dir);
  }
  return std::move(out->out);
}

std::string StripUrlCredentials(std::string_view url) {
  if (url.find("://") != std::string_view::npos) return redact::StripUrlUserinfo(url);
  // scp-like [user@]host:path. A ':' before the '@' (and no '/') can only be a password.
  size_t at = url.find('@');
  if (at != std::string_view::npos) {
    std::string_view user = url.substr(0, at);
    if (user.find(':') != std::string_view::npos && user.find('/') == std::string_view::npos) {
      return std::string(url.substr(at + 1));
    }
  }
  return std::string(url);
}

std::string EncodeGitInfo(const GitInfo& info) {
  JsonWriter w;
  w.BeginObject();
  std::string branch = ValidUtf8(info.branch), commit = ValidUtf8(info.commit);
  if (!branch.empty() && branch.size() <= kMaxRefBytes) w.Key("branch").String(branch);
  if (!commit.empty() && commit.size() <= kMaxRefBytes) w.Key("commit").String(commit);
  w.Key("dirty").Bool(info.dirty);

  constexpr std::string_view kRemotesFrame = R"(,"remotes":[]})";
  size_t used = w.str().size() + kRemotesFrame.size();
  std::vector<std::string> encoded;
  for (const GitRemote& r : info.remotes) {
    if (encoded.size() == kMaxGitRemotes) break;
    std::string name = ValidUtf8(r.name);
    std::string fetch = StripUrlCredentials(ValidUtf8(r.fetch_url));
    std::string push = StripUrlCredentials(ValidUtf8(r.push_url));
    if (fetch.size() > kMaxGitUrlBytes) fetch.clear();
    if (push.size() > kMaxGitUrlBytes) push.clear();
    if (name.empty() || name.size() > kMaxGitUrlBytes || (fetch.empty() && push.empty())) continue;
    JsonWriter rw;
    rw.BeginObject().Key("name").String(name);
    if (!fetch.empty()) rw.Key("fetch_url").String(fetch);
    if (!push.empty()) rw.Key("push_url").String(push);
    rw.EndObject();
    if (used + rw.str().size() + 1 > kMaxGitInfoJsonBytes) break;
    used += rw.str().size() + 1;
    encoded.push_back(rw.Take());
  }
  if (!encoded.empty()) {
    w.Key("remotes").BeginArray();
    for (const std::string& e : encoded) w.Raw(e);
    w.EndArray();
  }
  w.EndObject();
  return w.Take();
}

}  // namespace tsync::agent
