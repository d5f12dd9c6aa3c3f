#include "testdata/jsonl_sink.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

namespace tsync::testdata {

Status JsonlSink::Open(const std::string& path) {
  path_ = path;
  lines_ = bytes_ = 0;
  buffer_.clear();
  buffer_.reserve(kBufferSize);
  fd_ = UniqueFd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  status_ = fd_.valid() ? Status::Ok() : Status::Errno("create " + path, errno);
  return status_;
}

void JsonlSink::Append(std::string_view line) {
  if (!status_.ok()) return;
  // A line larger than the buffer (a big image) is written straight through.
  if (buffer_.size() + line.size() + 1 > kBufferSize) Flush();
  buffer_.append(line);
  buffer_.push_back('\n');
  ++lines_;
  bytes_ += line.size() + 1;
  if (buffer_.size() >= kBufferSize) Flush();
}

void JsonlSink::Flush() {
  size_t done = 0;
  while (status_.ok() && done < buffer_.size()) {
    ssize_t n = ::write(fd_.get(), buffer_.data() + done, buffer_.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      status_ = Status::Errno("write " + path_, n < 0 ? errno : EIO);
      break;
    }
    done += static_cast<size_t>(n);
  }
  buffer_.clear();
}

Status JsonlSink::Close() {
  if (fd_.valid()) {
    Flush();
    if (::close(fd_.release()) != 0 && status_.ok()) status_ = Status::Errno("close " + path_, errno);
  }
  return status_;
}

}  // namespace tsync::testdata
