#include "base/fs.h"

#include <filesystem>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <random>

namespace tsync {

UniqueFd& UniqueFd::operator=(UniqueFd&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.release();
  }
  return *this;
}

UniqueFd::~UniqueFd() {
  if (fd_ >= 0) ::close(fd_);
}

int UniqueFd::release() {
  int fd = fd_;
  fd_ = -1;
  return fd;
}

std::string DirName(const std::string& path) {
  size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

bool PathIsInside(std::string_view path, std::string_view root) {
  if (root.size() > 1 && root.back() == '/') root.remove_suffix(1);
  if (path.size() <= root.size() || path.substr(0, root.size()) != root) return false;
  return root == "/" || path[root.size()] == '/';
}

Status WriteAll(int fd, std::string_view data, const std::string& path) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::Errno("write " + path, errno);
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Status::Ok();
}

Status FsyncDir(const std::string& dir) {
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) return Status::Errno("open directory " + dir, errno);
  if (::fsync(fd.get()) != 0) return Status::Errno("fsync directory " + dir, errno);
  return Status::Ok();
}

Status WriteFileAtomic(const std::string& path, std::string_view contents, mode_t mode, Durability durability) {
  const bool durable = durability == Durability::kDurable;
  std::random_device rd;
  std::string tmp = path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(rd());
  UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode));
  if (!fd.valid()) return Status::Errno("create " + tmp, errno);
  // The umask may have narrowed `mode`; never widened, but make it exact.
  if (::fchmod(fd.get(), mode) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return Status::Errno("chmod " + tmp, err);
  }
  Status st = WriteAll(fd.get(), contents, tmp);
  if (st.ok() && durable && ::fsync(fd.get()) != 0) st = Status::Errno("fsync " + tmp, errno);
  if (st.ok() && ::close(fd.release()) != 0) st = Status::Errno("close " + tmp, errno);
  if (st.ok() && ::rename(tmp.c_str(), path.c_str()) != 0) st = Status::Errno("rename to " + path, errno);
  if (!st.ok()) {
    ::unlink(tmp.c_str());
    return st;
  }
  return durable ? FsyncDir(DirName(path)) : Status::Ok();
}

Status MakeDirs(const std::string& dir, mode_t mode) {
  if (dir.empty()) return Status::InvalidInput("empty directory path");
  struct stat st;
  if (::stat(dir.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) return Status::Ok();
    return Status::Io(dir + " exists and is not a directory");
  }
  std::string parent = DirName(dir);
  if (parent != dir && parent != "." && parent != "/") {
    Status s = MakeDirs(parent, mode);
    if (!s.ok()) return s;
  }
  if (::mkdir(dir.c_str(), mode) != 0 && errno != EEXIST) return Status::Errno("mkdir " + dir, errno);
  return Status::Ok();
}

Result<std::string> ReadFile(const std::string& path, size_t max_bytes) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    if (errno == ENOENT) return Status::NotFound(path + " does not exist");
    return Status::Errno("open " + path, errno);
  }
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return Status::Errno("stat " + path, errno);
  if (!S_ISREG(st.st_mode)) return Status::InvalidInput(path + " is not a regular file");
  if (static_cast<uint64_t>(st.st_size) > max_bytes) {
    return Status::InvalidInput(path + " is " + std::to_string(st.st_size) + " bytes, more than the " +
                                std::to_string(max_bytes) + " allowed");
  }
  std::string out(static_cast<size_t>(st.st_size), '\0');
  Result<size_t> n = PreadFull(fd.get(), out.data(), out.size(), 0);
  if (!n.ok()) return n.status();
  out.resize(*n);
  return out;
}

Result<size_t> PreadFull(int fd, char* buf, size_t len, uint64_t offset) {
  size_t done = 0;
  while (done < len) {
    ssize_t n = ::pread(fd, buf + done, len - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::Errno("read", errno);
    }
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  return done;
}

std::string WriteTargetOf(const std::string& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0 || !S_ISLNK(st.st_mode)) return path;
  std::error_code ec;
  std::filesystem::path target = std::filesystem::weakly_canonical(path, ec);
  return ec ? path : target.string();
}

bool IsBlankText(std::string_view text) { return text.find_first_not_of(" \t\r\n") == std::string_view::npos; }

}  // namespace tsync
