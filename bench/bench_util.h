// What the benchmarks that run processes share (upload_bench, save_bench):
//  1) child processes measured the way a user would feel them: wall time
//     from fork to reaped, CPU (user + system, including the child's own
//     waited-for children) and peak RSS, all from wait4();
//  2) a private scratch directory, removed with everything in it;
//  3) tsync-refserver as a child with an empty database, its CPU time
//     readable while it runs (/proc) and when it stops (wait4);
//  4) the client's side of the wire without tsync's engine: chunks read
//     exactly as a sync reads them, their /sync/chunk bodies, and curl -K
//     configs that post them with our client's headers (the API key stays
//     in the config file, never on a command line).
// Thread-safety: free functions and single-owner objects.
#pragma once

#include <sys/time.h>
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "tracker/chunk_reader.h"
#include "tracker/file_type.h"
#include "uploader/sink.h"
#include "uploader/sync_sink.h"

namespace tsync::bench {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point a, Clock::time_point b);
double CpuSeconds(const timeval& tv);
/// Megabytes of 10^6 bytes, the unit every MB/s figure uses.
double Mb(uint64_t bytes);

struct Stats {
  double median = 0, min = 0, max = 0;
};
/// Median (upper median for an even count), min and max; `v` not empty.
Stats Summarize(std::vector<double> v);

/// A private scratch directory (0700) named <parent>/<prefix>-XXXXXX,
/// removed with everything in it on destruction.
class ScratchDir {
 public:
  static Result<std::unique_ptr<ScratchDir>> Create(const std::string& parent, const std::string& prefix);
  ~ScratchDir();
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  explicit ScratchDir(std::string path) : path_(std::move(path)) {}
  std::string path_;
};

/// How a child runs. By default it inherits this process's environment and
/// stderr, and its stdout is captured into ChildRun::out.
struct ChildOptions {
  /// When set, the child's whole environment ("NAME=value" each).
  std::optional<std::vector<std::string>> env;
  /// When set, stdout goes to this file (created 0600) and is read back
  /// into ChildRun::out after the child exits; needed for children that run
  /// side by side.
  std::string stdout_path;
  /// When set, stderr goes to this file (created 0600).
  std::string stderr_path;
};

struct ChildRun {
  std::string out;      // its stdout
  int exit_code = -1;   // -1 when it did not exit normally
  double seconds = 0;   // fork to reaped
  double user_s = 0;    // CPU, including children it waited for
  double sys_s = 0;
  double max_rss_mib = 0;

  double cpu_s() const { return user_s + sys_s; }
};

/// A started child; Wait() reaps it. The destructor kills (SIGKILL) and
/// reaps a child that was never waited for.
class Child {
 public:
  /// Runs argv[0] (a path, or a name looked up in PATH).
  static Result<std::unique_ptr<Child>> Start(std::vector<std::string> args, const ChildOptions& options = {});
  ~Child();
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  /// Reads its stdout to EOF (or from stdout_path after it exits) and reaps it.
  Result<ChildRun> Wait();
  pid_t pid() const { return pid_; }

 private:
  Child() = default;
  pid_t pid_ = -1;
  int out_fd_ = -1;  // the stdout pipe, -1 when stdout goes to a file
  std::string name_;
  std::string stdout_path_;
  Clock::time_point started_;
};

/// Starts a child and waits for it. OK whatever its exit code.
Result<ChildRun> RunProcess(std::vector<std::string> args, const ChildOptions& options = {});
/// RunProcess that also requires exit code 0.
Result<ChildRun> RunToSuccess(std::vector<std::string> args, const ChildOptions& options = {});

/// Runs `argv` (argv[0] a path) with exactly `env` and `input` on its stdin,
/// stdout and stderr to /dev/null, as Claude Code runs a hook; the wall
/// seconds from spawn to reaped. An error unless it exits 0.
Result<double> TimeWithInput(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                             const std::string& input);

/// The tsync-refserver of this build.
const char* DefaultRefServerPath();

/// tsync-refserver (by default the one of this build) on 127.0.0.1 with its
/// own database; SIGTERM on Stop() or destruction.
class RefServer {
 public:
  RefServer() = default;
  explicit RefServer(std::string binary) : binary_(std::move(binary)) {}
  ~RefServer() { Stop(); }
  RefServer(const RefServer&) = delete;
  RefServer& operator=(const RefServer&) = delete;

  /// Starts it on a free port once it prints "listening on 127.0.0.1:<port>";
  /// `extra` flags go after --port/--db/--keys (e.g. --lifecycle-events).
  Status Start(const std::string& db, const std::string& keys, const std::vector<std::string>& extra = {});
  /// Stops the server; returns the CPU seconds (user + system) it used.
  double Stop();
  /// CPU seconds (user + system, every thread) used so far, from /proc.
  double CpuSoFar() const;

  int port() const { return port_; }
  /// "http://127.0.0.1:<port>"
  std::string url() const;

 private:
  std::string binary_ = DefaultRefServerPath();
  pid_t pid_ = -1;
  int port_ = 0;
};

/// Writes every dirty page of the filesystem holding `dir` to disk (syncfs):
/// a phase that starts right after gigabytes were written would otherwise
/// share the CPUs with the kernel's writeback of them.
Status SyncFilesystem(const std::string& dir);

/// Removes a SQLite database and its -wal/-shm/-journal files.
void DropDatabase(const std::string& db);

/// "cfb_bench_" + 32 random hex digits.
std::string RandomKey();

/// Creates (0600, truncating) and writes a file; fdatasync'd when `sync`.
Status WritePrivateFile(const std::string& path, std::string_view text, bool sync);

/// A SyncSink over the backend at `url` with `key`, as tsync's own.
Result<std::unique_ptr<uploader::SyncSink>> Connect(const std::string& url, const std::string& key,
                                                    bool compress = true);

/// One file as a sync sends it: where it is and what the backend calls it.
struct UploadFile {
  std::string path;
  std::string file_name;
  tracker::FileType type = tracker::FileType::kTranscript;
};

/// Calls `fn(chunk)` for every non-empty chunk of `path` read with the
/// default ChunkOptions (the chunking of a sync); returns the seconds spent
/// inside ReadChunk.
Result<double> ForEachChunk(const std::string& path, std::string_view log_name,
                            const std::function<Status(const tracker::Chunk&)>& fn);

/// The request a sync sends for `chunk` of `file` (no transcript metadata).
uploader::ChunkRequest RequestFor(const std::string& session_id, const UploadFile& file, const tracker::Chunk& chunk);

/// A curl -K config entry value: quoted, with '\' and '"' escaped.
std::string Quoted(const std::string& s);

/// A curl -K file posting the files `bodies` to `url` in order with our
/// client's headers (JSON, bearer key, an empty `Expect:` so no
/// 100-continue round trip); each request prints its HTTP status on a line.
/// Run it as `curl -q -K <file>` (-q: ignore any ~/.curlrc).
std::string CurlConfig(const std::vector<std::string>& bodies, const std::string& url, const std::string& key);

/// How many requests of a CurlConfig run got 200 (lines "200" in its stdout).
uint64_t CurlOkCount(const std::string& out);

}  // namespace tsync::bench
