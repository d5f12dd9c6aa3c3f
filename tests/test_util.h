// Shared fixtures for tests: a private temporary directory and small file
// helpers. Every test that touches the disk works inside its own TempDir.
#pragma once

#include <spawn.h>

#include <sys/types.h>

#include <memory>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace spdlog {
class logger;
}

namespace tsync::testing {

/// A fresh directory under $TMPDIR, removed with everything in it on scope exit.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  /// path() + "/" + rel
  std::string operator/(std::string_view rel) const;

 private:
  std::string path_;
};

/// Creates parent directories as needed and writes (or appends) `data`.
void WriteFile(const std::string& path, std::string_view data, mode_t mode = 0644);
void AppendFile(const std::string& path, std::string_view data);
std::string ReadWholeFile(const std::string& path);

/// Collects what tsync logs at warn and above while it lives (spdlog's
/// default logger is swapped for one writing into a string, then restored).
class LogCapture {
 public:
  LogCapture();
  ~LogCapture();
  LogCapture(const LogCapture&) = delete;
  LogCapture& operator=(const LogCapture&) = delete;
  std::string text() const { return out_.str(); }

 private:
  std::shared_ptr<spdlog::logger> old_;
  std::ostringstream out_;
};

}  // namespace tsync::testing

namespace tsync::testing {

struct ProcessResult {
  int exit_code = -1;  // 128 + signal when killed by one
  std::string out;
  std::string err;
};

/// Runs `argv` with exactly the environment `env` ("NAME=value" entries),
/// waits for it, and returns its exit code and output.
/// Starts `argv` with exactly the environment `env` and the given file
/// actions (none: the caller's stdio) and returns its pid; throws when it
/// cannot start.
pid_t SpawnProcess(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                   const posix_spawn_file_actions_t* actions = nullptr);

/// `stdin_data` is what the process reads on stdin (default: nothing, /dev/null).
ProcessResult RunProcess(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                         std::string_view stdin_data = {});

/// True when both parse as JSON with the same structure: the same keys in
/// the same order, the same types and non-string values. Strings may differ
/// (that is where redaction markers go). False when either does not parse.
bool SameJsonStructure(std::string_view a, std::string_view b);

}  // namespace tsync::testing
