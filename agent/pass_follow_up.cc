#include "agent/pass_follow_up.h"

#include <simdjson.h>
#include <spdlog/spdlog.h>

#include <ctime>

#include "agent/github_link_queue.h"
#include "base/fs.h"
#include "base/json.h"

namespace tsync::agent {
namespace {

std::string UploadTimesPath(const std::string& dest_dir, const std::string& session_id) {
  return dest_dir + "/upload-times/" + session_id + ".json";
}

}  // namespace

std::map<std::string, int64_t> LoadUploadTimes(const std::string& dest_dir, const std::string& session_id) {
  std::map<std::string, int64_t> times;
  Result<std::string> text = ReadFile(UploadTimesPath(dest_dir, session_id), 1 << 20);
  if (!text.ok()) return times;
  simdjson::dom::parser parser;
  simdjson::dom::object obj;
  if (parser.parse(*text).get(obj) != simdjson::SUCCESS) return times;
  for (auto field : obj) {
    int64_t t = 0;
    if (field.value.get(t) == simdjson::SUCCESS) times[std::string(field.key)] = t;
  }
  return times;
}

PassFollowUp::PassFollowUp(const SessionRef& session, const std::string& dest_dir, const redact::Redactor& redactor)
    : session_(session), dest_dir_(dest_dir), redactor_(redactor), summaries_(session, dest_dir, redactor) {}

SessionFacts::SummaryFilter PassFollowUp::SummaryFilter() {
  return [this](std::string_view leaf_uuid, const std::string& summary) { return summaries_.Claim(leaf_uuid, summary); };
}

void PassFollowUp::AfterPass(uploader::Sink& sink, const std::string& backend_session_id, bool reached_sink,
                             const std::vector<FileReport>& files) {
  bool sent_lines = false;
  const auto now = static_cast<int64_t>(std::time(nullptr));
  for (const FileReport& f : files) {
    if (f.lines_sent == 0) continue;
    if (!times_loaded_) {
      upload_times_ = LoadUploadTimes(dest_dir_, session_.session_id);
      times_loaded_ = true;
    }
    upload_times_[f.file_name] = now;
    sent_lines = true;
  }
  if (sent_lines) {
    JsonWriter w;
    w.BeginObject();
    for (const auto& [name, t] : upload_times_) w.Key(name).Int(t);
    w.EndObject();
    Status st = MakeDirs(dest_dir_ + "/upload-times");
    if (st.ok()) {
      st = WriteFileAtomic(UploadTimesPath(dest_dir_, session_.session_id), w.Take(), 0600, Durability::kAtomicOnly);
    }
    if (!st.ok()) spdlog::debug("session {}: cannot record upload times ({})", session_.session_id, st.ToString());
  }
  summaries_.EndPass();
  if (!reached_sink || backend_session_id.empty()) return;
  summaries_.Send(sink);
  SendQueuedGithubLinks(dest_dir_, session_.session_id, backend_session_id, sink, redactor_);
}

}  // namespace tsync::agent
