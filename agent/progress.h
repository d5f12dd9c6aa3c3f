// A progress line for long work on a terminal: sessions done, bytes read and
// sent, rate and ETA, redrawn in place on stderr at most ten times a second.
//
// Shown only when stderr is a terminal (not under TERM=dumb); otherwise every
// call is a no-op, so scripts and CI logs stay plain. Colour only without
// NO_COLOR. The bytes are source bytes (the local files' sizes), and the total
// is an estimate from the checkpoints, so the bar may finish short of 100 %
// when the destination already held some lines.
// Thread-safety: Add* and SessionDone may be called from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>

namespace tsync::agent {

struct ProgressSnapshot {
  size_t sessions_done = 0;
  size_t sessions_total = 0;
  uint64_t bytes_done = 0;
  uint64_t bytes_total = 0;
  double elapsed_seconds = 0;
};

/// One line of at most `width` visible columns:
/// "[#####.....]  3/10 sessions  120.0 MiB/400.0 MiB  85.1 MB/s  ETA 3s".
/// `color` wraps the filled part of the bar in green (ANSI SGR); otherwise
/// the line holds no control characters.
std::string RenderProgress(const ProgressSnapshot& p, size_t width, bool color);

class ProgressBar {
 public:
  /// Draws on `fd` when it is a terminal; `enabled()` says whether it does.
  ProgressBar(int fd, size_t sessions_total, uint64_t bytes_total = 0);
  ~ProgressBar();  // Finish()
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  bool enabled() const { return enabled_; }
  /// The estimate of bytes to read, when it is only known after construction.
  void SetBytesTotal(uint64_t total);
  void AddBytes(uint64_t n);
  void SessionDone();
  /// Erases the line so the report that follows starts clean. Idempotent.
  void Finish();

 private:
  void DrawLocked(bool force);

  const int fd_;
  const bool enabled_;
  const bool color_;
  const std::chrono::steady_clock::time_point start_;
  std::mutex mu_;
  ProgressSnapshot snap_;  // guarded by mu_
  std::chrono::steady_clock::time_point last_draw_{};
  size_t last_width_ = 0;
  bool finished_ = false;
};

}  // namespace tsync::agent
