#include "uploader/archive_sink.h"

#include "tracker/checkpoint.h"
#include "tracker/file_type.h"

#include <fcntl.h>
#include <simdjson.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <filesystem>
#include <random>
#include <utility>

#include "base/fs.h"
#include "base/json.h"

namespace tsync::uploader {

namespace {

constexpr size_t kMaxManifestBytes = 64u << 20;
constexpr const char* kManifestName = "manifest.json";
constexpr const char* kEventsName = "events.jsonl";
constexpr const char* kLockName = ".lock";
constexpr std::array<std::string_view, 4> kProviders = {"claude-code", "codex", "opencode", "cursor"};

// Reserved by the first path component, so "events.jsonl/x" cannot turn the
// event log's place into a directory either.
bool IsReservedName(std::string_view name) {
  name = name.substr(0, name.find('/'));
  return name == kManifestName || name == kEventsName || name == kLockName ||
         name.starts_with(std::string(kManifestName) + ".tmp");
}

/// Holds an exclusive flock on <dir>/.lock; flock locks belong to the open
/// file description, so this serialises threads and processes alike.
Result<UniqueFd> LockSession(const std::string& dir) {
  std::string path = dir + "/" + kLockName;
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!fd.valid()) return Status::Errno("open " + path, errno);
  while (::flock(fd.get(), LOCK_EX) != 0) {
    if (errno != EINTR) return Status::Errno("lock " + path, errno);
  }
  return fd;
}

/// The manifest of `dir`; kNotFound when there is none yet.
Result<ArchiveManifest> LoadManifest(const std::string& dir) {
  std::string path = dir + "/" + kManifestName;
  Result<std::string> raw = ReadFile(path, kMaxManifestBytes);
  if (!raw.ok()) return raw.status();
  Result<ArchiveManifest> m = ParseArchiveManifest(*raw);
  if (!m.ok()) return Status::Corrupt(path + ": " + m.status().message());
  return m;
}

Status SaveManifest(const std::string& dir, const ArchiveManifest& m) {
  return WriteFileAtomic(dir + "/" + kManifestName, SerializeArchiveManifest(m), 0600);
}

/// Brings an open data file back to the manifest's acknowledged length:
/// bytes past it are a chunk whose manifest update never happened (a crash),
/// and are cut off; a file shorter than that, or whose acknowledged part
/// does not end on a newline, has lost acknowledged lines (kCorrupt).
Status Reconcile(int fd, const std::string& path, uint64_t bytes) {
  struct stat st;
  if (::fstat(fd, &st) != 0) return Status::Errno("stat " + path, errno);
  if (!S_ISREG(st.st_mode)) return Status::Corrupt(path + " is not a regular file");
  uint64_t size = static_cast<uint64_t>(st.st_size);
  if (size < bytes) {
    return Status::Corrupt(path + " holds " + std::to_string(size) + " bytes but " + std::to_string(bytes) +
                           " were acknowledged");
  }
  if (bytes > 0) {
    char last = 0;
    Result<size_t> n = PreadFull(fd, &last, 1, bytes - 1);
    if (!n.ok()) return Status::Io("read " + path + ": " + n.status().message());
    if (*n != 1 || last != '\n') {
      return Status::Corrupt(path + ": the acknowledged " + std::to_string(bytes) + " bytes do not end a line");
    }
  }
  if (size > bytes) {
    if (::ftruncate(fd, static_cast<off_t>(bytes)) != 0) return Status::Errno("truncate " + path, errno);
    if (::fsync(fd) != 0) return Status::Errno("fsync " + path, errno);
  }
  return Status::Ok();
}

/// Counts the newlines in the first `bytes` bytes (the full check Init does).
Result<uint64_t> CountLines(int fd, const std::string& path, uint64_t bytes) {
  std::string buf(1 << 20, '\0');
  uint64_t lines = 0;
  for (uint64_t off = 0; off < bytes;) {
    size_t want = static_cast<size_t>(std::min<uint64_t>(buf.size(), bytes - off));
    Result<size_t> n = PreadFull(fd, buf.data(), want, off);
    if (!n.ok()) return Status::Io("read " + path + ": " + n.status().message());
    if (*n != want) return Status::Corrupt(path + " is shorter than the manifest says");
    lines += static_cast<uint64_t>(std::count(buf.data(), buf.data() + want, '\n'));
    off += want;
  }
  return lines;
}

/// Reads the acknowledged part of a file.
Result<std::string> ReadAcknowledged(const std::string& path, uint64_t bytes) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd.valid()) {
    if (errno == ENOENT && bytes == 0) return std::string();
    return Status::Errno("open " + path, errno);
  }
  std::string out(static_cast<size_t>(bytes), '\0');
  Result<size_t> n = PreadFull(fd.get(), out.data(), out.size(), 0);
  if (!n.ok()) return Status::Io("read " + path + ": " + n.status().message());
  if (*n != out.size()) return Status::Corrupt(path + " is shorter than the manifest says");
  return out;
}

}  // namespace

// ---- manifest ---------------------------------------------------------------

std::string SerializeArchiveManifest(const ArchiveManifest& m) {
  JsonWriter w;
  w.BeginObject();
  w.Key("version").Int(kArchiveManifestVersion);
  w.Key("session_id").String(m.session_id);
  w.Key("provider").String(m.provider);
  w.Key("external_id").String(m.external_id);
  w.Key("transcript_path").String(m.transcript_path);
  w.Key("metadata").Raw(m.metadata_json.empty() ? std::string_view("{}") : std::string_view(m.metadata_json));
  if (m.summary) w.Key("summary").String(*m.summary);
  if (m.first_user_message) w.Key("first_user_message").String(*m.first_user_message);
  w.Key("events").UInt(m.events);
  w.Key("events_bytes").UInt(m.events_bytes);
  w.Key("files").BeginObject();
  for (const auto& [name, f] : m.files) {
    w.Key(name).BeginObject();
    w.Key("file_type").String(tracker::FileTypeName(f.file_type));
    w.Key("last_synced_line").UInt(f.last_synced_line);
    w.Key("bytes").UInt(f.bytes);
    w.Key("chunks").UInt(f.chunks);
    w.EndObject();
  }
  w.EndObject();
  w.EndObject();
  std::string out = w.Take();
  out += '\n';
  return out;
}

namespace {

Status GetString(simdjson::dom::object obj, std::string_view key, std::string* out) {
  std::string_view v;
  if (obj[key].get_string().get(v)) return Status::Corrupt(std::string(key) + " must be a string");
  *out = std::string(v);
  return Status::Ok();
}

Status GetU64(simdjson::dom::object obj, std::string_view key, uint64_t* out) {
  if (obj[key].get_uint64().get(*out)) return Status::Corrupt(std::string(key) + " must be an unsigned integer");
  return Status::Ok();
}

Result<ArchiveManifest::File> ParseFileEntry(std::string_view name, simdjson::dom::element el) {
  std::string where = "files[\"" + std::string(name) + "\"]";
  if (!ValidateFileName(name).ok() || IsReservedName(name)) return Status::Corrupt(where + " is not a valid file name");
  simdjson::dom::object obj;
  if (el.get_object().get(obj)) return Status::Corrupt(where + " must be an object");
  ArchiveManifest::File f;
  std::string type;
  Status st = GetString(obj, "file_type", &type);
  if (st.ok()) st = GetU64(obj, "last_synced_line", &f.last_synced_line);
  if (st.ok()) st = GetU64(obj, "bytes", &f.bytes);
  if (st.ok()) st = GetU64(obj, "chunks", &f.chunks);
  if (!st.ok()) return Status::Corrupt(where + "." + st.message());
  std::optional<tracker::FileType> ft = tracker::ParseFileType(type);
  if (!ft) return Status::Corrupt(where + ".file_type is unknown");
  f.file_type = *ft;
  // Each line takes at least its newline; every chunk holds at least one line.
  if (f.last_synced_line > kMaxLineNumber || f.bytes < f.last_synced_line || f.chunks > f.last_synced_line ||
      (f.last_synced_line == 0) != (f.bytes == 0)) {
    return Status::Corrupt(where + " has inconsistent counts");
  }
  return f;
}

}  // namespace

Result<ArchiveManifest> ParseArchiveManifest(std::string_view json) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (auto err = parser.parse(json.data(), json.size()).get(root)) {
    return Status::Corrupt(std::string("invalid JSON: ") + simdjson::error_message(err));
  }
  simdjson::dom::object obj;
  if (root.get_object().get(obj)) return Status::Corrupt("the top level is not an object");
  uint64_t version = 0;
  if (Status st = GetU64(obj, "version", &version); !st.ok()) return st;
  if (version != kArchiveManifestVersion) {
    return Status::Corrupt("format version " + std::to_string(version) + " is not " +
                           std::to_string(kArchiveManifestVersion));
  }
  ArchiveManifest m;
  Status st = GetString(obj, "session_id", &m.session_id);
  if (st.ok()) st = GetString(obj, "provider", &m.provider);
  if (st.ok()) st = GetString(obj, "external_id", &m.external_id);
  if (st.ok()) st = GetString(obj, "transcript_path", &m.transcript_path);
  if (st.ok()) st = GetU64(obj, "events", &m.events);
  if (st.ok()) st = GetU64(obj, "events_bytes", &m.events_bytes);
  if (!st.ok()) return st;
  if (!LooksLikeUuid(m.session_id)) return Status::Corrupt("session_id is not a UUID");
  if (!ValidateProvider(m.provider).ok()) return Status::Corrupt("provider is unknown");
  if (!tracker::IsValidSessionId(m.external_id)) return Status::Corrupt("external_id is not a valid session id");
  if (m.events_bytes < m.events) return Status::Corrupt("events_bytes is smaller than events");
  simdjson::dom::object metadata;
  if (obj["metadata"].get_object().get(metadata)) return Status::Corrupt("metadata must be an object");
  m.metadata_json = simdjson::minify(metadata);
  for (auto [key, field] : {std::pair{"summary", &m.summary}, std::pair{"first_user_message", &m.first_user_message}}) {
    simdjson::dom::element el;
    if (obj[key].get(el)) continue;  // absent
    std::string_view v;
    if (el.get_string().get(v)) return Status::Corrupt(std::string(key) + " must be a string");
    *field = std::string(v);
  }
  simdjson::dom::object files;
  if (obj["files"].get_object().get(files)) return Status::Corrupt("files must be an object");
  for (auto [name, el] : files) {
    Result<ArchiveManifest::File> f = ParseFileEntry(name, el);
    if (!f.ok()) return f.status();
    m.files[std::string(name)] = *f;
  }
  return m;
}

// ---- ArchiveSink --------------------------------------------------------------

std::string NewUuidV4() {
  std::random_device rd;
  std::array<uint8_t, 16> b;
  for (size_t i = 0; i < b.size(); i += 4) {
    uint32_t r = rd();
    for (size_t j = 0; j < 4; ++j) b[i + j] = static_cast<uint8_t>(r >> (8 * j));
  }
  b[6] = static_cast<uint8_t>((b[6] & 0x0f) | 0x40);  // version 4
  b[8] = static_cast<uint8_t>((b[8] & 0x3f) | 0x80);  // RFC 4122 variant
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < b.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out += '-';
    out += kHex[b[i] >> 4];
    out += kHex[b[i] & 0x0f];
  }
  return out;
}

ArchiveSink::ArchiveSink(std::string root, std::function<std::string()> new_session_id)
    : root_(std::move(root)), new_session_id_(new_session_id ? std::move(new_session_id) : NewUuidV4) {}

std::string ArchiveSink::SessionDir(std::string_view provider, std::string_view external_id) const {
  return root_ + "/" + std::string(provider) + "/" + std::string(external_id);
}

Result<std::string> ArchiveSink::FindSessionDir(const std::string& session_id) {
  if (!LooksLikeUuid(session_id)) return Status::NotFound("Session not found: session_id is not a UUID");
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = dirs_.find(session_id);
    if (it != dirs_.end()) return it->second;
  }
  namespace fs = std::filesystem;
  for (std::string_view provider : kProviders) {
    std::error_code ec;
    fs::directory_iterator it(root_ + "/" + std::string(provider), ec);
    for (; !ec && it != fs::directory_iterator(); it.increment(ec)) {
      std::string name = it->path().filename().string();
      if (!tracker::IsValidSessionId(name)) continue;
      std::string dir = SessionDir(provider, name);
      // Reading without the lock is safe: the manifest is only ever replaced by rename.
      Result<ArchiveManifest> m = LoadManifest(dir);
      if (!m.ok() || m->session_id != session_id) continue;
      std::lock_guard<std::mutex> lock(mu_);
      dirs_[session_id] = dir;
      return dir;
    }
  }
  return Status::NotFound("Session not found: no archived session has id " + session_id);
}

Result<std::string> ArchiveSink::FindExternalDir(const std::string& external_id) {
  if (!tracker::IsValidSessionId(external_id)) return Status::InvalidInput("external_id is not a valid session id");
  for (std::string_view provider : kProviders) {
    std::string dir = SessionDir(provider, external_id);
    struct stat st;
    if (::stat((dir + "/" + kManifestName).c_str(), &st) == 0) return dir;
  }
  return Status::NotFound("Session not found: no archived session has external id " + external_id);
}

Result<InitResult> ArchiveSink::Init(const SessionInfo& info) {
  if (Status st = ValidateSessionInfo(info); !st.ok()) return st;
  // Stricter than the server: the id names a directory.
  if (!tracker::IsValidSessionId(info.external_id)) {
    return Status::InvalidInput("external_id must be 1-128 characters of [A-Za-z0-9_-]");
  }
  Result<std::string> metadata = MinifyJson(info.metadata_json, "metadata", /*must_be_object=*/true);
  if (!metadata.ok()) return metadata.status();

  const std::string dir = SessionDir(info.provider, info.external_id);
  if (Status st = MakeDirs(dir, 0700); !st.ok()) return st;
  Result<UniqueFd> lock = LockSession(dir);
  if (!lock.ok()) return lock.status();

  Result<ArchiveManifest> loaded = LoadManifest(dir);
  ArchiveManifest m;
  bool is_new = false;
  if (loaded.ok()) {
    m = std::move(loaded).value();
  } else if (loaded.status().kind() == Status::Kind::kNotFound) {
    is_new = true;
    m.session_id = new_session_id_();
    m.provider = info.provider;
    m.external_id = info.external_id;
  } else {
    return loaded.status();  // never reset a corrupt manifest: its counts protect acknowledged lines
  }
  // Server quirk: re-init overwrites the metadata, even with empty values.
  m.transcript_path = info.transcript_path;
  m.metadata_json = std::move(metadata).value();

  // Reconcile every file with the authoritative manifest, and check the
  // acknowledged part really holds last_synced_line lines.
  for (const auto& [name, f] : m.files) {
    std::string path = dir + "/" + name;
    UniqueFd fd(::open(path.c_str(), O_RDWR | O_CLOEXEC | O_NOFOLLOW));
    if (!fd.valid()) {
      if (errno == ENOENT) return Status::Corrupt(path + " is missing but " + std::to_string(f.last_synced_line) +
                                                  " lines were acknowledged");
      return Status::Errno("open " + path, errno);
    }
    if (Status st = Reconcile(fd.get(), path, f.bytes); !st.ok()) return st;
    Result<uint64_t> lines = CountLines(fd.get(), path, f.bytes);
    if (!lines.ok()) return lines.status();
    if (*lines != f.last_synced_line) {
      return Status::Corrupt(path + " holds " + std::to_string(*lines) + " acknowledged lines, the manifest says " +
                             std::to_string(f.last_synced_line));
    }
  }
  {
    std::string events = dir + "/" + kEventsName;
    UniqueFd fd(::open(events.c_str(), O_RDWR | O_CLOEXEC | O_NOFOLLOW));
    if (fd.valid()) {
      if (Status st = Reconcile(fd.get(), events, m.events_bytes); !st.ok()) return st;
    }
  }

  if (Status st = SaveManifest(dir, m); !st.ok()) return st;
  if (is_new) {
    // Make the new directories' entries durable too (best effort beyond the session directory).
    (void)FsyncDir(root_ + "/" + info.provider);
    (void)FsyncDir(root_);
  }
  {
    std::lock_guard<std::mutex> guard(mu_);
    dirs_[m.session_id] = dir;
  }
  InitResult out;
  out.session_id = m.session_id;
  for (const auto& [name, f] : m.files) out.last_synced_line[name] = f.last_synced_line;
  return out;
}

Result<ChunkOutcome> ArchiveSink::AppendChunk(const ChunkRequest& req) {
  if (Status st = ValidateChunkRequest(req); !st.ok()) return st;
  if (IsReservedName(req.file_name)) return Status::InvalidInput("file_name " + req.file_name + " is reserved");
  Result<LockedSession> session = OpenSession(req.session_id);
  if (!session.ok()) return session.status();
  const std::string& dir = session->dir;
  ArchiveManifest& m = session->manifest;

  ArchiveManifest::File f;
  f.file_type = req.file_type;
  if (auto it = m.files.find(req.file_name); it != m.files.end()) {
    f = it->second;
    if (f.file_type != req.file_type) {
      return Status::InvalidInput("file_type of " + req.file_name + " changed from " +
                                  std::string(tracker::FileTypeName(f.file_type)) + " to " + std::string(tracker::FileTypeName(req.file_type)));
    }
  }
  if (req.first_line != f.last_synced_line + 1) {
    // PROTOCOL.md: gap, overlap and exact resend are all rejected; nothing is stored.
    ChunkOutcome conflict;
    conflict.last_synced_line = f.last_synced_line;
    conflict.expected_first_line = f.last_synced_line + 1;
    return conflict;
  }
  if (f.chunks >= kMaxChunksPerFile) {
    return Status::InvalidInput(req.file_name + " already has the maximum of " + std::to_string(kMaxChunksPerFile) +
                                " chunks");
  }

  const std::string path = dir + "/" + req.file_name;
  const std::string file_dir = DirName(path);
  if (Status st = MakeDirs(file_dir, 0700); !st.ok()) return st;
  struct stat before;
  bool existed = ::lstat(path.c_str(), &before) == 0;
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!fd.valid()) return Status::Errno("open " + path, errno);
  if (Status st = Reconcile(fd.get(), path, f.bytes); !st.ok()) return st;

  std::string buf;
  size_t total = req.lines.size();
  for (std::string_view line : req.lines) total += line.size();
  buf.reserve(total);
  for (std::string_view line : req.lines) {
    buf.append(line);
    buf += '\n';
  }
  Status written = WriteAll(fd.get(), buf, path);
  if (written.ok() && ::fsync(fd.get()) != 0) written = Status::Errno("fsync " + path, errno);
  if (!written.ok()) {
    // The manifest still has the old length, so cutting back is always safe.
    (void)::ftruncate(fd.get(), static_cast<off_t>(f.bytes));
    return written;
  }
  if (!existed) {
    // A new file: make its directory entries durable before acknowledging.
    for (std::string d = file_dir;; d = DirName(d)) {
      if (Status st = FsyncDir(d); !st.ok()) return st;
      if (d.size() <= dir.size()) break;
    }
  }

  f.last_synced_line += req.lines.size();
  f.bytes += buf.size();
  f.chunks += 1;
  m.files[req.file_name] = f;
  if (req.file_type == tracker::FileType::kTranscript) {
    if (req.summary) m.summary = req.summary;                                        // last write wins
    if (req.first_user_message && !m.first_user_message) m.first_user_message = req.first_user_message;  // first wins
  }
  // If this fails the appended lines are unacknowledged; the next call's
  // Reconcile cuts them off (the manifest may or may not have been replaced).
  if (Status st = SaveManifest(dir, m); !st.ok()) return st;

  ChunkOutcome ok;
  ok.last_synced_line = f.last_synced_line;
  return ok;
}

Status ArchiveSink::SendEvent(const std::string& session_id, std::string_view event_type, std::string_view timestamp,
                              std::string_view payload_json) {
  if (Status st = ValidateEvent(event_type, timestamp, payload_json); !st.ok()) return st;
  Result<std::string> payload = MinifyJson(payload_json, "event payload", /*must_be_object=*/false);
  if (!payload.ok()) return payload.status();

  Result<LockedSession> session = OpenSession(session_id);
  if (!session.ok()) return session.status();
  const std::string& dir = session->dir;
  ArchiveManifest& m = session->manifest;

  JsonWriter w;
  w.BeginObject();
  w.Key("event_type").String(event_type);
  w.Key("timestamp").String(timestamp);
  w.Key("payload").Raw(*payload);
  w.EndObject();
  std::string line = w.Take();
  line += '\n';

  const std::string path = dir + "/" + kEventsName;
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!fd.valid()) return Status::Errno("open " + path, errno);
  if (Status st = Reconcile(fd.get(), path, m.events_bytes); !st.ok()) return st;
  Status written = WriteAll(fd.get(), line, path);
  if (written.ok() && ::fsync(fd.get()) != 0) written = Status::Errno("fsync " + path, errno);
  if (!written.ok()) {
    (void)::ftruncate(fd.get(), static_cast<off_t>(m.events_bytes));
    return written;
  }
  m.events += 1;
  m.events_bytes += line.size();
  return SaveManifest(dir, m);
}

Status ArchiveSink::SetSummary(const std::string& external_id, std::string_view summary) {
  if (Status st = ValidateSummary(summary); !st.ok()) return st;
  Result<LockedSession> session = OpenExternalSession(external_id);
  if (!session.ok()) return session.status();
  session->manifest.summary = std::string(summary);
  return SaveManifest(session->dir, session->manifest);
}

Result<ArchiveSink::LockedSession> ArchiveSink::OpenSession(const std::string& session_id) {
  Result<std::string> found = FindSessionDir(session_id);
  if (!found.ok()) return found.status();
  Result<UniqueFd> lock = LockSession(*found);
  if (!lock.ok()) return lock.status();
  Result<ArchiveManifest> m = LoadManifest(*found);
  if (!m.ok()) return m.status();
  if (m->session_id != session_id) return Status::NotFound("Session not found: " + session_id);
  return LockedSession{std::move(*found), std::move(*lock), std::move(*m)};
}

Result<ArchiveSink::LockedSession> ArchiveSink::OpenExternalSession(const std::string& external_id) {
  Result<std::string> found = FindExternalDir(external_id);
  if (!found.ok()) return found.status();
  Result<UniqueFd> lock = LockSession(*found);
  if (!lock.ok()) return lock.status();
  Result<ArchiveManifest> m = LoadManifest(*found);
  if (!m.ok()) return m.status();
  return LockedSession{std::move(*found), std::move(*lock), std::move(*m)};
}

Result<std::string> ArchiveSink::FindSession(const std::string& external_id) {
  Result<LockedSession> session = OpenExternalSession(external_id);
  if (!session.ok()) return session.status();
  return std::move(session->manifest.session_id);
}

Result<ArchiveManifest> ArchiveSink::ReadManifest(const std::string& session_id) {
  Result<LockedSession> session = OpenSession(session_id);
  if (!session.ok()) return session.status();
  return std::move(session->manifest);
}

Result<std::vector<std::string>> ArchiveSink::ReadLines(const std::string& session_id, const std::string& file_name,
                                                        uint64_t after_line) {
  if (Status st = ValidateFileName(file_name); !st.ok()) return st;
  Result<LockedSession> session = OpenSession(session_id);
  if (!session.ok()) return session.status();
  const ArchiveManifest& m = session->manifest;
  auto it = m.files.find(file_name);
  if (it == m.files.end()) return std::vector<std::string>();  // never stored: no lines, as the server says
  // Only the acknowledged bytes: a tail left by a crash is not part of the file.
  Result<std::string> data = ReadAcknowledged(session->dir + "/" + file_name, it->second.bytes);
  if (!data.ok()) return data.status();
  std::vector<std::string> lines;
  uint64_t number = 0;
  std::string_view rest = *data;
  while (!rest.empty()) {
    size_t nl = rest.find('\n');
    if (nl == std::string_view::npos) return Status::Corrupt(file_name + " does not end with a newline");
    if (++number > after_line) lines.emplace_back(rest.substr(0, nl));
    rest.remove_prefix(nl + 1);
  }
  if (number != it->second.last_synced_line) {
    return Status::Corrupt(file_name + " holds " + std::to_string(number) + " lines, the manifest says " +
                           std::to_string(it->second.last_synced_line));
  }
  return lines;
}

Result<std::vector<FileInfo>> ArchiveSink::ListFiles(const std::string& session_id) {
  Result<ArchiveManifest> m = ReadManifest(session_id);
  if (!m.ok()) return m.status();
  std::vector<FileInfo> out;
  for (const auto& [name, f] : m->files) out.push_back(FileInfo{name, f.file_type, f.last_synced_line});
  return out;
}

}  // namespace tsync::uploader
