#include "agent/logging.h"

#include <fcntl.h>
#include <spdlog/sinks/rotating_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>

#include "base/fs.h"

namespace tsync::agent {
namespace {

constexpr size_t kLogFileBytes = 5u << 20;
constexpr size_t kLogFiles = 3;

spdlog::level::level_enum SpdLevel(config::LogLevel level) {
  return spdlog::level::from_str(config::LogLevelName(level));
}

/// The logger passes what its most verbose sink wants.
void UpdateLoggerLevel(spdlog::logger& logger) {
  spdlog::level::level_enum level = spdlog::level::off;
  for (const spdlog::sink_ptr& sink : logger.sinks()) level = std::min(level, sink->level());
  logger.set_level(level);
}

}  // namespace

std::string LogFilePath(const std::string& state_dir) { return state_dir + "/logs/tsync.log"; }

void StartLogging(config::LogLevel level) {
  const char* no_color = std::getenv("NO_COLOR");  // https://no-color.org: any non-empty value
  const auto mode = no_color != nullptr && *no_color != '\0' ? spdlog::color_mode::never : spdlog::color_mode::automatic;
  auto sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>(mode);
  sink->set_pattern("tsync: %^%l%$: %v");
  sink->set_level(SpdLevel(level));
  auto logger = std::make_shared<spdlog::logger>("tsync", sink);
  logger->set_level(SpdLevel(level));
  spdlog::set_default_logger(logger);
}

void SetStderrLevel(config::LogLevel level) {
  std::shared_ptr<spdlog::logger> logger = spdlog::default_logger();
  logger->sinks().front()->set_level(SpdLevel(level));
  UpdateLoggerLevel(*logger);
}

Status AddLogFile(const std::string& state_dir, config::LogLevel level) {
  const std::string path = LogFilePath(state_dir);
  const std::string advice = " (check the permissions of the state dir; logging to stderr only)";
  if (Status st = MakeDirs(state_dir + "/logs", 0700); !st.ok()) {
    return Status::Io("cannot open the log file " + path + ": " + st.message() + advice);
  }
  // spdlog opens (and, after a rotation, creates) the file with fopen, which
  // honours the umask; creating it first with 0600 keeps it private.
  spdlog::file_event_handlers private_file;
  private_file.before_open = [](const spdlog::filename_t& name) {
    int fd = ::open(name.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd >= 0) {
      ::fchmod(fd, 0600);
      ::close(fd);
    }
  };
  std::shared_ptr<spdlog::sinks::rotating_file_sink_mt> sink;
  try {
    sink = std::make_shared<spdlog::sinks::rotating_file_sink_mt>(path, kLogFileBytes, kLogFiles, false, private_file);
  } catch (const spdlog::spdlog_ex& e) {
    return Status::Io("cannot open the log file " + path + ": " + e.what() + advice);
  }
  sink->set_level(SpdLevel(level));
  sink->set_pattern("%Y-%m-%dT%H:%M:%S.%e%z [%P] %l: %v");
  std::shared_ptr<spdlog::logger> logger = spdlog::default_logger();
  logger->sinks().push_back(sink);
  UpdateLoggerLevel(*logger);
  logger->flush_on(spdlog::level::info);
  return Status::Ok();
}

}  // namespace tsync::agent
