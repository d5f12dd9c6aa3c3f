#include "agent/lifecycle_events.h"

#include <dirent.h>
#include <simdjson.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <vector>

#include "agent/session_end.h"
#include "base/fs.h"
#include "base/json.h"

namespace tsync::agent {
namespace {

constexpr size_t kMaxEventFileBytes = 2u << 20;  // a 1 MiB hook payload, escaped
constexpr size_t kMaxKeptField = 4096;           // fields kept when a payload is too big
// The body around the payload: session id, type, timestamp and keys.
constexpr size_t kEnvelopeBytes = 1024;

/// The queued event files of a session, oldest first (names sort by time).
std::vector<std::string> QueuedFiles(const std::string& dir) {
  std::vector<std::string> names;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return names;
  while (dirent* e = ::readdir(d)) {
    std::string_view name = e->d_name;
    // WriteFileAtomic's temp files end in ".tmp.<pid>.<n>", never ".json".
    if (name.size() > 5 && name.ends_with(".json") && name.front() != '.') names.emplace_back(name);
  }
  ::closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

struct QueuedEvent {
  std::string event_type;
  std::string timestamp;
  std::string payload_json;
};

Result<QueuedEvent> ReadEvent(const std::string& path) {
  Result<std::string> text = ReadFile(path, kMaxEventFileBytes);
  if (!text.ok()) return text.status();
  simdjson::dom::parser parser;
  simdjson::dom::element doc, payload;
  std::string_view type, timestamp;
  if (parser.parse(*text).get(doc) != simdjson::SUCCESS || doc["event_type"].get(type) != simdjson::SUCCESS ||
      doc["timestamp"].get(timestamp) != simdjson::SUCCESS || doc["payload"].get(payload) != simdjson::SUCCESS) {
    return Status::Corrupt("the lifecycle event " + path + " does not parse");
  }
  return QueuedEvent{std::string(type), std::string(timestamp), simdjson::minify(payload)};
}

}  // namespace

std::string_view LifecycleEventFor(const HookInput& in) {
  switch (in.event) {
    case HookEvent::kSessionStart:
      if (in.source == "resume") return "resume";
      if (in.source == "compact") return "";  // PreCompact reported this compaction
      return "session_start";                 // startup, clear, fork, or a source we do not know yet
    case HookEvent::kPreCompact:
      return "compact";
    case HookEvent::kStop:
      return "stop";
    case HookEvent::kSessionEnd:  // session_end has its own once-only path (agent/session_end.h)
    case HookEvent::kSubagentStop:
    case HookEvent::kUserPromptSubmit:
    case HookEvent::kPostToolUse:
      return "";
  }
  return "";
}

std::string LifecycleDir(const std::string& state_dir, const std::string& session_id) {
  return state_dir + "/lifecycle/" + session_id;
}

Status RecordLifecycleEvent(const std::string& state_dir, const std::string& session_id,
                            std::string_view event_type, std::string_view payload_json) {
  const std::string dir = LifecycleDir(state_dir, session_id);
  if (Status st = MakeDirs(dir, 0700); !st.ok()) return st;
  timespec now{};
  ::clock_gettime(CLOCK_REALTIME, &now);
  char name[96];
  std::snprintf(name, sizeof name, "/%020lld-%d.json",
                static_cast<long long>(now.tv_sec) * 1'000'000'000LL + now.tv_nsec, static_cast<int>(::getpid()));
  JsonWriter w;
  w.BeginObject().Key("event_type").String(event_type).Key("timestamp").String(NowRfc3339Utc());
  w.Key("payload").Raw(payload_json.empty() ? std::string_view("{}") : payload_json).EndObject();
  const std::string text = w.Take();
  Status st = WriteFileAtomic(dir + name, text, 0600, Durability::kAtomicOnly);
  if (st.ok()) return st;
  // An exiting watcher removes the directory when it is empty: once more.
  if (Status again = MakeDirs(dir, 0700); !again.ok()) return again;
  return WriteFileAtomic(dir + name, text, 0600, Durability::kAtomicOnly);
}

size_t QueuedLifecycleEvents(const std::string& state_dir, const std::string& session_id) {
  return QueuedFiles(LifecycleDir(state_dir, session_id)).size();
}

LifecycleSendResult SendLifecycleEvents(const std::string& state_dir, uploader::Sink& sink,
                                        const redact::Redactor& redactor, const std::string& session_id,
                                        const std::string& backend_session_id) {
  LifecycleSendResult result;
  const std::string dir = LifecycleDir(state_dir, session_id);
  for (const std::string& name : QueuedFiles(dir)) {
    const std::string path = dir + "/" + name;
    Result<QueuedEvent> event = ReadEvent(path);
    if (!event.ok()) {
      if (event.status().kind() == Status::Kind::kNotFound) continue;  // sent by another process meanwhile
      spdlog::warn("session {}: {}; removed unsent", session_id, event.status().message());
      ::unlink(path.c_str());
      ++result.dropped;
      continue;
    }
    const redact::RedactResult redacted = redactor.RedactLine(event->payload_json);
    const std::string payload =
        FitEventPayload(redacted.text(), uploader::kMaxSmallBodyBytes - kEnvelopeBytes);
    Status st = sink.SendEvent(backend_session_id, event->event_type, event->timestamp, payload);
    if (st.kind() == Status::Kind::kInvalidInput) {
      spdlog::warn("session {}: the backend refused the {} event ({}); dropped", session_id, event->event_type,
                   st.message());
      ::unlink(path.c_str());
      ++result.dropped;
      continue;
    }
    if (!st.ok()) {
      result.status = st;
      return result;
    }
    ::unlink(path.c_str());
    ++result.sent;
  }
  return result;
}

size_t DropLifecycleEvents(const std::string& state_dir, const std::string& session_id) {
  const std::string dir = LifecycleDir(state_dir, session_id);
  size_t dropped = 0;
  for (const std::string& name : QueuedFiles(dir)) {
    if (::unlink((dir + "/" + name).c_str()) == 0) ++dropped;
  }
  return dropped;
}

void RemoveLifecycleDirIfEmpty(const std::string& state_dir, const std::string& session_id) {
  ::rmdir(LifecycleDir(state_dir, session_id).c_str());  // fails, harmlessly, while it holds anything
}

std::string FitEventPayload(std::string_view payload_json, size_t max_bytes) {
  if (payload_json.size() <= max_bytes) return std::string(payload_json);
  simdjson::dom::parser parser;
  simdjson::dom::object object;
  if (parser.parse(payload_json.data(), payload_json.size()).get(object) != simdjson::SUCCESS) {
    return R"({"omitted":["payload"]})";
  }
  JsonWriter w;
  std::vector<std::string> omitted;
  w.BeginObject();
  for (simdjson::dom::key_value_pair field : object) {
    std::string value = simdjson::minify(field.value);
    if (value.size() > kMaxKeptField) {
      omitted.emplace_back(field.key);
      continue;
    }
    w.Key(field.key).Raw(value);
  }
  w.Key("omitted").BeginArray();
  for (const std::string& key : omitted) w.String(key);
  w.EndArray().EndObject();
  return w.Take();
}

}  // namespace tsync::agent
