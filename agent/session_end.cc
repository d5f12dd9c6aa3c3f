#include "agent/session_end.h"

#include <simdjson.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <ctime>

#include "agent/watcher_registry.h"
#include "base/fs.h"
#include "base/json.h"

namespace tsync::agent {
namespace {

constexpr size_t kMaxRequestBytes = 2u << 20;  // a 1 MiB hook payload, escaped

}  // namespace

std::string NowRfc3339Utc() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t secs = std::chrono::system_clock::to_time_t(now);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[96];  // room for any int the compiler imagines
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
  return buf;
}

Status WriteEndRequest(const std::string& state_dir, const std::string& session_id, std::string_view payload_json) {
  if (Status st = MakeDirs(WatchersDir(state_dir), 0700); !st.ok()) return st;
  JsonWriter w;
  w.BeginObject().Key("timestamp").String(NowRfc3339Utc()).Key("payload").Raw(payload_json).EndObject();
  return WriteFileAtomic(EndRequestPath(state_dir, session_id), w.Take(), 0600);
}

bool HasEndRequest(const std::string& state_dir, const std::string& session_id) {
  return ::access(EndRequestPath(state_dir, session_id).c_str(), F_OK) == 0;
}

Status SendEndRequest(const std::string& state_dir, uploader::Sink& sink, const std::string& session_id,
                      const std::string& backend_session_id) {
  const std::string path = EndRequestPath(state_dir, session_id);
  Result<std::string> text = ReadFile(path, kMaxRequestBytes);
  if (!text.ok()) return text.status().kind() == Status::Kind::kNotFound ? Status::Ok() : text.status();
  simdjson::dom::parser parser;
  simdjson::dom::element doc, payload;
  std::string_view timestamp;
  if (parser.parse(*text).get(doc) != simdjson::SUCCESS || doc["timestamp"].get(timestamp) != simdjson::SUCCESS ||
      doc["payload"].get(payload) != simdjson::SUCCESS) {
    ::unlink(path.c_str());
    return Status::Corrupt("the session-end request " + path + " does not parse; removed (no event sent)");
  }
  Status st = sink.SendEvent(backend_session_id, "session_end", timestamp, simdjson::minify(payload));
  if (!st.ok()) return st;
  ::unlink(path.c_str());
  return Status::Ok();
}

}  // namespace tsync::agent
