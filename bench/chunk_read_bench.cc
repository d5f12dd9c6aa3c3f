// chunk_read_bench: how fast, and in how much memory, tracker::ReadChunk
// turns a large transcript into chunks — the hot path of every sync.
//
// Figures (targets from the design):
//  1) read+split throughput from the page cache, 14 MiB budget: >= 1 GB/s
//     (median of --runs passes over the whole file, after one warming read);
//  2) peak RSS of a process doing only that reading: <= 2 x budget. The
//     reader is a fresh exec of this binary, so neither the generator's
//     memory nor the parent's pages count; ru_maxrss comes from wait4();
//  3) cost of one appended ~1 KiB line, read from the previous end offset
//     through an fd already held (as the watcher does): < 1 ms, median of
//     --trials. The file is truncated back after each trial.
// The transcript comes from testdata/session_generator.h and is kept in
// --dir for reuse by later runs with the same seed and size. A benchmark
// reports; it always exits 0 unless it could not run at all.
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "base/fs.h"
#include "bench/figures.h"
#include "testdata/byte_size.h"
#include "testdata/session_generator.h"
#include "tracker/chunk_reader.h"
#include "tracker/session_tracker.h"

namespace {

using Clock = std::chrono::steady_clock;
using tsync::Result;
using tsync::Status;
using tsync::UniqueFd;

constexpr const char* kChildFlag = "--reader-child";

struct Transcript {
  std::string path;
  uint64_t bytes = 0;
  uint64_t lines = 0;
};

struct Stats {
  double median = 0, min = 0, max = 0;
};

Stats Summarize(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return {v[v.size() / 2], v.front(), v.back()};
}

double Seconds(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); }

// --- the transcript, generated once and reused ---

Result<Transcript> ReadMarker(const std::string& marker) {
  Result<std::string> text = tsync::ReadFile(marker, 4096);
  if (!text.ok()) return text.status();
  Transcript t;
  char path[4096];
  unsigned long long bytes = 0, lines = 0;
  if (std::sscanf(text->c_str(), "%4095s %llu %llu", path, &bytes, &lines) != 3) {
    return Status::Corrupt(marker + " is not a bench marker");
  }
  struct stat st;
  if (::stat(path, &st) != 0 || static_cast<unsigned long long>(st.st_size) != bytes) {
    return Status::NotFound(std::string(path) + " is missing or was modified");
  }
  return Transcript{path, bytes, lines};
}

Result<Transcript> EnsureTranscript(const std::string& dir, uint64_t seed, uint64_t size) {
  // v1: bump when the generator's output changes, so stale files are not reused.
  const std::string base = dir + "/tsync-chunk-bench-v1-seed" + std::to_string(seed) + "-" + std::to_string(size);
  const std::string marker = base + ".ready";
  if (Result<Transcript> t = ReadMarker(marker); t.ok()) {
    std::printf("reusing %s (%s)\n", t->path.c_str(), tsync::testdata::FormatByteSize(t->bytes).c_str());
    return t;
  }
  tsync::testdata::GeneratorOptions options;
  options.seed = seed;
  options.target_bytes = size;
  options.image_rate = 0.01;
  std::printf("generating a %s transcript in %s ...\n", tsync::testdata::FormatByteSize(size).c_str(), base.c_str());
  std::fflush(stdout);
  const auto t0 = Clock::now();
  auto session = tsync::testdata::GenerateSession(base + "/-bench-project", options);
  if (!session.ok()) return session.status();
  std::printf("  generated in %.1f s\n", Seconds(t0, Clock::now()));
  const auto& f = session->transcript;
  const std::string text = f.path + " " + std::to_string(f.bytes) + " " + std::to_string(f.lines) + "\n";
  if (Status s = tsync::WriteFileAtomic(marker, text, 0644); !s.ok()) return s;
  return Transcript{f.path, f.bytes, f.lines};
}

Status WarmPageCache(const Transcript& t) {
  UniqueFd fd(::open(t.path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return Status::Errno("open " + t.path, errno);
  std::vector<char> buf(1u << 20);
  const auto t0 = Clock::now();
  uint64_t total = 0;
  for (ssize_t n; (n = ::read(fd.get(), buf.data(), buf.size())) > 0;) total += static_cast<uint64_t>(n);
  const double s = Seconds(t0, Clock::now());
  std::printf("warmed page cache: %s in %.2f s (%.0f MB/s plain read)\n",
              tsync::testdata::FormatByteSize(total).c_str(), s, static_cast<double>(total) / 1e6 / s);
  return Status::Ok();
}

// --- reader child: only ReadChunk runs in this process ---

struct PassResult {
  uint64_t bytes = 0, lines = 0, chunks = 0;
};

Result<PassResult> ReadWholeFile(int fd, size_t budget) {
  tsync::tracker::ChunkOptions opt;
  opt.budget = budget;
  opt.log_name = "bench";
  PassResult r;
  uint64_t offset = 0, line = 1;
  for (;;) {
    Result<tsync::tracker::Chunk> c = tsync::tracker::ReadChunk(fd, offset, line, opt);
    if (!c.ok()) return c.status();
    if (!c->empty()) ++r.chunks;
    r.bytes += c->end_offset - offset;
    r.lines += c->lines.size();
    offset = c->end_offset;
    line += c->lines.size();
    if (c->reached_eof) return r;
  }
}

int ReaderChild(const std::string& path, int runs, size_t budget) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return 3;
  for (int i = 0; i < runs; ++i) {
    const auto t0 = Clock::now();
    Result<PassResult> r = ReadWholeFile(fd.get(), budget);
    const double s = Seconds(t0, Clock::now());
    if (!r.ok()) {
      std::fprintf(stderr, "reader: %s\n", r.status().ToString().c_str());
      return 4;
    }
    std::printf("%.9f %llu %llu %llu\n", s, static_cast<unsigned long long>(r->bytes),
                static_cast<unsigned long long>(r->lines), static_cast<unsigned long long>(r->chunks));
  }
  return 0;
}

struct ChildReport {
  std::vector<double> mb_per_s;
  double max_rss_mib = 0;
};

// Runs ReaderChild in a fresh exec of this binary and collects its figures.
Result<ChildReport> RunReaderChild(const Transcript& t, int runs, size_t budget) {
  int out[2];
  if (::pipe(out) != 0) return Status::Errno("pipe", errno);
  const pid_t pid = ::fork();
  if (pid < 0) return Status::Errno("fork", errno);
  if (pid == 0) {
    ::dup2(out[1], STDOUT_FILENO);
    ::close(out[0]);
    ::close(out[1]);
    const std::string runs_s = std::to_string(runs), budget_s = std::to_string(budget);
    ::execl("/proc/self/exe", "chunk_read_bench", kChildFlag, t.path.c_str(), runs_s.c_str(), budget_s.c_str(),
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(out[1]);
  std::string text;
  char buf[4096];
  for (ssize_t n; (n = ::read(out[0], buf, sizeof buf)) > 0;) text.append(buf, static_cast<size_t>(n));
  ::close(out[0]);
  int status = 0;
  struct rusage ru {};
  if (::wait4(pid, &status, 0, &ru) < 0) return Status::Errno("wait4", errno);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return Status::Internal("reader child failed");
  ChildReport report;
  report.max_rss_mib = static_cast<double>(ru.ru_maxrss) / 1024.0;  // Linux reports KiB
  double s = 0;
  unsigned long long bytes = 0, lines = 0, chunks = 0;
  for (const char* p = text.c_str(); std::sscanf(p, "%lf %llu %llu %llu", &s, &bytes, &lines, &chunks) == 4;) {
    if (bytes != t.bytes || lines != t.lines) return Status::Internal("reader saw a different file than generated");
    report.mb_per_s.push_back(static_cast<double>(bytes) / 1e6 / s);
    std::printf("  pass: %.3f s, %llu lines in %llu chunks\n", s, lines, chunks);
    p = std::strchr(p, '\n');
    if (p == nullptr) break;
    ++p;
  }
  if (report.mb_per_s.size() != static_cast<size_t>(runs)) return Status::Internal("reader child output incomplete");
  return report;
}

// --- one appended line ---

std::string AppendedLine() {
  std::string line = R"({"parentUuid":null,"isSidechain":false,"type":"user","message":{"role":"user","content":")";
  while (line.size() < 1000) line += "one more appended line \\\"quoted\\\" café 🚀 ";
  return line + R"("},"uuid":"00000000-0000-4000-8000-000000000000"})" + "\n";
}

Result<std::vector<double>> TimeAppends(const Transcript& t, int trials) {
  UniqueFd reader(::open(t.path.c_str(), O_RDONLY | O_CLOEXEC));
  UniqueFd writer(::open(t.path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC));
  if (!reader.valid() || !writer.valid()) return Status::Errno("open " + t.path, errno);
  const std::string line = AppendedLine();
  std::vector<double> micros;
  for (int i = 0; i < trials; ++i) {
    if (::write(writer.get(), line.data(), line.size()) != static_cast<ssize_t>(line.size())) {
      return Status::Errno("append to " + t.path, errno);
    }
    const auto t0 = Clock::now();
    Result<tsync::tracker::Chunk> c = tsync::tracker::ReadChunk(reader.get(), t.bytes, t.lines + 1, {});
    const auto t1 = Clock::now();
    if (::ftruncate(writer.get(), static_cast<off_t>(t.bytes)) != 0) return Status::Errno("truncate " + t.path, errno);
    if (!c.ok()) return c.status();
    if (c->lines.size() != 1) return Status::Internal("expected exactly the appended line");
    micros.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
  }
  return micros;
}

// The same appended line through the whole path a watcher takes per change:
// SessionTracker::Next (open, fstat, change detection with both fingerprints,
// read) and Acknowledge (next position, discovery of the line's agent ids).
// Also times the one-off rescan that a resume without a checkpoint costs.
struct TrackerFigures {
  double rescan_ms = 0;
  std::vector<double> append_micros;
};

Result<TrackerFigures> TimeTrackerAppends(const Transcript& t, int trials) {
  std::filesystem::path path(t.path);
  tsync::tracker::SessionTracker tracker(
      {path.parent_path().string(), path.stem().string(), t.path}, tsync::tracker::ChunkOptions{});
  tracker.Discover(false);
  tsync::tracker::TrackedFile& file = tracker.files()[0];
  TrackerFigures figures;
  const auto r0 = Clock::now();
  Result<tsync::tracker::ResumeFrom> from = tracker.Resume(file, t.lines);
  figures.rescan_ms = std::chrono::duration<double, std::milli>(Clock::now() - r0).count();
  if (!from.ok()) return from.status();

  UniqueFd writer(::open(t.path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC));
  if (!writer.valid()) return Status::Errno("open " + t.path, errno);
  const std::string line = AppendedLine();
  Status failure;
  for (int i = 0; i < trials && failure.ok(); ++i) {
    if (::write(writer.get(), line.data(), line.size()) != static_cast<ssize_t>(line.size())) {
      failure = Status::Errno("append to " + t.path, errno);
      break;
    }
    const auto t0 = Clock::now();
    Result<tsync::tracker::PendingChunk> pending = tracker.Next(file);
    if (pending.ok()) tracker.Acknowledge(file, *pending);
    const auto t1 = Clock::now();
    if (!pending.ok()) failure = pending.status();
    else if (pending->chunk.lines.size() != 1) failure = Status::Internal("expected exactly the appended line");
    figures.append_micros.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
  }
  // Leave the reusable transcript as it was.
  if (::ftruncate(writer.get(), static_cast<off_t>(t.bytes)) != 0 && failure.ok()) {
    failure = Status::Errno("truncate " + t.path, errno);
  }
  if (!failure.ok()) return failure;
  return figures;
}

// --- report ---

void PrintRow(const char* figure, const Stats& s, const char* target_text, double target, bool higher_is_better) {
  const double ratio = s.median / target;
  const bool pass = higher_is_better ? ratio >= 1.0 : ratio <= 1.0;
  std::printf("%-34s %10.1f %10.1f %10.1f %10s %7.2f  %s\n", figure, s.median, s.min, s.max, target_text, ratio,
              pass ? "PASS" : "MISS");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 5 && std::string(argv[1]) == kChildFlag) {
    return ReaderChild(argv[2], std::atoi(argv[3]), std::strtoull(argv[4], nullptr, 10));
  }
  CLI::App app{"Benchmark tracker::ReadChunk over a generated transcript."};
  const char* tmp = std::getenv("TMPDIR");
  std::string dir = tmp && *tmp ? tmp : "/tmp", size_text = "1G";
  uint64_t seed = 42;
  int runs = 5, trials = 101;
  std::string json_path;
  app.add_option("--json", json_path, "also write the figures as JSON to this file (bench/run-all)");
  app.add_option("--size", size_text, "transcript size, e.g. 64M, 1G");
  app.add_option("--dir", dir, "where the transcript is generated and kept for reuse");
  app.add_option("--seed", seed, "generator seed");
  app.add_option("--runs", runs, "full passes for throughput (>= 5)")->check(CLI::Range(5, 1000));
  app.add_option("--trials", trials, "appended-line trials (>= 101)")->check(CLI::Range(101, 100000));
  CLI11_PARSE(app, argc, argv);
  auto size = tsync::testdata::ParseByteSize(size_text);
  if (!size.ok()) {
    std::fprintf(stderr, "chunk_read_bench: %s\n", size.status().ToString().c_str());
    return 2;
  }
  const size_t budget = tsync::tracker::kDefaultChunkBudget;

  Result<Transcript> t = EnsureTranscript(dir, seed, *size);
  if (!t.ok()) {
    std::fprintf(stderr, "chunk_read_bench: cannot prepare the transcript: %s\n", t.status().ToString().c_str());
    return 1;
  }
  std::printf("transcript: %s, %llu lines\n", tsync::testdata::FormatByteSize(t->bytes).c_str(),
              static_cast<unsigned long long>(t->lines));
  if (Status s = WarmPageCache(*t); !s.ok()) std::fprintf(stderr, "warning: %s\n", s.ToString().c_str());
  Result<ChildReport> child = RunReaderChild(*t, runs, budget);
  Result<std::vector<double>> appends = TimeAppends(*t, trials);
  Result<TrackerFigures> tracked = TimeTrackerAppends(*t, trials);

  std::printf("\n%-34s %10s %10s %10s %10s %7s  %s\n", "figure", "median", "min", "max", "target", "ratio", "result");
  if (child.ok()) {
    PrintRow("read+split throughput (MB/s)", Summarize(child->mb_per_s), ">= 1000", 1000.0, true);
    const double rss = child->max_rss_mib;
    PrintRow("peak RSS of reader (MiB)", {rss, rss, rss}, "<= 28", 2.0 * static_cast<double>(budget) / (1 << 20),
             false);
  } else {
    std::printf("read+split / peak RSS: NOT MEASURED: %s\n", child.status().ToString().c_str());
  }
  if (appends.ok()) {
    PrintRow("one appended line (us)", Summarize(*appends), "< 1000", 1000.0, false);
  } else {
    std::printf("one appended line: NOT MEASURED: %s\n", appends.status().ToString().c_str());
  }
  if (tracked.ok()) {
    PrintRow("  via SessionTracker Next+Ack (us)", Summarize(tracked->append_micros), "< 1000", 1000.0, false);
    const double ms = tracked->rescan_ms;
    std::printf("resume without checkpoint: rescan of %s to line %llu took %.1f ms (%.0f MB/s)\n",
                tsync::testdata::FormatByteSize(t->bytes).c_str(), static_cast<unsigned long long>(t->lines), ms,
                static_cast<double>(t->bytes) / 1e6 / (ms / 1e3));
  } else {
    std::printf("tracker path: NOT MEASURED: %s\n", tracked.status().ToString().c_str());
  }

  tsync::bench::FigureSheet sheet("chunk_read_bench");
  const std::string on = "on a " + tsync::testdata::FormatByteSize(t->bytes) + " transcript";
  if (child.ok()) {
    sheet.Target("chunk read+split from the page cache", Summarize(child->mb_per_s).median, "MB/s", ">= 1000",
                 "median of " + std::to_string(runs) + " passes " + on);
    sheet.Target("chunk reader peak RSS", child->max_rss_mib, "MiB", "<= 28", "2 x the 14 MiB budget");
  }
  if (appends.ok()) {
    sheet.Target("read one appended line", Summarize(*appends).median, "us", "< 1000",
                 "ReadChunk from the previous end, " + on);
  }
  if (tracked.ok()) {
    sheet.Target("one appended line via SessionTracker Next+Ack", Summarize(tracked->append_micros).median, "us",
                 "< 1000", on);
  }
  sheet.Note("size", tsync::testdata::FormatByteSize(t->bytes));
  if (Status s = sheet.Write(json_path); !s.ok()) {
    std::fprintf(stderr, "chunk_read_bench: %s\n", s.ToString().c_str());
    return 1;
  }
  return 0;
}
