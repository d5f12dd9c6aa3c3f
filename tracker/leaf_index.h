// LeafIndex: which main transcripts of a project hold a message with a given
// `uuid` near their end. A `{"type":"summary","summary":…,"leafUuid":…}` line
// (TRANSCRIPTS.md "Lines") describes the conversation whose last message is
// `leafUuid`; when that message is in another transcript (a continued or
// resumed conversation), the summary belongs to that other session.
//
// Cheap on projects with thousands of sessions:
//  1) only file tails are read — a leaf is the last message of its
//     conversation: the last `tail_bytes` (64 KiB), doubled up to
//     `max_tail_bytes` while the tail holds no complete line with a uuid
//     (single lines reach 1 MB+); at most `max_uuids_per_file` of the last
//     uuids are kept per file;
//  2) what was learned is cached per project in
//     `<cache_dir>/<hash of the project dir>.idx`, keyed by each file's
//     identity (dev, inode) and size: an unchanged file is never read again,
//     a file that only grew is read from where the last read stopped (its new
//     lines are its new tail), anything else is read again. A refresh costs
//     one readdir and one stat per transcript, plus the cache file.
// Agent files (`agent-*.jsonl`) and names that are not session ids are never
// indexed. Only top-level `uuid` members count (a `uuid` inside a message's
// content is not a message of the transcript).
//
// The cache is advisory: a missing, foreign or corrupt file is ignored and
// rebuilt; it is written atomically without fsync, so concurrent processes
// at worst redo each other's reads.
// Thread-safety: single-owner.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace tsync::tracker {

struct LeafIndexOptions {
  size_t tail_bytes = 64 * 1024;
  size_t max_tail_bytes = 1024 * 1024;
  size_t max_uuids_per_file = 32;
};

class LeafIndex {
 public:
  explicit LeafIndex(std::string cache_dir, LeafIndexOptions options = {});

  /// Brings the index of `project_dir` up to date with the disk (see above)
  /// and saves the cache when anything changed. kIo when the directory
  /// cannot be listed; a transcript that cannot be read is left out.
  Status Refresh(const std::string& project_dir);

  /// Session ids (transcript stems), sorted, whose indexed tail holds a
  /// message with `uuid` — as of the last Refresh of `project_dir` (none
  /// before the first).
  std::vector<std::string> Find(const std::string& project_dir, std::string_view uuid) const;

  /// Transcript tails read from disk by this object (tests and benchmarks:
  /// a second lookup over unchanged files reads none).
  uint64_t files_read() const { return files_read_; }

 private:
  struct Entry {
    uint64_t dev = 0, ino = 0, size = 0;
    uint64_t scanned_to = 0;          // end of the last complete line read
    std::vector<std::string> uuids;   // oldest first
  };
  struct Project {
    bool loaded = false;
    std::map<std::string, Entry> files;  // by session id
  };

  std::string CachePath(const std::string& project_dir) const;
  void Load(const std::string& project_dir, Project* project) const;
  Status Save(const std::string& project_dir, const Project& project) const;
  bool Scan(int dir_fd, const std::string& name, Entry* entry, uint64_t from);

  std::string cache_dir_;
  LeafIndexOptions options_;
  std::map<std::string, Project> projects_;
  uint64_t files_read_ = 0;
};

/// The top-level `uuid` members of the complete lines in `text`, in order
/// (exposed for tests).
std::vector<std::string> MessageUuids(std::string_view text);

}  // namespace tsync::tracker
