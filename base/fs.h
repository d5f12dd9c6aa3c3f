// Small, careful file-system helpers shared by config/, tracker/ and agent/.
//
// Everything tsync persists (config, checkpoints, manifests) is written with
// WriteFileAtomic: a reader sees the old file or the new one, never a mix,
// even across a crash or power loss (unless the caller asks for
// Durability::kAtomicOnly, for advisory state). Thread-safety: stateless functions.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"

namespace tsync {

/// Owns a file descriptor; closes it on destruction.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept;
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd();

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int release();

 private:
  int fd_ = -1;
};

/// How hard WriteFileAtomic works to make a write survive power loss.
enum class Durability {
  /// fsync the file before the rename and the directory after it: after a
  /// crash the file holds the old or the new contents (config, manifests).
  kDurable,
  /// Temp file + rename only, no fsync: readers never see a mix, but after a
  /// power loss the file may be old, empty or torn. Only for advisory state
  /// whose reader detects and ignores a bad file (checkpoints).
  kAtomicOnly,
};

/// Writes `contents` to `path` atomically: a temp file in the same directory
/// (created 0600-style with `mode`), written fully, renamed over `path`; with
/// kDurable the file is fsync'd before the rename and the directory after it
/// so the rename itself is durable.
Status WriteFileAtomic(const std::string& path, std::string_view contents, mode_t mode = 0600,
                       Durability durability = Durability::kDurable);

/// write() until all of `data` is written (EINTR retried); `path` names the
/// file in the error.
Status WriteAll(int fd, std::string_view data, const std::string& path);

/// fsync() a directory, so a rename or a new entry in it survives a crash.
Status FsyncDir(const std::string& dir);

/// Creates `dir` and missing parents with `mode` (0700 for private state).
/// An existing directory is left as it is.
Status MakeDirs(const std::string& dir, mode_t mode = 0700);

/// Reads a whole file, refusing files larger than `max_bytes` (kInvalidInput).
/// A missing file is kNotFound.
Result<std::string> ReadFile(const std::string& path, size_t max_bytes);

/// pread() until `len` bytes or end of file; returns bytes read.
Result<size_t> PreadFull(int fd, char* buf, size_t len, uint64_t offset);

/// The directory part of a path ("." when there is none).
std::string DirName(const std::string& path);

/// The file a write to `path` must replace: `path` itself, or what a symlink
/// at `path` points to (renaming over the link would turn it into a plain
/// file). `path` when it cannot be resolved.
std::string WriteTargetOf(const std::string& path);

/// True when `text` is empty or only spaces, tabs and line breaks.
bool IsBlankText(std::string_view text);

/// True when `path` lies inside `root` (both already canonical, absolute).
bool PathIsInside(std::string_view path, std::string_view root);

}  // namespace tsync
