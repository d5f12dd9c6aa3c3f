// TrackedFile: what tsync knows about one file whose lines the backend holds,
// and change detection that tells an append from anything that would make
// the next byte offset wrong.
//
// The server can never rewrite a stored line (PROTOCOL.md "Contiguity is
// strict"), so every decision here errs towards keeping what was synced and
// continuing elsewhere:
//   kUnchanged  nothing past the offset, bytes before it intact
//   kGrown      same file, bytes before the offset intact, bytes after it
//   kTruncated  size < offset (copytruncate, `> file`)
//   kReplaced   another inode, or the same inode (reused) with another beginning;
//               a changed device number alone is checked by the fingerprints
//   kRewritten  the bytes just before the offset differ
//   kMissing    the path does not exist (deleted; kept until it comes back)
// Truncated, replaced and rewritten files start a new *generation*: lines
// already synced stay on the server under the old file_name, and the file's
// current content is sent from its first byte under "<stem>.gen<N>.jsonl".
// Thread-safety: values and free functions; no shared state.
#pragma once

#include <cstdint>
#include <string>

#include "base/fs.h"
#include "base/status.h"
#include "tracker/chunk_reader.h"
#include "tracker/file_type.h"

namespace tsync::tracker {

/// How many leading / trailing acknowledged bytes the fingerprints cover.
inline constexpr uint64_t kFingerprintBytes = 4096;

/// A file's position as of one read: everything Acknowledge() stores once
/// the backend has confirmed the lines up to `offset`. Computed from the same
/// open file as the lines, so a file replaced after the read cannot leak its
/// hashes into the state.
struct FilePosition {
  uint64_t dev = 0;
  uint64_t ino = 0;
  uint64_t offset = 0;   // byte just past the last acknowledged line
  uint64_t lines = 0;    // number of that line = lines acknowledged
  uint64_t size = 0;     // file size and mtime when the lines were read
  int64_t mtime_ns = 0;
  uint64_t head_len = 0; // SHA-256 of bytes [0, head_len)
  std::string head_hash;
  uint64_t tail_len = 0; // SHA-256 of bytes [offset - tail_len, offset)
  std::string tail_hash;
};

struct TrackedFile {
  std::string path;       // local path
  std::string base_name;  // generation-1 backend file_name
  std::string file_name;  // backend file_name of the current generation
  FileType type = FileType::kTranscript;
  uint32_t generation = 1;
  FilePosition pos;
  /// Non-empty: the backend refused this generation permanently (the reason,
  /// never payload); it is not sent again until the file starts a new
  /// generation. The engine sets it; a new generation clears it.
  std::string quarantined;
  /// Unix seconds of the backend's last acknowledgement of lines of this
  /// file (0: none recorded); shown by `tsync status --session`.
  int64_t acked_at = 0;

  /// True once the file has been seen on disk (identity recorded).
  bool has_identity() const { return pos.dev != 0 || pos.ino != 0; }
};

enum class Change { kUnchanged, kGrown, kTruncated, kReplaced, kRewritten, kMissing };
const char* ChangeName(Change change);

/// "<stem>.gen<N>.jsonl" for generation N > 1 ("x.jsonl" -> "x.gen2.jsonl").
std::string GenerationFileName(const std::string& base_name, uint32_t generation);

/// A file opened for one inspection or read, with its fstat() at open time.
struct OpenedFile {
  UniqueFd fd;
  uint64_t dev = 0, ino = 0, size = 0;
  int64_t mtime_ns = 0;
};

/// Opens `path` read-only. kNotFound when it does not exist.
Result<OpenedFile> OpenTracked(const std::string& path);

/// Classifies `file` against what is on disk now (see the table above).
/// `opened` is the same path opened by the caller (nullptr: kMissing).
Result<Change> DetectChange(const TrackedFile& file, const OpenedFile* opened);

/// The position after `chunk` was read from `opened` (hashes included).
Result<FilePosition> PositionAfter(const OpenedFile& opened, const FilePosition& before,
                                   uint64_t new_offset, uint64_t new_lines);

/// Switches `file` to its next generation starting at byte 0 of `opened`,
/// logging a warning that says what happened and where the old lines stay.
void StartNewGeneration(TrackedFile* file, Change why, const OpenedFile& opened);

}  // namespace tsync::tracker
