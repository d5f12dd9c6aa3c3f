#include "uploader/sync_sink.h"

#include <algorithm>

namespace tsync::uploader {

SyncSink::SyncSink(std::unique_ptr<SyncClient> client) : client_(std::move(client)) {}

Result<InitResult> SyncSink::Init(const SessionInfo& info) {
  if (Status st = ValidateSessionInfo(info); !st.ok()) return st;
  std::lock_guard lock(mu_);
  auto r = client_->Init(info);
  if (!r.ok()) return r.status();
  return std::move(r.value());
}

Result<ChunkOutcome> SyncSink::AppendChunk(const ChunkRequest& req) {
  if (Status st = ValidateChunkRequest(req); !st.ok()) return st;
  std::lock_guard lock(mu_);
  auto r = client_->SendChunk(req);
  ChunkOutcome out;
  if (r.ok()) {
    out.last_synced_line = r->last_synced_line;
    const uint64_t want = req.first_line + req.lines.size() - 1;
    if (out.last_synced_line != want) {
      return Status::Conflict("the backend acknowledged " + req.file_name + " up to line " +
                              std::to_string(out.last_synced_line) + " after a chunk ending at line " +
                              std::to_string(want) + "; re-init and resume");
    }
    return out;
  }
  if (r.outcome() == Outcome::kContiguity && r.error().expected_first_line >= 1) {
    out.expected_first_line = r.error().expected_first_line;
    out.last_synced_line = r.error().expected_first_line - 1;
    return out;
  }
  return r.status();
}

Status SyncSink::SendEvent(const std::string& session_id, std::string_view event_type, std::string_view timestamp,
                           std::string_view payload_json) {
  if (Status st = ValidateEvent(event_type, timestamp, payload_json); !st.ok()) return st;
  EventRequest event{session_id, std::string(event_type), std::string(timestamp), std::string(payload_json)};
  std::lock_guard lock(mu_);
  return client_->SendEvent(event).status();
}

Status SyncSink::SetSummary(const std::string& external_id, std::string_view summary) {
  if (Status st = ValidateSummary(summary); !st.ok()) return st;
  std::lock_guard lock(mu_);
  return client_->UpdateSummary(external_id, summary).status();
}

Status SyncSink::AddGithubLink(const std::string& session_id, const GithubLink& link) {
  std::lock_guard lock(mu_);
  return client_->AddGithubLink(session_id, link).status();
}

Result<std::vector<std::string>> SyncSink::ReadLines(const std::string& session_id, const std::string& file_name,
                                                     uint64_t after_line) {
  if (Status st = ValidateFileName(file_name); !st.ok()) return st;
  std::string body;
  {
    std::lock_guard lock(mu_);
    auto r = client_->ReadFile(session_id, file_name, after_line);
    if (!r.ok()) return r.status();
    body = std::move(r.value());
  }
  if (!body.empty() && body.back() != '\n') {
    return Status::Corrupt("the backend's copy of " + file_name + " does not end with a newline (" +
                           std::to_string(body.size()) + " bytes)");
  }
  std::vector<std::string> lines;
  std::string_view rest(body);
  while (!rest.empty()) {
    const size_t nl = rest.find('\n');
    lines.emplace_back(rest.substr(0, nl));
    rest.remove_prefix(nl + 1);
  }
  return lines;
}

Result<std::string> SyncSink::FindSession(const std::string& external_id) {
  std::lock_guard lock(mu_);
  auto r = client_->FindSession(external_id);
  if (!r.ok()) return r.status();
  return std::move(r.value());
}

Result<std::vector<FileInfo>> SyncSink::ListFiles(const std::string& session_id) {
  std::vector<RemoteFile> remote;
  {
    std::lock_guard lock(mu_);
    auto r = client_->ListFiles(session_id);
    if (!r.ok()) return r.status();
    remote = std::move(r.value());
  }
  std::vector<FileInfo> files;
  for (const RemoteFile& f : remote) {
    auto type = tracker::ParseFileType(f.file_type);
    if (!type) {
      return Status::Corrupt("the backend lists " + f.file_name + " with an unknown file_type (" +
                             std::to_string(f.file_type.size()) + " bytes)");
    }
    files.push_back(FileInfo{f.file_name, *type, f.last_synced_line});
  }
  std::sort(files.begin(), files.end(), [](const FileInfo& a, const FileInfo& b) { return a.file_name < b.file_name; });
  return files;
}

}  // namespace tsync::uploader
