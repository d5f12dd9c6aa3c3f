#include "agent/progress.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>

#include "agent/scan_report.h"

namespace tsync::agent {
namespace {

constexpr auto kRedrawEvery = std::chrono::milliseconds(100);
constexpr size_t kMinBar = 10;

bool IsProgressTerminal(int fd) {
  const char* term = std::getenv("TERM");
  return ::isatty(fd) == 1 && !(term != nullptr && std::strcmp(term, "dumb") == 0);
}

bool ColorAllowed() {
  const char* no_color = std::getenv("NO_COLOR");  // https://no-color.org: any non-empty value
  return no_color == nullptr || *no_color == '\0';
}

size_t TerminalWidth(int fd) {
  winsize ws{};
  if (::ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
  return 80;
}

/// Columns `line` takes: its bytes minus ANSI SGR sequences (the rest is ASCII).
size_t VisibleWidth(std::string_view line) {
  size_t n = 0;
  for (size_t i = 0; i < line.size(); ++i) {
    if (line[i] == '\x1b') {
      i = line.find('m', i);
      if (i == std::string_view::npos) break;
      continue;
    }
    ++n;
  }
  return n;
}

std::string Duration(double seconds) {
  const auto s = static_cast<long long>(std::llround(seconds));
  if (s < 60) return std::to_string(s) + "s";
  if (s < 3600) return std::to_string(s / 60) + "m" + std::to_string(s % 60) + "s";
  return std::to_string(s / 3600) + "h" + std::to_string(s / 60 % 60) + "m";
}

}  // namespace

std::string RenderProgress(const ProgressSnapshot& p, size_t width, bool color) {
  const uint64_t total = std::max(p.bytes_total, p.bytes_done);
  const double rate = p.elapsed_seconds > 0 ? static_cast<double>(p.bytes_done) / p.elapsed_seconds : 0;
  std::string text = std::to_string(p.sessions_done) + "/" + std::to_string(p.sessions_total) + " sessions  " +
                     HumanBytes(p.bytes_done) + " / " + HumanBytes(total) + "  " +
                     HumanBytes(static_cast<uint64_t>(rate)) + "/s  ETA ";
  text += rate > 0 ? Duration(static_cast<double>(total - p.bytes_done) / rate) : "--";
  if (text.size() + 2 + 2 + kMinBar > width) return text.substr(0, width);  // too narrow for a bar
  const size_t bar = std::min<size_t>(40, width - text.size() - 4);
  const double fraction = total == 0 ? 1.0 : static_cast<double>(p.bytes_done) / static_cast<double>(total);
  const size_t filled = std::min(bar, static_cast<size_t>(fraction * static_cast<double>(bar)));
  std::string line = "[";
  if (color && filled > 0) line += "\x1b[32m";
  line.append(filled, '#');
  if (color && filled > 0) line += "\x1b[0m";
  line.append(bar - filled, '.');
  line += "]  " + text;
  return line;
}

ProgressBar::ProgressBar(int fd, size_t sessions_total, uint64_t bytes_total)
    : fd_(fd), enabled_(IsProgressTerminal(fd)), color_(ColorAllowed()), start_(std::chrono::steady_clock::now()) {
  snap_.sessions_total = sessions_total;
  snap_.bytes_total = bytes_total;
}

ProgressBar::~ProgressBar() { Finish(); }

void ProgressBar::SetBytesTotal(uint64_t total) {
  std::lock_guard lock(mu_);
  snap_.bytes_total = total;
}

void ProgressBar::AddBytes(uint64_t n) {
  if (!enabled_) return;
  std::lock_guard lock(mu_);
  snap_.bytes_done += n;
  DrawLocked(false);
}

void ProgressBar::SessionDone() {
  if (!enabled_) return;
  std::lock_guard lock(mu_);
  ++snap_.sessions_done;
  DrawLocked(snap_.sessions_done == snap_.sessions_total);
}

void ProgressBar::Finish() {
  if (!enabled_) return;
  std::lock_guard lock(mu_);
  if (finished_) return;
  finished_ = true;
  if (last_width_ == 0) return;
  std::string erase = "\r" + std::string(last_width_, ' ') + "\r";
  (void)!::write(fd_, erase.data(), erase.size());
}

void ProgressBar::DrawLocked(bool force) {
  if (finished_) return;
  const auto now = std::chrono::steady_clock::now();
  if (!force && now - last_draw_ < kRedrawEvery) return;
  last_draw_ = now;
  snap_.elapsed_seconds = std::chrono::duration<double>(now - start_).count();
  // One column short of the width: writing the last column wraps on some terminals.
  const size_t width = TerminalWidth(fd_) - 1;
  std::string line = RenderProgress(snap_, width, color_);
  const size_t visible = VisibleWidth(line);
  std::string out = "\r" + line;
  if (last_width_ > visible) out.append(last_width_ - visible, ' ');
  last_width_ = std::max(last_width_, visible);
  (void)!::write(fd_, out.data(), out.size());
}

}  // namespace tsync::agent
