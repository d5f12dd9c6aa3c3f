// ChunkReader: turns the bytes of an append-only JSONL file into numbered,
// complete, wire-safe lines, one bounded chunk at a time.
//
// Guarantees (TRANSCRIPTS.md "Lines", PROTOCOL.md /sync/chunk):
//  1) Only newline-terminated lines are returned; an unterminated tail waits.
//  2) Line numbering matches the file: every '\n' ends exactly one line, blank
//     lines included (sent as ""). A trailing "\r" before the '\n' is not part
//     of the line (CRLF); a stray '\r' inside a line becomes a space, because a
//     stored '\r' would make the server split the line.
//  3) Every line is valid UTF-8: ill-formed bytes become U+FFFD (base/utf8.h).
//  4) The chunk's *encoded* size — the JSON array of escaped line strings as
//     the uploader writes it — stays within the budget, so the request stays
//     under the server's 16 MiB decoded cap.
//  5) A line whose encoded form alone exceeds the line limit (by default the
//     budget) is replaced, keeping its number, by a JSON placeholder
//     {"type":"tsync_oversize_line","bytes":N,"sha256":"<hex of the raw line>"}
//     so one giant line never wedges the file. A line over the budget but
//     within the limit is returned alone.
//  6) Memory is bounded by the line limit plus one read block (plus the
//     repaired copies of the rare lines that needed repair), whatever the
//     file size.
// Thread-safety: a Chunk is a value; ReadChunk is reentrant.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <span>
#include <string_view>
#include <vector>

#include "base/memory.h"
#include "base/status.h"

namespace tsync::tracker {

inline constexpr size_t kDefaultChunkBudget = 14u << 20;  // 14 MiB of the server's 16 MiB
/// Room for the oversize placeholder line plus the array around it.
inline constexpr size_t kMinChunkBudget = 256;

struct ChunkOptions {
  /// Upper bound on EncodedLinesSize() of a chunk — except for a single line
  /// within `line_limit`, which comes alone.
  size_t budget = kDefaultChunkBudget;
  /// The encoded size (in a one-line array) over which a line becomes the
  /// placeholder of guarantee 5; 0 (or less than the budget): the budget.
  /// The engine reads smaller chunks after failures; a line the server would
  /// take must still go whole, not as a placeholder (found by the fault soak).
  size_t line_limit = 0;
  /// Bytes read per pread(); also the memory beyond the budget.
  size_t read_block = 1u << 20;
  /// Name used in log lines (the backend file_name), never the contents.
  std::string_view log_name;
};

/// The placeholder of guarantee 5 for a line of `bytes` bytes whose SHA-256
/// is `sha256_hex`; also used by the engine for a line that only outgrows a
/// chunk once redacted.
std::string OversizePlaceholder(uint64_t bytes, const std::string& sha256_hex);

/// Counts of the repairs a chunk needed; the caller reports them.
struct ChunkStats {
  uint64_t crlf_lines = 0;          // lines that ended in "\r\n"
  uint64_t stray_cr = 0;            // '\r' bytes inside lines, replaced by ' '
  uint64_t repaired_lines = 0;      // lines that had ill-formed UTF-8
  uint64_t replaced_sequences = 0;  // U+FFFD substitutions made
  uint64_t oversize_lines = 0;      // lines replaced by a placeholder

  void Add(const ChunkStats& other);
};

/// A run of consecutive complete lines. Line views stay valid as long as the
/// Chunk lives (and across moves).
struct Chunk {
  uint64_t first_line = 0;   // number of lines[0]; the next line number when empty
  uint64_t start_offset = 0; // byte offset of lines[0]'s first byte
  uint64_t end_offset = 0;   // byte offset just past the last line's '\n'
  std::vector<std::string_view> lines;
  size_t encoded_size = 0;   // EncodedLinesSize(lines)
  ChunkStats stats;
  /// True when the reader stopped at end of file (or at an unterminated
  /// tail) rather than at the budget: there is nothing more to read now.
  bool reached_eof = false;

  bool empty() const { return lines.empty(); }
  uint64_t last_line() const { return first_line + lines.size() - 1; }

  // Backing storage for `lines`: a pooled block that does not move when the
  // Chunk is moved (a std::string could keep a short line inline and leave
  // the views dangling), and a deque whose elements never relocate.
  PooledBuffer raw;
  std::deque<std::string> rewritten;
};

/// Size of `["l1","l2",...]` for these lines with JSON escaping.
size_t EncodedLinesSize(std::span<const std::string_view> lines);
/// What one more line adds to an array's encoded size (comma and quotes included).
size_t EncodedLineCost(std::string_view line, bool first);

/// Reads complete lines from `fd` starting at `offset`, which must be the
/// start of line number `first_line`. Returns an empty chunk (reached_eof)
/// when no complete line is available.
Result<Chunk> ReadChunk(int fd, uint64_t offset, uint64_t first_line, const ChunkOptions& options);

/// Byte offset just past the `lines`-th '\n' of `fd` (0 for lines == 0).
/// kConflict when the file holds fewer complete lines.
Result<uint64_t> FindLineOffset(int fd, uint64_t lines);

}  // namespace tsync::tracker
