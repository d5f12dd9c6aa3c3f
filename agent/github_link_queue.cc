#include "agent/github_link_queue.h"

#include <fcntl.h>
#include <simdjson.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <set>

#include "base/fs.h"
#include "base/json.h"

namespace tsync::agent {
namespace {

constexpr size_t kMaxQueueBytes = 4 << 20;
constexpr uint32_t kMaxNotFoundTries = 5;
constexpr uint32_t kMaxTries = 50;

std::vector<std::string_view> Lines(std::string_view text) {
  std::vector<std::string_view> out;
  while (!text.empty()) {
    const size_t nl = text.find('\n');
    out.push_back(text.substr(0, nl));
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
  return out;
}

std::string QueuePath(const std::string& dest_dir, const std::string& session_id) {
  return GithubLinkDir(dest_dir) + "/" + session_id + ".jsonl";
}
std::string SentPath(const std::string& dest_dir, const std::string& session_id) {
  return GithubLinkDir(dest_dir) + "/" + session_id + ".sent";
}

struct QueuedLink {
  uploader::GithubLink link;
  uint32_t tries = 0;
};

std::string EncodeQueued(const QueuedLink& q) {
  JsonWriter w;
  w.BeginObject().Key("url").String(q.link.url).Key("title").String(q.link.title);
  w.Key("source").String(q.link.source).Key("link_type").String(q.link.link_type);
  w.Key("tries").UInt(q.tries).EndObject();
  return w.Take() + "\n";
}

std::vector<QueuedLink> DecodeQueue(std::string_view text) {
  std::vector<QueuedLink> out;
  simdjson::dom::parser parser;
  for (std::string_view line : Lines(text)) {
    simdjson::dom::object obj;
    if (line.empty() || parser.parse(line.data(), line.size(), true).get(obj) != simdjson::SUCCESS) continue;
    QueuedLink q;
    std::string_view s;
    uint64_t tries = 0;
    if (obj["url"].get(s) != simdjson::SUCCESS || !ParseGithubLinkUrl(s)) continue;
    q.link.url = s;
    if (obj["title"].get(s) == simdjson::SUCCESS) q.link.title = s;
    if (obj["source"].get(s) == simdjson::SUCCESS && (s == "cli_hook" || s == "manual")) q.link.source = s;
    if (obj["link_type"].get(s) == simdjson::SUCCESS) q.link.link_type = s;
    if (obj["tries"].get(tries) == simdjson::SUCCESS) q.tries = static_cast<uint32_t>(std::min<uint64_t>(tries, kMaxTries));
    // One entry per URL: a later one adds a title or makes it manual.
    auto same = std::find_if(out.begin(), out.end(), [&](const QueuedLink& o) { return o.link.url == q.link.url; });
    if (same == out.end()) {
      out.push_back(std::move(q));
    } else {
      if (!q.link.title.empty()) same->link.title = q.link.title;
      if (q.link.source == "manual") same->link.source = "manual";
    }
  }
  return out;
}

/// Appends under an exclusive flock (the drain takes the same lock).
Status AppendLocked(const std::string& path, std::string_view data) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600));
  if (!fd.valid()) return Status::Errno("cannot open " + path, errno);
  if (::flock(fd.get(), LOCK_EX) != 0) return Status::Errno("cannot lock " + path, errno);
  return WriteAll(fd.get(), data, path);
}

/// Reads and empties the queue under the lock (held for microseconds).
std::string TakeQueue(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CLOEXEC));
  if (!fd.valid() || ::flock(fd.get(), LOCK_EX) != 0) return "";
  struct stat st;
  if (::fstat(fd.get(), &st) != 0 || st.st_size <= 0) return "";
  std::string text(static_cast<size_t>(std::min<off_t>(st.st_size, kMaxQueueBytes)), '\0');
  Result<size_t> n = PreadFull(fd.get(), text.data(), text.size(), 0);
  if (!n.ok()) return "";
  text.resize(*n);
  if (::ftruncate(fd.get(), 0) != 0) return "";  // keep it queued rather than send it twice
  return text;
}

std::set<std::string> LoadSent(const std::string& dest_dir, const std::string& session_id) {
  std::set<std::string> sent;
  Result<std::string> text = ReadFile(SentPath(dest_dir, session_id), kMaxQueueBytes);
  if (!text.ok()) return sent;
  for (std::string_view line : Lines(*text)) {
    if (!line.empty()) sent.emplace(line);
  }
  return sent;
}

}  // namespace

std::string GithubLinkDir(const std::string& dest_dir) { return dest_dir + "/github-links"; }

Status QueueGithubLinks(const std::string& dest_dir, const std::string& session_id,
                        const std::vector<uploader::GithubLink>& links) {
  if (links.empty()) return Status::Ok();
  if (Status st = MakeDirs(GithubLinkDir(dest_dir)); !st.ok()) return st;
  std::string data;
  for (const uploader::GithubLink& l : links) data += EncodeQueued(QueuedLink{l, 0});
  return AppendLocked(QueuePath(dest_dir, session_id), data);
}

size_t QueuedGithubLinkCount(const std::string& dest_dir, const std::string& session_id) {
  Result<std::string> text = ReadFile(QueuePath(dest_dir, session_id), kMaxQueueBytes);
  return text.ok() ? DecodeQueue(*text).size() : 0;
}

void RecordSentGithubLink(const std::string& dest_dir, const std::string& session_id, const std::string& url) {
  if (!MakeDirs(GithubLinkDir(dest_dir)).ok()) return;
  if (Status st = AppendLocked(SentPath(dest_dir, session_id), url + "\n"); !st.ok()) {
    spdlog::debug("session {}: cannot remember a sent GitHub link ({})", session_id, st.ToString());
  }
}

LinkSendResult SendQueuedGithubLinks(const std::string& dest_dir, const std::string& session_id,
                                     const std::string& backend_session_id, uploader::Sink& sink,
                                     const redact::Redactor& redactor) {
  LinkSendResult result;
  const std::string path = QueuePath(dest_dir, session_id);
  struct stat st;
  if (::stat(path.c_str(), &st) != 0 || st.st_size == 0 || backend_session_id.empty()) return result;
  std::vector<QueuedLink> queue = DecodeQueue(TakeQueue(path));
  if (queue.empty()) return result;
  const std::set<std::string> sent = LoadSent(dest_dir, session_id);
  std::string keep;
  bool stop = false;  // the backend is down or refuses us: the rest waits
  for (QueuedLink& q : queue) {
    if (q.link.source != "manual" && sent.count(q.link.url) > 0) {
      ++result.skipped;
      continue;
    }
    if (stop) {
      keep += EncodeQueued(q);
      ++result.kept;
      continue;
    }
    uploader::GithubLink link = q.link;
    redact::RedactResult red = redactor.RedactText(link.title);
    link.title = CleanLinkTitle(red.text());
    const Status status = sink.AddGithubLink(backend_session_id, link);
    if (status.ok()) {
      RecordSentGithubLink(dest_dir, session_id, q.link.url);
      ++result.sent;
      continue;
    }
    ++q.tries;
    const bool refused = status.kind() == Status::Kind::kInvalidInput;
    const bool gone = status.kind() == Status::Kind::kNotFound && q.tries >= kMaxNotFoundTries;
    if (refused || gone || q.tries >= kMaxTries) {
      spdlog::warn("session {}: a GitHub {} link was dropped: {}", session_id, q.link.link_type, status.ToString());
      ++result.dropped;
      continue;
    }
    if (status.kind() != Status::Kind::kNotFound) stop = true;
    keep += EncodeQueued(q);
    ++result.kept;
  }
  if (!keep.empty()) {
    if (Status s = AppendLocked(path, keep); !s.ok()) {
      spdlog::error("session {}: {} GitHub link(s) could not be queued again ({})", session_id, result.kept,
                    s.ToString());
    }
  }
  if (result.sent > 0) spdlog::info("session {}: {} GitHub link(s) sent", session_id, result.sent);
  return result;
}

}  // namespace tsync::agent
