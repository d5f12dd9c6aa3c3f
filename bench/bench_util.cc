#include "bench/bench_util.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>

#include "base/fs.h"
#include "config/config.h"
#include "uploader/sync_client.h"

namespace tsync::bench {

double Seconds(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); }
double CpuSeconds(const timeval& tv) { return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6; }
double Mb(uint64_t bytes) { return static_cast<double>(bytes) / 1e6; }

Stats Summarize(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return {v[v.size() / 2], v.front(), v.back()};
}

// --- scratch directory ---

Result<std::unique_ptr<ScratchDir>> ScratchDir::Create(const std::string& parent, const std::string& prefix) {
  std::string templ = parent + "/" + prefix + "-XXXXXX";
  if (::mkdtemp(templ.data()) == nullptr) return Status::Errno("mkdtemp in " + parent, errno);
  return std::unique_ptr<ScratchDir>(new ScratchDir(templ));
}

ScratchDir::~ScratchDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

// --- child processes ---

namespace {

Result<UniqueFd> CreateOutputFile(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  if (!fd.valid()) return Status::Errno("create " + path, errno);
  return fd;
}

}  // namespace

Result<std::unique_ptr<Child>> Child::Start(std::vector<std::string> args, const ChildOptions& options) {
  std::unique_ptr<Child> child(new Child());
  child->name_ = args.at(0);
  child->stdout_path_ = options.stdout_path;
  // Everything the child needs is prepared here: between fork and exec only
  // async-signal-safe calls.
  UniqueFd out_read, out_write, err_write;
  if (options.stdout_path.empty()) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return Status::Errno("pipe", errno);
    out_read = UniqueFd(fds[0]);
    out_write = UniqueFd(fds[1]);
  } else {
    Result<UniqueFd> f = CreateOutputFile(options.stdout_path);
    if (!f.ok()) return f.status();
    out_write = std::move(f).value();
  }
  if (!options.stderr_path.empty()) {
    Result<UniqueFd> f = CreateOutputFile(options.stderr_path);
    if (!f.ok()) return f.status();
    err_write = std::move(f).value();
  }
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_strings = options.env.value_or(std::vector<std::string>{});
  std::vector<char*> envp;
  for (std::string& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);
  const std::string failed = "bench: cannot run " + child->name_ + "\n";

  child->started_ = Clock::now();
  const pid_t pid = ::fork();
  if (pid < 0) return Status::Errno("fork", errno);
  if (pid == 0) {
    ::dup2(out_write.get(), STDOUT_FILENO);
    if (err_write.valid()) ::dup2(err_write.get(), STDERR_FILENO);
    if (options.env) {
      ::execvpe(argv[0], argv.data(), envp.data());
    } else {
      ::execvp(argv[0], argv.data());
    }
    ssize_t ignored = ::write(STDERR_FILENO, failed.data(), failed.size());
    (void)ignored;
    ::_exit(127);
  }
  child->pid_ = pid;
  child->out_fd_ = out_read.release();
  return child;
}

Child::~Child() {
  if (out_fd_ >= 0) ::close(out_fd_);
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
}

Result<ChildRun> Child::Wait() {
  if (pid_ <= 0) return Status::Internal(name_ + " was already waited for");
  ChildRun run;
  if (out_fd_ >= 0) {
    char buf[4096];
    for (ssize_t n; (n = ::read(out_fd_, buf, sizeof buf)) != 0;) {
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) break;
      run.out.append(buf, static_cast<size_t>(n));
    }
    ::close(out_fd_);
    out_fd_ = -1;
  }
  int status = 0;
  struct rusage ru {};
  while (::wait4(pid_, &status, 0, &ru) < 0) {
    if (errno != EINTR) return Status::Errno("wait4 " + name_, errno);
  }
  pid_ = -1;
  run.seconds = Seconds(started_, Clock::now());
  run.user_s = CpuSeconds(ru.ru_utime);
  run.sys_s = CpuSeconds(ru.ru_stime);
  run.max_rss_mib = static_cast<double>(ru.ru_maxrss) / 1024.0;  // Linux reports KiB
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  if (!stdout_path_.empty()) {
    Result<std::string> text = ReadFile(stdout_path_, 64u << 20);
    if (!text.ok()) return text.status();
    run.out = std::move(text).value();
  }
  return run;
}

Result<ChildRun> RunProcess(std::vector<std::string> args, const ChildOptions& options) {
  Result<std::unique_ptr<Child>> child = Child::Start(std::move(args), options);
  if (!child.ok()) return child.status();
  return (*child)->Wait();
}

Result<ChildRun> RunToSuccess(std::vector<std::string> args, const ChildOptions& options) {
  const std::string name = args.at(0);
  Result<ChildRun> run = RunProcess(std::move(args), options);
  if (run.ok() && run->exit_code != 0) {
    return Status::Internal(name + " failed (exit code " + std::to_string(run->exit_code) + ")");
  }
  return run;
}

Result<double> TimeWithInput(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                             const std::string& input) {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) return Status::Errno("pipe", errno);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, p[0], 0);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  std::vector<char*> a, e;
  for (const std::string& s : argv) a.push_back(const_cast<char*>(s.c_str()));
  a.push_back(nullptr);
  for (const std::string& s : env) e.push_back(const_cast<char*>(s.c_str()));
  e.push_back(nullptr);
  const Clock::time_point start = Clock::now();
  pid_t pid = -1;
  const int err = ::posix_spawn(&pid, a[0], &fa, nullptr, a.data(), e.data());
  posix_spawn_file_actions_destroy(&fa);
  ::close(p[0]);
  if (err != 0) {
    ::close(p[1]);
    return Status::Errno("spawn " + argv[0], err);
  }
  (void)WriteAll(p[1], input, "the child's stdin");  // a child that leaves early closes its end: fine
  ::close(p[1]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  const double seconds = Seconds(start, Clock::now());
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return Status::Internal(argv.size() > 1 ? argv[1] + " did not exit 0" : argv[0] + " did not exit 0");
  }
  return seconds;
}

// --- the reference backend ---

const char* DefaultRefServerPath() { return TSYNC_REFSERVER; }

Status RefServer::Start(const std::string& db, const std::string& keys, const std::vector<std::string>& extra) {
  std::vector<std::string> args = {binary_, "--port", "0", "--db", db, "--keys", keys};
  args.insert(args.end(), extra.begin(), extra.end());
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  int out[2];
  if (::pipe2(out, O_CLOEXEC) != 0) return Status::Errno("pipe", errno);
  pid_ = ::fork();
  if (pid_ < 0) return Status::Errno("fork", errno);
  if (pid_ == 0) {
    ::dup2(out[1], STDOUT_FILENO);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(out[1]);
  UniqueFd from(out[0]);
  std::string line;
  const auto deadline = Clock::now() + std::chrono::seconds(10);
  for (char c; Clock::now() < deadline;) {
    pollfd p{from.get(), POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    if (::read(from.get(), &c, 1) != 1 || c == '\n') break;
    line += c;
  }
  const std::string prefix = "listening on 127.0.0.1:";
  if (line.rfind(prefix, 0) != 0) return Status::Internal("tsync-refserver did not start (" + binary_ + ")");
  port_ = std::atoi(line.c_str() + prefix.size());
  return Status::Ok();
}

double RefServer::Stop() {
  if (pid_ <= 0) return 0;
  ::kill(pid_, SIGTERM);
  struct rusage ru {};
  ::wait4(pid_, nullptr, 0, &ru);
  pid_ = -1;
  return CpuSeconds(ru.ru_utime) + CpuSeconds(ru.ru_stime);
}

double RefServer::CpuSoFar() const {
  if (pid_ <= 0) return 0;
  // /proc files report size 0, so not ReadFile.
  std::ifstream in("/proc/" + std::to_string(pid_) + "/stat");
  std::string stat;
  if (!std::getline(in, stat)) return 0;
  // Fields after "(comm)": state is field 3, utime 14, stime 15 (proc(5)).
  const size_t paren = stat.rfind(')');
  if (paren == std::string::npos) return 0;
  const char* p = stat.c_str() + paren + 1;
  unsigned long long utime = 0, stime = 0;
  if (std::sscanf(p, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime, &stime) != 2) return 0;
  return static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

std::string RefServer::url() const { return "http://127.0.0.1:" + std::to_string(port_); }

Status SyncFilesystem(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Status::Errno("open " + dir, errno);
  const int rc = ::syncfs(fd);
  const int err = errno;
  ::close(fd);
  return rc == 0 ? Status::Ok() : Status::Errno("syncfs " + dir, err);
}

void DropDatabase(const std::string& db) {
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) ::unlink((db + suffix).c_str());
}

// --- keys, files, the client's side of the wire ---

std::string RandomKey() {
  std::random_device rd;
  char hex[33];
  for (int i = 0; i < 4; ++i) std::snprintf(hex + 8 * i, 9, "%08x", rd());
  return std::string("cfb_bench_") + hex;
}

Status WritePrivateFile(const std::string& path, std::string_view text, bool sync) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  if (!fd.valid()) return Status::Errno("create " + path, errno);
  if (Status s = WriteAll(fd.get(), text, path); !s.ok()) return s;
  if (sync && ::fdatasync(fd.get()) != 0) return Status::Errno("fdatasync " + path, errno);
  return Status::Ok();
}

Result<std::unique_ptr<uploader::SyncSink>> Connect(const std::string& url, const std::string& key, bool compress) {
  config::Config config;
  config.backend_url = url;
  config.api_key = key;
  uploader::SyncClientOptions options;
  options.version = "bench";
  options.compress = compress;
  auto client = uploader::SyncClient::Create(config, std::move(options));
  if (!client.ok()) return client.status();
  return std::make_unique<uploader::SyncSink>(std::move(client.value()));
}

Result<double> ForEachChunk(const std::string& path, std::string_view log_name,
                            const std::function<Status(const tracker::Chunk&)>& fn) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return Status::Errno("open " + path, errno);
  tracker::ChunkOptions opt;
  opt.log_name = log_name;
  double read_s = 0;
  uint64_t offset = 0, line = 1;
  for (;;) {
    const auto t0 = Clock::now();
    Result<tracker::Chunk> c = tracker::ReadChunk(fd.get(), offset, line, opt);
    read_s += Seconds(t0, Clock::now());
    if (!c.ok()) return c.status();
    if (!c->empty()) {
      if (Status s = fn(*c); !s.ok()) return s;
    }
    offset = c->end_offset;
    line += c->lines.size();
    if (c->reached_eof) return read_s;
  }
}

uploader::ChunkRequest RequestFor(const std::string& session_id, const UploadFile& file, const tracker::Chunk& chunk) {
  uploader::ChunkRequest req;
  req.session_id = session_id;
  req.file_name = file.file_name;
  req.file_type = file.type;
  req.first_line = chunk.first_line;
  req.lines = chunk.lines;
  return req;
}

std::string Quoted(const std::string& s) {
  std::string q = "\"";
  for (char c : s) {
    if (c == '\\' || c == '"') q += '\\';
    q += c;
  }
  return q + "\"";
}

std::string CurlConfig(const std::vector<std::string>& bodies, const std::string& url, const std::string& key) {
  std::string cfg;
  for (const std::string& body : bodies) {
    if (!cfg.empty()) cfg += "next\n";
    cfg += "url = " + Quoted(url) + "\ndata-binary = " + Quoted("@" + body) + "\n";
    cfg += "header = \"Content-Type: application/json\"\nheader = " + Quoted("Authorization: Bearer " + key) +
           "\nheader = \"Expect:\"\noutput = \"/dev/null\"\nwrite-out = \"%{http_code}\\n\"\nfail\nsilent\n";
  }
  return cfg;
}

uint64_t CurlOkCount(const std::string& out) {
  uint64_t ok = 0;
  for (size_t pos = 0; (pos = out.find("200\n", pos)) != std::string::npos; pos += 4) ++ok;
  return ok;
}

}  // namespace tsync::bench
