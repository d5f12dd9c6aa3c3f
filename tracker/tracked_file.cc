#include "tracker/tracked_file.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <cerrno>
#include <memory>

#include "base/sha256.h"

namespace tsync::tracker {

const char* ChangeName(Change change) {
  switch (change) {
    case Change::kUnchanged: return "unchanged";
    case Change::kGrown: return "grown";
    case Change::kTruncated: return "truncated";
    case Change::kReplaced: return "replaced";
    case Change::kRewritten: return "rewritten";
    case Change::kMissing: return "missing";
  }
  return "unknown";
}

std::string GenerationFileName(const std::string& base_name, uint32_t generation) {
  if (generation <= 1) return base_name;
  static constexpr std::string_view kExt = ".jsonl";
  std::string suffix = ".gen" + std::to_string(generation);
  if (base_name.size() > kExt.size() && base_name.ends_with(kExt)) {
    return base_name.substr(0, base_name.size() - kExt.size()) + suffix + std::string(kExt);
  }
  return base_name + suffix;
}

Result<OpenedFile> OpenTracked(const std::string& path) {
  OpenedFile f;
  f.fd = UniqueFd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
  if (!f.fd.valid()) {
    if (errno == ENOENT) return Status::NotFound(path + " does not exist");
    return Status::Errno("open " + path, errno);
  }
  struct stat st;
  if (::fstat(f.fd.get(), &st) != 0) return Status::Errno("stat " + path, errno);
  if (!S_ISREG(st.st_mode)) return Status::InvalidInput(path + " is not a regular file");
  f.dev = static_cast<uint64_t>(st.st_dev);
  f.ino = static_cast<uint64_t>(st.st_ino);
  f.size = static_cast<uint64_t>(st.st_size);
  f.mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  return f;
}

namespace {

// SHA-256 of bytes [from, from + len) of the open file; empty when the file
// is shorter than that (which callers treat as a mismatch).
Result<std::string> HashRange(int fd, uint64_t from, uint64_t len) {
  if (len == 0) return std::string();
  auto buf = std::make_unique_for_overwrite<char[]>(len);
  Result<size_t> n = PreadFull(fd, buf.get(), len, from);
  if (!n.ok()) return n.status();
  if (*n != len) return std::string();
  return Sha256Hex(std::string_view(buf.get(), len));
}

}  // namespace

Result<Change> DetectChange(const TrackedFile& file, const OpenedFile* opened) {
  if (opened == nullptr) return Change::kMissing;
  const FilePosition& p = file.pos;
  if (!file.has_identity()) return opened->size > 0 ? Change::kGrown : Change::kUnchanged;
  if (opened->ino != p.ino) return Change::kReplaced;
  if (opened->size < p.offset) return Change::kTruncated;
  // Device numbers are not stable across reboots (LVM, btrfs, network
  // mounts): a changed device with the same inode is decided by the
  // fingerprints below rather than called a replacement outright.
  const bool same_device = opened->dev == p.dev;
  // Nothing touched the file since it was last read; bytes past the offset
  // (lines a budget-limited chunk left, a partial line) may still be due.
  if (same_device && opened->size == p.size && opened->mtime_ns == p.mtime_ns) {
    return opened->size > p.offset ? Change::kGrown : Change::kUnchanged;
  }

  Result<std::string> head = HashRange(opened->fd.get(), 0, p.head_len);
  if (!head.ok()) return head.status();
  if (*head != p.head_hash) return Change::kReplaced;  // same inode number, another file
  Result<std::string> tail = HashRange(opened->fd.get(), p.offset - p.tail_len, p.tail_len);
  if (!tail.ok()) return tail.status();
  if (*tail != p.tail_hash) return Change::kRewritten;
  return opened->size > p.offset ? Change::kGrown : Change::kUnchanged;
}

Result<FilePosition> PositionAfter(const OpenedFile& opened, const FilePosition& before,
                                   uint64_t new_offset, uint64_t new_lines) {
  FilePosition p;
  p.dev = opened.dev;
  p.ino = opened.ino;
  p.offset = new_offset;
  p.lines = new_lines;
  p.size = opened.size;
  p.mtime_ns = opened.mtime_ns;
  p.head_len = std::min(new_offset, kFingerprintBytes);
  if (p.head_len == before.head_len && before.dev == p.dev && before.ino == p.ino) {
    p.head_hash = before.head_hash;  // the head is only re-hashed while it grows
  } else {
    Result<std::string> h = HashRange(opened.fd.get(), 0, p.head_len);
    if (!h.ok()) return h.status();
    p.head_hash = std::move(*h);
  }
  p.tail_len = std::min(new_offset, kFingerprintBytes);
  Result<std::string> t = HashRange(opened.fd.get(), new_offset - p.tail_len, p.tail_len);
  if (!t.ok()) return t.status();
  p.tail_hash = std::move(*t);
  if (p.head_len > 0 && (p.head_hash.empty() || p.tail_hash.empty())) {
    return Status::Conflict("the file shrank while it was being read");
  }
  return p;
}

void StartNewGeneration(TrackedFile* file, Change why, const OpenedFile& opened) {
  std::string old_name = file->file_name;
  uint64_t old_lines = file->pos.lines;
  file->generation += 1;
  file->file_name = GenerationFileName(file->base_name, file->generation);
  file->pos = FilePosition{};
  file->quarantined.clear();
  file->pos.dev = opened.dev;
  file->pos.ino = opened.ino;
  spdlog::warn(
      "{} was {} after {} line(s) had been synced; those lines stay on the server as {} and the "
      "file's current content is synced from its first line as {}",
      file->path, ChangeName(why), old_lines, old_name, file->file_name);
}

}  // namespace tsync::tracker
