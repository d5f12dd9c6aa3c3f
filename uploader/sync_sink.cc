#include "uploader/sync_sink.h"

#include <algorithm>

namespace tsync::uploader {

/// A borrowed client, returned to the pool when the lease ends.
class SyncSink::Lease {
 public:
  Lease(SyncSink* sink, std::unique_ptr<SyncClient> client) : sink_(sink), client_(std::move(client)) {}
  Lease(Lease&& other) noexcept = default;
  Lease& operator=(Lease&&) = delete;
  Lease(const Lease&) = delete;
  Lease& operator=(const Lease&) = delete;
  ~Lease() {
    if (client_) sink_->Return(std::move(client_));
  }
  SyncClient* operator->() const { return client_.get(); }

 private:
  SyncSink* sink_;
  std::unique_ptr<SyncClient> client_;
};

SyncSink::SyncSink(std::unique_ptr<SyncClient> client, ClientFactory more) : more_(std::move(more)) {
  idle_.push_back(std::move(client));
}

SyncSink::~SyncSink() = default;

Result<SyncSink::Lease> SyncSink::Borrow() {
  std::unique_lock lock(mu_);
  if (!more_) returned_.wait(lock, [this] { return !idle_.empty(); });
  if (!idle_.empty()) {
    std::unique_ptr<SyncClient> client = std::move(idle_.back());
    idle_.pop_back();
    return Lease(this, std::move(client));
  }
  lock.unlock();
  Result<std::unique_ptr<SyncClient>> client = more_();
  if (!client.ok()) return client.status();
  return Lease(this, std::move(client.value()));
}

void SyncSink::Return(std::unique_ptr<SyncClient> client) {
  {
    std::lock_guard lock(mu_);
    idle_.push_back(std::move(client));
  }
  returned_.notify_one();
}

Result<InitResult> SyncSink::Init(const SessionInfo& info) {
  if (Status st = ValidateSessionInfo(info); !st.ok()) return st;
  Result<Lease> client = Borrow();
  if (!client.ok()) return client.status();
  auto r = (*client)->Init(info);
  if (!r.ok()) return r.status();
  return std::move(r.value());
}

Result<ChunkOutcome> SyncSink::AppendChunk(const ChunkRequest& req) {
  if (Status st = ValidateChunkRequest(req); !st.ok()) return st;
  Result<Lease> client = Borrow();
  if (!client.ok()) return client.status();
  auto r = (*client)->SendChunk(req);
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
  Result<Lease> client = Borrow();
  if (!client.ok()) return client.status();
  return (*client)->SendEvent(event).status();
}

Status SyncSink::SetSummary(const std::string& external_id, std::string_view summary) {
  if (Status st = ValidateSummary(summary); !st.ok()) return st;
  Result<Lease> client = Borrow();
  if (!client.ok()) return client.status();
  return (*client)->UpdateSummary(external_id, summary).status();
}

Status SyncSink::AddGithubLink(const std::string& session_id, const GithubLink& link) {
  Result<Lease> client = Borrow();
  if (!client.ok()) return client.status();
  return (*client)->AddGithubLink(session_id, link).status();
}

Result<std::vector<std::string>> SyncSink::ReadLines(const std::string& session_id, const std::string& file_name,
                                                     uint64_t after_line) {
  if (Status st = ValidateFileName(file_name); !st.ok()) return st;
  std::string body;
  {
    Result<Lease> client = Borrow();
    if (!client.ok()) return client.status();
    auto r = (*client)->ReadFile(session_id, file_name, after_line);
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
  Result<Lease> client = Borrow();
  if (!client.ok()) return client.status();
  auto r = (*client)->FindSession(external_id);
  if (!r.ok()) return r.status();
  return std::move(r.value());
}

Result<std::vector<FileInfo>> SyncSink::ListFiles(const std::string& session_id) {
  std::vector<RemoteFile> remote;
  {
    Result<Lease> client = Borrow();
    if (!client.ok()) return client.status();
    auto r = (*client)->ListFiles(session_id);
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
