// What the crash, fault and file-event matrices share (crash_matrix_test.cc,
// fault_soak_test.cc, file_events_test.cc):
//  1) ProofHome: a private HOME for the real `tsync` binary, pointed at a
//     backend, and the tsync processes it started (hooks start detached
//     watchers and `sync --pending`, so they are found by their HOME);
//  2) SessionReplay: a generated session (testdata/session_generator.h)
//     written into the live projects directory a random slice at a time, cut
//     at any byte — so files grow while they are synced and most of the time
//     end in the middle of a line;
//  3) the proof by read-back (PROTOCOL.md "What nothing lost means"): every
//     file the backend holds, compared with the complete lines of the local
//     file — none missing, none doubled, none extra, each byte-identical
//     except inside [REDACTED:<rule>] markers — or, while files still grow, a
//     prefix of them (so a fragment of an unterminated line, a duplicate or
//     a gap shows up at the moment it is stored).
// Header-only so the three test files share it without a build change.
// Thread-safety: SessionReplay is single-owner (one writer thread).
#pragma once

#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "agent/verify_command.h"
#include "agent/watcher_registry.h"
#include "config/config.h"
#include "testdata/session_generator.h"
#include "tests/refserver_process.h"
#include "tests/test_util.h"
#include "uploader/sync_client.h"
#include "uploader/sync_sink.h"

namespace tsync::testing::proof {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

/// A count from the environment (e.g. TSYNC_CRASH_POINTS), or `fallback`.
inline uint64_t EnvCount(const char* name, uint64_t fallback) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return fallback;
  return std::strtoull(v, nullptr, 10);
}

/// The seed from `name`, or a fresh one; printed by the caller so a failure
/// can be replayed.
inline uint64_t EnvSeed(const char* name) {
  const char* v = std::getenv(name);
  if (v != nullptr && *v != '\0') return std::strtoull(v, nullptr, 10);
  std::random_device rd;
  return (static_cast<uint64_t>(rd()) << 32) ^ rd();
}

/// A loopback port nothing listens on right now (a backend that is "down",
/// or one started later on this port).
inline int FreePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    if (fd >= 0) ::close(fd);
    throw std::runtime_error("cannot find a free port");
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

/// Polls `done` every 20 ms for up to `limit`; true once it holds.
inline bool WaitUntil(const std::function<bool()>& done, milliseconds limit) {
  const auto until = Clock::now() + limit;
  while (Clock::now() < until) {
    if (done()) return true;
    std::this_thread::sleep_for(milliseconds(20));
  }
  return done();
}

/// The last `n` lines of a text file ("" when it cannot be read).
inline std::string Tail(const std::string& path, size_t n) {
  const std::string text = ReadWholeFile(path);
  size_t at = text.size();
  for (size_t i = 0; i <= n && at > 0; ++i) {
    const size_t nl = text.rfind('\n', at - 1);
    if (nl == std::string::npos) return text;
    at = nl;
  }
  return text.substr(at);
}

/// A private HOME for the real tsync binary: Claude dir, state dir, backend.
struct ProofHome {
  TempDir home;
  std::string claude = home / ".claude";
  std::string projects = claude + "/projects";
  std::string state = home / ".local/state/tsync";
  std::string backend_url;
  std::string stderr_log = home / "tsync-stderr.log";  // stderr of processes started with Spawn

  ProofHome() { std::filesystem::create_directories(projects); }
  ~ProofHome() { KillAll(); }
  ProofHome(const ProofHome&) = delete;
  ProofHome& operator=(const ProofHome&) = delete;

  std::vector<std::string> Env() const {
    return {"HOME=" + home.path(), "PATH=/usr/bin:/bin", "CLAUDE_CONFIG_DIR=" + claude,
            "TSYNC_BACKEND_URL=" + backend_url, "TSYNC_API_KEY=k1"};
  }
  std::string LogPath() const { return state + "/logs/tsync.log"; }

  /// `tsync args…`, waited for.
  ProcessResult Run(std::vector<std::string> args, std::vector<std::string> prefix = {}) const {
    args.insert(args.begin(), TSYNC_BINARY);
    args.insert(args.begin(), prefix.begin(), prefix.end());
    return RunProcess(args, Env());
  }

  /// `tsync args…` started, not waited for: stdin and stdout /dev/null,
  /// stderr appended to stderr_log.
  pid_t Spawn(std::vector<std::string> args) const {
    args.insert(args.begin(), TSYNC_BINARY);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 2, stderr_log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    const pid_t pid = SpawnProcess(args, Env(), &actions);
    posix_spawn_file_actions_destroy(&actions);
    return pid;
  }

  /// The hook JSON Claude Code would send for `event` of this session.
  static std::string Payload(const std::string& id, const std::string& transcript, const std::string& event,
                             const std::string& extra = "") {
    return R"({"session_id":")" + id + R"(","transcript_path":")" + transcript +
           R"(","cwd":"/home/dev/demo-project","hook_event_name":")" + event + "\"" + extra + "}";
  }
  ProcessResult Hook(const std::string& command, const std::string& payload) const {
    return RunProcess({TSYNC_BINARY, "hook", command}, Env(), payload);
  }

  /// The live watcher of `id`, if one runs.
  std::optional<agent::WatcherEntry> LiveWatcher(const std::string& id) const {
    std::optional<agent::WatcherEntry> e = agent::ReadWatcherEntry(state, id);
    if (e && agent::WatcherLive(*e)) return e;
    return std::nullopt;
  }

  /// Every running tsync process whose HOME is this one (hook-started
  /// watchers and `sync --pending` are nobody's children here).
  std::vector<pid_t> Processes() const {
    std::vector<pid_t> out;
    const std::string want = "HOME=" + home.path();
    std::error_code ec;
    const std::string binary = std::filesystem::canonical(TSYNC_BINARY, ec).string();
    DIR* proc = ::opendir("/proc");
    if (proc == nullptr) return out;
    while (dirent* d = ::readdir(proc)) {
      const pid_t pid = static_cast<pid_t>(std::atoi(d->d_name));
      if (pid <= 0 || pid == ::getpid()) continue;
      const std::string base = "/proc/" + std::string(d->d_name);
      std::error_code e2;
      if (std::filesystem::read_symlink(base + "/exe", e2).string() != binary) continue;
      const std::string env = ReadWholeFile(base + "/environ");
      size_t at = 0;
      while (at < env.size()) {
        const size_t end = env.find('\0', at);
        if (env.compare(at, (end == std::string::npos ? env.size() : end) - at, want) == 0) {
          out.push_back(pid);
          break;
        }
        if (end == std::string::npos) break;
        at = end + 1;
      }
    }
    ::closedir(proc);
    return out;
  }

  /// SIGKILLs every tsync process of this HOME; returns how many.
  size_t KillAll() const {
    std::vector<pid_t> pids = Processes();
    for (pid_t p : pids) ::kill(p, SIGKILL);
    // Reap our own children among them; the others are reaped by init.
    for (pid_t p : pids) ::waitpid(p, nullptr, WNOHANG);
    WaitUntil([&] { return Processes().empty(); }, milliseconds(5000));
    return pids.size();
  }
};

/// SIGKILLs a child of ours and reaps it. True when it was still running
/// (the kill interrupted it), false when it had already exited.
inline bool KillChild(pid_t pid, int* exit_code = nullptr) {
  int status = 0;
  if (::waitpid(pid, &status, WNOHANG) == pid) {
    if (exit_code) *exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return false;
  }
  ::kill(pid, SIGKILL);
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (exit_code) *exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
}

/// The lines of `path` that end in '\n' (without it), as tsync may send
/// them; the unterminated tail is left out.
inline std::vector<std::string> CompleteLines(const std::string& path) {
  const std::string text = ReadWholeFile(path);
  std::vector<std::string> lines;
  size_t at = 0;
  for (size_t nl; (nl = text.find('\n', at)) != std::string::npos; at = nl + 1) {
    lines.push_back(text.substr(at, nl - at));
  }
  return lines;
}

/// The backend file_name of a local file of session `id` under `project`
/// (PROTOCOL.md /sync/chunk, TRANSCRIPTS.md "Layout on disk").
inline std::string BackendName(const std::string& project, const std::string& id, const std::string& path) {
  const std::string rel = std::filesystem::path(path).lexically_relative(project).string();
  const std::string sub = id + "/subagents/";
  if (rel.rfind(sub + "workflows/", 0) == 0) return rel.substr(id.size() + 1);
  if (rel.rfind(sub, 0) == 0) return std::filesystem::path(rel).filename().string();
  return rel;  // <id>.jsonl, or an old-layout agent-<id>.jsonl beside it
}

/// file_name -> stored lines, for everything the backend at `url` holds for
/// `external_id` (user k1); nullopt when it does not know the session.
/// Retries read failures (the fault soak makes reads fail too).
inline std::optional<std::map<std::string, std::vector<std::string>>> ReadBack(const std::string& url,
                                                                               const std::string& external_id) {
  config::Config cfg;
  cfg.backend_url = url;
  cfg.api_key = "k1";
  uploader::SyncClientOptions options;
  options.retry = uploader::RetryPolicy{8, milliseconds(50), milliseconds(500)};
  auto client = uploader::SyncClient::Create(cfg, options);
  if (!client.ok()) throw std::runtime_error(client.status().ToString());
  uploader::SyncSink sink(std::move(client).value());
  for (int attempt = 0;; ++attempt) {
    Result<std::string> sid = sink.FindSession(external_id);
    if (!sid.ok() && sid.status().kind() == Status::Kind::kNotFound) return std::nullopt;
    std::map<std::string, std::vector<std::string>> out;
    Status failed = sid.status();
    if (sid.ok()) {
      Result<std::vector<uploader::FileInfo>> files = sink.ListFiles(*sid);
      failed = files.status();
      for (size_t i = 0; files.ok() && failed.ok() && i < files->size(); ++i) {
        Result<std::vector<std::string>> lines = sink.ReadLines(*sid, (*files)[i].file_name, 0);
        failed = lines.status();
        if (lines.ok()) {
          // The listing's count and the lines returned must agree.
          if (lines->size() != (*files)[i].last_synced_line) {
            failed = Status::Internal((*files)[i].file_name + ": last_synced_line " +
                                      std::to_string((*files)[i].last_synced_line) + " but " +
                                      std::to_string(lines->size()) + " lines read back");
          }
          out[(*files)[i].file_name] = std::move(*lines);
        }
      }
    }
    if (failed.ok()) return out;
    if (attempt >= 20) throw std::runtime_error("read-back of " + external_id + " failed: " + failed.ToString());
    std::this_thread::sleep_for(milliseconds(100));
  }
}

/// What a comparison found; `problems` empty means proven.
struct Proof {
  std::vector<std::string> problems;  // the first few, human-readable
  uint64_t problem_count = 0;
  uint64_t files = 0;
  uint64_t lines = 0;           // stored lines compared
  uint64_t redacted_lines = 0;  // equal only up to redaction markers

  void Problem(std::string p) {
    if (++problem_count <= 12) problems.push_back(std::move(p));
  }
  bool ok() const { return problem_count == 0; }
  std::string Text() const {
    std::string t = std::to_string(problem_count) + " problem(s):";
    for (const std::string& p : problems) t += "\n  " + p;
    return t;
  }
};

/// Compares `stored` (file_name -> lines) with `expected` (file_name ->
/// the lines each must hold). With `prefix`, a stored file may also be a
/// shorter prefix, or absent (files still grow); every stored file must be
/// expected either way.
inline Proof Compare(const std::map<std::string, std::vector<std::string>>& stored,
                     const std::map<std::string, std::vector<std::string>>& expected, bool prefix) {
  Proof proof;
  for (const auto& [name, lines] : stored) {
    auto want = expected.find(name);
    if (want == expected.end()) {
      proof.Problem("unexpected file on the backend: " + name + " (" + std::to_string(lines.size()) + " lines)");
      continue;
    }
    ++proof.files;
    const std::vector<std::string>& local = want->second;
    if (lines.size() > local.size()) {
      proof.Problem(name + ": " + std::to_string(lines.size()) + " lines stored but the local file has " +
                    std::to_string(local.size()) + " complete lines (duplicated or fragment lines)");
    } else if (!prefix && lines.size() < local.size()) {
      proof.Problem(name + ": " + std::to_string(lines.size()) + " lines stored, " + std::to_string(local.size()) +
                    " complete lines locally (lines lost)");
    }
    for (size_t i = 0; i < std::min(lines.size(), local.size()); ++i) {
      ++proof.lines;
      if (lines[i] == local[i]) continue;
      if (agent::MatchesWithRedactions(lines[i], local[i])) {
        ++proof.redacted_lines;
        continue;
      }
      proof.Problem(name + " line " + std::to_string(i + 1) + " differs: stored '" + lines[i].substr(0, 120) +
                    "' local '" + local[i].substr(0, 120) + "'");
    }
  }
  if (!prefix) {
    for (const auto& [name, local] : expected) {
      if (!local.empty() && stored.find(name) == stored.end()) {
        proof.Problem("file missing on the backend: " + name + " (" + std::to_string(local.size()) + " lines)");
      }
    }
  }
  return proof;
}

/// Every stored line that contains one of `values` (planted secrets).
inline uint64_t Leaks(const std::map<std::string, std::vector<std::string>>& stored,
                      const std::vector<std::string>& values) {
  uint64_t n = 0;
  for (const auto& [name, lines] : stored) {
    for (const std::string& line : lines) {
      for (const std::string& v : values) n += line.find(v) != std::string::npos ? 1 : 0;
    }
  }
  return n;
}

/// A generated session (by seed) replayed into a live projects directory:
/// every file's bytes appended in random slices, so the files grow while
/// tsync syncs them and usually end mid-line (or mid UTF-8 sequence).
class SessionReplay {
 public:
  SessionReplay(const std::string& live_projects, const testdata::GeneratorOptions& options) {
    Result<testdata::GeneratedSession> s = testdata::GenerateSession(staging_ / "projects", options);
    if (!s.ok()) throw std::runtime_error("generator: " + s.status().ToString());
    session_ = std::move(s).value();
    project_ = live_projects + "/" + std::filesystem::path(session_.project_dir).filename().string();
    std::filesystem::create_directories(project_);
    for (const testdata::GeneratedFile& f : session_.files) {
      const std::string rel = std::filesystem::path(f.path).lexically_relative(session_.project_dir).string();
      const std::string live = project_ + "/" + rel;
      std::filesystem::create_directories(std::filesystem::path(live).parent_path());
      if (f.lines == 0) {  // a .meta.json sidecar: written whole, never uploaded
        std::filesystem::copy_file(f.path, live, std::filesystem::copy_options::overwrite_existing);
        continue;
      }
      files_.push_back(Staged{live, ReadWholeFile(f.path), 0});
      total_ += files_.back().content.size();
    }
    // The transcript exists from the start (tsync finds a session by it)
    // with its first complete line.
    Staged& t = files_.front();
    Append(t, t.content.find('\n') + 1);
  }

  const std::string& id() const { return session_.session_id; }
  const std::string& project() const { return project_; }
  std::string transcript() const { return project_ + "/" + id() + ".jsonl"; }
  uint64_t total() const { return total_; }
  uint64_t written() const { return written_; }
  bool done() const { return written_ == total_; }
  std::vector<std::string> SecretValues() const {
    std::vector<std::string> v;
    for (const testdata::PlantedSecret& s : session_.secrets) v.push_back(s.value);
    return v;
  }

  /// Appends one random slice (1..max_bytes) of a random unfinished file,
  /// chosen by the bytes it still has to write. False when all is written.
  bool Step(std::mt19937_64& rng, uint64_t max_bytes) {
    if (done()) return false;
    uint64_t pick = std::uniform_int_distribution<uint64_t>(0, total_ - written_ - 1)(rng);
    for (Staged& f : files_) {
      const uint64_t left = f.content.size() - f.written;
      if (pick >= left) {
        pick -= left;
        continue;
      }
      Append(f, std::min<uint64_t>(left, std::uniform_int_distribution<uint64_t>(1, max_bytes)(rng)));
      return true;
    }
    return false;
  }
  /// Steps until at least `target` bytes are written (or everything is).
  void WriteUpTo(uint64_t target, std::mt19937_64& rng, uint64_t max_bytes) {
    while (written_ < std::min(target, total_)) Step(rng, max_bytes);
  }
  /// Everything still unwritten, in one go per file.
  void Finish() {
    for (Staged& f : files_) Append(f, f.content.size() - f.written);
  }

  /// file_name -> complete local lines now, for every file on disk. Reads
  /// only the disk, so another thread may call it while the writer runs.
  std::map<std::string, std::vector<std::string>> Expected() const {
    std::map<std::string, std::vector<std::string>> out;
    for (const Staged& f : files_) {
      std::error_code ec;
      if (std::filesystem::exists(f.live, ec)) out[BackendName(project_, id(), f.live)] = CompleteLines(f.live);
    }
    return out;
  }
  /// Complete lines over every file, once everything is written.
  uint64_t TotalLines() const {
    uint64_t n = 0;
    for (const testdata::GeneratedFile& f : session_.files) n += f.lines;
    return n;
  }
  size_t file_count() const { return files_.size(); }

 private:
  struct Staged {
    std::string live;
    std::string content;
    uint64_t written = 0;
  };
  void Append(Staged& f, uint64_t n) {
    if (n == 0) return;
    const int fd = ::open(f.live.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) throw std::runtime_error("open " + f.live);
    const ssize_t w = ::write(fd, f.content.data() + f.written, n);
    ::close(fd);
    if (w != static_cast<ssize_t>(n)) throw std::runtime_error("write " + f.live);
    f.written += n;
    written_ += n;
  }

  TempDir staging_;
  testdata::GeneratedSession session_;
  std::string project_;
  std::vector<Staged> files_;  // the transcript first (generator order)
  uint64_t total_ = 0;
  uint64_t written_ = 0;
};

}  // namespace tsync::testing::proof
