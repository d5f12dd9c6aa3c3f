#include "tests/test_util.h"

#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "base/fs.h"

namespace tsync::testing {

LogCapture::LogCapture() : old_(spdlog::default_logger()) {
  auto logger = std::make_shared<spdlog::logger>("capture", std::make_shared<spdlog::sinks::ostream_sink_mt>(out_));
  logger->set_level(spdlog::level::warn);
  spdlog::set_default_logger(logger);
}

LogCapture::~LogCapture() { spdlog::set_default_logger(old_); }

TempDir::TempDir() {
  const char* tmp = std::getenv("TMPDIR");
  std::string tmpl = std::string(tmp && *tmp ? tmp : "/tmp") + "/tsync-test-XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  // Canonical, so tests can compare with realpath()-resolved paths.
  path_ = std::filesystem::canonical(tmpl).string();
}

TempDir::~TempDir() {
  std::error_code ec;
  // Tests may leave read-only directories behind; make them writable first.
  for (auto it = std::filesystem::recursive_directory_iterator(path_, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_directory(ec) && !it->is_symlink(ec)) ::chmod(it->path().c_str(), 0700);
  }
  std::filesystem::remove_all(path_, ec);
}

std::string TempDir::operator/(std::string_view rel) const { return path_ + "/" + std::string(rel); }

void WriteFile(const std::string& path, std::string_view data, mode_t mode) {
  if (!MakeDirs(DirName(path), 0755).ok()) throw std::runtime_error("mkdir for " + path);
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) throw std::runtime_error("open " + path);
  if (::write(fd, data.data(), data.size()) != static_cast<ssize_t>(data.size())) {
    ::close(fd);
    throw std::runtime_error("write " + path);
  }
  ::close(fd);
}

void AppendFile(const std::string& path, std::string_view data) {
  int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  if (fd < 0) throw std::runtime_error("open for append " + path);
  if (::write(fd, data.data(), data.size()) != static_cast<ssize_t>(data.size())) {
    ::close(fd);
    throw std::runtime_error("append " + path);
  }
  ::close(fd);
}

std::string ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace tsync::testing

#include <spawn.h>
#include <sys/wait.h>

namespace tsync::testing {

pid_t SpawnProcess(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                   const posix_spawn_file_actions_t* actions) {
  std::vector<char*> args, envp;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  for (const auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  pid_t pid = -1;
  if (::posix_spawn(&pid, args[0], actions, nullptr, args.data(), envp.data()) != 0) {
    throw std::runtime_error("posix_spawn " + argv[0] + " failed");
  }
  return pid;
}

ProcessResult RunProcess(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                         std::string_view stdin_data) {
  TempDir io;
  std::string out_path = io / "stdout", err_path = io / "stderr", in_path = io / "stdin";
  WriteFile(in_path, stdin_data, 0600);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, in_path.c_str(), O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addopen(&actions, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  pid_t pid = SpawnProcess(argv, env, &actions);
  posix_spawn_file_actions_destroy(&actions);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  ProcessResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = ReadWholeFile(out_path);
  r.err = ReadWholeFile(err_path);
  return r;
}

}  // namespace tsync::testing

#include <simdjson.h>

namespace tsync::testing {

namespace {

bool SameElement(simdjson::dom::element a, simdjson::dom::element b) {
  using T = simdjson::dom::element_type;
  if (a.type() != b.type()) return false;
  switch (a.type()) {
    case T::OBJECT: {
      simdjson::dom::object oa = a.get_object().value(), ob = b.get_object().value();
      auto ia = oa.begin(), ib = ob.begin();
      for (; ia != oa.end() && ib != ob.end(); ++ia, ++ib) {
        if (ia.key() != ib.key() || !SameElement(ia.value(), ib.value())) return false;
      }
      return ia == oa.end() && ib == ob.end();
    }
    case T::ARRAY: {
      simdjson::dom::array aa = a.get_array().value(), ab = b.get_array().value();
      if (aa.size() != ab.size()) return false;
      for (size_t i = 0; i < aa.size(); ++i) {
        if (!SameElement(aa.at(i).value(), ab.at(i).value())) return false;
      }
      return true;
    }
    case T::STRING: return true;
    default: return simdjson::to_string(a) == simdjson::to_string(b);
  }
}

}  // namespace

bool SameJsonStructure(std::string_view a, std::string_view b) {
  simdjson::dom::parser pa, pb;
  simdjson::padded_string sa(a), sb(b);
  simdjson::dom::element ea, eb;
  if (pa.parse(sa).get(ea) != simdjson::SUCCESS || pb.parse(sb).get(eb) != simdjson::SUCCESS) return false;
  return SameElement(ea, eb);
}

}  // namespace tsync::testing
