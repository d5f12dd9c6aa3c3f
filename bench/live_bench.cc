// live_bench: issue 6's live-sync speed figures — what the hooks cost Claude
// Code, how soon an appended line is on the backend, and what a watcher
// costs while nothing happens. Everything runs the real `tsync` of this
// build against tsync-refserver (with --lifecycle-events, so the hooks
// queue events and the watcher sends them, as with a backend that asks).
//
// Figures (targets from issue 6):
//  1) hook latency, the wall time of the whole `tsync hook <event>` process
//     from spawn to reaped, p50 / p90 / p99 / max over --runs sessions, each
//     a fresh generated session (256 KiB, one subagent) taken through:
//       session-start (source startup, no watcher yet: starts one detached)
//       -> [wait until the watcher runs and the transcript is on the server]
//       -> session-start (source resume, watcher running)
//       -> user-prompt-submit -> stop -> session-end
//       -> [wait until the watcher has flushed, sent session_end and exited];
//     target p50 <= 20 ms. post-tool-use is hook_bench's.
//     Also shown: session start -> transcript on the server, and
//     session-end -> watcher gone (flush, session_end, exit).
//  2) append -> acknowledged: a watcher started by the session-start hook
//     follows a 1 MiB session; one ~600-byte user line is appended
//     (O_APPEND write) every --spacing-ms, --appends times, and the time from
//     the write until the refserver answers that it holds the line is
//     measured; target p50 <= 500 ms, p99 <= 2 s ("about a second").
//     Then a burst: --burst lines written back to back; the time from the
//     first write until the server holds all of them.
//     How "holds" is seen: the bench asks the refserver (GET .../files, the
//     read-back API) each time its database directory changes (inotify) and
//     every 20 ms regardless; the time of the first answer that includes the
//     line counts, so a figure includes one small request (~1 ms).
//  3) the idle watcher: once the burst is acknowledged and 1 s has passed,
//     /proc/<watcher> is sampled over --idle-seconds of silence: VmRSS,
//     CPU time (utime + stime, 10 ms ticks), and wake-ups: every 50 ms, did
//     the voluntary context switches of its threads move (one pass that
//     polls, reads and fsyncs counts once; the raw switches are shown too);
//     targets RSS <= 10 MiB, <= 1 wake-up/s,
//     CPU ~0 (<= 0.1 % of a core: at most one tick in 10 s). Its peak RSS
//     (VmHWM) over the whole run is shown too.
// Then session-end; the watcher must exit, and the server must hold every
// line of the transcript, each equal to the local one (or changed only
// inside a [REDACTED:...] marker) — else the bench exits 1.
// Isolation: HOME, XDG_* and CLAUDE_CONFIG_DIR point into a scratch
// directory; the API key reaches tsync through TSYNC_API_KEY (tsync hands it
// to the watcher through a pipe). No watcher outlives the bench: any still
// registered at the end is killed.
// A benchmark reports; it exits 0 unless it could not run or a line went
// missing (exit 1, with the reason on stderr). --json FILE also writes the
// figures for bench/run-all (bench/figures.h).
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "agent/process_info.h"
#include "agent/watcher_registry.h"
#include "base/fs.h"
#include "base/json.h"
#include "bench/bench_util.h"
#include "bench/figures.h"
#include "testdata/session_generator.h"

namespace tsync::bench {
namespace {

constexpr double kHookTargetMs = 20;
constexpr double kAckP50TargetMs = 500;
constexpr double kAckP99TargetMs = 2000;
constexpr double kIdleRssTargetMib = 10;
constexpr double kIdleWakeupsTarget = 1;
constexpr double kIdleCpuTargetPercent = 0.1;

struct Flags {
  std::string tsync = TSYNC_BINARY;
  int runs = 50;
  int appends = 50;
  int spacing_ms = 500;
  int burst = 100;
  int idle_seconds = 10;
  std::string json_path;
};

/// The scratch world: a private home with a Claude config dir, the
/// refserver, a client for the read-back API.
struct World {
  std::string dir, home, claude, projects, state, db_dir, keys_path, key;
  std::vector<std::string> env;
  RefServer server;
  std::unique_ptr<uploader::SyncSink> sink;

  ~World() {
    // No watcher outlives the bench (each was started by a hook we ran).
    for (const agent::WatcherEntry& e : agent::ListWatcherEntries(state)) {
      if (agent::WatcherLive(e)) ::kill(e.process.pid, SIGKILL);
    }
  }
};

Status MakeWorld(const std::string& dir, World* w) {
  w->dir = dir;
  w->home = dir + "/home";
  w->claude = w->home + "/.claude";
  w->projects = w->claude + "/projects";
  w->state = w->home + "/.local/state/tsync";
  w->db_dir = dir + "/db";
  w->keys_path = dir + "/keys";
  w->key = RandomKey();
  for (const std::string& d : {w->projects, w->home + "/.config", w->home + "/.local/state", w->home + "/.local/share",
                               w->home + "/.cache", w->db_dir}) {
    if (Status s = MakeDirs(d); !s.ok()) return s;
  }
  if (Status s = WriteFileAtomic(w->keys_path, w->key + " bench@example.com\n", 0600); !s.ok()) return s;
  if (Status s = w->server.Start(w->db_dir + "/live.db", w->keys_path, {"--lifecycle-events"}); !s.ok()) return s;
  const char* path = std::getenv("PATH");
  w->env = {"HOME=" + w->home,
            "PATH=" + std::string(path && *path ? path : "/usr/bin:/bin"),
            "CLAUDE_CONFIG_DIR=" + w->claude,
            "XDG_CONFIG_HOME=" + w->home + "/.config",
            "XDG_STATE_HOME=" + w->home + "/.local/state",
            "XDG_DATA_HOME=" + w->home + "/.local/share",
            "XDG_CACHE_HOME=" + w->home + "/.cache",
            "TSYNC_BACKEND_URL=" + w->server.url(),
            "TSYNC_API_KEY=" + w->key,
            "LANG=C.UTF-8"};
  Result<std::unique_ptr<uploader::SyncSink>> sink = Connect(w->server.url(), w->key);
  if (!sink.ok()) return sink.status();
  w->sink = std::move(sink).value();
  return Status::Ok();
}

// --- sessions and hook payloads ---

Result<testdata::GeneratedSession> NewSession(const World& w, uint64_t seed, uint64_t bytes, int agents) {
  testdata::GeneratorOptions o;
  o.seed = seed;
  o.target_bytes = bytes;
  o.agents = agents;
  o.cwd = "/home/dev/live-bench";
  return testdata::GenerateSession(w.projects, o);
}

std::string Quote(std::string_view s) {
  std::string out;
  AppendJsonString(&out, s);
  return out;
}

/// A hook payload as Claude Code sends it: the common fields, then `extra`
/// (already JSON: `,"source":"startup"`).
std::string Payload(const testdata::GeneratedSession& s, const std::string& event, const std::string& extra) {
  return R"({"session_id":)" + Quote(s.session_id) + R"(,"transcript_path":)" + Quote(s.transcript.path) +
         R"(,"cwd":"/home/dev/live-bench","permission_mode":"default","hook_event_name":)" + Quote(event) + extra +
         "}";
}

Result<double> HookMs(const World& w, const Flags& f, const std::string& event, const std::string& payload) {
  Result<double> s = TimeWithInput({f.tsync, "hook", event}, w.env, payload);
  if (!s.ok()) return s.status();
  return *s * 1000.0;
}

// --- what the watcher and the server say ---

std::optional<agent::WatcherEntry> LiveWatcher(const World& w, const std::string& session_id) {
  std::optional<agent::WatcherEntry> e = agent::ReadWatcherEntry(w.state, session_id);
  if (!e || !agent::WatcherLive(*e)) return std::nullopt;
  return e;
}

/// Lines the server holds of `file_name` in the session with `external_id`;
/// 0 while the session is not there.
uint64_t ServerLines(const World& w, const std::string& external_id, const std::string& file_name) {
  Result<std::string> id = w.sink->FindSession(external_id);
  if (!id.ok()) return 0;
  Result<std::vector<uploader::FileInfo>> files = w.sink->ListFiles(*id);
  if (!files.ok()) return 0;
  for (const uploader::FileInfo& f : *files) {
    if (f.file_name == file_name) return f.last_synced_line;
  }
  return 0;
}

std::string FileName(const std::string& path) { return path.substr(path.find_last_of('/') + 1); }

/// Polls `done` every 10 ms until it holds (true) or `limit` passes (false).
template <typename Fn>
bool WaitUntil(Fn done, std::chrono::milliseconds limit) {
  const auto until = Clock::now() + limit;
  while (Clock::now() < until) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return done();
}

/// Sees the refserver acknowledge lines as soon as it stores them: asks it
/// (GET .../files) whenever its database directory changes, and every 20 ms.
class AckWatch {
 public:
  AckWatch(const World& w, std::string external_id, std::string file_name)
      : w_(w), external_id_(std::move(external_id)), file_name_(std::move(file_name)) {
    fd_ = UniqueFd(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
    if (fd_.valid()) ::inotify_add_watch(fd_.get(), w.db_dir.c_str(), IN_MODIFY | IN_CLOSE_WRITE | IN_CREATE);
  }

  /// The time of the first answer holding >= `lines` lines; nullopt after `limit`.
  std::optional<Clock::time_point> WaitFor(uint64_t lines, std::chrono::milliseconds limit) {
    const auto until = Clock::now() + limit;
    for (;;) {
      const Clock::time_point asked = Clock::now();
      if (Count() >= lines) return asked;
      if (asked >= until) return std::nullopt;
      pollfd p{fd_.get(), POLLIN, 0};
      if (fd_.valid() && ::poll(&p, 1, 20) > 0) {
        char buf[4096];
        while (::read(fd_.get(), buf, sizeof buf) > 0) {
        }
      } else if (!fd_.valid()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
    }
  }

 private:
  uint64_t Count() {
    if (session_.empty()) {
      Result<std::string> id = w_.sink->FindSession(external_id_);
      if (!id.ok()) return 0;
      session_ = *id;
    }
    Result<std::vector<uploader::FileInfo>> files = w_.sink->ListFiles(session_);
    if (!files.ok()) return 0;
    for (const uploader::FileInfo& f : *files) {
      if (f.file_name == file_name_) return f.last_synced_line;
    }
    return 0;
  }

  const World& w_;
  std::string external_id_, file_name_, session_;
  UniqueFd fd_;
};

// --- part 1: hook latency ---

struct HookFigures {
  std::vector<double> start_cold, start_warm, prompt, stop, end;
  std::vector<double> start_to_synced_ms, end_to_gone_ms;
};

Status OneSessionOfHooks(const World& w, const Flags& f, uint64_t seed, HookFigures* out) {
  Result<testdata::GeneratedSession> s = NewSession(w, seed, 256 * 1024, 1);
  if (!s.ok()) return s.status();
  const std::string name = FileName(s->transcript.path);
  const auto t0 = Clock::now();
  Result<double> cold = HookMs(w, f, "session-start", Payload(*s, "SessionStart", R"(,"source":"startup")"));
  if (!cold.ok()) return cold.status();
  const bool synced = WaitUntil(
      [&] {
        std::optional<agent::WatcherEntry> e = LiveWatcher(w, s->session_id);
        return e && e->state == agent::WatcherState::kRunning &&
               ServerLines(w, s->session_id, name) == s->transcript.lines;
      },
      std::chrono::seconds(30));
  if (!synced) return Status::Internal("session " + s->session_id + ": no watcher synced the transcript in 30 s");
  out->start_to_synced_ms.push_back(Seconds(t0, Clock::now()) * 1000.0);
  const pid_t watcher = LiveWatcher(w, s->session_id)->process.pid;

  const std::string prompt =
      R"(,"prompt":"Refactor the retry loop in uploader/http_transport.cc so the backoff is injectable, )"
      R"(then run the tests and tell me what failed.")";
  struct Step {
    const char* event;
    std::string payload;
    std::vector<double>* into;
  };
  const std::vector<Step> steps = {
      {"session-start", Payload(*s, "SessionStart", R"(,"source":"resume")"), &out->start_warm},
      {"user-prompt-submit", Payload(*s, "UserPromptSubmit", prompt), &out->prompt},
      {"stop", Payload(*s, "Stop", R"(,"stop_hook_active":false)"), &out->stop},
  };
  for (const Step& step : steps) {
    Result<double> ms = HookMs(w, f, step.event, step.payload);
    if (!ms.ok()) return ms.status();
    step.into->push_back(*ms);
  }
  std::optional<agent::WatcherEntry> still = LiveWatcher(w, s->session_id);
  if (!still || still->process.pid != watcher) return Status::Internal("the hooks replaced a live watcher");
  const auto e0 = Clock::now();
  Result<double> end = HookMs(w, f, "session-end", Payload(*s, "SessionEnd", R"(,"reason":"prompt_input_exit")"));
  if (!end.ok()) return end.status();
  if (!WaitUntil([&] { return !LiveWatcher(w, s->session_id); }, std::chrono::seconds(40))) {
    return Status::Internal("session " + s->session_id + ": the watcher did not exit after session-end");
  }
  out->end_to_gone_ms.push_back(Seconds(e0, Clock::now()) * 1000.0);
  out->start_cold.push_back(*cold);
  out->end.push_back(*end);
  if (ServerLines(w, s->session_id, name) != s->transcript.lines) {
    return Status::Corrupt("session " + s->session_id + ": the server does not hold every line after session-end");
  }
  return Status::Ok();
}

// --- part 2: append -> acknowledged, burst ---

std::string RandomUuid(std::mt19937_64& rng) {
  char u[37];
  const uint64_t a = rng(), b = rng();
  std::snprintf(u, sizeof u, "%08llx-%04llx-4%03llx-8%03llx-%012llx", static_cast<unsigned long long>(a >> 32),
                static_cast<unsigned long long>((a >> 16) & 0xffff), static_cast<unsigned long long>(a & 0xfff),
                static_cast<unsigned long long>(b >> 52), static_cast<unsigned long long>(b & 0xffffffffffffull));
  return u;
}

/// A user line as Claude Code appends it (~600 bytes).
std::string UserLine(const testdata::GeneratedSession& s, int n, std::mt19937_64& rng) {
  JsonWriter w;
  w.BeginObject().Key("parentUuid").String(RandomUuid(rng)).Key("isSidechain").Bool(false);
  w.Key("userType").String("external").Key("cwd").String("/home/dev/live-bench");
  w.Key("sessionId").String(s.session_id).Key("version").String("2.1.328").Key("gitBranch").String("main");
  w.Key("type").String("user").Key("message").BeginObject().Key("role").String("user");
  w.Key("content").String("Line " + std::to_string(n) +
                          ": now make the watcher's debounce configurable and add a test that a burst of writes "
                          "becomes one request; keep the existing behaviour as the default.");
  w.EndObject().Key("uuid").String(RandomUuid(rng)).Key("timestamp").String("2026-01-01T00:00:00.000Z").EndObject();
  return w.Take() + "\n";
}

Status Append(int fd, const std::string& line) { return WriteAll(fd, line, "the transcript"); }

/// /proc/<pid> figures of a process and all its threads.
struct ProcSample {
  double cpu_s = 0;
  uint64_t voluntary = 0;  // context switches into sleep: wake-ups
  double rss_mib = 0, hwm_mib = 0;
  double anon_mib = 0, file_mib = 0;  // RssAnon (heap, stacks) and RssFile (mapped binary and libraries)
};

/// Voluntary context switches of all the process's threads: each is a
/// sleep (poll, a blocking read, an fsync) the process went into.
uint64_t VoluntarySwitches(pid_t pid) {
  uint64_t n = 0;
  std::error_code ec;
  for (const auto& task : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec)) {
    std::ifstream ts(task.path() / "status");
    for (std::string line; std::getline(ts, line);) {
      if (line.starts_with("voluntary_ctxt_switches:")) n += std::strtoull(line.c_str() + 24, nullptr, 10);
    }
  }
  return n;
}

std::optional<ProcSample> SampleProcess(pid_t pid) {
  const std::string root = "/proc/" + std::to_string(pid);
  ProcSample s;
  std::ifstream stat(root + "/stat");
  std::string text;
  if (!std::getline(stat, text)) return std::nullopt;
  const size_t paren = text.rfind(')');
  unsigned long long utime = 0, stime = 0;
  if (paren == std::string::npos ||
      std::sscanf(text.c_str() + paren + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime,
                  &stime) != 2) {
    return std::nullopt;
  }
  s.cpu_s = static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
  std::ifstream status(root + "/status");
  for (std::string line; std::getline(status, line);) {
    if (line.starts_with("VmRSS:")) s.rss_mib = std::strtod(line.c_str() + 6, nullptr) / 1024.0;
    if (line.starts_with("VmHWM:")) s.hwm_mib = std::strtod(line.c_str() + 6, nullptr) / 1024.0;
    if (line.starts_with("RssAnon:")) s.anon_mib = std::strtod(line.c_str() + 8, nullptr) / 1024.0;
    if (line.starts_with("RssFile:")) s.file_mib = std::strtod(line.c_str() + 8, nullptr) / 1024.0;
  }
  s.voluntary = VoluntarySwitches(pid);
  return s;
}

struct LiveFigures {
  std::vector<double> ack_ms;
  double burst_ms = 0, burst_after_last_ms = 0;
  double idle_s = 0, idle_cpu_s = 0, idle_rss_mib = 0, peak_rss_mib = 0, idle_anon_mib = 0, idle_file_mib = 0;
  double idle_wakeups = 0;   // 50 ms samples in which it woke at all
  double idle_switches = 0;  // voluntary context switches
  uint64_t lines = 0;
  int threads = 0;
};

/// Every line of the transcript on the server, equal to the local one or
/// changed only inside a redaction marker.
Status VerifyTranscript(const World& w, const testdata::GeneratedSession& s) {
  Result<std::string> id = w.sink->FindSession(s.session_id);
  if (!id.ok()) return id.status();
  Result<std::vector<std::string>> stored = w.sink->ReadLines(*id, FileName(s.transcript.path), 0);
  if (!stored.ok()) return stored.status();
  std::ifstream in(s.transcript.path);
  size_t n = 0;
  for (std::string line; std::getline(in, line); ++n) {
    if (n >= stored->size()) {
      return Status::Corrupt("the server holds " + std::to_string(stored->size()) + " lines, the transcript more");
    }
    if ((*stored)[n] != line && (*stored)[n].find("[REDACTED:") == std::string::npos) {
      return Status::Corrupt("line " + std::to_string(n + 1) + " on the server differs from the local one");
    }
  }
  if (n != stored->size()) {
    return Status::Corrupt("the server holds " + std::to_string(stored->size()) + " lines, the transcript " +
                           std::to_string(n));
  }
  return Status::Ok();
}

Result<LiveFigures> AppendsAndIdle(const World& w, const Flags& f) {
  Result<testdata::GeneratedSession> s = NewSession(w, 900'001, 1u << 20, 2);
  if (!s.ok()) return s.status();
  const std::string name = FileName(s->transcript.path);
  if (Result<double> r = HookMs(w, f, "session-start", Payload(*s, "SessionStart", R"(,"source":"startup")"));
      !r.ok()) {
    return r.status();
  }
  uint64_t lines = s->transcript.lines;
  AckWatch acks(w, s->session_id, name);
  if (!acks.WaitFor(lines, std::chrono::seconds(30))) return Status::Internal("the watcher did not sync the session");
  std::optional<agent::WatcherEntry> entry;
  if (!WaitUntil([&] { return (entry = LiveWatcher(w, s->session_id)).has_value(); }, std::chrono::seconds(10))) {
    return Status::Internal("no live watcher for the session");
  }
  const pid_t pid = entry->process.pid;
  UniqueFd fd(::open(s->transcript.path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC));
  if (!fd.valid()) return Status::Errno("open " + s->transcript.path, errno);
  std::this_thread::sleep_for(std::chrono::seconds(1));  // the first sync's pass is over

  LiveFigures fig;
  std::mt19937_64 rng(11);
  std::printf("  %d appends, one every %d ms ...\n", f.appends, f.spacing_ms);
  std::fflush(stdout);
  for (int i = 0; i < f.appends; ++i) {
    const std::string line = UserLine(*s, i, rng);
    const auto t0 = Clock::now();
    if (Status st = Append(fd.get(), line); !st.ok()) return st;
    ++lines;
    std::optional<Clock::time_point> acked = acks.WaitFor(lines, std::chrono::seconds(10));
    if (!acked) return Status::Corrupt("append " + std::to_string(i + 1) + " was not acknowledged within 10 s");
    fig.ack_ms.push_back(Seconds(t0, *acked) * 1000.0);
    std::this_thread::sleep_until(t0 + std::chrono::milliseconds(f.spacing_ms));
  }
  std::printf("  a burst of %d lines ...\n", f.burst);
  std::fflush(stdout);
  const auto b0 = Clock::now();
  for (int i = 0; i < f.burst; ++i) {
    if (Status st = Append(fd.get(), UserLine(*s, f.appends + i, rng)); !st.ok()) return st;
  }
  const auto b1 = Clock::now();
  lines += static_cast<uint64_t>(f.burst);
  std::optional<Clock::time_point> burst_acked = acks.WaitFor(lines, std::chrono::seconds(30));
  if (!burst_acked) return Status::Corrupt("the burst was not acknowledged within 30 s");
  fig.burst_ms = Seconds(b0, *burst_acked) * 1000.0;
  fig.burst_after_last_ms = Seconds(b1, *burst_acked) * 1000.0;

  std::printf("  idle for %d s ...\n", f.idle_seconds);
  std::fflush(stdout);
  std::this_thread::sleep_for(std::chrono::seconds(1));
  // A wake-up is counted once per 50 ms sample in which its voluntary
  // switches moved: one pass that polls, reads and fsyncs is one wake-up,
  // not five.
  const std::optional<ProcSample> a = SampleProcess(pid);
  const auto i0 = Clock::now();
  uint64_t seen = a ? a->voluntary : 0;
  for (auto next = i0 + std::chrono::milliseconds(50); next <= i0 + std::chrono::seconds(f.idle_seconds);
       next += std::chrono::milliseconds(50)) {
    std::this_thread::sleep_until(next);
    const uint64_t now = VoluntarySwitches(pid);
    if (now != seen) ++fig.idle_wakeups;
    seen = now;
  }
  const std::optional<ProcSample> b = SampleProcess(pid);
  fig.idle_s = Seconds(i0, Clock::now());
  if (!a || !b) return Status::Internal("the watcher exited while idle");
  fig.idle_cpu_s = b->cpu_s - a->cpu_s;
  fig.idle_switches = static_cast<double>(b->voluntary - a->voluntary);
  fig.idle_rss_mib = b->rss_mib;
  fig.idle_anon_mib = b->anon_mib;
  fig.idle_file_mib = b->file_mib;
  fig.peak_rss_mib = b->hwm_mib;
  std::error_code ec;
  for (const auto& t : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec)) {
    (void)t;
    ++fig.threads;
  }
  fig.lines = lines;

  if (Result<double> r = HookMs(w, f, "session-end", Payload(*s, "SessionEnd", R"(,"reason":"prompt_input_exit")"));
      !r.ok()) {
    return r.status();
  }
  if (!WaitUntil([&] { return !LiveWatcher(w, s->session_id); }, std::chrono::seconds(40))) {
    return Status::Internal("the watcher did not exit after session-end");
  }
  if (Status st = VerifyTranscript(w, *s); !st.ok()) return st;
  return fig;
}

// --- report ---

std::string Spread(const std::vector<double>& v) {
  char buf[128];
  std::snprintf(buf, sizeof buf, "p90 %.1f, p99 %.1f, max %.1f, n=%zu", Percentile(v, 90), Percentile(v, 99),
                Percentile(v, 100), v.size());
  return buf;
}

void HookRow(FigureSheet* sheet, const std::string& name, const std::vector<double>& ms) {
  const double p50 = Percentile(ms, 50);
  std::printf("  %-46s p50 %6.1f  p90 %6.1f  p99 %6.1f  max %6.1f ms  (target p50 <= %.0f ms: %s)\n", name.c_str(),
              p50, Percentile(ms, 90), Percentile(ms, 99), Percentile(ms, 100), kHookTargetMs,
              p50 <= kHookTargetMs ? "met" : "MISSED");
  sheet->Target("hook " + name + ", p50", p50, "ms", "<= 20", Spread(ms));
}

void Report(const HookFigures& h, const LiveFigures& l, const Flags& f, FigureSheet* sheet) {
  std::printf("\nhook latency, whole tsync process (%zu sessions):\n", h.start_cold.size());
  HookRow(sheet, "session-start, no watcher (starts one)", h.start_cold);
  HookRow(sheet, "session-start, watcher running", h.start_warm);
  HookRow(sheet, "user-prompt-submit", h.prompt);
  HookRow(sheet, "stop", h.stop);
  HookRow(sheet, "session-end", h.end);
  const double synced = Percentile(h.start_to_synced_ms, 50), gone = Percentile(h.end_to_gone_ms, 50);
  std::printf("  session-start -> 256 KiB transcript on the server: p50 %.0f ms;"
              " session-end -> watcher gone: p50 %.0f ms\n",
              synced, gone);
  sheet->Info("session-start -> 256 KiB session on the server, p50", synced, "ms", Spread(h.start_to_synced_ms));
  sheet->Info("session-end -> flushed, session_end sent, watcher gone, p50", gone, "ms", Spread(h.end_to_gone_ms));

  const double p50 = Percentile(l.ack_ms, 50), p90 = Percentile(l.ack_ms, 90), p99 = Percentile(l.ack_ms, 99);
  std::printf("\nappend -> acknowledged by the server (%zu appends, %d ms apart):\n", l.ack_ms.size(), f.spacing_ms);
  std::printf("  p50 %.0f ms (target <= %.0f: %s)  p90 %.0f ms  p99 %.0f ms (target <= %.0f: %s)  min %.0f  max %.0f\n",
              p50, kAckP50TargetMs, p50 <= kAckP50TargetMs ? "met" : "MISSED", p90, p99, kAckP99TargetMs,
              p99 <= kAckP99TargetMs ? "met" : "MISSED", Percentile(l.ack_ms, 0), Percentile(l.ack_ms, 100));
  std::printf("  burst of %d lines: all acknowledged %.0f ms after the first write (%.0f ms after the last)\n", f.burst,
              l.burst_ms, l.burst_after_last_ms);
  char n[64];
  std::snprintf(n, sizeof n, "n=%zu, %d ms apart", l.ack_ms.size(), f.spacing_ms);
  sheet->Target("append -> acknowledged, p50", p50, "ms", "<= 500",
                "p90 " + std::to_string(static_cast<int>(p90)) + ", " + n);
  sheet->Target("append -> acknowledged, p99", p99, "ms", "<= 2000", Spread(l.ack_ms));
  sheet->Target("burst of " + std::to_string(f.burst) + " lines -> all acknowledged", l.burst_ms, "ms", "<= 2000",
                "from the first write; " + std::to_string(static_cast<int>(l.burst_after_last_ms)) +
                    " ms after the last");

  const double cpu_percent = 100.0 * l.idle_cpu_s / l.idle_s, wakeups = l.idle_wakeups / l.idle_s,
               switches = l.idle_switches / l.idle_s;
  std::printf("\nidle watcher over %.1f s (%d thread(s)):\n", l.idle_s, l.threads);
  const auto met = [](bool ok) { return ok ? "met" : "MISSED"; };
  std::printf("  RSS %.1f MiB (anon %.1f, file-backed %.1f; target <= %.0f: %s), peak RSS %.1f MiB\n", l.idle_rss_mib,
              l.idle_anon_mib, l.idle_file_mib, kIdleRssTargetMib, met(l.idle_rss_mib <= kIdleRssTargetMib),
              l.peak_rss_mib);
  std::printf("  CPU %.2f %% of a core (%.0f ms; target <= %.1f %%: %s)\n", cpu_percent, l.idle_cpu_s * 1000.0,
              kIdleCpuTargetPercent, met(cpu_percent <= kIdleCpuTargetPercent));
  std::printf("  %.2f wake-ups/s (target <= %.0f: %s); %.2f voluntary context switches/s\n", wakeups,
              kIdleWakeupsTarget, met(wakeups <= kIdleWakeupsTarget), switches);
  char idle[96];
  std::snprintf(idle, sizeof idle, "over %.0f s idle, %d thread(s)", l.idle_s, l.threads);
  char rss[128];
  std::snprintf(rss, sizeof rss, "anon %.1f + file-backed %.1f MiB, %s", l.idle_anon_mib, l.idle_file_mib, idle);
  sheet->Target("idle watcher RSS", l.idle_rss_mib, "MiB", "<= 10", rss);
  sheet->Target("idle watcher CPU", cpu_percent, "% of a core", "<= 0.1", idle);
  char woke[128];
  std::snprintf(woke, sizeof woke, "50 ms samples in which it ran; %.2f voluntary context switches/s", switches);
  sheet->Target("idle watcher wake-ups", wakeups, "/s", "<= 1", woke);
  sheet->Info("watcher peak RSS (VmHWM)", l.peak_rss_mib, "MiB", "1 MiB session + appends + burst");
  std::printf("  every line verified on the server after session-end (%llu lines)\n",
              static_cast<unsigned long long>(l.lines));
}

int Fail(const std::string& what, const Status& s) {
  std::fprintf(stderr, "live_bench: %s: %s\n", what.c_str(), s.ToString().c_str());
  return 1;
}

int Run(const Flags& f) {
  Result<std::unique_ptr<ScratchDir>> scratch = ScratchDir::Create("/tmp", "tsync-live-bench");
  if (!scratch.ok()) return Fail("cannot make a scratch directory", scratch.status());
  World w;
  if (Status s = MakeWorld((*scratch)->path(), &w); !s.ok()) return Fail("cannot prepare", s);
  std::printf("live_bench: tsync %s against tsync-refserver --lifecycle-events on %s\n", f.tsync.c_str(),
              w.server.url().c_str());
  // A first run creates the log file and state directories.
  if (Result<double> r = TimeWithInput({f.tsync, "version"}, w.env, ""); !r.ok()) {
    return Fail("tsync version", r.status());
  }
  std::printf("  hooks: %d sessions (session-start, session-start again, user-prompt-submit, stop, session-end) ...\n",
              f.runs);
  std::fflush(stdout);
  HookFigures hooks;
  for (int i = 0; i < f.runs; ++i) {
    if (Status s = OneSessionOfHooks(w, f, 1000 + static_cast<uint64_t>(i), &hooks); !s.ok()) {
      return Fail("hook session " + std::to_string(i + 1), s);
    }
  }
  Result<LiveFigures> live = AppendsAndIdle(w, f);
  if (!live.ok()) return Fail("append -> ack", live.status());
  FigureSheet sheet("live_bench");
  Report(hooks, *live, f, &sheet);
  sheet.Note("hook_sessions", std::to_string(f.runs));
  sheet.Note("appends", std::to_string(f.appends) + " x " + std::to_string(f.spacing_ms) + " ms apart");
  if (Status s = sheet.Write(f.json_path); !s.ok()) return Fail("cannot write " + f.json_path, s);
  return 0;
}

}  // namespace
}  // namespace tsync::bench

int main(int argc, char** argv) {
  CLI::App app{"Live sync: hook latency, append -> acknowledged latency, the idle watcher's cost."};
  tsync::bench::Flags f;
  std::string size_ignored;
  app.add_option("--tsync", f.tsync, "the tsync binary (default: this build's)");
  app.add_option("--runs", f.runs, "sessions taken through the hooks (>= 5)")->check(CLI::Range(5, 10000));
  app.add_option("--appends", f.appends, "single appended lines timed (>= 10)")->check(CLI::Range(10, 100000));
  app.add_option("--spacing-ms", f.spacing_ms, "time between appends")->check(CLI::Range(50, 60000));
  app.add_option("--burst", f.burst, "lines written back to back")->check(CLI::Range(1, 100000));
  app.add_option("--idle-seconds", f.idle_seconds, "idle time sampled")->check(CLI::Range(2, 3600));
  app.add_option("--json", f.json_path, "also write the figures as JSON to this file (bench/run-all)");
  app.add_option("--size", size_ignored, "ignored (bench/run-all passes it to every bench)");
  CLI11_PARSE(app, argc, argv);
  ::signal(SIGPIPE, SIG_IGN);
  return tsync::bench::Run(f);
}
