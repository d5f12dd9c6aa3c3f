// JsonlSink: streams generated JSONL lines to one file through a fixed
// buffer, so a GiB transcript never sits in memory.
//
// It counts lines and bytes as written (the generator sizes files and
// records planted-secret line numbers from them). The first I/O error is
// sticky: later appends are dropped and Close() reports it, so generator
// code can write line after line without checking each one.
// Thread-safety: single owner.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/fs.h"
#include "base/status.h"

namespace tsync::testdata {

class JsonlSink {
 public:
  JsonlSink() = default;
  JsonlSink(const JsonlSink&) = delete;
  JsonlSink& operator=(const JsonlSink&) = delete;

  /// Creates (truncates) `path`, mode 0600 like Claude Code's own files.
  Status Open(const std::string& path);
  /// Appends `line` plus '\n'. `line` must not contain '\n'.
  void Append(std::string_view line);
  /// Flushes and closes; returns the first error seen since Open().
  Status Close();

  bool ok() const { return status_.ok(); }
  const std::string& path() const { return path_; }
  /// Lines appended so far; also the 1-based number of the last line.
  uint64_t lines() const { return lines_; }
  uint64_t bytes() const { return bytes_; }

 private:
  void Flush();

  static constexpr size_t kBufferSize = 1u << 20;
  std::string path_;
  UniqueFd fd_;
  std::string buffer_;
  uint64_t lines_ = 0;
  uint64_t bytes_ = 0;
  Status status_;
};

}  // namespace tsync::testdata
