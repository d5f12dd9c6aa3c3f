// Sink: where the engine uploads transcript lines to — the sync backend (an
// adapter over SyncClient) or, when no backend is configured, the local
// archive (archive_sink.h).
//
// The interface mirrors the sync protocol (PROTOCOL.md) call for call, so the
// engine has one upload path and every "nothing lost" test can run against
// both implementations:
//   1) Init          ~ POST /sync/init     (session id + last_synced_line per file)
//   2) AppendChunk   ~ POST /sync/chunk    (strictly contiguous lines)
//   3) SendEvent     ~ POST /sync/event
//   4) SetSummary    ~ PATCH /sessions/{external_id}/summary
//      AddGithubLink ~ POST /sessions/{session_id}/github-links
//   5) ReadLines, ListFiles ~ the read-back routes, for `tsync verify` and tests.
//
// Outcomes. Every call returns a Status / Result whose kind says what the
// caller must do (base/status.h). A non-contiguous chunk is *not* an error: it
// is the normal signal that the sink and the caller disagree about
// last_synced_line, so AppendChunk returns OK with
// ChunkOutcome::expected_first_line set (the server's 400 "first_line must be
// <expected> (got <actual>)"). Nothing was stored; the caller re-Inits and
// continues from the returned counts (PROTOCOL.md "Recovery after any failed
// or unanswered chunk").
//
// Thread-safety contract: callers keep at most one AppendChunk in flight per
// (session, file) — the server has no lock. Implementations must accept
// concurrent calls for different files and different sessions.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "tracker/file_type.h"

namespace tsync::uploader {

/// Protocol limits the sinks enforce (PROTOCOL.md /sync/init, /sync/chunk).
inline constexpr uint64_t kMaxLineNumber = 99'999'999;
inline constexpr uint64_t kMaxChunksPerFile = 30'000;
inline constexpr size_t kMaxFileNameBytes = 512;
inline constexpr size_t kMaxExternalIdBytes = 512;
inline constexpr size_t kMaxTranscriptPathBytes = 8192;
inline constexpr size_t kMaxSummaryBytes = 2048;
inline constexpr size_t kMaxFirstUserMessageBytes = 8192;
inline constexpr size_t kMaxSmallBodyBytes = 128 * 1024;  // init / event / summary bodies
inline constexpr size_t kMaxChunkBodyBytes = 16 * 1024 * 1024;  // decoded /sync/chunk body

/// What Init needs to know about a session (the /sync/init body).
struct SessionInfo {
  std::string provider = "claude-code";
  std::string external_id;      // the Claude Code session id
  std::string transcript_path;  // absolute path of the main transcript
  /// A JSON object: {"cwd","git_info","hostname","username"}. Re-init
  /// overwrites it on the server, so always send the full object again.
  std::string metadata_json = "{}";
};

/// What the sink holds for a session.
struct InitResult {
  std::string session_id;                            // the backend's UUID, stable across re-inits
  std::map<std::string, uint64_t> last_synced_line;  // per file_name; empty for a new session
};

/// One contiguous run of lines for one file (the /sync/chunk body).
struct ChunkRequest {
  std::string session_id;
  std::string file_name;
  tracker::FileType file_type = tracker::FileType::kTranscript;
  uint64_t first_line = 1;
  /// Each line without its newline; must not contain '\n' or '\r'. The
  /// caller owns the storage for the duration of the call.
  std::span<const std::string_view> lines;
  /// Honoured on transcript chunks only. summary: last write wins;
  /// first_user_message: first write wins and must never be "".
  std::optional<std::string> summary;
  std::optional<std::string> first_user_message;
  /// tracker::EncodedLinesSize(lines) when the caller knows it (the chunk
  /// budget is counted on it), which spares the sink a pass over the bytes;
  /// 0: the sink measures.
  size_t lines_encoded_size = 0;
};

/// The result of an accepted or contiguity-rejected chunk.
struct ChunkOutcome {
  /// Lines the sink holds for the file after the call.
  uint64_t last_synced_line = 0;
  /// Set when the chunk was rejected as non-contiguous (gap, overlap or an
  /// exact resend): the first_line the sink expected. Nothing was stored.
  std::optional<uint64_t> expected_first_line;

  bool accepted() const { return !expected_first_line.has_value(); }
};

/// A commit or pull request linked to a session (the github-links body).
struct GithubLink {
  std::string url;
  std::string title;               // omitted when empty
  std::string source = "cli_hook";
  std::string link_type;           // "pull_request" | "commit" | empty
};

/// One stored file, as listed by ListFiles.
struct FileInfo {
  std::string file_name;
  tracker::FileType file_type = tracker::FileType::kTranscript;
  uint64_t last_synced_line = 0;
};

class Sink {
 public:
  virtual ~Sink() = default;

  /// Creates the session or returns what is already stored for it.
  virtual Result<InitResult> Init(const SessionInfo& info) = 0;

  /// Appends `req.lines` as lines first_line.. of the file. kInvalidInput for
  /// a malformed request, kNotFound for an unknown session; a contiguity
  /// conflict is an OK result with expected_first_line set (see above).
  virtual Result<ChunkOutcome> AppendChunk(const ChunkRequest& req) = 0;

  /// Records a lifecycle event; `payload_json` is any JSON value. Not
  /// idempotent: send each event once.
  virtual Status SendEvent(const std::string& session_id, std::string_view event_type,
                           std::string_view timestamp, std::string_view payload_json) = 0;

  /// Stores the session summary (<= 2048 bytes, already redacted).
  virtual Status SetSummary(const std::string& external_id, std::string_view summary) = 0;

  /// Links a GitHub commit or pull request to the session `session_id` (the
  /// id Init returned); repeats are upserts. kNotFound for an unknown
  /// session. The default is kInvalidInput: the local archive keeps no links.
  virtual Status AddGithubLink(const std::string& session_id, const GithubLink& link);

  /// The stored lines after line `after_line` (0 = all), without newlines.
  /// A file the session never stored has no lines (an empty vector).
  virtual Result<std::vector<std::string>> ReadLines(const std::string& session_id,
                                                     const std::string& file_name, uint64_t after_line) = 0;

  /// The session id of an already initialised session (read-only: never
  /// creates one); kNotFound when the sink has none for `external_id`.
  virtual Result<std::string> FindSession(const std::string& external_id) = 0;

  /// Every file stored for the session, sorted by file_name.
  virtual Result<std::vector<FileInfo>> ListFiles(const std::string& session_id) = 0;
};

// Request checks shared by every sink, so the archive rejects exactly what
// the server (and the reference backend) reject. Each returns OK or
// kInvalidInput with a message naming the problem, never the payload.

/// PROTOCOL.md /sync/chunk file_name: non-empty, <= 512 bytes, no "..", no
/// leading '/', no "//", no backslash; also no NUL byte, no trailing '/' and
/// no "." component (each would alias another name on disk).
Status ValidateFileName(std::string_view file_name);

/// A line must not contain '\n' or '\r' (the server would split it).
Status ValidateLine(std::string_view line);

/// Everything in a chunk that can be checked without the stored state:
/// file name, non-empty lines, line contents, line-number range, metadata sizes.
Status ValidateChunkRequest(const ChunkRequest& req);

/// provider is one of claude-code, codex, opencode, cursor (never "").
Status ValidateProvider(std::string_view provider);

/// An Init request: provider, external_id (1-512 bytes), transcript_path
/// (1-8192 bytes), metadata a JSON object of at most 128 KiB.
Status ValidateSessionInfo(const SessionInfo& info);

/// An event: event_type of [a-z_] (1-64), a printable timestamp, a payload
/// that is any JSON value of at most 128 KiB.
Status ValidateEvent(std::string_view event_type, std::string_view timestamp, std::string_view payload_json);

/// A summary of at most 2048 bytes.
Status ValidateSummary(std::string_view summary);

/// Parses any JSON value and returns it minified (one line). kInvalidInput
/// naming `what` when it does not parse (or is not an object when required).
Result<std::string> MinifyJson(std::string_view json, std::string_view what, bool must_be_object);

/// True for the canonical 8-4-4-4-12 lowercase-or-uppercase hex UUID form.
bool LooksLikeUuid(std::string_view s);

}  // namespace tsync::uploader
