// save_bench: the issue 5 speed goal, end to end — the real `tsync save`
// binary of this build over a corpus of many generated Claude Code sessions
// (with subagents) against tsync-refserver, next to curl posting the same
// bytes in the same chunks, and the one-line re-save of a big session.
//
// Figures (targets from the issue):
//  1) `tsync save --all --to <refserver> --jobs N` over >= --size of
//     sessions: corpus bytes (every .jsonl file it must send) / wall time of
//     the whole process: >= 150 MB/s;
//  2) that process's peak RSS (ru_maxrss from wait4()): <= 64 MiB;
//  3) `tsync save <id-prefix>` after one line was appended to an already
//     saved session of --big-session-size: wall time of the whole process,
//     median of --resaves (>= 5) appends: < 20 ms.
// For comparison, the same corpus goes to a fresh refserver through curl:
// each session is initialised first (not timed), every file is cut into the
// chunks a sync cuts (tracker::ReadChunk, default budget), each chunk's
// /sync/chunk body is written and fsync'd before the clock starts, and N curl
// processes (N = --jobs, sessions dealt to them by size; one process when
// N = 1) post them with one -K config each, in order, as upload_bench does.
// Who limits: for every phase the CPU seconds of tsync (wait4; includes the
// git runs it waits for), of curl, and of the refserver (/proc while it runs)
// are printed next to the wall time, as "cores busy".
// Isolation: HOME, XDG_CONFIG_HOME, XDG_STATE_HOME, XDG_DATA_HOME,
// XDG_CACHE_HOME and CLAUDE_CONFIG_DIR of every tsync run point into a
// private scratch directory (removed at the end unless --keep); the API key
// reaches tsync through TSYNC_API_KEY and curl through its -K file, never a
// command line. Sessions run in small git repositories made in the scratch
// directory, so tsync's git probe costs what it costs on a real machine.
// Nothing is trusted: after each upload the refserver's per-file line counts
// (GET /api/v1/sessions/{id}/files) must equal the generator's for every
// session, and a few small transcripts are read back line by line (equal, or
// changed only inside a [REDACTED:...] marker). A broken upload ends the
// bench with exit 1 instead of a speed.
// A benchmark reports; it exits 0 unless it could not run (exit 1, with the
// reason on stderr).
#include <fcntl.h>
#include <signal.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "base/fs.h"
#include "base/json.h"
#include "bench/bench_util.h"
#include "bench/figures.h"
#include "testdata/byte_size.h"
#include "testdata/session_generator.h"
#include "uploader/sync_client.h"

namespace {

using tsync::Result;
using tsync::Status;
using tsync::bench::Child;
using tsync::bench::ChildOptions;
using tsync::bench::ChildRun;
using tsync::bench::Clock;
using tsync::bench::Mb;
using tsync::bench::RefServer;
using tsync::bench::Seconds;
using tsync::bench::Stats;
using tsync::bench::UploadFile;
namespace testdata = tsync::testdata;
namespace tracker = tsync::tracker;
namespace uploader = tsync::uploader;

constexpr double kTargetMbps = 150.0;
constexpr double kTargetRssMib = 64.0;
constexpr double kTargetResaveMs = 20.0;
constexpr uint64_t kMiB = 1u << 20;

// --- the corpus ---

struct CorpusFile {
  UploadFile upload;
  uint64_t lines = 0;
  uint64_t bytes = 0;
};

struct CorpusSession {
  std::string id;
  std::string transcript_path;
  std::string cwd;
  uint64_t bytes = 0;
  std::vector<CorpusFile> files;  // the transcript first
};

struct Corpus {
  std::vector<CorpusSession> sessions;
  uint64_t bytes = 0, lines = 0, files = 0;
};

/// How a sync names a generated file (tracker/agent_discovery.h): the
/// transcript and agents by their file name, workflow files by their path
/// under the session directory.
UploadFile UploadFileFor(const testdata::GeneratedSession& s, const std::string& path) {
  const std::string session_dir = s.project_dir + "/" + s.session_id + "/";
  const std::string base = path.substr(path.find_last_of('/') + 1);
  if (path == s.transcript.path) return {path, base, tracker::FileType::kTranscript};
  if (path.starts_with(session_dir + "subagents/workflows/")) {
    const auto type = base == "journal.jsonl" ? tracker::FileType::kWorkflowJournal : tracker::FileType::kAgent;
    return {path, path.substr(session_dir.size()), type};
  }
  return {path, base, tracker::FileType::kAgent};
}

CorpusSession Describe(const testdata::GeneratedSession& s, const std::string& cwd) {
  CorpusSession out;
  out.id = s.session_id;
  out.transcript_path = s.transcript.path;
  out.cwd = cwd;
  for (const testdata::GeneratedFile& f : s.files) {
    if (!f.path.ends_with(".jsonl")) continue;  // .meta.json sidecars are not sent
    out.files.push_back({UploadFileFor(s, f.path), f.lines, f.bytes});
    out.bytes += f.bytes;
  }
  return out;
}

void Add(Corpus* corpus, CorpusSession session) {
  corpus->bytes += session.bytes;
  for (const CorpusFile& f : session.files) corpus->lines += f.lines;
  corpus->files += session.files.size();
  corpus->sessions.push_back(std::move(session));
}

/// Many sessions under `projects` until their .jsonl files reach `target`
/// bytes: main transcripts log-uniform between 32 KiB and target/32 (256 KiB
/// .. 32 MiB), half of them with 1-4 subagents in either layout, some
/// nested, some with a workflow run, images in the big ones.
Result<Corpus> GenerateCorpus(const std::string& projects, uint64_t target, uint64_t seed,
                              const std::vector<std::string>& cwds) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  const uint64_t largest = std::clamp<uint64_t>(target / 32, 256 * 1024, 32 * kMiB);
  const double lo = std::log(32.0 * 1024), hi = std::log(static_cast<double>(largest));
  Corpus corpus;
  for (uint64_t i = 0; corpus.bytes < target; ++i) {
    testdata::GeneratorOptions o;
    o.seed = seed * 1'000'000 + i + 1;
    o.target_bytes = static_cast<uint64_t>(std::exp(lo + (hi - lo) * unit(rng)));
    if (unit(rng) < 0.5) o.agents = 1 + static_cast<int>(unit(rng) * 4);
    const double layout = unit(rng);
    o.layout = layout < 0.6 ? testdata::AgentLayout::kNew
                            : (layout < 0.8 ? testdata::AgentLayout::kOld : testdata::AgentLayout::kBoth);
    o.nested_agent = o.agents > 0 && unit(rng) < 0.25;
    o.workflow = unit(rng) < 0.1;
    o.image_rate = o.target_bytes >= 4 * kMiB ? 0.01 : 0.0;
    o.cwd = cwds[i % cwds.size()];
    Result<testdata::GeneratedSession> s = testdata::GenerateSession(projects, o);
    if (!s.ok()) return s.status();
    Add(&corpus, Describe(*s, o.cwd));
  }
  return corpus;
}

/// One session of `bytes` with three subagents, for the re-save figure.
Result<Corpus> GenerateBigSession(const std::string& projects, uint64_t bytes, uint64_t seed, const std::string& cwd) {
  testdata::GeneratorOptions o;
  o.seed = seed * 1'000'000 + 999'999;
  o.target_bytes = bytes;
  o.agents = 3;
  o.image_rate = 0.01;
  o.cwd = cwd;
  Result<testdata::GeneratedSession> s = testdata::GenerateSession(projects, o);
  if (!s.ok()) return s.status();
  Corpus corpus;
  Add(&corpus, Describe(*s, cwd));
  return corpus;
}

// --- the scratch world: private homes, git repositories, keys ---

struct World {
  std::string dir;  // the scratch directory
  std::string home;
  std::string keys_path, key;
  std::vector<std::string> repos;  // session working directories
  int jobs = 2;
  std::string path_env;            // PATH, so tsync finds git
  std::string refserver;           // the tsync-refserver binary
};

/// The whole environment of a tsync run: nothing of the user's leaks in.
std::vector<std::string> TsyncEnv(const World& w, const std::string& claude_dir) {
  return {"HOME=" + w.home,
          "XDG_CONFIG_HOME=" + w.home + "/.config",
          "XDG_STATE_HOME=" + w.home + "/.local/state",
          "XDG_DATA_HOME=" + w.home + "/.local/share",
          "XDG_CACHE_HOME=" + w.home + "/.cache",
          "CLAUDE_CONFIG_DIR=" + claude_dir,
          "TSYNC_API_KEY=" + w.key,
          "PATH=" + w.path_env,
          "TMPDIR=" + w.dir,
          "LANG=C.UTF-8"};
}

/// Two small repositories with a commit and a remote; the sessions'
/// working directories. Without git the sessions get directories that do
/// not exist (tsync then sends no git_info), and the bench says so.
std::vector<std::string> MakeRepos(const World& w) {
  std::vector<std::string> repos;
  ChildOptions quiet;
  quiet.env = std::vector<std::string>{"HOME=" + w.home, "PATH=" + w.path_env, "GIT_CONFIG_NOSYSTEM=1"};
  quiet.stderr_path = w.dir + "/git-setup.stderr";
  for (int i = 0; i < 2; ++i) {
    const std::string repo = w.dir + "/repos/app-" + std::to_string(i);
    const std::string git = "git";
    bool ok = tsync::MakeDirs(repo).ok() &&
              tsync::bench::WritePrivateFile(repo + "/README.md", "bench repository\n", false).ok();
    for (std::vector<std::string> args :
         {std::vector<std::string>{git, "-C", repo, "init", "-q", "-b", "main"},
          std::vector<std::string>{git, "-C", repo, "add", "README.md"},
          std::vector<std::string>{git, "-C", repo, "-c", "user.name=bench", "-c", "user.email=bench@example.com",
                                   "commit", "-q", "-m", "init"},
          std::vector<std::string>{git, "-C", repo, "remote", "add", "origin",
                                   "https://example.com/bench/app-" + std::to_string(i) + ".git"}}) {
      if (ok) ok = tsync::bench::RunToSuccess(args, quiet).ok();
    }
    if (!ok) {
      std::printf("note: cannot make git repositories (is git installed?); sessions run in missing directories\n");
      return {"/home/dev/bench-app-0", "/home/dev/bench-app-1"};
    }
    repos.push_back(repo);
  }
  return repos;
}

Status CheckFreeSpace(const std::string& dir, uint64_t need) {
  struct statvfs vfs {};
  if (::statvfs(dir.c_str(), &vfs) != 0) return Status::Errno("statvfs " + dir, errno);
  const uint64_t free = static_cast<uint64_t>(vfs.f_bavail) * vfs.f_frsize;
  if (free < need) {
    return Status::Io(dir + " has " + testdata::FormatByteSize(free) + " free; this run needs about " +
                      testdata::FormatByteSize(need) +
                      " (corpus, databases, curl bodies); use --dir or a smaller --size");
  }
  return Status::Ok();
}

// --- verification: the refserver must hold what the generator wrote ---

std::vector<std::string> LocalLines(const std::string& path) {
  std::vector<std::string> lines;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

/// Per-file line counts of every session, then up to `read_back` small
/// transcripts line by line. `extra_lines` maps a transcript path to lines
/// appended after generation.
Status VerifyStored(const std::string& url, const std::string& key, const Corpus& corpus, size_t read_back,
                    const std::map<std::string, uint64_t>& extra_lines = {}) {
  auto sink = tsync::bench::Connect(url, key);
  if (!sink.ok()) return sink.status();
  size_t read = 0;
  for (const CorpusSession& s : corpus.sessions) {
    Result<std::string> id = (*sink)->FindSession(s.id);
    if (!id.ok()) return Status::Corrupt("session " + s.id + " is not on the server: " + id.status().ToString());
    Result<std::vector<uploader::FileInfo>> stored = (*sink)->ListFiles(*id);
    if (!stored.ok()) return stored.status();
    std::map<std::string, uint64_t> counts;
    for (const uploader::FileInfo& f : *stored) counts[f.file_name] = f.last_synced_line;
    if (counts.size() != s.files.size()) {
      return Status::Corrupt("session " + s.id + ": the server holds " + std::to_string(counts.size()) +
                             " files, the generator wrote " + std::to_string(s.files.size()));
    }
    for (const CorpusFile& f : s.files) {
      auto extra = extra_lines.find(f.upload.path);
      const uint64_t want = f.lines + (extra == extra_lines.end() ? 0 : extra->second);
      auto it = counts.find(f.upload.file_name);
      const uint64_t got = it == counts.end() ? 0 : it->second;
      if (got != want) {
        return Status::Corrupt("session " + s.id + " " + f.upload.file_name + ": the server holds " +
                               std::to_string(got) + " lines of " + std::to_string(want));
      }
    }
    if (read < read_back && s.files[0].bytes <= 4 * kMiB) {
      ++read;
      Result<std::vector<std::string>> lines = (*sink)->ReadLines(*id, s.files[0].upload.file_name, 0);
      if (!lines.ok()) return lines.status();
      const std::vector<std::string> local = LocalLines(s.transcript_path);
      if (lines->size() != local.size()) return Status::Corrupt("session " + s.id + ": read back a different count");
      for (size_t i = 0; i < local.size(); ++i) {
        if ((*lines)[i] != local[i] && (*lines)[i].find("[REDACTED:") == std::string::npos) {
          return Status::Corrupt("session " + s.id + " line " + std::to_string(i + 1) + " differs from the local file");
        }
      }
    }
  }
  return Status::Ok();
}

// --- one measured phase ---

/// Wall time and CPU split of one measured run.
struct Phase {
  double seconds = 0;
  double client_cpu_s = 0;  // tsync (with its git runs), or every curl
  double client_user_s = 0, client_sys_s = 0;
  double server_cpu_s = 0;  // the refserver during the run
  double rss_mib = 0;       // the client's peak (the largest curl's)
};

Phase PhaseOf(const ChildRun& run, double server_cpu_s) {
  return {run.seconds, run.cpu_s(), run.user_s, run.sys_s, server_cpu_s, run.max_rss_mib};
}

std::string Tail(const std::string& path) {
  Result<std::string> text = tsync::ReadFile(path, 64u << 20);
  if (!text.ok()) return "";
  return text->size() > 2000 ? text->substr(text->size() - 2000) : *text;
}

/// Runs `tsync <args>` in the private world with CLAUDE_CONFIG_DIR =
/// `claude_dir`; exit code 0 required.
Result<Phase> RunTsync(const World& w, const std::string& claude_dir, std::vector<std::string> args,
                       const RefServer& server, const std::string& log_name, std::string* out = nullptr) {
  args.insert(args.begin(), TSYNC_BINARY);
  ChildOptions options;
  options.env = TsyncEnv(w, claude_dir);
  options.stderr_path = w.dir + "/" + log_name + ".stderr";
  const double server0 = server.CpuSoFar();
  Result<ChildRun> run = tsync::bench::RunProcess(args, options);
  const double server1 = server.CpuSoFar();
  if (!run.ok()) return run.status();
  if (run->exit_code != 0) {
    return Status::Internal("tsync " + args[1] + " exited " + std::to_string(run->exit_code) + "; its stderr:\n" +
                            Tail(options.stderr_path) + "its stdout:\n" + run->out);
  }
  if (out != nullptr) *out = run->out;
  return PhaseOf(*run, server1 - server0);
}

/// Every phase starts on a quiet disk (nothing left for writeback) with a
/// fresh refserver.
Status StartServer(RefServer& server, const World& w, const std::string& name) {
  const std::string db = w.dir + "/" + name + ".db";
  tsync::bench::DropDatabase(db);
  if (Status s = tsync::bench::SyncFilesystem(w.dir); !s.ok()) return s;
  return server.Start(db, w.keys_path);
}

void StopServer(RefServer& server, const World& w, const std::string& name) {
  server.Stop();
  tsync::bench::DropDatabase(w.dir + "/" + name + ".db");
}

/// `tsync save --all` over the corpus, verified; then the same again with
/// nothing new (`idle`).
Result<Phase> OursPhase(const World& w, const std::string& claude_dir, const Corpus& corpus, Phase* idle) {
  RefServer server(w.refserver);
  if (Status s = StartServer(server, w, "ours"); !s.ok()) return s;
  const std::vector<std::string> args = {"save", "--all", "--to", server.url(), "--jobs", std::to_string(w.jobs)};
  Result<Phase> phase = RunTsync(w, claude_dir, args, server, "save-all");
  if (!phase.ok()) return phase.status();
  if (Status s = VerifyStored(server.url(), w.key, corpus, 3); !s.ok()) return s;
  Result<Phase> again = RunTsync(w, claude_dir, args, server, "save-all-again");
  if (!again.ok()) return again.status();
  *idle = *again;
  StopServer(server, w, "ours");
  return phase;
}

/// The corpus's chunk bodies, written for curl: one list per curl process.
struct CurlWork {
  std::vector<std::vector<std::string>> bodies;
  uint64_t body_bytes = 0, chunks = 0;
};

/// Inits every session on `sink` and writes every chunk body (fsync'd),
/// sessions dealt by size to `procs` lists (largest first, to the lightest).
Result<CurlWork> WriteCurlBodies(const World& w, uploader::Sink& sink, const Corpus& corpus, int procs) {
  std::vector<const CorpusSession*> order;
  for (const CorpusSession& s : corpus.sessions) order.push_back(&s);
  std::stable_sort(order.begin(), order.end(), [](auto* a, auto* b) { return a->bytes > b->bytes; });
  CurlWork work;
  work.bodies.resize(static_cast<size_t>(procs));
  std::vector<uint64_t> load(static_cast<size_t>(procs), 0);
  if (Status s = tsync::MakeDirs(w.dir + "/bodies"); !s.ok()) return s;
  for (const CorpusSession* s : order) {
    const size_t p = static_cast<size_t>(std::min_element(load.begin(), load.end()) - load.begin());
    load[p] += s->bytes;
    uploader::SessionInfo info;
    info.external_id = s->id;
    info.transcript_path = s->transcript_path;
    info.metadata_json = tsync::JsonWriter().BeginObject().Key("cwd").String(s->cwd).EndObject().Take();
    Result<uploader::InitResult> init = sink.Init(info);
    if (!init.ok()) return init.status();
    for (const CorpusFile& f : s->files) {
      Result<double> read = tsync::bench::ForEachChunk(f.upload.path, f.upload.file_name,
                                                       [&](const tracker::Chunk& c) -> Status {
        const std::string body = uploader::EncodeChunkBody(tsync::bench::RequestFor(init->session_id, f.upload, c));
        work.bodies[p].push_back(w.dir + "/bodies/" + std::to_string(work.chunks++) + ".json");
        work.body_bytes += body.size();
        return tsync::bench::WritePrivateFile(work.bodies[p].back(), body, true);
      });
      if (!read.ok()) return read.status();
    }
  }
  return work;
}

/// curl -K per list, side by side; verified.
Result<Phase> CurlPhase(const World& w, const Corpus& corpus) {
  RefServer server(w.refserver);
  if (Status s = StartServer(server, w, "curl"); !s.ok()) return s;
  auto sink = tsync::bench::Connect(server.url(), w.key);
  if (!sink.ok()) return sink.status();
  const auto p0 = Clock::now();
  Result<CurlWork> work = WriteCurlBodies(w, **sink, corpus, w.jobs);
  if (!work.ok()) return work.status();
  std::printf("  curl: %llu chunk bodies (%.1f MB) for %zu process(es) written and fsync'd in %.1f s, not timed\n",
              static_cast<unsigned long long>(work->chunks), Mb(work->body_bytes), work->bodies.size(),
              Seconds(p0, Clock::now()));
  std::fflush(stdout);
  const std::string url = server.url() + "/api/v1/sync/chunk";
  for (size_t i = 0; i < work->bodies.size(); ++i) {
    const std::string cfg = tsync::bench::CurlConfig(work->bodies[i], url, w.key);
    if (Status s = tsync::bench::WritePrivateFile(w.dir + "/curl-" + std::to_string(i) + ".cfg", cfg, false); !s.ok()) {
      return s;
    }
  }
  const double server0 = server.CpuSoFar();
  const auto t0 = Clock::now();
  std::vector<std::unique_ptr<Child>> children;
  for (size_t i = 0; i < work->bodies.size(); ++i) {
    ChildOptions options;
    options.stdout_path = w.dir + "/curl-" + std::to_string(i) + ".out";
    auto child = Child::Start({"curl", "-q", "-K", w.dir + "/curl-" + std::to_string(i) + ".cfg"}, options);
    if (!child.ok()) return child.status();
    children.push_back(std::move(child).value());
  }
  Phase phase;
  uint64_t ok = 0;
  for (auto& child : children) {
    Result<ChildRun> run = child->Wait();
    if (!run.ok()) return run.status();
    if (run->exit_code != 0) return Status::Internal("curl exited " + std::to_string(run->exit_code));
    ok += tsync::bench::CurlOkCount(run->out);
    phase.client_cpu_s += run->cpu_s();
    phase.client_user_s += run->user_s;
    phase.client_sys_s += run->sys_s;
    phase.rss_mib = std::max(phase.rss_mib, run->max_rss_mib);
  }
  phase.seconds = Seconds(t0, Clock::now());
  phase.server_cpu_s = server.CpuSoFar() - server0;
  std::error_code ec;
  std::filesystem::remove_all(w.dir + "/bodies", ec);
  if (ok != work->chunks) {
    return Status::Corrupt("curl got 200 for " + std::to_string(ok) + " of " + std::to_string(work->chunks) +
                           " chunks");
  }
  if (Status s = VerifyStored(server.url(), w.key, corpus, 3); !s.ok()) return s;
  StopServer(server, w, "curl");
  return phase;
}

// --- the re-save of one big session ---

struct ResaveFigures {
  Phase first;                  // the first save of the whole session
  std::vector<Phase> one_line;  // save <prefix> after appending one line
  std::vector<Phase> idle;      // save <prefix> with nothing new
  std::vector<Phase> version;   // tsync --version: the floor of any run
};

std::string RandomUuid(std::mt19937_64& rng) {
  char u[37];
  const uint64_t a = rng(), b = rng();
  std::snprintf(u, sizeof u, "%08llx-%04llx-4%03llx-8%03llx-%012llx", static_cast<unsigned long long>(a >> 32),
                static_cast<unsigned long long>((a >> 16) & 0xffff), static_cast<unsigned long long>(a & 0xfff),
                static_cast<unsigned long long>(b >> 52), static_cast<unsigned long long>(b & 0xffffffffffffull));
  return u;
}

/// A user line as Claude Code appends it.
std::string UserLine(const CorpusSession& s, int n, std::mt19937_64& rng) {
  tsync::JsonWriter w;
  w.BeginObject().Key("parentUuid").Null().Key("isSidechain").Bool(false).Key("userType").String("external");
  w.Key("cwd").String(s.cwd).Key("sessionId").String(s.id).Key("version").String("2.1.328");
  w.Key("gitBranch").String("main").Key("type").String("user");
  w.Key("message").BeginObject().Key("role").String("user");
  w.Key("content").String("one more question, number " + std::to_string(n)).EndObject();
  w.Key("uuid").String(RandomUuid(rng)).Key("timestamp").String("2026-01-01T00:00:00.000Z").EndObject();
  return w.Take() + "\n";
}

Status AppendLine(const std::string& path, const std::string& line) {
  tsync::UniqueFd fd(::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC));
  if (!fd.valid()) return Status::Errno("open " + path, errno);
  return tsync::WriteAll(fd.get(), line, path);
}

Result<ResaveFigures> ResavePhase(const World& w, const std::string& claude_dir, const Corpus& big, int reps) {
  RefServer server(w.refserver);
  if (Status s = StartServer(server, w, "big"); !s.ok()) return s;
  ResaveFigures fig;
  Result<Phase> first = RunTsync(w, claude_dir, {"save", "--all", "--to", server.url()}, server, "big-first");
  if (!first.ok()) return first.status();
  fig.first = *first;
  const CorpusSession& s = big.sessions[0];
  const std::vector<std::string> save = {"save", s.id.substr(0, 8), "--to", server.url()};
  std::mt19937_64 rng(7);
  for (int i = 0; i < reps; ++i) {
    Result<Phase> version = RunTsync(w, claude_dir, {"--version"}, server, "version");
    Result<Phase> idle = version.ok() ? RunTsync(w, claude_dir, save, server, "resave-idle") : version.status();
    if (!idle.ok()) return idle.status();
    if (Status st = AppendLine(s.transcript_path, UserLine(s, i, rng)); !st.ok()) return st;
    std::string out;
    Result<Phase> one = RunTsync(w, claude_dir, save, server, "resave", &out);
    if (!one.ok()) return one.status();
    if (out.find(" 1 new line(s) sent") == std::string::npos) {
      return Status::Corrupt("the re-save did not report one new line; it printed:\n" + out);
    }
    fig.version.push_back(*version);
    fig.idle.push_back(*idle);
    fig.one_line.push_back(*one);
  }
  const std::map<std::string, uint64_t> appended = {{s.transcript_path, static_cast<uint64_t>(reps)}};
  if (Status st = VerifyStored(server.url(), w.key, big, 0, appended); !st.ok()) return st;
  StopServer(server, w, "big");
  return fig;
}

// --- report ---

Stats Over(const std::vector<Phase>& phases, double (*fn)(const Phase&)) {
  std::vector<double> v;
  for (const Phase& p : phases) v.push_back(fn(p));
  return tsync::bench::Summarize(v);
}

void PrintCpuRow(const char* what, const Phase& p, uint64_t bytes) {
  const double gib = static_cast<double>(bytes) / static_cast<double>(1u << 30);
  std::printf("  %-34s %8.2f %8.1f %9.2f %6.2f %9.2f %6.2f %11.2f %11.2f\n", what, p.seconds, Mb(bytes) / p.seconds,
              p.client_cpu_s, p.client_cpu_s / p.seconds, p.server_cpu_s, p.server_cpu_s / p.seconds,
              p.client_cpu_s / gib, p.server_cpu_s / gib);
}

void PrintTargetRow(const char* figure, double value, const char* target, bool met) {
  std::printf("  %-44s %10.2f  %-10s %s\n", figure, value, target, met ? "MET" : "MISSED");
}

void PrintInfoRow(const char* figure, double value) { std::printf("  %-44s %10.2f  %-10s\n", figure, value, "(info)"); }

void PrintReport(const World& w, const Corpus& corpus, const Phase& ours, const Phase& idle, const Phase& curl,
                 const Corpus& big, const ResaveFigures& r) {
  std::printf("\nwhere the time goes (CPU seconds; cores = CPU / wall, of %ld):\n", ::sysconf(_SC_NPROCESSORS_ONLN));
  std::printf("  %-34s %8s %8s %9s %6s %9s %6s %11s %11s\n", "run", "wall s", "MB/s", "client s", "cores", "server s",
              "cores", "client s/GiB", "server s/GiB");
  const std::string ours_name = "tsync save --all --jobs " + std::to_string(w.jobs);
  const std::string curl_name = "curl -K x" + std::to_string(w.jobs) + " (same chunks)";
  PrintCpuRow(ours_name.c_str(), ours, corpus.bytes);
  PrintCpuRow(curl_name.c_str(), curl, corpus.bytes);
  PrintCpuRow("tsync save (1 big session, 1st)", r.first, big.bytes);
  std::printf("  tsync save --all: user %.2f s, system %.2f s; curl: user %.2f s, system %.2f s\n", ours.client_user_s,
              ours.client_sys_s, curl.client_user_s, curl.client_sys_s);
  const double tsync_cores = ours.client_cpu_s / ours.seconds, server_cores = ours.server_cpu_s / ours.seconds;
  std::printf("  busiest during save --all: %s (%.2f cores; the other %.2f)\n",
              server_cores >= tsync_cores ? "the refserver" : "tsync", std::max(server_cores, tsync_cores),
              std::min(server_cores, tsync_cores));

  const auto ms = [](double s) { return s * 1000.0; };
  const Stats one = Over(r.one_line, [](const Phase& p) { return p.seconds * 1000.0; });
  std::printf("\nre-save of one %s session (%zu files) after appending one line, %zu times (ms):\n",
              testdata::FormatByteSize(big.bytes).c_str(), big.sessions[0].files.size(), r.one_line.size());
  std::printf("  %-44s %8s %8s %8s\n", "", "median", "min", "max");
  const auto row = [&](const char* what, const Stats& s) {
    std::printf("  %-44s %8.1f %8.1f %8.1f\n", what, s.median, s.min, s.max);
  };
  row("one line: wall", one);
  row("one line: tsync user CPU", Over(r.one_line, [](const Phase& p) { return p.client_user_s * 1000.0; }));
  row("one line: tsync system CPU", Over(r.one_line, [](const Phase& p) { return p.client_sys_s * 1000.0; }));
  double server_ms = 0;  // /proc counts 10 ms ticks: only the mean over the repetitions means anything
  for (const Phase& p : r.one_line) server_ms += p.server_cpu_s * 1000.0 / static_cast<double>(r.one_line.size());
  std::printf("  %-44s %8.1f (mean; /proc counts in 10 ms ticks)\n", "one line: refserver CPU", server_ms);
  row("one line: tsync peak RSS (MiB)", Over(r.one_line, [](const Phase& p) { return p.rss_mib; }));
  row("nothing new: wall", Over(r.idle, [](const Phase& p) { return p.seconds * 1000.0; }));
  row("tsync --version: wall (exec + start-up)", Over(r.version, [](const Phase& p) { return p.seconds * 1000.0; }));

  const double mbps = Mb(corpus.bytes) / ours.seconds;
  std::printf("\n  %-44s %10s  %-10s %s\n", "figure", "value", "target", "result");
  PrintTargetRow("tsync save --all, end to end (MB/s)", mbps, ">= 150", mbps >= kTargetMbps);
  PrintTargetRow("peak RSS of tsync save --all (MiB)", ours.rss_mib, "<= 64", ours.rss_mib <= kTargetRssMib);
  PrintTargetRow("one-line re-save, median (ms)", one.median, "< 20", one.median < kTargetResaveMs);
  PrintInfoRow("curl, same chunks (MB/s)", Mb(corpus.bytes) / curl.seconds);
  PrintInfoRow("speed ours / curl", curl.seconds / ours.seconds);
  PrintInfoRow("save --all with nothing new (ms)", ms(idle.seconds));
  PrintInfoRow("peak RSS of the largest curl (MiB)", curl.rss_mib);
  PrintInfoRow("peak RSS, first save of the big session (MiB)", r.first.rss_mib);
  std::printf("  corpus: %s in %zu sessions, %llu files, %llu lines; MB = 10^6 bytes of .jsonl files\n",
              testdata::FormatByteSize(corpus.bytes).c_str(), corpus.sessions.size(),
              static_cast<unsigned long long>(corpus.files), static_cast<unsigned long long>(corpus.lines));
  std::printf("  every upload verified: per-file line counts of every session, small transcripts line by line\n");
}

/// The report's headline figures for bench/run-all (bench/figures.h).
Status WriteFigures(const std::string& path, const World& w, const Corpus& corpus, const Phase& ours,
                    const Phase& idle, const Phase& curl, const Corpus& big, const ResaveFigures& r) {
  tsync::bench::FigureSheet sheet("save_bench");
  const std::string corpus_text = testdata::FormatByteSize(corpus.bytes) + " in " +
                                  std::to_string(corpus.sessions.size()) + " sessions, --jobs " +
                                  std::to_string(w.jobs);
  sheet.Target("tsync save --all, end to end", Mb(corpus.bytes) / ours.seconds, "MB/s", ">= 150", corpus_text);
  sheet.Info("curl posting the same chunks", Mb(corpus.bytes) / curl.seconds, "MB/s",
             std::to_string(w.jobs) + " curl process(es)");
  sheet.Info("save --all speed / curl's", curl.seconds / ours.seconds, "x", "higher is better; 1 = as fast as curl");
  sheet.Target("tsync save --all peak RSS", ours.rss_mib, "MiB", "<= 64");
  const Stats one = Over(r.one_line, [](const Phase& p) { return p.seconds * 1000.0; });
  char detail[160];
  std::snprintf(detail, sizeof detail, "%s session, median of %zu (min %.1f, max %.1f); tsync --version %.1f ms",
                testdata::FormatByteSize(big.bytes).c_str(), r.one_line.size(), one.min, one.max,
                Over(r.version, [](const Phase& p) { return p.seconds * 1000.0; }).median);
  sheet.Target("one appended line: re-save of a big session", one.median, "ms", "< 20", detail);
  sheet.Info("save --all with nothing new", idle.seconds * 1000.0, "ms", corpus_text);
  sheet.Note("size", testdata::FormatByteSize(corpus.bytes));
  sheet.Note("big_session", testdata::FormatByteSize(big.bytes));
  return sheet.Write(path);
}

// --- setup ---

struct Flags {
  uint64_t size = 1u << 30;
  uint64_t big_size = 0;  // 0: min(1 GiB, size)
  int jobs = 2;
  int resaves = 7;
  uint64_t seed = 42;
  std::string dir;
  bool keep = false;
  std::string refserver = tsync::bench::DefaultRefServerPath();
  std::string json_path;  // --json: the figures for bench/run-all
};

int Fail(const std::string& what, const Status& s) {
  std::fprintf(stderr, "save_bench: %s: %s\n", what.c_str(), s.ToString().c_str());
  return 1;
}

/// Scratch layout, keys, git repositories.
Result<World> MakeWorld(const std::string& dir, const Flags& flags) {
  World w;
  w.dir = dir;
  w.home = dir + "/home";
  w.jobs = flags.jobs;
  w.refserver = flags.refserver;
  const char* path = std::getenv("PATH");
  w.path_env = path && *path ? path : "/usr/local/bin:/usr/bin:/bin";
  w.keys_path = dir + "/keys";
  w.key = tsync::bench::RandomKey();
  for (const std::string& d : {w.home + "/.config", w.home + "/.local/state", w.home + "/.local/share",
                               w.home + "/.cache", dir + "/corpus/projects", dir + "/big/projects"}) {
    if (Status s = tsync::MakeDirs(d); !s.ok()) return s;
  }
  if (Status s = tsync::WriteFileAtomic(w.keys_path, w.key + " bench@example.com\n", 0600); !s.ok()) return s;
  w.repos = MakeRepos(w);
  return w;
}

Result<Corpus> GenerateSessions(const World& w, const Flags& flags) {
  const auto t0 = Clock::now();
  Result<Corpus> corpus = GenerateCorpus(w.dir + "/corpus/projects", flags.size, flags.seed, w.repos);
  if (!corpus.ok()) return corpus.status();
  uint64_t agents = 0;
  for (const CorpusSession& s : corpus->sessions) agents += s.files.size() - 1;
  std::printf("generated %s in %zu sessions (%llu agent/workflow files, %llu lines) in %.1f s\n",
              testdata::FormatByteSize(corpus->bytes).c_str(), corpus->sessions.size(),
              static_cast<unsigned long long>(agents), static_cast<unsigned long long>(corpus->lines),
              Seconds(t0, Clock::now()));
  std::fflush(stdout);
  return corpus;
}

/// Made only when its phase comes, after save --all and curl: generating
/// 1 GiB churns that much memory, and a refserver writing its database right
/// after needed 4.1-4.3 CPU-s per GiB instead of 3.1-3.3 (two runs each way
/// on this VM), for tsync and curl alike.
Result<Corpus> GenerateBig(const World& w, const Flags& flags) {
  const auto t1 = Clock::now();
  Result<Corpus> big = GenerateBigSession(w.dir + "/big/projects", flags.big_size, flags.seed, w.repos[0]);
  if (!big.ok()) return big.status();
  std::printf("  generated one %s session (%zu files) for the re-save in %.1f s\n",
              testdata::FormatByteSize(big->bytes).c_str(), big->sessions[0].files.size(), Seconds(t1, Clock::now()));
  std::fflush(stdout);
  return big;
}

/// The 1-minute load average, as a warning sign for noisy figures.
double LoadAverage() {
  std::ifstream in("/proc/loadavg");
  double load = -1;
  in >> load;
  return load;
}

void PrintLoad(const char* when) {
  const double load = LoadAverage();
  const long cpus = ::sysconf(_SC_NPROCESSORS_ONLN);
  std::printf("load average %s: %.2f on %ld CPUs%s\n", when, load, cpus,
              load > 0.5 * static_cast<double>(cpus) ? " (busy machine: wall times are inflated, CPU times less so)"
                                                     : "");
}

int Run(const Flags& flags) {
  const uint64_t need = flags.size * 7 / 2 + flags.big_size * 5 / 2 + 256 * kMiB;
  if (Status s = CheckFreeSpace(flags.dir, need); !s.ok()) return Fail("not enough space", s);
  auto scratch = tsync::bench::ScratchDir::Create(flags.dir, "tsync-save-bench");
  if (!scratch.ok()) return Fail("cannot make a scratch directory", scratch.status());
  Result<World> w = MakeWorld((*scratch)->path(), flags);
  if (!w.ok()) return Fail("cannot prepare the scratch directory", w.status());
  Result<Corpus> generated = GenerateSessions(*w, flags);
  if (!generated.ok()) return Fail("cannot generate sessions", generated.status());
  const auto synced_at = Clock::now();
  if (Status s = tsync::bench::SyncFilesystem(w->dir); !s.ok()) return Fail("cannot sync the corpus to disk", s);
  std::printf("corpus written to disk (syncfs) in %.1f s, not timed\n", Seconds(synced_at, Clock::now()));
  const Corpus& corpus = *generated;
  std::printf("tsync: %s\nrefserver: %s\neach phase: a fresh refserver (empty database) on 127.0.0.1\n",
              TSYNC_BINARY, flags.refserver.c_str());
  PrintLoad("before");

  std::printf("  tsync save --all --jobs %d ...\n", w->jobs);
  std::fflush(stdout);
  Phase idle;
  Result<Phase> ours = OursPhase(*w, w->dir + "/corpus", corpus, &idle);
  if (!ours.ok()) return Fail("tsync save --all", ours.status());
  std::printf("  tsync save --all: %.2f s, %.1f MB/s, verified\n", ours->seconds, Mb(corpus.bytes) / ours->seconds);
  std::fflush(stdout);
  Result<Phase> curl = CurlPhase(*w, corpus);
  if (!curl.ok()) return Fail("curl", curl.status());
  std::printf("  curl: %.2f s, %.1f MB/s, verified\n", curl->seconds, Mb(corpus.bytes) / curl->seconds);
  Result<Corpus> generated_big = GenerateBig(*w, flags);
  if (!generated_big.ok()) return Fail("cannot generate the big session", generated_big.status());
  const Corpus& big = *generated_big;
  std::printf("  big session: first save, then %d re-saves ...\n", flags.resaves);
  std::fflush(stdout);
  Result<ResaveFigures> resave = ResavePhase(*w, w->dir + "/big", big, flags.resaves);
  if (!resave.ok()) return Fail("re-save", resave.status());
  PrintReport(*w, corpus, *ours, idle, *curl, big, *resave);
  PrintLoad("after");
  if (Status s = WriteFigures(flags.json_path, *w, corpus, *ours, idle, *curl, big, *resave); !s.ok()) {
    return Fail("cannot write " + flags.json_path, s);
  }
  if (flags.keep) {
    std::printf("kept %s (remove it yourself)\n", w->dir.c_str());
    (void)scratch->release();
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Benchmark `tsync save` end to end against tsync-refserver and curl, and the one-line re-save."};
  Flags flags;
  const char* tmp = std::getenv("TMPDIR");
  flags.dir = tmp && *tmp ? tmp : "/tmp";
  std::string size = "1G", big_size;
  app.add_option("--size", size, "corpus size, all .jsonl files (64M, 1G; default 1G)");
  app.add_option("--big-session-size", big_size, "size of the session re-saved (default: 1G, or --size if smaller)");
  app.add_option("--jobs", flags.jobs, "tsync save --jobs, and as many curl processes")->check(CLI::Range(1, 16));
  app.add_option("--resaves", flags.resaves, "one-line re-saves (median reported)")->check(CLI::Range(5, 101));
  app.add_option("--seed", flags.seed, "generator seed");
  app.add_option("--dir", flags.dir, "where the scratch directory is made");
  app.add_option("--refserver", flags.refserver, "a tsync-refserver binary to use instead of this build's");
  app.add_option("--json", flags.json_path, "also write the figures as JSON to this file (bench/run-all)");
  app.add_flag("--keep", flags.keep, "keep the scratch directory (corpus, state, logs) for a closer look");
  CLI11_PARSE(app, argc, argv);
  for (auto [text, out] : {std::pair{&size, &flags.size}, std::pair{&big_size, &flags.big_size}}) {
    if (text->empty()) continue;
    Result<uint64_t> parsed = testdata::ParseByteSize(*text);
    if (!parsed.ok()) {
      std::fprintf(stderr, "save_bench: %s\n", parsed.status().ToString().c_str());
      return 2;
    }
    *out = *parsed;
  }
  if (flags.big_size == 0) flags.big_size = std::min<uint64_t>(flags.size, 1u << 30);
  if (flags.size < kMiB || flags.big_size < 64 * 1024) {
    std::fprintf(stderr, "save_bench: --size must be at least 1M and --big-session-size at least 64K\n");
    return 2;
  }
  ::signal(SIGPIPE, SIG_IGN);
  return Run(flags);
}
