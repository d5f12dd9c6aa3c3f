#include "agent/watcher_registry.h"

#include <dirent.h>
#include <fcntl.h>
#include <simdjson.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>

#include "base/json.h"
#include "tracker/checkpoint.h"

namespace tsync::agent {
namespace {

constexpr size_t kMaxEntryBytes = 64 * 1024;

std::string EntryPath(const std::string& state_dir, const std::string& session_id) {
  return WatchersDir(state_dir) + "/" + session_id + ".json";
}

std::optional<WatcherState> ParseState(std::string_view name) {
  for (WatcherState s : {WatcherState::kStarting, WatcherState::kRunning, WatcherState::kFlushing,
                         WatcherState::kDone, WatcherState::kFailed}) {
    if (name == WatcherStateName(s)) return s;
  }
  return std::nullopt;
}

std::optional<WatcherEntry> ParseEntry(std::string_view json) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(json.data(), json.size()).get(doc) != simdjson::SUCCESS) return std::nullopt;
  WatcherEntry e;
  std::string_view sid, path, state, error;
  int64_t pid = 0, claude_pid = 0;
  uint64_t start = 0, claude_start = 0;
  if (doc["session_id"].get(sid) || doc["transcript_path"].get(path) || doc["state"].get(state) ||
      doc["pid"].get(pid) || doc["start_time"].get(start)) {
    return std::nullopt;
  }
  std::optional<WatcherState> parsed = ParseState(state);
  if (!parsed || !tracker::IsValidSessionId(sid)) return std::nullopt;
  e.session_id = sid;
  e.transcript_path = path;
  e.state = *parsed;
  e.process = ProcessId{static_cast<pid_t>(pid), start};
  if (!doc["claude_pid"].get(claude_pid) && !doc["claude_start_time"].get(claude_start)) {
    e.claude = ProcessId{static_cast<pid_t>(claude_pid), claude_start};
  }
  // Counters are informational: a missing one stays 0.
  if (doc["files"].get(e.files) != simdjson::SUCCESS) e.files = 0;
  if (doc["lines_synced"].get(e.lines_synced) != simdjson::SUCCESS) e.lines_synced = 0;
  if (doc["last_upload"].get(e.last_upload) != simdjson::SUCCESS) e.last_upload = 0;
  if (doc["updated_at"].get(e.updated_at) != simdjson::SUCCESS) e.updated_at = 0;
  if (!doc["last_error"].get(error)) e.last_error = error;
  return e;
}

}  // namespace

const char* WatcherStateName(WatcherState state) {
  switch (state) {
    case WatcherState::kStarting: return "starting";
    case WatcherState::kRunning: return "running";
    case WatcherState::kFlushing: return "flushing";
    case WatcherState::kDone: return "done";
    case WatcherState::kFailed: return "failed";
  }
  return "?";
}

std::string WatchersDir(const std::string& state_dir) { return state_dir + "/watchers"; }

std::string EndRequestPath(const std::string& state_dir, const std::string& session_id) {
  return WatchersDir(state_dir) + "/" + session_id + ".end.json";
}

Status WriteWatcherEntry(const std::string& state_dir, const WatcherEntry& e) {
  if (Status st = MakeDirs(WatchersDir(state_dir), 0700); !st.ok()) return st;
  JsonWriter w;
  w.BeginObject();
  w.Key("session_id").String(e.session_id);
  w.Key("transcript_path").String(e.transcript_path);
  w.Key("state").String(WatcherStateName(e.state));
  w.Key("pid").Int(e.process.pid);
  w.Key("start_time").UInt(e.process.start_time);
  if (e.claude.pid > 0) w.Key("claude_pid").Int(e.claude.pid).Key("claude_start_time").UInt(e.claude.start_time);
  w.Key("files").UInt(e.files);
  w.Key("lines_synced").UInt(e.lines_synced);
  w.Key("last_upload").Int(e.last_upload);
  w.Key("last_error").String(e.last_error);
  w.Key("updated_at").Int(static_cast<int64_t>(std::time(nullptr)));
  w.EndObject();
  return WriteFileAtomic(EntryPath(state_dir, e.session_id), w.Take(), 0600);
}

std::optional<WatcherEntry> ReadWatcherEntry(const std::string& state_dir, const std::string& session_id) {
  if (!tracker::IsValidSessionId(session_id)) return std::nullopt;
  Result<std::string> text = ReadFile(EntryPath(state_dir, session_id), kMaxEntryBytes);
  if (!text.ok()) return std::nullopt;
  return ParseEntry(*text);
}

std::vector<WatcherEntry> ListWatcherEntries(const std::string& state_dir) {
  std::vector<WatcherEntry> out;
  DIR* dir = ::opendir(WatchersDir(state_dir).c_str());
  if (dir == nullptr) return out;
  while (dirent* d = ::readdir(dir)) {
    std::string_view name = d->d_name;
    if (!name.ends_with(".json") || name.ends_with(".end.json")) continue;
    std::string id(name.substr(0, name.size() - 5));
    if (std::optional<WatcherEntry> e = ReadWatcherEntry(state_dir, id)) out.push_back(std::move(*e));
  }
  ::closedir(dir);
  return out;
}

bool WatcherLive(const WatcherEntry& entry) { return ProcessAlive(entry.process); }

size_t ReapWatchers(const std::string& state_dir) {
  size_t reaped = 0;
  for (const WatcherEntry& e : ListWatcherEntries(state_dir)) {
    if (WatcherLive(e)) continue;
    if (e.state != WatcherState::kDone) {
      spdlog::warn("session {}: its watcher (pid {}) is gone while {}{}{}; a new one resumes from the checkpoint",
                   e.session_id, e.process.pid, WatcherStateName(e.state), e.last_error.empty() ? "" : ", last error: ",
                   e.last_error);
    }
    if (::unlink(EntryPath(state_dir, e.session_id).c_str()) == 0) ++reaped;
  }
  return reaped;
}

Result<WatcherLock> WatcherLock::TryAcquire(const std::string& state_dir, const std::string& session_id) {
  if (!tracker::IsValidSessionId(session_id)) return Status::InvalidInput("bad session id");
  if (Status st = MakeDirs(WatchersDir(state_dir), 0700); !st.ok()) return st;
  const std::string path = WatchersDir(state_dir) + "/" + session_id + ".lock";
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (fd.get() < 0) return Status::Errno("open " + path, errno);
  if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK) return Status::Conflict("another watcher holds " + path);
    return Status::Errno("flock " + path, errno);
  }
  return WatcherLock(std::move(fd));
}

}  // namespace tsync::agent
