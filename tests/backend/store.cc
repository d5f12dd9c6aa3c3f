#include "tests/backend/store.h"

#include <sqlite3.h>

#include <algorithm>
#include <cstring>
#include <ctime>

namespace tsync::refserver {
namespace {

// PRAGMA user_version of the layout below: one row per chunk. The first
// layout (one row per line, in `lines`) never set it, so it reads as 0.
constexpr int kSchemaVersion = 2;

const char kSchema[] = R"sql(
CREATE TABLE IF NOT EXISTS users(id INTEGER PRIMARY KEY, email TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS api_keys(key TEXT PRIMARY KEY, user_id INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS sessions(
  id TEXT PRIMARY KEY, user_id INTEGER NOT NULL, provider TEXT NOT NULL, external_id TEXT NOT NULL,
  transcript_path TEXT NOT NULL, cwd TEXT NOT NULL, metadata TEXT NOT NULL,
  summary TEXT, first_user_message TEXT, created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
  UNIQUE(user_id, provider, external_id));
CREATE TABLE IF NOT EXISTS files(
  session_id TEXT NOT NULL, file_name TEXT NOT NULL, file_type TEXT NOT NULL,
  last_synced_line INTEGER NOT NULL, chunk_count INTEGER NOT NULL, updated_at TEXT NOT NULL,
  PRIMARY KEY(session_id, file_name));
CREATE TABLE IF NOT EXISTS chunks(
  id INTEGER PRIMARY KEY, session_id TEXT NOT NULL, file_name TEXT NOT NULL,
  first_line INTEGER NOT NULL, last_line INTEGER NOT NULL, data BLOB NOT NULL,
  UNIQUE(session_id, file_name, first_line));
CREATE TABLE IF NOT EXISTS events(
  id INTEGER PRIMARY KEY, session_id TEXT NOT NULL, event_type TEXT NOT NULL, timestamp TEXT NOT NULL,
  payload TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS summaries(
  id INTEGER PRIMARY KEY, session_id TEXT NOT NULL, summary TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS github_links(
  id INTEGER PRIMARY KEY, session_id TEXT NOT NULL, link_type TEXT NOT NULL, url TEXT NOT NULL,
  owner TEXT NOT NULL, repo TEXT NOT NULL, ref TEXT NOT NULL, title TEXT, source TEXT NOT NULL,
  created_at TEXT NOT NULL, UNIQUE(session_id, url));
)sql";

/// A use of one cached prepared statement: reset, with its bindings
/// cleared, when the use ends. Text binds are copied; BindBlob is not.
class Stmt {
 public:
  explicit Stmt(sqlite3_stmt* stmt) : stmt_(stmt) {}
  ~Stmt() { Reset(); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  bool ok() const { return stmt_ != nullptr; }
  Stmt& Bind(int i, const std::string& s) {
    if (stmt_) sqlite3_bind_text(stmt_, i, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& Bind(int i, int64_t v) {
    if (stmt_) sqlite3_bind_int64(stmt_, i, v);
    return *this;
  }
  Stmt& BindNull(int i) {
    if (stmt_) sqlite3_bind_null(stmt_, i);
    return *this;
  }
  /// Binds without copying: `data` must outlive this use of the statement.
  Stmt& BindBlob(int i, std::string_view data) {
    // A null pointer would bind NULL, not an empty blob.
    const char* p = data.data() != nullptr ? data.data() : "";
    if (stmt_) sqlite3_bind_blob64(stmt_, i, p, data.size(), SQLITE_STATIC);
    return *this;
  }
  /// SQLITE_ROW, SQLITE_DONE or an error code.
  int Step() { return stmt_ ? sqlite3_step(stmt_) : SQLITE_ERROR; }
  bool Run() {
    int rc = Step();
    return rc == SQLITE_DONE || rc == SQLITE_ROW;
  }
  void Reset() {
    if (!stmt_) return;
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  int64_t Int(int col) { return sqlite3_column_int64(stmt_, col); }
  bool IsNull(int col) { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
  std::string Text(int col) {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col));
    return p ? std::string(p, static_cast<size_t>(sqlite3_column_bytes(stmt_, col))) : std::string();
  }
  /// Valid until the next Step or Reset.
  std::string_view Blob(int col) {
    const auto* p = static_cast<const char*>(sqlite3_column_blob(stmt_, col));
    return p ? std::string_view(p, static_cast<size_t>(sqlite3_column_bytes(stmt_, col))) : std::string_view();
  }

 private:
  sqlite3_stmt* stmt_;
};

/// BEGIN IMMEDIATE on construction; ROLLBACK unless Commit() succeeded.
class Transaction {
 public:
  explicit Transaction(sqlite3* db) : db_(db) {
    begun_ = sqlite3_exec(db_, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) == SQLITE_OK;
  }
  ~Transaction() {
    if (begun_ && !committed_) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  }
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  bool begun() const { return begun_; }
  bool Commit() {
    committed_ = sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr) == SQLITE_OK;
    return committed_;
  }

 private:
  sqlite3* db_;
  bool begun_ = false;
  bool committed_ = false;
};

/// Offset in `data` of the start of line `skip` (0-based) of lines joined by
/// '\n'; npos when there are fewer lines.
size_t LineStart(std::string_view data, int64_t skip) {
  size_t pos = 0;
  for (int64_t i = 0; i < skip; ++i) {
    const void* nl = std::memchr(data.data() + pos, '\n', data.size() - pos);
    if (nl == nullptr) return std::string_view::npos;
    pos = static_cast<size_t>(static_cast<const char*>(nl) - data.data()) + 1;
  }
  return pos;
}

}  // namespace

std::string NowRfc3339() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

Store::~Store() {
  for (auto& [sql, stmt] : statements_) sqlite3_finalize(stmt);
  sqlite3_close(db_);
}

sqlite3_stmt* Store::Prepared(const char* sql) {
  auto [it, fresh] = statements_.try_emplace(sql, nullptr);
  if (fresh && sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &it->second, nullptr) != SQLITE_OK) {
    sqlite3_finalize(it->second);
    statements_.erase(it);
    return nullptr;
  }
  return it->second;
}

Status Store::Fail(const char* what) {
  return Status::Io(std::string(what) + ": " + (db_ ? sqlite3_errmsg(db_) : "no database"));
}

Status Store::Exec(const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) == SQLITE_OK) return Status::Ok();
  std::string msg = err ? err : "unknown error";
  sqlite3_free(err);
  return Status::Io(std::string("sqlite: ") + msg);
}

Status Store::Open(const std::string& path) {
  std::lock_guard lock(mu_);
  if (sqlite3_open(path.c_str(), &db_) != SQLITE_OK) return Fail("cannot open database");
  sqlite3_busy_timeout(db_, 5000);
  // 64 KiB pages (taken by a new database only): a 14 MiB chunk is ~220
  // pages instead of ~3600.
  // A rollback journal rather than WAL: pages past the database's old end
  // are never journaled, so a chunk's blob is written once, where WAL writes
  // it twice (log, then checkpoint): 20% of the server's CPU (bench/
  // upload_bench). synchronous=OFF: no fsync. A killed server still rolls an
  // unfinished chunk back from the journal when it starts again (the OS has
  // every write); only a power loss could tear the file, which a test
  // server may suffer.
  if (Status s = Exec("PRAGMA page_size=65536; PRAGMA journal_mode=TRUNCATE; PRAGMA synchronous=OFF;"); !s.ok()) {
    return s;
  }
  return CreateOrCheckSchema(path);
}

Status Store::CreateOrCheckSchema(const std::string& path) {
  Stmt version(Prepared("PRAGMA user_version"));
  Stmt tables(Prepared("SELECT count(*) FROM sqlite_master"));
  if (version.Step() != SQLITE_ROW || tables.Step() != SQLITE_ROW) return Fail("cannot read the database schema");
  const int64_t found = version.Int(0), table_count = tables.Int(0);
  version.Reset();
  tables.Reset();
  if (found == kSchemaVersion) return Status::Ok();
  if (found != 0 || table_count != 0) {
    return Status::Config("database " + path + " was written by another tsync-refserver version (schema " +
                           std::to_string(found) + ", want " + std::to_string(kSchemaVersion) +
                           "; 0 stored one row per line); delete it and start again");
  }
  Transaction tx(db_);
  if (!tx.begun()) return Fail("cannot create the schema");
  if (Status s = Exec(kSchema); !s.ok()) return s;
  const std::string set_version = "PRAGMA user_version = " + std::to_string(kSchemaVersion);
  if (Status s = Exec(set_version.c_str()); !s.ok()) return s;
  if (!tx.Commit()) return Fail("cannot create the schema");
  return Status::Ok();
}

Status Store::RegisterKey(const std::string& key, int64_t user_id, const std::string& email) {
  std::lock_guard lock(mu_);
  Transaction tx(db_);
  Stmt user(Prepared("INSERT INTO users(id, email) VALUES(?1, ?2) ON CONFLICT(id) DO UPDATE SET email = ?2"));
  Stmt bind(Prepared("INSERT OR REPLACE INTO api_keys(key, user_id) VALUES(?1, ?2)"));
  if (!tx.begun() || !user.Bind(1, user_id).Bind(2, email).Run() || !bind.Bind(1, key).Bind(2, user_id).Run() ||
      !tx.Commit()) {
    return Fail("cannot register key");
  }
  return Status::Ok();
}

std::optional<User> Store::UserForKey(const std::string& key) {
  std::lock_guard lock(mu_);
  Stmt q(Prepared("SELECT u.id, u.email FROM api_keys k JOIN users u ON u.id = k.user_id WHERE k.key = ?1"));
  if (q.Bind(1, key).Step() != SQLITE_ROW) return std::nullopt;
  return User{q.Int(0), q.Text(1)};
}

std::optional<User> Store::UserById(int64_t id) {
  std::lock_guard lock(mu_);
  Stmt q(Prepared("SELECT id, email FROM users WHERE id = ?1"));
  if (q.Bind(1, id).Step() != SQLITE_ROW) return std::nullopt;
  return User{q.Int(0), q.Text(1)};
}

Result<std::string> Store::InitSession(const InitRequest& init, const std::string& new_id) {
  std::lock_guard lock(mu_);
  Transaction tx(db_);
  Stmt find(Prepared("SELECT id FROM sessions WHERE user_id = ?1 AND provider = ?2 AND external_id = ?3"));
  std::string id = new_id;
  bool exists = find.Bind(1, init.user_id).Bind(2, init.provider).Bind(3, init.external_id).Step() == SQLITE_ROW;
  if (exists) id = find.Text(0);
  std::string now = NowRfc3339();
  // PROTOCOL.md: re-init overwrites cwd (and the rest of the metadata), even with empty.
  Stmt write(Prepared(exists ? "UPDATE sessions SET transcript_path = ?2, cwd = ?3, metadata = ?4, updated_at = ?5 "
                           "WHERE id = ?1"
                         : "INSERT INTO sessions(id, transcript_path, cwd, metadata, updated_at, created_at, "
                           "user_id, provider, external_id) VALUES(?1, ?2, ?3, ?4, ?5, ?5, ?6, ?7, ?8)"));
  write.Bind(1, id).Bind(2, init.transcript_path).Bind(3, init.cwd).Bind(4, init.metadata_json).Bind(5, now);
  if (!exists) write.Bind(6, init.user_id).Bind(7, init.provider).Bind(8, init.external_id);
  if (!tx.begun() || !write.Run() || !tx.Commit()) return Fail("cannot store session");
  return id;
}

std::vector<FileState> Store::ListFiles(const std::string& session_id) {
  std::lock_guard lock(mu_);
  std::vector<FileState> files;
  Stmt q(Prepared("SELECT file_name, file_type, last_synced_line, updated_at FROM files WHERE session_id = ?1 "
              "ORDER BY file_name"));
  q.Bind(1, session_id);
  while (q.Step() == SQLITE_ROW) files.push_back({q.Text(0), q.Text(1), q.Int(2), q.Text(3)});
  return files;
}

std::optional<SessionRef> Store::FindSession(const std::string& session_id) {
  std::lock_guard lock(mu_);
  Stmt q(Prepared("SELECT id, user_id FROM sessions WHERE id = ?1"));
  if (q.Bind(1, session_id).Step() != SQLITE_ROW) return std::nullopt;
  return SessionRef{q.Text(0), q.Int(1)};
}

std::vector<SessionRef> Store::FindByExternalId(const std::string& external_id) {
  std::lock_guard lock(mu_);
  std::vector<SessionRef> out;
  Stmt q(Prepared("SELECT id, user_id FROM sessions WHERE external_id = ?1 ORDER BY updated_at DESC"));
  q.Bind(1, external_id);
  while (q.Step() == SQLITE_ROW) out.push_back({q.Text(0), q.Int(1)});
  return out;
}

Result<ChunkOutcome> Store::AppendChunk(const ChunkRequest& chunk, int64_t max_chunks) {
  std::lock_guard lock(mu_);
  Transaction tx(db_);
  if (!tx.begun()) return Fail("cannot begin chunk");
  Stmt last(Prepared("SELECT last_synced_line, chunk_count FROM files WHERE session_id = ?1 AND file_name = ?2"));
  int64_t stored = 0, chunks = 0;
  if (last.Bind(1, chunk.session_id).Bind(2, chunk.file_name).Step() == SQLITE_ROW) {
    stored = last.Int(0);
    chunks = last.Int(1);
  }
  last.Reset();
  ChunkOutcome out{ChunkOutcome::Kind::kNotContiguous, stored + 1, stored, chunks};
  if (chunk.first_line != stored + 1) return out;  // PROTOCOL.md: never deduplicate
  if (chunks >= max_chunks) {                       // Confab checks contiguity first, then the count
    out.kind = ChunkOutcome::Kind::kTooManyChunks;
    return out;
  }
  out.last_synced_line = chunk.first_line + chunk.line_count - 1;
  out.chunk_count = chunks + 1;
  Stmt ins(Prepared("INSERT INTO chunks(session_id, file_name, first_line, last_line, data) VALUES(?1, ?2, ?3, ?4, ?5)"));
  if (!ins.Bind(1, chunk.session_id).Bind(2, chunk.file_name).Bind(3, chunk.first_line)
           .Bind(4, out.last_synced_line).BindBlob(5, chunk.lines).Run()) {
    return Fail("cannot store chunk");
  }
  std::string now = NowRfc3339();
  Stmt file(Prepared("INSERT INTO files(session_id, file_name, file_type, last_synced_line, chunk_count, updated_at) "
                     "VALUES(?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(session_id, file_name) DO UPDATE SET "
                     "file_type = ?3, last_synced_line = ?4, chunk_count = ?5, updated_at = ?6"));
  if (!file.Bind(1, chunk.session_id).Bind(2, chunk.file_name).Bind(3, chunk.file_type)
           .Bind(4, out.last_synced_line).Bind(5, out.chunk_count).Bind(6, now).Run()) {
    return Fail("cannot store file state");
  }
  Stmt meta(Prepared("UPDATE sessions SET summary = COALESCE(?2, summary), "
                     "first_user_message = COALESCE(first_user_message, ?3), updated_at = ?4 WHERE id = ?1"));
  meta.Bind(1, chunk.session_id).Bind(4, now);
  chunk.summary ? meta.Bind(2, *chunk.summary) : meta.BindNull(2);
  chunk.first_user_message ? meta.Bind(3, *chunk.first_user_message) : meta.BindNull(3);
  if (!meta.Run() || !tx.Commit()) return Fail("cannot commit chunk");
  out.kind = ChunkOutcome::Kind::kStored;
  return out;
}

Status Store::AddEvent(const std::string& session_id, const std::string& type, const std::string& timestamp,
                       const std::string& payload_json) {
  std::lock_guard lock(mu_);
  Stmt q(Prepared("INSERT INTO events(session_id, event_type, timestamp, payload) VALUES(?1, ?2, ?3, ?4)"));
  if (!q.Bind(1, session_id).Bind(2, type).Bind(3, timestamp).Bind(4, payload_json).Run()) {
    return Fail("cannot store event");
  }
  return Status::Ok();
}

Status Store::SetSummary(const std::string& session_id, const std::string& summary) {
  std::lock_guard lock(mu_);
  Transaction tx(db_);
  Stmt hist(Prepared("INSERT INTO summaries(session_id, summary, created_at) VALUES(?1, ?2, ?3)"));
  Stmt cur(Prepared("UPDATE sessions SET summary = ?2 WHERE id = ?1"));
  if (!tx.begun() || !hist.Bind(1, session_id).Bind(2, summary).Bind(3, NowRfc3339()).Run() ||
      !cur.Bind(1, session_id).Bind(2, summary).Run() || !tx.Commit()) {
    return Fail("cannot store summary");
  }
  return Status::Ok();
}

Result<GithubLink> Store::UpsertGithubLink(const GithubLink& link) {
  std::lock_guard lock(mu_);
  Transaction tx(db_);
  Stmt up(Prepared("INSERT INTO github_links(session_id, link_type, url, owner, repo, ref, title, source, created_at) "
               "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) ON CONFLICT(session_id, url) DO UPDATE SET "
               "link_type = ?2, title = ?7, source = ?8"));
  up.Bind(1, link.session_id).Bind(2, link.link_type).Bind(3, link.url).Bind(4, link.owner).Bind(5, link.repo)
      .Bind(6, link.ref).Bind(8, link.source).Bind(9, NowRfc3339());
  link.has_title ? up.Bind(7, link.title) : up.BindNull(7);
  Stmt q(Prepared("SELECT id, title, created_at FROM github_links WHERE session_id = ?1 AND url = ?2"));
  if (!tx.begun() || !up.Run() || q.Bind(1, link.session_id).Bind(2, link.url).Step() != SQLITE_ROW) {
    return Fail("cannot store GitHub link");
  }
  GithubLink out = link;
  out.id = q.Int(0);
  out.has_title = !q.IsNull(1);
  out.title = q.Text(1);
  out.created_at = q.Text(2);
  if (!tx.Commit()) return Fail("cannot commit GitHub link");
  return out;
}

Result<std::string> Store::ReadLines(const std::string& session_id, const std::string& file_name,
                                     int64_t line_offset) {
  std::lock_guard lock(mu_);
  Stmt q(Prepared("SELECT first_line, last_line, data FROM chunks WHERE session_id = ?1 AND file_name = ?2 "
                  "AND last_line > ?3 ORDER BY first_line"));
  q.Bind(1, session_id).Bind(2, file_name).Bind(3, line_offset);
  std::string out;
  int rc;
  while ((rc = q.Step()) == SQLITE_ROW) {
    const int64_t first = q.Int(0), last = q.Int(1);
    const std::string_view data = q.Blob(2);
    // Only the first chunk returned can start at or before the offset.
    const size_t from = LineStart(data, std::max<int64_t>(0, line_offset - first + 1));
    if (from == std::string_view::npos || last < first) return Fail("corrupt chunk (fewer lines than its range)");
    out.append(data.substr(from));
    out += '\n';
  }
  if (rc != SQLITE_DONE) return Fail("cannot read lines");
  return out;
}

std::pair<std::string, std::string> Store::SessionTexts(const std::string& session_id) {
  std::lock_guard lock(mu_);
  Stmt q(Prepared("SELECT summary, first_user_message FROM sessions WHERE id = ?1"));
  if (q.Bind(1, session_id).Step() != SQLITE_ROW) return {};
  return {q.Text(0), q.Text(1)};
}

}  // namespace tsync::refserver
