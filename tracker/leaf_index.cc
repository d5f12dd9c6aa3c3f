#include "tracker/leaf_index.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <set>

#include "base/fs.h"
#include "base/json_line_parser.h"
#include "base/sha256.h"
#include "tracker/checkpoint.h"

namespace tsync::tracker {
namespace {

constexpr std::string_view kCacheMagic = "tsync-leaf-index 1";
constexpr size_t kMaxCacheBytes = 64 * 1024 * 1024;
// scanned_to when the last read found no line boundary: the next change
// reads the whole tail again.
constexpr uint64_t kNoBoundary = UINT64_MAX;
constexpr size_t kMaxUuidBytes = 64;

bool IsUuidChar(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-';
}

bool IsUuidText(std::string_view s) {
  return !s.empty() && s.size() <= kMaxUuidBytes && std::all_of(s.begin(), s.end(), IsUuidChar);
}

bool ParseU64(std::string_view s, uint64_t* out) {
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && end == s.data() + s.size();
}

/// Splits `s` at single spaces into exactly `n` fields.
bool SplitFields(std::string_view s, size_t n, std::vector<std::string_view>* out) {
  out->clear();
  while (out->size() + 1 < n) {
    size_t sp = s.find(' ');
    if (sp == std::string_view::npos) return false;
    out->push_back(s.substr(0, sp));
    s.remove_prefix(sp + 1);
  }
  out->push_back(s);
  return true;
}

/// Reads [from, to) of `fd`.
bool ReadRange(int fd, uint64_t from, uint64_t to, std::string* out) {
  out->resize(to - from);
  Result<size_t> n = PreadFull(fd, out->data(), out->size(), from);
  if (!n.ok()) return false;
  out->resize(*n);
  return true;
}

void KeepLast(std::vector<std::string>* uuids, size_t max) {
  if (uuids->size() > max) uuids->erase(uuids->begin(), uuids->end() - static_cast<std::ptrdiff_t>(max));
}

}  // namespace

std::vector<std::string> MessageUuids(std::string_view text) {
  std::vector<std::string> out;
  JsonLineParser parser;
  while (!text.empty()) {
    const size_t nl = text.find('\n');
    if (nl == std::string_view::npos) break;  // an unterminated line is not a line yet
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl + 1);
    if (line.ends_with('\r')) line.remove_suffix(1);
    // Most lines without a uuid (api-request*, queue-operation…) are skipped
    // without a parse. Inside a JSON string the quotes would be escaped.
    if (line.find("\"uuid\"") == std::string_view::npos) continue;
    simdjson::dom::object root;
    if (parser.Parse(line).get(root) != simdjson::SUCCESS) continue;
    std::string_view uuid;
    if (root["uuid"].get(uuid) == simdjson::SUCCESS && IsUuidText(uuid)) out.emplace_back(uuid);
  }
  return out;
}

LeafIndex::LeafIndex(std::string cache_dir, LeafIndexOptions options)
    : cache_dir_(std::move(cache_dir)), options_(options) {
  options_.tail_bytes = std::max<size_t>(options_.tail_bytes, 1024);
  options_.max_tail_bytes = std::max(options_.max_tail_bytes, options_.tail_bytes);
  options_.max_uuids_per_file = std::max<size_t>(options_.max_uuids_per_file, 1);
}

std::string LeafIndex::CachePath(const std::string& project_dir) const {
  return cache_dir_ + "/" + Sha256Hex(project_dir).substr(0, 16) + ".idx";
}

void LeafIndex::Load(const std::string& project_dir, Project* project) const {
  Result<std::string> text = ReadFile(CachePath(project_dir), kMaxCacheBytes);
  if (!text.ok()) return;
  std::string_view rest = *text;
  auto next_line = [&rest](std::string_view* line) {
    const size_t nl = rest.find('\n');
    if (nl == std::string_view::npos) return false;
    *line = rest.substr(0, nl);
    rest.remove_prefix(nl + 1);
    return true;
  };
  std::string_view line;
  if (!next_line(&line) || line != kCacheMagic || !next_line(&line) || line != project_dir) return;
  std::map<std::string, Entry> files;
  std::vector<std::string_view> f;
  while (next_line(&line)) {
    Entry e;
    if (!SplitFields(line, 6, &f) || !IsValidSessionId(f[0]) || !ParseU64(f[1], &e.dev) || !ParseU64(f[2], &e.ino) ||
        !ParseU64(f[3], &e.size) || !ParseU64(f[4], &e.scanned_to)) {
      return;  // corrupt: rebuilt by the refresh
    }
    for (std::string_view list = f[5]; list != "-" && !list.empty();) {
      const size_t comma = list.find(',');
      std::string_view uuid = list.substr(0, comma);
      if (!IsUuidText(uuid)) return;
      e.uuids.emplace_back(uuid);
      list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
    }
    files[std::string(f[0])] = std::move(e);
  }
  if (!rest.empty()) return;  // torn write
  project->files = std::move(files);
}

Status LeafIndex::Save(const std::string& project_dir, const Project& project) const {
  if (Status st = MakeDirs(cache_dir_); !st.ok()) return st;
  std::string out;
  out.append(kCacheMagic).append("\n").append(project_dir).append("\n");
  for (const auto& [id, e] : project.files) {
    out += id + " " + std::to_string(e.dev) + " " + std::to_string(e.ino) + " " + std::to_string(e.size) + " " +
           std::to_string(e.scanned_to) + " ";
    if (e.uuids.empty()) out += "-";
    for (size_t i = 0; i < e.uuids.size(); ++i) out += (i ? "," : "") + e.uuids[i];
    out += "\n";
  }
  return WriteFileAtomic(CachePath(project_dir), out, 0600, Durability::kAtomicOnly);
}

bool LeafIndex::Scan(int dir_fd, const std::string& name, Entry* entry, uint64_t from) {
  UniqueFd fd(::openat(dir_fd, name.c_str(), O_RDONLY | O_CLOEXEC));
  struct stat st;
  if (!fd.valid() || ::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) return false;
  const auto size = static_cast<uint64_t>(st.st_size);
  ++files_read_;
  std::string text;
  const bool grown = from != kNoBoundary && entry->dev == static_cast<uint64_t>(st.st_dev) &&
                     entry->ino == static_cast<uint64_t>(st.st_ino) && from <= size &&
                     size - from <= options_.max_tail_bytes;
  if (grown) {
    if (!ReadRange(fd.get(), from, size, &text)) return false;
    const size_t last_nl = text.rfind('\n');
    std::vector<std::string> added = MessageUuids(text);
    entry->uuids.insert(entry->uuids.end(), added.begin(), added.end());
    if (last_nl != std::string::npos) entry->scanned_to = from + last_nl + 1;
  } else {
    entry->uuids.clear();
    entry->scanned_to = kNoBoundary;
    for (uint64_t tail = options_.tail_bytes;; tail = std::min<uint64_t>(tail * 2, options_.max_tail_bytes)) {
      const uint64_t start = size > tail ? size - tail : 0;
      if (!ReadRange(fd.get(), start, size, &text)) return false;
      std::string_view view = text;
      size_t skipped = 0;
      if (start > 0) {  // the first bytes are the end of a line that began earlier
        skipped = view.find('\n');
        skipped = skipped == std::string_view::npos ? view.size() : skipped + 1;
        view.remove_prefix(skipped);
      }
      entry->uuids = MessageUuids(view);
      const size_t last_nl = view.rfind('\n');
      if (last_nl != std::string_view::npos) entry->scanned_to = start + skipped + last_nl + 1;
      if (start == 0) entry->scanned_to = last_nl == std::string_view::npos ? 0 : entry->scanned_to;
      if (!entry->uuids.empty() || start == 0 || tail >= options_.max_tail_bytes) break;
    }
  }
  KeepLast(&entry->uuids, options_.max_uuids_per_file);
  entry->dev = static_cast<uint64_t>(st.st_dev);
  entry->ino = static_cast<uint64_t>(st.st_ino);
  entry->size = size;
  return true;
}

Status LeafIndex::Refresh(const std::string& project_dir) {
  Project& project = projects_[project_dir];
  if (!project.loaded) {
    Load(project_dir, &project);
    project.loaded = true;
  }
  DIR* dir = ::opendir(project_dir.c_str());
  if (dir == nullptr) return Status::Errno("cannot list " + project_dir, errno);
  bool changed = false;
  std::set<std::string> seen;
  while (const dirent* e = ::readdir(dir)) {
    const std::string_view name = e->d_name;
    if (!name.ends_with(".jsonl") || name.starts_with("agent-")) continue;
    std::string id(name.substr(0, name.size() - 6));
    if (!IsValidSessionId(id)) continue;
    struct stat st;
    if (::fstatat(::dirfd(dir), e->d_name, &st, 0) != 0 || !S_ISREG(st.st_mode)) continue;
    seen.insert(id);
    auto it = project.files.find(id);
    const bool known = it != project.files.end();
    if (known && it->second.dev == static_cast<uint64_t>(st.st_dev) &&
        it->second.ino == static_cast<uint64_t>(st.st_ino) && it->second.size == static_cast<uint64_t>(st.st_size)) {
      continue;  // unchanged: nothing is read
    }
    Entry entry = known ? it->second : Entry{};
    const bool grew = known && entry.size < static_cast<uint64_t>(st.st_size);
    if (!Scan(::dirfd(dir), std::string(name), &entry, grew ? entry.scanned_to : kNoBoundary)) {
      if (known) project.files.erase(it);
      changed = true;
      continue;
    }
    project.files[id] = std::move(entry);
    changed = true;
  }
  ::closedir(dir);
  for (auto it = project.files.begin(); it != project.files.end();) {
    if (seen.count(it->first) == 0) {
      it = project.files.erase(it);
      changed = true;
    } else {
      ++it;
    }
  }
  // The cache is advisory: failing to write it only costs the next process
  // the same reads.
  if (changed) (void)Save(project_dir, project);
  return Status::Ok();
}

std::vector<std::string> LeafIndex::Find(const std::string& project_dir, std::string_view uuid) const {
  std::vector<std::string> out;
  auto p = projects_.find(project_dir);
  if (p == projects_.end() || uuid.empty()) return out;
  for (const auto& [id, e] : p->second.files) {
    if (std::find(e.uuids.begin(), e.uuids.end(), uuid) != e.uuids.end()) out.push_back(id);
  }
  return out;  // std::map order: sorted
}

}  // namespace tsync::tracker
