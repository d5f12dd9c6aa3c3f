// upload_bench: how fast, and in how much memory, tsync uploads a large
// transcript to a sync backend — measured against raw curl posting the same
// bytes to the same server in the same run.
//
// Figures (targets from the issue):
//  1) time of our upload over time of `curl --data-binary` sending the same
//     /sync/chunk bodies: <= 2.0. Ours is the real path: tracker::ReadChunk
//     (default 14 MiB budget) -> SyncSink::AppendChunk -> SyncClient, timed
//     over the chunk loop (Init happens before the clock on both sides). It
//     runs twice: zstd (the default, the one the target is for) and
//     SyncClientOptions::compress = false;
//  2) peak RSS of a process doing only our upload: <= 64 MiB. The uploader is
//     a fresh exec of this binary (as in chunk_read_bench), so neither the
//     generator's memory nor the parent's pages count; ru_maxrss from wait4().
// Fairness:
//  - every pass gets its own tsync-refserver with an empty database, so no
//    pass pays for rows an earlier pass left behind;
//  - curl is ONE process for all chunks (-K lists every request; it keeps the
//    connection alive as our client does), its bodies are on disk (and
//    fsync'd) before the clock starts, and it sends our client's headers,
//    including the empty `Expect:` that stops a 100-continue round trip.
//    The API key goes to curl in the -K file, never on its command line.
//    curl reads every --data-binary file into memory while it parses the
//    config, before its first request (hence its RSS of about the whole
//    upload); that load is inside its time, so the same -K file is also run
//    against a port that refuses connections and a stricter ratio against
//    curl minus that load is printed too;
//  - each upload is verified afterwards: ListFiles must report every line.
// A breakdown pass (read+split, validate, encode, zstd; nothing sent) runs in
// its own process and shows where the client's share of the time goes; what
// AppendChunk takes beyond it is transfer plus the server.
// A benchmark reports; it exits 0 unless it could not run or an upload was
// not stored completely.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <zstd.h>

#include "base/fs.h"
#include "base/memory.h"
#include "bench/bench_util.h"
#include "bench/figures.h"
#include "testdata/byte_size.h"
#include "testdata/session_generator.h"
#include "tracker/chunk_reader.h"
#include "uploader/sink.h"
#include "uploader/sync_client.h"
#include "uploader/sync_sink.h"

namespace {

using tsync::Result;
using tsync::Status;
using tsync::UniqueFd;
namespace uploader = tsync::uploader;
namespace tracker = tsync::tracker;

constexpr const char* kUploadChild = "--upload-child";
constexpr const char* kBreakdownChild = "--breakdown-child";
constexpr const char* kFileName = "s.jsonl";
constexpr double kTargetRatio = 2.0;
constexpr double kTargetRssMib = 64.0;

using tsync::bench::ChildRun;
using tsync::bench::Clock;
using tsync::bench::CurlConfig;
using tsync::bench::Mb;
using tsync::bench::RandomKey;
using tsync::bench::RefServer;
using tsync::bench::RunProcess;
using tsync::bench::RunToSuccess;
using tsync::bench::ScratchDir;
using tsync::bench::Seconds;
using tsync::bench::Stats;
using tsync::bench::Summarize;
using tsync::bench::WritePrivateFile;

struct Transcript {
  std::string path;
  uint64_t bytes = 0;
  uint64_t lines = 0;
};

// --- chunks, exactly as a sync reads them ---

const tsync::bench::UploadFile kFile{"", kFileName, tracker::FileType::kTranscript};

template <typename Fn>
Result<double> ForEachChunk(const std::string& path, Fn fn) {
  return tsync::bench::ForEachChunk(path, kFileName, fn);
}

uploader::ChunkRequest RequestFor(const std::string& session_id, const tracker::Chunk& c) {
  return tsync::bench::RequestFor(session_id, kFile, c);
}

Result<std::unique_ptr<uploader::SyncSink>> Connect(int port, const std::string& key, bool compress) {
  return tsync::bench::Connect("http://127.0.0.1:" + std::to_string(port), key, compress);
}

Result<std::string> InitSession(uploader::Sink& sink, const std::string& external_id, const std::string& path) {
  uploader::SessionInfo info;
  info.external_id = external_id;
  info.transcript_path = path;
  info.metadata_json = "{}";
  Result<uploader::InitResult> init = sink.Init(info);
  if (!init.ok()) return init.status();
  if (!init->last_synced_line.empty()) return Status::Conflict(external_id + " is not a new session");
  return init->session_id;
}

/// The API key from the first token of the refserver's keys file, so it
/// never appears on a command line.
Result<std::string> ReadKey(const std::string& keys_path) {
  Result<std::string> text = tsync::ReadFile(keys_path, 4096);
  if (!text.ok()) return text.status();
  const size_t end = text->find_first_of(" \n");
  if (end == 0 || end == std::string::npos) return Status::Corrupt(keys_path + " has no key");
  return text->substr(0, end);
}

// --- child processes: only the measured work runs in them ---

int ChildFailed(const char* child, const Status& s, int code) {
  std::fprintf(stderr, "upload_bench %s: %s\n", child, s.ToString().c_str());
  return code;
}

/// This process's peak RSS so far in MiB (VmHWM), 0 when unknown.
double PeakRssMib() {
  std::FILE* f = std::fopen("/proc/self/status", "re");
  if (f == nullptr) return 0;
  double kib = 0;
  for (char line[256]; std::fgets(line, sizeof line, f) != nullptr;) {
    if (std::strncmp(line, "VmHWM:", 6) == 0) kib = std::strtod(line + 6, nullptr);
  }
  std::fclose(f);
  return kib / 1024.0;
}

/// Our upload; prints "seconds read_s append_s chunks lines base_rss session_id",
/// base_rss being the peak RSS (MiB) before the first chunk.
int UploadChild(int port, const std::string& keys_path, const std::string& path, bool compress,
                const std::string& external_id) {
  Result<std::string> key = ReadKey(keys_path);
  if (!key.ok()) return ChildFailed("upload child", key.status(), 3);
  auto sink = Connect(port, *key, compress);
  if (!sink.ok()) return ChildFailed("upload child", sink.status(), 3);
  Result<std::string> session = InitSession(**sink, external_id, path);
  if (!session.ok()) return ChildFailed("upload child", session.status(), 3);
  uint64_t chunks = 0, lines = 0;
  double append_s = 0;
  const double base_rss = PeakRssMib();
  const auto t0 = Clock::now();
  Result<double> read_s = ForEachChunk(path, [&](const tracker::Chunk& c) -> Status {
    const auto a0 = Clock::now();
    Result<uploader::ChunkOutcome> out = (*sink)->AppendChunk(RequestFor(*session, c));
    append_s += Seconds(a0, Clock::now());
    if (!out.ok()) return out.status();
    if (!out->accepted()) {
      return Status::Conflict("chunk at line " + std::to_string(c.first_line) + " rejected; server expected " +
                              std::to_string(*out->expected_first_line));
    }
    ++chunks;
    lines += c.lines.size();
    return Status::Ok();
  });
  const double seconds = Seconds(t0, Clock::now());
  if (!read_s.ok()) return ChildFailed("upload child", read_s.status(), 4);
  std::printf("%.9f %.9f %.9f %llu %llu %.3f %s\n", seconds, *read_s, append_s,
              static_cast<unsigned long long>(chunks), static_cast<unsigned long long>(lines), base_rss,
              session->c_str());
  return 0;
}

/// The client's work without the network; prints
/// "read_s validate_s encode_s compress_s body_bytes zstd_bytes".
int BreakdownChild(const std::string& path) {
  const std::string session = "00000000-0000-4000-8000-000000000000";
  double validate_s = 0, encode_s = 0, compress_s = 0;
  uint64_t body_bytes = 0, zstd_bytes = 0;
  std::string wire;
  Result<double> read_s = ForEachChunk(path, [&](const tracker::Chunk& c) -> Status {
    const uploader::ChunkRequest req = RequestFor(session, c);
    const auto t0 = Clock::now();
    Status valid = uploader::ValidateChunkRequest(req);
    const auto t1 = Clock::now();
    const std::string body = uploader::EncodeChunkBody(req);
    const auto t2 = Clock::now();
    // As uploader/http_transport.cc does it: a fresh bound-sized buffer, level 1.
    wire.clear();
    wire.shrink_to_fit();
    wire.resize(ZSTD_compressBound(body.size()));
    const size_t n = ZSTD_compress(wire.data(), wire.size(), body.data(), body.size(), 1);
    const auto t3 = Clock::now();
    if (!valid.ok()) return valid;
    if (ZSTD_isError(n)) return Status::Internal(ZSTD_getErrorName(n));
    validate_s += Seconds(t0, t1);
    encode_s += Seconds(t1, t2);
    compress_s += Seconds(t2, t3);
    body_bytes += body.size();
    zstd_bytes += n;
    return Status::Ok();
  });
  if (!read_s.ok()) return ChildFailed("breakdown child", read_s.status(), 4);
  std::printf("%.9f %.9f %.9f %.9f %llu %llu\n", *read_s, validate_s, encode_s, compress_s,
              static_cast<unsigned long long>(body_bytes), static_cast<unsigned long long>(zstd_bytes));
  return 0;
}

// --- one pass of each contender ---

struct Context {
  Transcript transcript;
  std::string dir;  // scratch directory
  std::string keys_path;
  std::string key;
};

struct PassFigures {
  double seconds = 0;
  uint64_t chunks = 0;
  double rss_mib = 0;
  double base_rss_mib = 0;  // ours only: peak RSS before the first chunk
  double server_cpu_s = 0;
  double read_s = 0, append_s = 0;  // ours only
  double curl_load_s = 0;           // curl only: CurlLoadSeconds()
};

/// The server must hold every line of the transcript for `session_id`.
Status Verify(int port, const Context& ctx, const std::string& session_id) {
  auto sink = Connect(port, ctx.key, true);
  if (!sink.ok()) return sink.status();
  Result<std::vector<uploader::FileInfo>> files = (*sink)->ListFiles(session_id);
  if (!files.ok()) return files.status();
  if (files->size() != 1 || (*files)[0].file_name != kFileName) {
    return Status::Corrupt("the server lists " + std::to_string(files->size()) + " files for the session");
  }
  if ((*files)[0].last_synced_line != ctx.transcript.lines) {
    return Status::Corrupt("the server holds " + std::to_string((*files)[0].last_synced_line) + " of " +
                           std::to_string(ctx.transcript.lines) + " lines");
  }
  return Status::Ok();
}

/// Removes the pass's SQLite database (and its WAL files) from the scratch dir.
void DropDatabase(const Context& ctx, const std::string& name) {
  tsync::bench::DropDatabase(ctx.dir + "/" + name + ".db");
}

Status StartServer(RefServer& server, const Context& ctx, const std::string& name) {
  DropDatabase(ctx, name);
  return server.Start(ctx.dir + "/" + name + ".db", ctx.keys_path);
}

Result<PassFigures> OursPass(const Context& ctx, bool compress, int pass) {
  const std::string name = std::string(compress ? "ours-zstd-" : "ours-plain-") + std::to_string(pass);
  RefServer server;
  if (Status s = StartServer(server, ctx, name); !s.ok()) return s;
  Result<ChildRun> run = RunToSuccess({"/proc/self/exe", kUploadChild, std::to_string(server.port()), ctx.keys_path,
                                       ctx.transcript.path, compress ? "1" : "0", "bench-" + name});
  if (!run.ok()) return run.status();
  PassFigures f;
  unsigned long long chunks = 0, lines = 0;
  char session[64] = {0};
  if (std::sscanf(run->out.c_str(), "%lf %lf %lf %llu %llu %lf %63s", &f.seconds, &f.read_s, &f.append_s, &chunks,
                  &lines, &f.base_rss_mib, session) != 7) {
    return Status::Internal("upload child printed no figures");
  }
  f.chunks = chunks;
  f.rss_mib = run->max_rss_mib;
  if (lines != ctx.transcript.lines) return Status::Corrupt("the upload sent " + std::to_string(lines) + " lines");
  if (Status s = Verify(server.port(), ctx, session); !s.ok()) return s;
  f.server_cpu_s = server.Stop();
  DropDatabase(ctx, name);
  return f;
}

/// The /sync/chunk body of every chunk (the same chunking as ours) for
/// `session`, written and fsync'd before any clock starts; returns the paths.
Result<std::vector<std::string>> WriteBodies(const Context& ctx, const std::string& session, uint64_t* bytes) {
  std::vector<std::string> paths;
  Result<double> read = ForEachChunk(ctx.transcript.path, [&](const tracker::Chunk& c) -> Status {
    const std::string body = uploader::EncodeChunkBody(RequestFor(session, c));
    paths.push_back(ctx.dir + "/body-" + std::to_string(paths.size()) + ".json");
    *bytes += body.size();
    return WritePrivateFile(paths.back(), body, true);
  });
  if (!read.ok()) return read.status();
  return paths;
}

/// A loopback port that refuses connections (bound, never listening) for as
/// long as this object lives.
class RefusingPort {
 public:
  RefusingPort() : fd_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (fd_.valid() && ::bind(fd_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
        ::getsockname(fd_.get(), reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
      port_ = ntohs(addr.sin_port);
    }
  }
  int port() const { return port_; }  // 0 when none could be bound

 private:
  UniqueFd fd_;
  int port_ = 0;
};

/// curl with the same -K file but every URL refused: what curl spends before
/// and around its transfers, chiefly reading every @body into memory while
/// it parses the config (curl loads --data-binary files up front).
Result<double> CurlLoadSeconds(const Context& ctx, const std::vector<std::string>& bodies) {
  RefusingPort refused;
  if (refused.port() == 0) return Status::Errno("bind a loopback port", errno);
  const std::string cfg = ctx.dir + "/curl-refused.cfg";
  const std::string url = "http://127.0.0.1:" + std::to_string(refused.port()) + "/api/v1/sync/chunk";
  if (Status s = WritePrivateFile(cfg, CurlConfig(bodies, url, ctx.key), false); !s.ok()) return s;
  Result<ChildRun> run = RunProcess({"curl", "-q", "-K", cfg});
  ::unlink(cfg.c_str());
  if (!run.ok()) return run.status();
  if (run->exit_code != 7) return Status::Internal("curl against a refusing port exited " + std::to_string(run->exit_code));
  return run->seconds;
}

Result<PassFigures> CurlPass(const Context& ctx, int pass) {
  const std::string name = "curl-" + std::to_string(pass);
  RefServer server;
  if (Status s = StartServer(server, ctx, name); !s.ok()) return s;
  auto sink = Connect(server.port(), ctx.key, true);
  if (!sink.ok()) return sink.status();
  Result<std::string> session = InitSession(**sink, "bench-" + name, ctx.transcript.path);
  if (!session.ok()) return session.status();
  uint64_t body_bytes = 0;
  const auto p0 = Clock::now();
  Result<std::vector<std::string>> bodies = WriteBodies(ctx, *session, &body_bytes);
  if (!bodies.ok()) return bodies.status();
  std::printf("    curl: %zu bodies (%.1f MB) written and fsync'd in %.1f s, not timed\n", bodies->size(),
              Mb(body_bytes), Seconds(p0, Clock::now()));
  const std::string cfg = ctx.dir + "/curl.cfg";
  const std::string url = "http://127.0.0.1:" + std::to_string(server.port()) + "/api/v1/sync/chunk";
  Status wrote = WritePrivateFile(cfg, CurlConfig(*bodies, url, ctx.key), false);
  // -q first: ignore any ~/.curlrc.
  Result<ChildRun> run = wrote.ok() ? RunToSuccess({"curl", "-q", "-K", cfg}) : wrote;
  ::unlink(cfg.c_str());
  Result<double> load_s = run.ok() ? CurlLoadSeconds(ctx, *bodies) : run.status();
  for (const std::string& body : *bodies) ::unlink(body.c_str());
  if (!load_s.ok()) return load_s.status();
  const uint64_t ok = tsync::bench::CurlOkCount(run->out);
  if (ok != bodies->size()) {
    return Status::Corrupt("curl got 200 for " + std::to_string(ok) + " of " + std::to_string(bodies->size()) +
                           " chunks");
  }
  if (Status s = Verify(server.port(), ctx, *session); !s.ok()) return s;
  PassFigures f;
  f.seconds = run->seconds;
  f.chunks = bodies->size();
  f.rss_mib = run->max_rss_mib;
  f.curl_load_s = *load_s;
  f.server_cpu_s = server.Stop();
  DropDatabase(ctx, name);
  return f;
}

// --- setup and report ---

Result<Transcript> Generate(const std::string& dir, uint64_t seed, uint64_t bytes) {
  tsync::testdata::GeneratorOptions options;
  options.seed = seed;
  options.target_bytes = bytes;
  options.image_rate = 0.01;
  const auto t0 = Clock::now();
  auto session = tsync::testdata::GenerateSession(dir + "/-bench-project", options);
  if (!session.ok()) return session.status();
  const auto& f = session->transcript;
  std::printf("generated %s transcript, %llu lines, seed %llu, in %.1f s\n",
              tsync::testdata::FormatByteSize(f.bytes).c_str(), static_cast<unsigned long long>(f.lines),
              static_cast<unsigned long long>(seed), Seconds(t0, Clock::now()));
  return Transcript{f.path, f.bytes, f.lines};
}

void PrintPass(const char* who, const PassFigures& f, uint64_t bytes) {
  std::printf("    %-10s %6.2f s %6.1f MB/s %4llu chunks  peak RSS %5.1f MiB", who, f.seconds, Mb(bytes) / f.seconds,
              static_cast<unsigned long long>(f.chunks), f.rss_mib);
  if (f.base_rss_mib > 0) std::printf(" (%.1f before chunk 1)", f.base_rss_mib);
  std::printf("  server CPU %5.1f s", f.server_cpu_s);
  if (f.append_s > 0) std::printf("  ReadChunk %.2f s, AppendChunk %.2f s", f.read_s, f.append_s);
  if (f.curl_load_s > 0) std::printf("  of which loading the bodies ~%.2f s", f.curl_load_s);
  std::printf("\n");
  std::fflush(stdout);
}

void PrintRow(const char* figure, const Stats& s, const char* target_text, double target, bool higher_is_better) {
  const double ratio = s.median / target;
  const bool pass = higher_is_better ? ratio >= 1.0 : ratio <= 1.0;
  std::printf("%-38s %9.2f %9.2f %9.2f %9s %7.2f  %s\n", figure, s.median, s.min, s.max, target_text, ratio,
              pass ? "PASS" : "MISS");
}

void PrintInfo(const char* figure, const Stats& s) {
  std::printf("%-38s %9.2f %9.2f %9.2f\n", figure, s.median, s.min, s.max);
}

/// Every pass of every contender.
struct Runs {
  std::vector<PassFigures> zstd, plain, curl;
};

/// Summary over the passes of fn(i) for pass index i.
template <typename Fn>
Stats Over(const Runs& runs, Fn fn) {
  std::vector<double> v;
  for (size_t i = 0; i < runs.curl.size(); ++i) v.push_back(fn(i));
  return Summarize(v);
}

void PrintSummary(const Runs& r, const Transcript& t) {
  const double mb = Mb(t.bytes);
  // curl's time without reading its bodies into memory (CurlLoadSeconds).
  auto sending = [&](size_t i) { return r.curl[i].seconds - r.curl[i].curl_load_s; };
  std::printf("\n%-38s %9s %9s %9s %9s %7s  %s\n", "figure", "median", "min", "max", "target", "ratio", "result");
  PrintInfo("ours, zstd (MB/s)", Over(r, [&](size_t i) { return mb / r.zstd[i].seconds; }));
  PrintInfo("ours, plain (MB/s)", Over(r, [&](size_t i) { return mb / r.plain[i].seconds; }));
  PrintInfo("curl --data-binary (MB/s)", Over(r, [&](size_t i) { return mb / r.curl[i].seconds; }));
  const Stats ratio = Over(r, [&](size_t i) { return r.zstd[i].seconds / r.curl[i].seconds; });
  PrintRow("time ours zstd / curl", ratio, "<= 2.0", kTargetRatio, false);
  PrintRow("time ours plain / curl", Over(r, [&](size_t i) { return r.plain[i].seconds / r.curl[i].seconds; }),
           "<= 2.0", kTargetRatio, false);
  PrintInfo("curl minus its body load (MB/s)", Over(r, [&](size_t i) { return mb / sending(i); }));
  PrintRow("time ours zstd / curl minus load", Over(r, [&](size_t i) { return r.zstd[i].seconds / sending(i); }),
           "<= 2.0", kTargetRatio, false);
  PrintRow("time ours plain / curl minus load", Over(r, [&](size_t i) { return r.plain[i].seconds / sending(i); }),
           "<= 2.0", kTargetRatio, false);
  const Stats rss = Over(r, [&](size_t i) { return r.zstd[i].rss_mib; });
  PrintRow("peak RSS of our upload, zstd (MiB)", rss, "<= 64", kTargetRssMib, false);
  PrintRow("peak RSS of our upload, plain (MiB)", Over(r, [&](size_t i) { return r.plain[i].rss_mib; }), "<= 64",
           kTargetRssMib, false);
  PrintInfo("peak RSS of curl (MiB)", Over(r, [&](size_t i) { return r.curl[i].rss_mib; }));
  std::printf("%s over %s (%llu lines); MB = 10^6 bytes of transcript\n",
              r.curl.size() == 1 ? "single pass each (no median; --passes N for medians)" : "medians of the passes",
              tsync::testdata::FormatByteSize(t.bytes).c_str(), static_cast<unsigned long long>(t.lines));
  const bool met = ratio.median <= kTargetRatio && rss.max <= kTargetRssMib;
  std::printf("target (default zstd upload within 2x of curl, peak RSS <= 64 MiB): %s\n", met ? "MET" : "NOT MET");
}

/// The summary's headline figures for bench/run-all (bench/figures.h).
Status WriteFigures(const Runs& r, const Transcript& t, const std::string& path) {
  const double mb = Mb(t.bytes);
  tsync::bench::FigureSheet sheet("upload_bench");
  const std::string on = "one " + tsync::testdata::FormatByteSize(t.bytes) + " transcript, " +
                         std::to_string(r.curl.size()) + " pass(es)";
  sheet.Info("upload, our client (zstd)", Over(r, [&](size_t i) { return mb / r.zstd[i].seconds; }).median, "MB/s", on);
  sheet.Info("upload, curl with the same chunks", Over(r, [&](size_t i) { return mb / r.curl[i].seconds; }).median,
             "MB/s", on);
  const Stats ratio = Over(r, [&](size_t i) { return r.zstd[i].seconds / r.curl[i].seconds; });
  sheet.Target("upload time, ours (zstd) / curl", ratio.median, "x", "<= 2.0", "lower is better");
  sheet.Target("upload peak RSS (zstd)", Over(r, [&](size_t i) { return r.zstd[i].rss_mib; }).max, "MiB", "<= 64");
  sheet.Note("size", tsync::testdata::FormatByteSize(t.bytes));
  return sheet.Write(path);
}

void PrintBreakdown(const std::string& out, const PassFigures& zstd, const PassFigures& plain) {
  double read_s = 0, validate_s = 0, encode_s = 0, compress_s = 0;
  unsigned long long body = 0, wire = 0;
  if (std::sscanf(out.c_str(), "%lf %lf %lf %lf %llu %llu", &read_s, &validate_s, &encode_s, &compress_s, &body,
                  &wire) != 6) {
    std::printf("breakdown: NOT MEASURED (no figures)\n");
    return;
  }
  std::printf("\nwhere our time goes (client work in its own process, nothing sent; last pass's AppendChunk):\n");
  std::printf("  read+split (ReadChunk)   %6.2f s\n", read_s);
  std::printf("  validate lines           %6.2f s\n", validate_s);
  std::printf("  encode body (JSON)       %6.2f s   %.1f MB of bodies\n", encode_s, Mb(body));
  std::printf("  zstd level 1             %6.2f s   -> %.1f MB on the wire (%.1fx)\n", compress_s, Mb(wire),
              static_cast<double>(body) / static_cast<double>(wire));
  const double plain_rest = plain.append_s - validate_s - encode_s;
  const double zstd_rest = zstd.append_s - validate_s - encode_s - compress_s;
  std::printf("  => send + server, plain  %6.2f s   (AppendChunk %.2f s minus validate and encode)\n", plain_rest,
              plain.append_s);
  std::printf("  => send + server, zstd   %6.2f s   (AppendChunk %.2f s minus validate, encode, zstd)\n", zstd_rest,
              zstd.append_s);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 7 && std::string(argv[1]) == kUploadChild) {
    tsync::KeepLargeBuffersOutOfHeap();  // as tsync's main() does
    return UploadChild(std::atoi(argv[2]), argv[3], argv[4], std::string(argv[5]) == "1", argv[6]);
  }
  if (argc == 3 && std::string(argv[1]) == kBreakdownChild) return BreakdownChild(argv[2]);
  CLI::App app{"Benchmark uploading a generated transcript to tsync-refserver against raw curl."};
  const char* tmp = std::getenv("TMPDIR");
  std::string dir = tmp && *tmp ? tmp : "/tmp", size_text;
  uint64_t mib = 1024, seed = 42;
  int passes = 1;
  std::string json_path;
  app.add_option("--json", json_path, "also write the figures as JSON to this file (bench/run-all)");
  auto* mib_opt = app.add_option("--mib", mib, "transcript size in MiB (default 1024)")->check(CLI::Range(1, 65536));
  app.add_option("--size", size_text, "transcript size as a byte size (64M, 1G); for bench/run-all")
      ->excludes(mib_opt);
  app.add_option("--dir", dir, "where the scratch directory (transcript, databases, bodies) is made");
  app.add_option("--seed", seed, "generator seed");
  app.add_option("--passes", passes, "passes of each contender (median reported)")->check(CLI::Range(1, 15));
  CLI11_PARSE(app, argc, argv);
  uint64_t bytes = mib << 20;
  if (!size_text.empty()) {
    auto size = tsync::testdata::ParseByteSize(size_text);
    if (!size.ok()) {
      std::fprintf(stderr, "upload_bench: %s\n", size.status().ToString().c_str());
      return 2;
    }
    bytes = *size;
  }
  ::signal(SIGPIPE, SIG_IGN);

  auto scratch = ScratchDir::Create(dir, "tsync-upload-bench");
  if (!scratch.ok()) {
    std::fprintf(stderr, "upload_bench: %s\n", scratch.status().ToString().c_str());
    return 1;
  }
  Context ctx;
  ctx.dir = (*scratch)->path();
  ctx.keys_path = ctx.dir + "/keys";
  ctx.key = RandomKey();
  Result<Transcript> t = Generate(ctx.dir, seed, bytes);
  Status keys = tsync::WriteFileAtomic(ctx.keys_path, ctx.key + " bench@example.com\n", 0600);
  if (!t.ok() || !keys.ok()) {
    std::fprintf(stderr, "upload_bench: cannot prepare: %s\n", (t.ok() ? keys : t.status()).ToString().c_str());
    return 1;
  }
  ctx.transcript = *t;
  std::printf("each pass: a fresh tsync-refserver (empty database) on 127.0.0.1; timed: the chunk loop\n");

  Runs runs;
  for (int pass = 1; pass <= passes; ++pass) {
    std::printf("  pass %d/%d\n", pass, passes);
    std::fflush(stdout);
    Result<PassFigures> z = OursPass(ctx, true, pass);
    if (z.ok()) PrintPass("ours zstd", *z, ctx.transcript.bytes);
    Result<PassFigures> p = z.ok() ? OursPass(ctx, false, pass) : z.status();
    if (z.ok() && p.ok()) PrintPass("ours plain", *p, ctx.transcript.bytes);
    Result<PassFigures> c = p.ok() ? CurlPass(ctx, pass) : p.status();
    if (!c.ok()) {
      std::fprintf(stderr, "upload_bench: FAILED: %s\n", c.status().ToString().c_str());
      return 1;
    }
    PrintPass("curl -K", *c, ctx.transcript.bytes);
    runs.zstd.push_back(*z);
    runs.plain.push_back(*p);
    runs.curl.push_back(*c);
  }
  PrintSummary(runs, ctx.transcript);
  if (Status s = WriteFigures(runs, ctx.transcript, json_path); !s.ok()) {
    std::fprintf(stderr, "upload_bench: %s\n", s.ToString().c_str());
    return 1;
  }

  Result<ChildRun> breakdown = RunToSuccess({"/proc/self/exe", kBreakdownChild, ctx.transcript.path});
  if (breakdown.ok()) {
    PrintBreakdown(breakdown->out, runs.zstd.back(), runs.plain.back());
  } else {
    std::printf("breakdown: NOT MEASURED: %s\n", breakdown.status().ToString().c_str());
  }
  return 0;
}
