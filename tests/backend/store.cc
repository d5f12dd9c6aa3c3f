#include "tests/backend/store.h"

#include <sqlite3.h>

#include <ctime>

namespace tsync::refserver {
namespace {

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
  last_synced_line INTEGER NOT NULL, updated_at TEXT NOT NULL, PRIMARY KEY(session_id, file_name));
CREATE TABLE IF NOT EXISTS lines(
  session_id TEXT NOT NULL, file_name TEXT NOT NULL, line_no INTEGER NOT NULL, text TEXT NOT NULL,
  PRIMARY KEY(session_id, file_name, line_no)) WITHOUT ROWID;
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

/// One prepared statement, finalized on scope exit. Text binds are copied.
class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql) { ok_ = sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr) == SQLITE_OK; }
  ~Stmt() { sqlite3_finalize(stmt_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  bool ok() const { return ok_; }
  Stmt& Bind(int i, const std::string& s) {
    sqlite3_bind_text(stmt_, i, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& Bind(int i, int64_t v) {
    sqlite3_bind_int64(stmt_, i, v);
    return *this;
  }
  Stmt& BindNull(int i) {
    sqlite3_bind_null(stmt_, i);
    return *this;
  }
  /// SQLITE_ROW, SQLITE_DONE or an error code.
  int Step() { return ok_ ? sqlite3_step(stmt_) : SQLITE_ERROR; }
  bool Run() {
    int rc = Step();
    return rc == SQLITE_DONE || rc == SQLITE_ROW;
  }
  void Reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  int64_t Int(int col) { return sqlite3_column_int64(stmt_, col); }
  bool IsNull(int col) { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
  std::string Text(int col) {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col));
    return p ? std::string(p, static_cast<size_t>(sqlite3_column_bytes(stmt_, col))) : std::string();
  }

 private:
  sqlite3_stmt* stmt_ = nullptr;
  bool ok_ = false;
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

}  // namespace

std::string NowRfc3339() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

Store::~Store() { sqlite3_close(db_); }

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
  if (Status s = Exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"); !s.ok()) return s;
  return Exec(kSchema);
}

Status Store::RegisterKey(const std::string& key, int64_t user_id, const std::string& email) {
  std::lock_guard lock(mu_);
  Transaction tx(db_);
  Stmt user(db_, "INSERT INTO users(id, email) VALUES(?1, ?2) ON CONFLICT(id) DO UPDATE SET email = ?2");
  Stmt bind(db_, "INSERT OR REPLACE INTO api_keys(key, user_id) VALUES(?1, ?2)");
  if (!tx.begun() || !user.Bind(1, user_id).Bind(2, email).Run() || !bind.Bind(1, key).Bind(2, user_id).Run() ||
      !tx.Commit()) {
    return Fail("cannot register key");
  }
  return Status::Ok();
}

std::optional<User> Store::UserForKey(const std::string& key) {
  std::lock_guard lock(mu_);
  Stmt q(db_, "SELECT u.id, u.email FROM api_keys k JOIN users u ON u.id = k.user_id WHERE k.key = ?1");
  if (q.Bind(1, key).Step() != SQLITE_ROW) return std::nullopt;
  return User{q.Int(0), q.Text(1)};
}

std::optional<User> Store::UserById(int64_t id) {
  std::lock_guard lock(mu_);
  Stmt q(db_, "SELECT id, email FROM users WHERE id = ?1");
  if (q.Bind(1, id).Step() != SQLITE_ROW) return std::nullopt;
  return User{q.Int(0), q.Text(1)};
}

Result<std::string> Store::InitSession(const InitRequest& init, const std::string& new_id) {
  std::lock_guard lock(mu_);
  Transaction tx(db_);
  Stmt find(db_, "SELECT id FROM sessions WHERE user_id = ?1 AND provider = ?2 AND external_id = ?3");
  std::string id = new_id;
  bool exists = find.Bind(1, init.user_id).Bind(2, init.provider).Bind(3, init.external_id).Step() == SQLITE_ROW;
  if (exists) id = find.Text(0);
  std::string now = NowRfc3339();
  // PROTOCOL.md: re-init overwrites cwd (and the rest of the metadata), even with empty.
  Stmt write(db_, exists ? "UPDATE sessions SET transcript_path = ?2, cwd = ?3, metadata = ?4, updated_at = ?5 "
                           "WHERE id = ?1"
                         : "INSERT INTO sessions(id, transcript_path, cwd, metadata, updated_at, created_at, "
                           "user_id, provider, external_id) VALUES(?1, ?2, ?3, ?4, ?5, ?5, ?6, ?7, ?8)");
  write.Bind(1, id).Bind(2, init.transcript_path).Bind(3, init.cwd).Bind(4, init.metadata_json).Bind(5, now);
  if (!exists) write.Bind(6, init.user_id).Bind(7, init.provider).Bind(8, init.external_id);
  if (!tx.begun() || !write.Run() || !tx.Commit()) return Fail("cannot store session");
  return id;
}

std::vector<FileState> Store::ListFiles(const std::string& session_id) {
  std::lock_guard lock(mu_);
  std::vector<FileState> files;
  Stmt q(db_, "SELECT file_name, file_type, last_synced_line, updated_at FROM files WHERE session_id = ?1 "
              "ORDER BY file_name");
  q.Bind(1, session_id);
  while (q.Step() == SQLITE_ROW) files.push_back({q.Text(0), q.Text(1), q.Int(2), q.Text(3)});
  return files;
}

std::optional<SessionRef> Store::FindSession(const std::string& session_id) {
  std::lock_guard lock(mu_);
  Stmt q(db_, "SELECT id, user_id FROM sessions WHERE id = ?1");
  if (q.Bind(1, session_id).Step() != SQLITE_ROW) return std::nullopt;
  return SessionRef{q.Text(0), q.Int(1)};
}

std::vector<SessionRef> Store::FindByExternalId(const std::string& external_id) {
  std::lock_guard lock(mu_);
  std::vector<SessionRef> out;
  Stmt q(db_, "SELECT id, user_id FROM sessions WHERE external_id = ?1 ORDER BY updated_at DESC");
  q.Bind(1, external_id);
  while (q.Step() == SQLITE_ROW) out.push_back({q.Text(0), q.Int(1)});
  return out;
}

Result<ChunkOutcome> Store::AppendChunk(const ChunkRequest& chunk) {
  std::lock_guard lock(mu_);
  Transaction tx(db_);
  if (!tx.begun()) return Fail("cannot begin chunk");
  Stmt last(db_, "SELECT last_synced_line FROM files WHERE session_id = ?1 AND file_name = ?2");
  int64_t stored = 0;
  if (last.Bind(1, chunk.session_id).Bind(2, chunk.file_name).Step() == SQLITE_ROW) stored = last.Int(0);
  ChunkOutcome out{false, stored + 1, stored};
  if (chunk.first_line != stored + 1) return out;  // PROTOCOL.md: never deduplicate
  Stmt ins(db_, "INSERT INTO lines(session_id, file_name, line_no, text) VALUES(?1, ?2, ?3, ?4)");
  int64_t line_no = chunk.first_line;
  for (const std::string& text : chunk.lines) {
    if (!ins.Bind(1, chunk.session_id).Bind(2, chunk.file_name).Bind(3, line_no++).Bind(4, text).Run()) {
      return Fail("cannot store line");
    }
    ins.Reset();
  }
  out.last_synced_line = line_no - 1;
  std::string now = NowRfc3339();
  Stmt file(db_, "INSERT INTO files(session_id, file_name, file_type, last_synced_line, updated_at) "
                 "VALUES(?1, ?2, ?3, ?4, ?5) ON CONFLICT(session_id, file_name) DO UPDATE SET "
                 "file_type = ?3, last_synced_line = ?4, updated_at = ?5");
  if (!file.Bind(1, chunk.session_id).Bind(2, chunk.file_name).Bind(3, chunk.file_type)
           .Bind(4, out.last_synced_line).Bind(5, now).Run()) {
    return Fail("cannot store file state");
  }
  Stmt meta(db_, "UPDATE sessions SET summary = COALESCE(?2, summary), "
                 "first_user_message = COALESCE(first_user_message, ?3), updated_at = ?4 WHERE id = ?1");
  meta.Bind(1, chunk.session_id).Bind(4, now);
  chunk.summary ? meta.Bind(2, *chunk.summary) : meta.BindNull(2);
  chunk.first_user_message ? meta.Bind(3, *chunk.first_user_message) : meta.BindNull(3);
  if (!meta.Run() || !tx.Commit()) return Fail("cannot commit chunk");
  out.contiguous = true;
  return out;
}

Status Store::AddEvent(const std::string& session_id, const std::string& type, const std::string& timestamp,
                       const std::string& payload_json) {
  std::lock_guard lock(mu_);
  Stmt q(db_, "INSERT INTO events(session_id, event_type, timestamp, payload) VALUES(?1, ?2, ?3, ?4)");
  if (!q.Bind(1, session_id).Bind(2, type).Bind(3, timestamp).Bind(4, payload_json).Run()) {
    return Fail("cannot store event");
  }
  return Status::Ok();
}

Status Store::SetSummary(const std::string& session_id, const std::string& summary) {
  std::lock_guard lock(mu_);
  Transaction tx(db_);
  Stmt hist(db_, "INSERT INTO summaries(session_id, summary, created_at) VALUES(?1, ?2, ?3)");
  Stmt cur(db_, "UPDATE sessions SET summary = ?2 WHERE id = ?1");
  if (!tx.begun() || !hist.Bind(1, session_id).Bind(2, summary).Bind(3, NowRfc3339()).Run() ||
      !cur.Bind(1, session_id).Bind(2, summary).Run() || !tx.Commit()) {
    return Fail("cannot store summary");
  }
  return Status::Ok();
}

Result<GithubLink> Store::UpsertGithubLink(const GithubLink& link) {
  std::lock_guard lock(mu_);
  Transaction tx(db_);
  Stmt up(db_, "INSERT INTO github_links(session_id, link_type, url, owner, repo, ref, title, source, created_at) "
               "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) ON CONFLICT(session_id, url) DO UPDATE SET "
               "link_type = ?2, title = ?7, source = ?8");
  up.Bind(1, link.session_id).Bind(2, link.link_type).Bind(3, link.url).Bind(4, link.owner).Bind(5, link.repo)
      .Bind(6, link.ref).Bind(8, link.source).Bind(9, NowRfc3339());
  link.has_title ? up.Bind(7, link.title) : up.BindNull(7);
  Stmt q(db_, "SELECT id, title, created_at FROM github_links WHERE session_id = ?1 AND url = ?2");
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
  Stmt q(db_, "SELECT text FROM lines WHERE session_id = ?1 AND file_name = ?2 AND line_no > ?3 ORDER BY line_no");
  q.Bind(1, session_id).Bind(2, file_name).Bind(3, line_offset);
  std::string out;
  int rc;
  while ((rc = q.Step()) == SQLITE_ROW) {
    out += q.Text(0);
    out += '\n';
  }
  if (rc != SQLITE_DONE) return Fail("cannot read lines");
  return out;
}

std::pair<std::string, std::string> Store::SessionTexts(const std::string& session_id) {
  std::lock_guard lock(mu_);
  Stmt q(db_, "SELECT summary, first_user_message FROM sessions WHERE id = ?1");
  if (q.Bind(1, session_id).Step() != SQLITE_ROW) return {};
  return {q.Text(0), q.Text(1)};
}

}  // namespace tsync::refserver
