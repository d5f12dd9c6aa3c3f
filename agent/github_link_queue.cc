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

/// The entries of `text`; `unreadable` counts the lines that are none (a torn
/// record, a hand edit).
std::vector<QueuedLink> DecodeQueue(std::string_view text, size_t* unreadable = nullptr) {
  std::vector<QueuedLink> out;
  simdjson::dom::parser parser;
  for (std::string_view line : Lines(text)) {
    if (line.empty()) continue;
    simdjson::dom::object obj;
    QueuedLink q;
    std::string_view s;
    uint64_t tries = 0;
    if (parser.parse(line.data(), line.size(), true).get(obj) != simdjson::SUCCESS ||
        obj["url"].get(s) != simdjson::SUCCESS || !ParseGithubLinkUrl(s)) {
      if (unreadable) ++*unreadable;
      continue;
    }
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

/// `path` opened with `flags` and locked exclusively — the file `path` names
/// once the lock is held: a drain replaces the queue by rename, and a lock on
/// the file it replaced would guard nothing, so a waiter that finds itself
/// holding an old file opens the path again.
Result<UniqueFd> OpenLocked(const std::string& path, int flags) {
  for (int attempt = 0; attempt < 1000; ++attempt) {
    UniqueFd fd(::open(path.c_str(), flags | O_CLOEXEC, 0600));
    if (!fd.valid()) return Status::Errno("cannot open " + path, errno);
    if (::flock(fd.get(), LOCK_EX) != 0) return Status::Errno("cannot lock " + path, errno);
    struct stat held, named;
    if (::fstat(fd.get(), &held) != 0) return Status::Errno("cannot stat " + path, errno);
    if (::stat(path.c_str(), &named) == 0 && named.st_dev == held.st_dev && named.st_ino == held.st_ino) return fd;
  }
  return Status::Io(path + " kept being replaced while tsync waited for its lock");
}

/// Appends under the lock (the drain takes the same lock), after a newline
/// when the file ends without one (a writer died mid-record): the torn record
/// stays one unreadable line instead of swallowing this one.
Status AppendLocked(const std::string& path, std::string_view data) {
  Result<UniqueFd> fd = OpenLocked(path, O_RDWR | O_CREAT | O_APPEND);
  if (!fd.ok()) return fd.status();
  struct stat st;
  char last = '\n';
  if (::fstat(fd->get(), &st) == 0 && st.st_size > 0) {
    if (Result<size_t> n = PreadFull(fd->get(), &last, 1, static_cast<uint64_t>(st.st_size - 1)); !n.ok()) last = '\n';
  }
  if (last != '\n') return WriteAll(fd->get(), "\n" + std::string(data), path);
  return WriteAll(fd->get(), data, path);
}

/// Bytes [from, to) of the open file.
Result<std::string> ReadRange(int fd, uint64_t from, uint64_t to, const std::string& path) {
  std::string text(to > from ? static_cast<size_t>(to - from) : 0, '\0');
  Result<size_t> n = PreadFull(fd, text.data(), text.size(), from);
  if (!n.ok()) return n.status();
  if (*n != text.size()) return Status::Io(path + " shrank while it was locked");
  return text;
}

/// One round of a drain: the records of the queue after `from`, read under
/// the queue's lock and left in the file until Rewrite.
struct QueueRound {
  std::string text;          // whole records (and a torn one, when a writer died)
  uint64_t from = 0;         // where the round starts: the entries kept by earlier rounds come before
  uint64_t end = 0;          // where it ends: later bytes were appended since, or wait for the next round
  bool oversized = false;    // one record longer than kMaxQueueBytes, not tsync's: skipped
  dev_t dev = 0;
  ino_t ino = 0;
};

/// The records after `from`, at most kMaxQueueBytes of them (cut at a
/// newline). Everything in the file is read under the lock, so an
/// unterminated last record is not being written: it is a dead writer's.
Result<QueueRound> ReadRound(const std::string& path, uint64_t from) {
  Result<UniqueFd> fd = OpenLocked(path, O_RDONLY);
  if (!fd.ok()) return fd.status();
  struct stat st;
  if (::fstat(fd->get(), &st) != 0) return Status::Errno("cannot stat " + path, errno);
  QueueRound round;
  round.from = round.end = from;
  round.dev = st.st_dev;
  round.ino = st.st_ino;
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  if (size <= from) return round;
  Result<std::string> text = ReadRange(fd->get(), from, std::min<uint64_t>(size, from + kMaxQueueBytes), path);
  if (!text.ok()) return text.status();
  round.text = std::move(*text);
  round.end = from + round.text.size();
  if (round.end == size) return round;
  if (const size_t nl = round.text.rfind('\n'); nl != std::string::npos) {
    round.text.resize(nl + 1);
    round.end = from + nl + 1;
    return round;
  }
  // No newline in kMaxQueueBytes: skip to the end of that record.
  round.oversized = true;
  round.text.clear();
  std::string buf(64 * 1024, '\0');
  while (round.end < size) {
    Result<size_t> n = PreadFull(fd->get(), buf.data(), buf.size(), round.end);
    if (!n.ok()) return n.status();
    const std::string_view chunk(buf.data(), *n);
    const size_t nl = chunk.find('\n');
    round.end += nl == std::string_view::npos ? *n : nl + 1;
    if (nl != std::string_view::npos || *n == 0) break;
  }
  return round;
}

/// Replaces the round's records with `keep`, under the lock, atomically: the
/// file becomes [entries kept by earlier rounds][keep][what was appended
/// after the round was read]. Returns where the next round starts.
Result<uint64_t> Rewrite(const std::string& path, const QueueRound& round, const std::string& keep) {
  Result<UniqueFd> fd = OpenLocked(path, O_RDWR);
  if (!fd.ok()) return fd.status();
  struct stat st;
  if (::fstat(fd->get(), &st) != 0) return Status::Errno("cannot stat " + path, errno);
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  if (st.st_dev != round.dev || st.st_ino != round.ino || size < round.end) {
    // Not the file the round read (only a drain replaces it, and drains are
    // serialized): add what is kept rather than lose it. A duplicate is
    // merged or skipped by the next drain.
    if (::lseek(fd->get(), 0, SEEK_END) < 0) return Status::Errno("cannot seek in " + path, errno);
    if (Status s = WriteAll(fd->get(), keep, path); !s.ok()) return s;
    return size + keep.size();
  }
  Result<std::string> before = ReadRange(fd->get(), 0, round.from, path);
  Result<std::string> after = ReadRange(fd->get(), round.end, size, path);
  if (!before.ok()) return before.status();
  if (!after.ok()) return after.status();
  const std::string contents = *before + keep + *after;
  if (contents.empty()) {
    if (::ftruncate(fd->get(), 0) != 0) return Status::Errno("cannot empty " + path, errno);
  } else if (Status s = WriteFileAtomic(path, contents, 0600, Durability::kDurable); !s.ok()) {
    return s;
  }
  return round.from + keep.size();
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

namespace {

/// `<session_id>.drain` beside the queue, locked for the whole drain: a
/// watcher and `tsync save` or `sync --pending` draining the same session at
/// once would otherwise both send what they read.
Result<UniqueFd> LockDrain(const std::string& dest_dir, const std::string& session_id) {
  const std::string path = GithubLinkDir(dest_dir) + "/" + session_id + ".drain";
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (!fd.valid()) return Status::Errno("cannot open " + path, errno);
  if (::flock(fd.get(), LOCK_EX) != 0) return Status::Errno("cannot lock " + path, errno);
  return fd;
}

/// Sends one round's links; what stays queued (encoded) goes to `keep`.
/// `stop` is set when the backend is down or refuses us: the rest waits.
void SendRound(std::vector<QueuedLink>& queue, const std::string& dest_dir, const std::string& session_id,
               const std::string& backend_session_id, uploader::Sink& sink, const redact::Redactor& redactor,
               std::set<std::string>& sent, bool& stop, std::string& keep, LinkSendResult& result) {
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
    link.title = SendableLinkTitle(redactor, link.title);
    const Status status = sink.AddGithubLink(backend_session_id, link);
    if (status.ok()) {
      RecordSentGithubLink(dest_dir, session_id, q.link.url);
      sent.insert(q.link.url);
      ++result.sent;
      continue;
    }
    ++q.tries;
    const bool refused = status.kind() == Status::Kind::kInvalidInput;
    const bool gone = status.kind() == Status::Kind::kNotFound && q.tries >= kMaxNotFoundTries;
    if (refused || gone || q.tries >= kMaxTries) {
      spdlog::warn("session {}: a GitHub {} link was dropped after {} tr{}: {}; link it by hand with `tsync link` "
                   "if it should be there",
                   session_id, q.link.link_type, q.tries, q.tries == 1 ? "y" : "ies", status.ToString());
      ++result.dropped;
      continue;
    }
    if (status.kind() != Status::Kind::kNotFound) stop = true;
    keep += EncodeQueued(q);
    ++result.kept;
  }
}

}  // namespace

// A link leaves the queue only after it was sent (and recorded as sent),
// dropped for a logged reason, or found sent before: each round reads the
// queue without emptying it, sends, then rewrites it. A drain killed in
// between leaves the queue as it was, and the next drain skips what the
// sent record holds. Only a kill between the backend's reply and the record
// sends a link twice (an upsert on the server).
LinkSendResult SendQueuedGithubLinks(const std::string& dest_dir, const std::string& session_id,
                                     const std::string& backend_session_id, uploader::Sink& sink,
                                     const redact::Redactor& redactor) {
  LinkSendResult result;
  const std::string path = QueuePath(dest_dir, session_id);
  struct stat st;
  if (::stat(path.c_str(), &st) != 0 || st.st_size == 0 || backend_session_id.empty()) return result;
  Result<UniqueFd> drain = LockDrain(dest_dir, session_id);
  if (!drain.ok()) {
    spdlog::error("session {}: cannot lock the GitHub link queue ({}); its links stay queued for the next sync",
                  session_id, drain.status().ToString());
    return result;
  }
  std::set<std::string> sent = LoadSent(dest_dir, session_id);
  bool stop = false;
  // Rounds of at most kMaxQueueBytes, until the end of the queue — links the
  // hook queues meanwhile included — or until the backend stops taking them.
  for (uint64_t from = 0; !stop;) {
    Result<QueueRound> round = ReadRound(path, from);
    if (!round.ok()) {
      if (::access(path.c_str(), F_OK) == 0) {  // else: gone, nothing to send
        spdlog::error("session {}: cannot read the GitHub link queue ({}); its links stay queued for the next sync",
                      session_id, round.status().ToString());
      }
      break;
    }
    if (round->end == from) break;
    size_t unreadable = 0;
    std::vector<QueuedLink> queue = DecodeQueue(round->text, &unreadable);
    if (unreadable > 0 || round->oversized) {
      spdlog::warn("session {}: {} unreadable line(s) in the GitHub link queue {} were dropped (not written by "
                   "this tsync, or by one that died mid-write)",
                   session_id, unreadable + (round->oversized ? 1 : 0), path);
    }
    std::string keep;
    SendRound(queue, dest_dir, session_id, backend_session_id, sink, redactor, sent, stop, keep, result);
    Result<uint64_t> next = Rewrite(path, *round, keep);
    if (!next.ok()) {
      spdlog::error("session {}: cannot update the GitHub link queue ({}); nothing is lost: links sent now are "
                    "skipped by the next sync, the others stay queued",
                    session_id, next.status().ToString());
      break;
    }
    from = *next;
  }
  if (result.sent > 0) spdlog::info("session {}: {} GitHub link(s) sent", session_id, result.sent);
  return result;
}

}  // namespace tsync::agent
