#include "agent/pending_queue.h"

#include <dirent.h>
#include <simdjson.h>
#include <unistd.h>

#include <algorithm>
#include <ctime>

#include "base/fs.h"
#include "base/json.h"
#include "tracker/checkpoint.h"

namespace tsync::agent {
namespace {

constexpr int64_t kFirstBackoff = 30;
constexpr int64_t kMaxBackoff = 3600;

std::string EntryPath(const std::string& state_dir, const std::string& session_id) {
  return PendingDir(state_dir) + "/" + session_id + ".json";
}

Status Write(const std::string& state_dir, const PendingEntry& e) {
  if (Status st = MakeDirs(PendingDir(state_dir), 0700); !st.ok()) return st;
  JsonWriter w;
  w.BeginObject();
  w.Key("session_id").String(e.session.session_id);
  w.Key("project_dir").String(e.session.project_dir);
  w.Key("transcript_path").String(e.session.transcript_path);
  w.Key("attempts").UInt(e.attempts);
  w.Key("next_attempt").Int(e.next_attempt);
  w.EndObject();
  return WriteFileAtomic(EntryPath(state_dir, e.session.session_id), w.Take(), 0600);
}

}  // namespace

std::string PendingDir(const std::string& state_dir) { return state_dir + "/pending"; }

int64_t PendingBackoffSeconds(uint32_t attempts) {
  int64_t delay = kFirstBackoff;
  for (uint32_t i = 1; i < attempts && delay < kMaxBackoff; ++i) delay *= 2;
  return std::min(delay, kMaxBackoff);
}

Status AddPending(const std::string& state_dir, const SessionRef& session) {
  if (!tracker::IsValidSessionId(session.session_id)) return Status::InvalidInput("bad session id");
  if (::access(EntryPath(state_dir, session.session_id).c_str(), F_OK) == 0) return Status::Ok();  // keep its backoff
  return Write(state_dir, PendingEntry{session, 0, 0});
}

Status DeferPending(const std::string& state_dir, PendingEntry entry, int64_t now) {
  entry.attempts += 1;
  entry.next_attempt = now + PendingBackoffSeconds(entry.attempts);
  return Write(state_dir, entry);
}

void RemovePending(const std::string& state_dir, const std::string& session_id) {
  if (tracker::IsValidSessionId(session_id)) ::unlink(EntryPath(state_dir, session_id).c_str());
}

std::vector<PendingEntry> ListPending(const std::string& state_dir) {
  std::vector<PendingEntry> out;
  DIR* dir = ::opendir(PendingDir(state_dir).c_str());
  if (dir == nullptr) return out;
  simdjson::dom::parser parser;
  while (dirent* d = ::readdir(dir)) {
    std::string_view name = d->d_name;
    if (!name.ends_with(".json")) continue;
    Result<std::string> text = ReadFile(PendingDir(state_dir) + "/" + std::string(name), 64 * 1024);
    simdjson::dom::element doc;
    if (!text.ok() || parser.parse(*text).get(doc) != simdjson::SUCCESS) continue;
    PendingEntry e;
    std::string_view sid, project, transcript;
    uint64_t attempts = 0;
    if (doc["session_id"].get(sid) || doc["project_dir"].get(project) || doc["transcript_path"].get(transcript) ||
        doc["attempts"].get(attempts) || doc["next_attempt"].get(e.next_attempt) ||
        !tracker::IsValidSessionId(sid)) {
      continue;
    }
    e.session = SessionRef{std::string(sid), std::string(project), std::string(transcript)};
    e.attempts = static_cast<uint32_t>(std::min<uint64_t>(attempts, 1000));
    out.push_back(std::move(e));
  }
  ::closedir(dir);
  std::sort(out.begin(), out.end(),
            [](const PendingEntry& a, const PendingEntry& b) { return a.session.session_id < b.session.session_id; });
  return out;
}

bool AnyPending(const std::string& state_dir) {
  DIR* dir = ::opendir(PendingDir(state_dir).c_str());
  if (dir == nullptr) return false;
  bool any = false;
  while (dirent* d = ::readdir(dir)) {
    if (std::string_view(d->d_name).ends_with(".json")) {
      any = true;
      break;
    }
  }
  ::closedir(dir);
  return any;
}

}  // namespace tsync::agent
