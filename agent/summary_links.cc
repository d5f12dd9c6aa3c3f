#include "agent/summary_links.h"

#include <dirent.h>
#include <fcntl.h>
#include <simdjson.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>

#include "base/fs.h"
#include "base/json.h"
#include "base/sha256.h"
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
  bool refused = false;     // the backend answered 400: kept, never sent again
  uint32_t tries = 0;
  int64_t next_attempt = 0;  // unix seconds, for retries by `from`
};

std::string TextHash(std::string_view text) { return Sha256Hex(text).substr(0, 32); }

/// An exclusive flock on `path` while it lives (an invalid one when the
/// lock cannot be taken: the state is advisory, so work goes on without it).
UniqueFd LockFile(const std::string& path) {
  if (!MakeDirs(DirName(path)).ok()) return UniqueFd();
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (fd.valid() && ::flock(fd.get(), LOCK_EX) != 0) return UniqueFd();
  return fd;
}

/// The state lock, <dir>/lock: held only to read and write the files.
UniqueFd LockDir(const std::string& dir) { return LockFile(dir + "/lock"); }

/// The lock a sender of summaries to `target` holds from reading what waits
/// to recording what was acknowledged (the PATCHes included): one of 16
/// files by the target's hash, so the directory does not grow a file per
/// session; two targets sharing one only wait for each other.
std::string SendLockPath(const std::string& dir, const std::string& target) {
  return dir + "/send-locks/" + Sha256Hex(target).substr(0, 1);
}

bool ParseItem(simdjson::dom::element e, WaitingSummary* w) {
  std::string_view s;
  if (e["text"].get(s) != simdjson::SUCCESS || s.empty()) return false;
  w->text = s;
  if (e["from"].get(s) == simdjson::SUCCESS) w->from = s;
  bool b = false;
  if (e["not_synced"].get(b) == simdjson::SUCCESS) w->not_synced = b;
  b = false;
  if (e["refused"].get(b) == simdjson::SUCCESS) w->refused = b;
  uint64_t u = 0;
  if (e["tries"].get(u) == simdjson::SUCCESS) w->tries = static_cast<uint32_t>(std::min<uint64_t>(u, 1000));
  int64_t i = 0;
  if (e["next_attempt"].get(i) == simdjson::SUCCESS) w->next_attempt = i;
  return true;
}

/// A waiting file as read: its items, and whether it was whole.
struct LoadedWaiting {
  std::vector<WaitingSummary> items;
  bool damaged = false;  // unreadable, or not the JSON written: `items` is what could be recovered
  std::string problem;   // why, for the log
};

/// Reads <waiting>/<target>.json. SaveWaiting writes one item per line, so
/// a damaged file (a crash without fsync can leave it truncated or empty)
/// still yields every item whose line is whole.
LoadedWaiting ReadWaiting(const std::string& path) {
  LoadedWaiting out;
  Result<std::string> text = ReadFile(path, kMaxStateBytes);
  if (!text.ok()) {
    if (text.status().kind() != Status::Kind::kNotFound) {
      out.damaged = true;
      out.problem = text.status().ToString();
    }
    return out;
  }
  simdjson::dom::parser parser;
  simdjson::dom::array arr;
  if (parser.parse(*text).get_object()["items"].get(arr) == simdjson::SUCCESS) {
    for (simdjson::dom::element e : arr) {
      WaitingSummary w;
      if (ParseItem(e, &w)) out.items.push_back(std::move(w));
    }
    return out;
  }
  out.damaged = true;
  out.problem = text->empty() ? "empty" : "not the JSON tsync writes (" + std::to_string(text->size()) + " bytes)";
  std::string_view rest(*text);
  while (!rest.empty()) {
    const size_t nl = rest.find('\n');
    std::string_view line = rest.substr(0, nl);
    rest.remove_prefix(nl == std::string_view::npos ? rest.size() : nl + 1);
    while (!line.empty() && (line.back() == ',' || line.back() == ' ' || line.back() == '\r')) line.remove_suffix(1);
    if (!line.starts_with('{') || line.starts_with("{\"items\"")) continue;
    simdjson::dom::element e;
    WaitingSummary w;
    if (parser.parse(line.data(), line.size()).get(e) == simdjson::SUCCESS && e.is_object() && ParseItem(e, &w)) {
      out.items.push_back(std::move(w));
    }
  }
  return out;
}

void SaveWaiting(const std::string& path, const std::vector<WaitingSummary>& items) {
  if (items.empty()) {
    ::unlink(path.c_str());
    return;
  }
  // One item per line: what ReadWaiting can recover from a damaged file.
  std::string out = "{\"items\":[\n";
  for (size_t n = 0; n < items.size(); ++n) {
    const WaitingSummary& i = items[n];
    JsonWriter w;
    w.BeginObject().Key("text").String(i.text).Key("from").String(i.from).Key("not_synced").Bool(i.not_synced);
    if (i.refused) w.Key("refused").Bool(true);
    w.Key("tries").UInt(i.tries).Key("next_attempt").Int(i.next_attempt).EndObject();
    out += w.Take();
    out += n + 1 < items.size() ? ",\n" : "\n";
  }
  out += "]}\n";
  Status st = MakeDirs(DirName(path));
  if (st.ok()) st = WriteFileAtomic(path, out, 0600, Durability::kAtomicOnly);
  if (!st.ok()) spdlog::warn("cannot record waiting summaries ({}); they are recorded again when their lines are read", st.ToString());
}

/// The items of a waiting file, under the state lock. A damaged file is
/// reported, renamed to <path>.corrupt-<unix time> (kept for a bug report,
/// never read again) and replaced by what could be recovered from it.
std::vector<WaitingSummary> LoadWaiting(const std::string& path, int64_t now) {
  LoadedWaiting loaded = ReadWaiting(path);
  if (!loaded.damaged) return std::move(loaded.items);
  const std::string aside = path + ".corrupt-" + std::to_string(now);
  if (::rename(path.c_str(), aside.c_str()) != 0) {
    const int err = errno;
    spdlog::warn("{}: damaged ({}) and cannot be set aside ({}); {} summar{} recovered from it, the rest is lost — "
                 "check the disk and the directory's permissions",
                 path, loaded.problem, std::strerror(err), loaded.items.size(),
                 loaded.items.size() == 1 ? "y" : "ies");
  } else {
    spdlog::warn("{}: damaged ({}); {} summar{} recovered from it and kept waiting, the file itself is kept as {} — "
                 "nothing needs doing, but report it if it happens again",
                 path, loaded.problem, loaded.items.size(), loaded.items.size() == 1 ? "y" : "ies", aside);
  }
  SaveWaiting(path, loaded.items);
  return std::move(loaded.items);
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

/// Applies one PATCH outcome to its waiting item, and logs it. `me`: the
/// sending session; `path`: the target's waiting file.
void NoteOutcome(const std::string& me, const std::string& target, const std::string& path, const Status& status,
                 WaitingSummary* w, int64_t now) {
  switch (status.kind()) {
    case Status::Kind::kOk:
      spdlog::info("session {}: summary of session {} sent ({} bytes)", me, target, w->text.size());
      return;
    case Status::Kind::kNotFound:
      w->not_synced = true;
      spdlog::info("session {}: session {} is not on the backend yet; its summary is sent after it syncs", me, target);
      return;
    case Status::Kind::kInvalidInput:
      // PROTOCOL.md: 400 is a validation error; the same body would be
      // refused again, so it is not retried, but it is kept: nothing is lost.
      w->refused = true;
      spdlog::warn("session {}: the backend refused a summary of session {} ({}, {} bytes); it is not sent again and "
                   "is kept in {} — a tsync bug or a backend with other limits: please report it",
                   me, target, status.ToString(), w->text.size(), path);
      return;
    default:
      w->not_synced = false;
      w->tries += 1;
      w->next_attempt = now + Backoff(w->tries);
      if (status.kind() == Status::Kind::kAuth) {
        spdlog::warn("session {}: the backend refused to take a summary of session {} ({}); no more summaries are "
                     "sent in this pass, they wait and are retried later",
                     me, target, status.ToString());
      } else {
        spdlog::warn("session {}: the summary of session {} is not sent yet ({}); retried later", me, target,
                     status.ToString());
      }
  }
}

}  // namespace

size_t WaitingSummaryCount(const std::string& dest_dir, const std::string& session_id) {
  const LoadedWaiting loaded = ReadWaiting(dest_dir + "/summary-links/waiting/" + session_id + ".json");
  return static_cast<size_t>(
      std::count_if(loaded.items.begin(), loaded.items.end(), [](const WaitingSummary& w) { return !w.refused; }));
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

bool SummaryLinks::Claim(std::string_view leaf_uuid, const MetadataText& summary) {
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
  const std::string text = SendableMetadata(redactor_, summary, uploader::kMaxSummaryBytes);
  if (text.empty()) return false;
  for (const std::string& target : it->second) Record(target, text);
  return false;
}

void SummaryLinks::Record(const std::string& target, const std::string& text) {
  UniqueFd lock = LockDir(Dir());
  if (WasSent(Dir() + "/sent/" + target, TextHash(text))) return;
  const std::string path = Dir() + "/waiting/" + target + ".json";
  std::vector<WaitingSummary> items = LoadWaiting(path, Now());
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
        for (const WaitingSummary& w : ReadWaiting(Dir() + "/waiting/" + std::string(name)).items) {
          if (w.from == session_.session_id) targets_.insert(target);
        }
      }
      ::closedir(dir);
    }
  }
  if (!SendWaiting(sink, session_.session_id, true)) return;
  const std::set<std::string> targets = targets_;
  for (const std::string& t : targets) {
    if (t != session_.session_id && !SendWaiting(sink, t, false)) return;
  }
}

bool SummaryLinks::SendWaiting(uploader::Sink& sink, const std::string& target, bool for_us) {
  const std::string path = Dir() + "/waiting/" + target + ".json";
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    targets_.erase(target);
    return true;
  }
  // Held from reading what waits to recording what was acknowledged: the
  // source's passes and the target's own run under different session locks
  // (agent/session_lock.h), and each (target, text) must go out once. The
  // state lock is only taken, briefly, inside it.
  const UniqueFd sending = LockFile(SendLockPath(Dir(), target));
  const std::string sent_path = Dir() + "/sent/" + target;
  const int64_t now = Now();
  std::vector<WaitingSummary> items;
  {
    UniqueFd lock = LockDir(Dir());
    items = LoadWaiting(path, now);
  }
  std::vector<std::pair<std::string, Status>> results;
  bool stop = false;
  for (const WaitingSummary& w : items) {
    const bool due = !w.refused && (for_us || (w.from == session_.session_id && !w.not_synced && w.next_attempt <= now));
    if (!due || WasSent(sent_path, TextHash(w.text))) continue;
    Status status = sink.SetSummary(target, w.text);
    const Status::Kind kind = status.kind();
    results.emplace_back(w.text, std::move(status));
    if (kind == Status::Kind::kTransient) break;  // the rest of this session's wait
    if (kind == Status::Kind::kAuth) {
      stop = true;  // every other PATCH would be refused the same way: all of them wait
      break;
    }
  }

  UniqueFd lock = LockDir(Dir());
  items = LoadWaiting(path, now);  // Record may have added some meanwhile
  // Acknowledged before (a process that stopped between the two writes): done.
  std::erase_if(items, [&](const WaitingSummary& w) { return WasSent(sent_path, TextHash(w.text)); });
  for (const auto& [text, status] : results) {
    auto it = std::find_if(items.begin(), items.end(), [&](const WaitingSummary& w) { return w.text == text; });
    if (it == items.end()) continue;
    NoteOutcome(session_.session_id, target, path, status, &*it, now);
    if (status.ok()) {
      MarkSent(sent_path, TextHash(text));
      items.erase(it);
      ++sent_;
    }
  }
  SaveWaiting(path, items);
  if (std::none_of(items.begin(), items.end(),
                   [&](const WaitingSummary& w) { return w.from == session_.session_id && !w.refused; })) {
    targets_.erase(target);
  }
  return !stop;
}

}  // namespace tsync::agent
