// Store: the reference backend's SQLite database (users, API keys, sessions,
// files, chunks, events, summaries, GitHub links).
//
// Every mutation runs in one transaction, so a chunk is either stored whole
// or not at all (PROTOCOL.md /sync/chunk: "the chunk may have been stored even
// though the reply was lost" must mean *whole*). Tests read lines back to prove
// nothing was lost or duplicated.
// A chunk is one row (its lines joined by '\n' in one blob), as the real
// server keeps one object per chunk: a 14 MiB chunk is one insert, not
// thousands, and the per-file chunk count (PROTOCOL.md "Limits") is a column
// that survives restarts. Pages are 64 KiB, the journal is a rollback
// journal (store.cc says why) and statements are prepared once.
// Thread-safety: all methods are safe to call concurrently; one connection is
// shared behind a mutex.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "base/status.h"

struct sqlite3;
struct sqlite3_stmt;

namespace tsync::refserver {

struct User {
  int64_t id = 0;
  std::string email;
};

/// A session row as the handlers need it for access checks.
struct SessionRef {
  std::string id;  // server UUID
  int64_t user_id = 0;
};

struct FileState {
  std::string file_name;
  std::string file_type;
  int64_t last_synced_line = 0;
  std::string updated_at;
};

struct InitRequest {
  int64_t user_id = 0;
  std::string provider;
  std::string external_id;
  std::string transcript_path;
  std::string metadata_json;  // minified, "{}" when absent
  std::string cwd;
};

struct ChunkRequest {
  std::string session_id;
  std::string file_name;
  std::string file_type;
  int64_t first_line = 0;
  /// The lines joined by '\n' (no newline after the last); owned by the caller.
  std::string_view lines;
  int64_t line_count = 0;
  std::optional<std::string> summary;             // transcript chunks only
  std::optional<std::string> first_user_message;  // first write wins
};

/// Result of AppendChunk.
struct ChunkOutcome {
  enum class Kind {
    kStored,
    kNotContiguous,  // first_line != expected_first_line; nothing stored
    kTooManyChunks,  // the file already holds the maximum; nothing stored
  };
  Kind kind = Kind::kNotContiguous;
  int64_t expected_first_line = 0;
  int64_t last_synced_line = 0;
  int64_t chunk_count = 0;  // chunks stored for the file, this one included
};

struct GithubLink {
  int64_t id = 0;
  std::string session_id, link_type, url, owner, repo, ref, title, source, created_at;
  bool has_title = false;
};

class Store {
 public:
  Store() = default;
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  /// Opens (creating if needed) the database at `path`. A database in
  /// another layout (an older refserver's) is refused.
  Status Open(const std::string& path);

  /// Binds `key` to user `user_id`, creating or renaming the user.
  Status RegisterKey(const std::string& key, int64_t user_id, const std::string& email);
  std::optional<User> UserForKey(const std::string& key);
  std::optional<User> UserById(int64_t id);

  /// Creates the session or overwrites its metadata; returns its UUID.
  Result<std::string> InitSession(const InitRequest& init, const std::string& new_id);
  std::vector<FileState> ListFiles(const std::string& session_id);
  std::optional<SessionRef> FindSession(const std::string& session_id);
  /// Every session (any user, any provider) with this external id.
  std::vector<SessionRef> FindByExternalId(const std::string& external_id);

  /// Appends the chunk atomically when first_line is contiguous and the file
  /// holds fewer than `max_chunks` chunks (checked in that order, as Confab
  /// does); otherwise stores nothing.
  Result<ChunkOutcome> AppendChunk(const ChunkRequest& chunk, int64_t max_chunks);
  Status AddEvent(const std::string& session_id, const std::string& type, const std::string& timestamp,
                  const std::string& payload_json);
  Status SetSummary(const std::string& session_id, const std::string& summary);
  Result<GithubLink> UpsertGithubLink(const GithubLink& link);

  /// Stored lines after `line_offset`, each followed by '\n'.
  Result<std::string> ReadLines(const std::string& session_id, const std::string& file_name, int64_t line_offset);
  /// Session metadata as stored: (summary, first_user_message), empty when unset.
  std::pair<std::string, std::string> SessionTexts(const std::string& session_id);

 private:
  Status Exec(const char* sql);
  Status Fail(const char* what);
  Status CreateOrCheckSchema(const std::string& path);
  /// The statement for `sql` (a string literal), prepared on first use and
  /// kept; nullptr when it does not compile. Callers hold mu_.
  sqlite3_stmt* Prepared(const char* sql);

  std::mutex mu_;
  sqlite3* db_ = nullptr;
  std::unordered_map<std::string_view, sqlite3_stmt*> statements_;
};

/// UTC now as RFC 3339 ("2026-01-02T03:04:05Z").
std::string NowRfc3339();

}  // namespace tsync::refserver
