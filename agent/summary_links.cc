#include "agent/summary_links.h"

#include <dirent.h>
#include <fcntl.h>
#include <simdjson.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <ctime>

#include "base/fs.h"
#include "base/json.h"
#include "base/sha256.h"
#include "base/utf8.h"
#include "tracker/checkpoint.h"

namespace tsync::agent {
namespace {

constexpr size_t kMaxStateBytes = 4 << 20;
constexpr int64_t kFirstBackoffSeconds = 30;
constexpr int64_t kMaxBackoffSeconds = 3600;

/// A summary not acknowledged yet for the session its file is named after.
struct WaitingSummary {
  std::string text;       // redacted, cut: exactly what is sent
  std::string from;       // the session whose transcript carries it
  bool not_synced = false;  // the last PATCH was a 404: waits for the target's sync
  uint32_t tries = 0;
  int64_t next_attempt = 0;  // unix seconds, for retries by `from`
};

std::string TextHash(std::string_view text) { return Sha256Hex(text).substr(0, 32); }

/// An exclusive flock on <dir>/lock while it lives (an invalid one when the
/// lock cannot be taken: the state is advisory, so work goes on without it).
UniqueFd LockDir(const std::string& dir) {
  if (!MakeDirs(dir).ok()) return UniqueFd();
  UniqueFd fd(::open((dir + "/lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (fd.valid() && ::flock(fd.get(), LOCK_EX) != 0) return UniqueFd();
  return fd;
}

std::vector<WaitingSummary> LoadWaiting(const std::string& path) {
  std::vector<WaitingSummary> items;
  Result<std::string> text = ReadFile(path, kMaxStateBytes);
  if (!text.ok()) return items;
  simdjson::dom::parser parser;
  simdjson::dom::array arr;
  if (parser.parse(*text).get_object()["items"].get(arr) != simdjson::SUCCESS) {
    spdlog::warn("{}: unreadable, ignored", path);
    return items;
  }
  for (simdjson::dom::element e : arr) {
    WaitingSummary w;
    std::string_view s;
    if (e["text"].get(s) != simdjson::SUCCESS || s.empty()) continue;
    w.text = s;
    if (e["from"].get(s) == simdjson::SUCCESS) w.from = s;
    bool b = false;
    if (e["not_synced"].get(b) == simdjson::SUCCESS) w.not_synced = b;
    uint64_t u = 0;
    if (e["tries"].get(u) == simdjson::SUCCESS) w.tries = static_cast<uint32_t>(std::min<uint64_t>(u, 1000));
    int64_t i = 0;
    if (e["next_attempt"].get(i) == simdjson::SUCCESS) w.next_attempt = i;
    items.push_back(std::move(w));
  }
  return items;
}

void SaveWaiting(const std::string& path, const std::vector<WaitingSummary>& items) {
  if (items.empty()) {
    ::unlink(path.c_str());
    return;
  }
  JsonWriter w;
  w.BeginObject().Key("items").BeginArray();
  for (const WaitingSummary& i : items) {
    w.BeginObject().Key("text").String(i.text).Key("from").String(i.from).Key("not_synced").Bool(i.not_synced);
    w.Key("tries").UInt(i.tries).Key("next_attempt").Int(i.next_attempt).EndObject();
  }
  w.EndArray().EndObject();
  Status st = MakeDirs(DirName(path));
  if (st.ok()) st = WriteFileAtomic(path, w.Take() + "\n", 0600, Durability::kAtomicOnly);
  if (!st.ok()) spdlog::warn("cannot record waiting summaries ({})", st.ToString());
}

bool WasSent(const std::string& path, const std::string& hash) {
  Result<std::string> text = ReadFile(path, kMaxStateBytes);
  if (!text.ok()) return false;
  for (size_t at = text->find(hash); at != std::string::npos; at = text->find(hash, at + 1)) {
    if ((at == 0 || (*text)[at - 1] == '\n') && at + hash.size() < text->size() && (*text)[at + hash.size()] == '\n') {
      return true;
    }
  }
  return false;
}

void MarkSent(const std::string& path, const std::string& hash) {
  if (!MakeDirs(DirName(path)).ok()) return;
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600));
  if (!fd.valid() || !WriteAll(fd.get(), hash + "\n", path).ok()) {
    spdlog::warn("{}: cannot remember a sent summary; it may be sent again", path);
  }
}

int64_t Backoff(uint32_t tries) {
  const uint32_t doublings = std::min<uint32_t>(tries > 0 ? tries - 1 : 0, 10);
  return std::min(kFirstBackoffSeconds << doublings, kMaxBackoffSeconds);
}

}  // namespace

size_t WaitingSummaryCount(const std::string& dest_dir, const std::string& session_id) {
  return LoadWaiting(dest_dir + "/summary-links/waiting/" + session_id + ".json").size();
}

SummaryLinks::SummaryLinks(SessionRef session, std::string dest_dir, const redact::Redactor& redactor,
                           SummaryLinksOptions options)
    : session_(std::move(session)),
      dest_dir_(std::move(dest_dir)),
      redactor_(redactor),
      options_(std::move(options)),
      index_(dest_dir_ + "/leaf-index", options_.index) {}

int64_t SummaryLinks::Now() const {
  return options_.now ? options_.now() : static_cast<int64_t>(std::time(nullptr));
}

bool SummaryLinks::Claim(std::string_view leaf_uuid, const std::string& summary) {
  if (leaf_uuid.empty()) return true;
  auto it = decided_.find(leaf_uuid);
  if (it == decided_.end()) {
    if (!indexed_this_pass_) {
      indexed_this_pass_ = true;
      if (Status st = index_.Refresh(session_.project_dir); !st.ok()) {
        spdlog::debug("session {}: cannot index the project for summaries ({})", session_.session_id, st.ToString());
      }
    }
    std::vector<std::string> holders = index_.Find(session_.project_dir, leaf_uuid);
    const bool ours =
        holders.empty() || std::find(holders.begin(), holders.end(), session_.session_id) != holders.end();
    if (ours) holders.clear();
    it = decided_.emplace(std::string(leaf_uuid), std::move(holders)).first;
  }
  if (it->second.empty()) return true;
  // Redaction markers may lengthen the text: cut again after it.
  redact::RedactResult red = redactor_.RedactText(summary);
  const std::string text(TruncateUtf8(red.text(), uploader::kMaxSummaryBytes));
  if (text.empty()) return false;
  for (const std::string& target : it->second) Record(target, text);
  return false;
}

void SummaryLinks::Record(const std::string& target, const std::string& text) {
  UniqueFd lock = LockDir(Dir());
  if (WasSent(Dir() + "/sent/" + target, TextHash(text))) return;
  const std::string path = Dir() + "/waiting/" + target + ".json";
  std::vector<WaitingSummary> items = LoadWaiting(path);
  targets_.insert(target);
  if (std::any_of(items.begin(), items.end(), [&](const WaitingSummary& w) { return w.text == text; })) return;
  WaitingSummary w;
  w.text = text;
  w.from = session_.session_id;
  items.push_back(std::move(w));
  SaveWaiting(path, items);
  spdlog::info("session {}: carries a summary of session {} ({} bytes); it is sent to that session", session_.session_id,
               target, text.size());
}

void SummaryLinks::Send(uploader::Sink& sink) {
  if (!listed_waiting_) {
    // Items this session recorded in an earlier process and could not send.
    listed_waiting_ = true;
    if (DIR* dir = ::opendir((Dir() + "/waiting").c_str())) {
      while (const dirent* e = ::readdir(dir)) {
        std::string_view name = e->d_name;
        if (!name.ends_with(".json")) continue;
        std::string target(name.substr(0, name.size() - 5));
        if (!tracker::IsValidSessionId(target) || target == session_.session_id) continue;
        for (const WaitingSummary& w : LoadWaiting(Dir() + "/waiting/" + std::string(name))) {
          if (w.from == session_.session_id) targets_.insert(target);
        }
      }
      ::closedir(dir);
    }
  }
  SendWaiting(sink, session_.session_id, true);
  const std::set<std::string> targets = targets_;
  for (const std::string& t : targets) {
    if (t != session_.session_id) SendWaiting(sink, t, false);
  }
}

void SummaryLinks::SendWaiting(uploader::Sink& sink, const std::string& target, bool for_us) {
  const std::string path = Dir() + "/waiting/" + target + ".json";
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    targets_.erase(target);
    return;
  }
  std::vector<WaitingSummary> items;
  {
    UniqueFd lock = LockDir(Dir());
    items = LoadWaiting(path);
  }
  const int64_t now = Now();
  std::vector<std::pair<std::string, Status>> results;
  for (const WaitingSummary& w : items) {
    const bool due = for_us || (w.from == session_.session_id && !w.not_synced && w.next_attempt <= now);
    if (!due) continue;
    Status status = sink.SetSummary(target, w.text);
    const Status::Kind kind = status.kind();
    results.emplace_back(w.text, std::move(status));
    if (kind == Status::Kind::kTransient || kind == Status::Kind::kAuth) break;  // the rest waits
  }
  if (results.empty()) return;

  UniqueFd lock = LockDir(Dir());
  items = LoadWaiting(path);  // another process may have changed it meanwhile
  for (const auto& [text, status] : results) {
    auto it = std::find_if(items.begin(), items.end(), [&](const WaitingSummary& w) { return w.text == text; });
    if (it == items.end()) continue;
    if (status.ok()) {
      MarkSent(Dir() + "/sent/" + target, TextHash(text));
      items.erase(it);
      ++sent_;
      spdlog::info("session {}: summary of session {} sent ({} bytes)", session_.session_id, target, text.size());
    } else if (status.kind() == Status::Kind::kNotFound) {
      it->not_synced = true;
      spdlog::info("session {}: session {} is not on the backend yet; its summary is sent after it syncs",
                   session_.session_id, target);
    } else if (status.kind() == Status::Kind::kInvalidInput) {
      spdlog::warn("session {}: the summary of session {} was refused ({}); dropped", session_.session_id, target,
                   status.ToString());
      items.erase(it);
    } else {
      it->not_synced = false;
      it->tries += 1;
      it->next_attempt = now + Backoff(it->tries);
      spdlog::warn("session {}: the summary of session {} is not sent yet ({}); retried later", session_.session_id,
                   target, status.ToString());
    }
  }
  SaveWaiting(path, items);
  if (std::none_of(items.begin(), items.end(),
                   [&](const WaitingSummary& w) { return w.from == session_.session_id; })) {
    targets_.erase(target);
  }
}

}  // namespace tsync::agent
