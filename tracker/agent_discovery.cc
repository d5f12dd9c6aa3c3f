#include "tracker/agent_discovery.h"

#include <fcntl.h>
#include <simdjson.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <optional>
#include <system_error>

#include "base/json_line_parser.h"
#include "base/fs.h"
#include "base/text.h"

namespace tsync::tracker {

namespace fs = std::filesystem;
using simdjson::dom::element;
using simdjson::dom::object;

namespace {

// Probe windows for the old layout's sessionId check: the first line of a 2.0.x agent file is
// the prompt, normally far below 64 KiB; a pasted image can push it into megabytes, so one
// larger read is allowed before giving up (the verdict is cached, so this happens once).
constexpr std::array<size_t, 2> kProbeWindows = {64 * 1024, 4 * 1024 * 1024};
constexpr size_t kMaxPendingIds = 10000;      // a runaway transcript must not grow us forever
constexpr uint64_t kMaxRejectWarnings = 32;   // then debug: one bad id repeated must not flood
constexpr int kMaxScanDepth = 8;              // subagents/ is flat in practice (TRANSCRIPTS.md)

bool IsSafeName(std::string_view s, size_t min_len, size_t max_len) {
  if (s.size() < min_len || s.size() > max_len) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '-';
  });
}

// A rejected id may be attacker-shaped: log only printable ASCII, capped, with the real length.
std::string Printable(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 80)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
  return out + (s.size() > 80 ? "..." : "") + " (" + std::to_string(s.size()) + " bytes)";
}

// "agent-<id>.jsonl" -> "<id>" (unvalidated); nullopt for other names.
std::optional<std::string_view> AgentFileId(std::string_view name) {
  constexpr std::string_view kPrefix = "agent-", kSuffix = ".jsonl";
  if (name.size() <= kPrefix.size() + kSuffix.size() || !name.starts_with(kPrefix) ||
      !name.ends_with(kSuffix)) {
    return std::nullopt;
  }
  return name.substr(kPrefix.size(), name.size() - kPrefix.size() - kSuffix.size());
}

// Appends obj.agentId when obj is an object whose agentId is a string. The view points into
// the parser's document and is consumed before the next parse.
void AddAgentId(element obj, std::vector<std::string_view>* ids) {
  std::string_view id;
  if (obj.type() == simdjson::dom::element_type::OBJECT && !obj["agentId"].get(id)) {
    ids->push_back(id);
  }
}

// The three reference shapes of TRANSCRIPTS.md "Subagent references". A line's own top-level
// `agentId` (every line of an agent file) names the file itself and is deliberately not read.
void CollectReferences(object root, std::vector<std::string_view>* ids) {
  element tool_result;
  if (!root["toolUseResult"].get(tool_result)) AddAgentId(tool_result, ids);  // string: skipped

  simdjson::dom::array blocks;
  if (!root.at_pointer("/message/content").get(blocks)) {
    for (element block : blocks) {
      element nested;
      if (!block.at_pointer("/content/toolUseResult").get(nested)) AddAgentId(nested, ids);
    }
  }

  std::string_view type, data_type;
  element data;
  if (!root["type"].get(type) && type == "progress" && !root["data"].get(data) &&
      !data["type"].get(data_type) && data_type == "agent_progress") {
    AddAgentId(data, ids);
  }
}

}  // namespace

bool IsValidAgentId(std::string_view id) { return IsSafeName(id, 6, 64); }
bool IsValidRunId(std::string_view id) { return IsSafeName(id, 1, 128); }

struct AgentDiscovery::LineParser : JsonLineParser {};

struct AgentDiscovery::Candidate {
  std::string path;  // as found (not resolved)
  std::string file_name;
  std::string id;    // agent id; empty for a journal
  FileType type = FileType::kAgent;
  bool workflow = false;
  bool old_layout = false;  // needs the sessionId check
};

AgentDiscovery::AgentDiscovery(std::string project_dir, std::string session_id)
    : project_dir_(std::move(project_dir)),
      session_id_(std::move(session_id)),
      parser_(std::make_unique<LineParser>()) {
  while (project_dir_.size() > 1 && project_dir_.back() == '/') project_dir_.pop_back();
  // The session id builds <project>/<session>/subagents; real ones are UUIDs.
  session_dir_ok_ = IsValidRunId(session_id_);
  if (!session_dir_ok_) {
    spdlog::warn("agent discovery: session id {} is not path-safe; only the old layout is scanned",
                 Printable(session_id_));
  }
}

AgentDiscovery::~AgentDiscovery() = default;
AgentDiscovery::AgentDiscovery(AgentDiscovery&&) noexcept = default;
AgentDiscovery& AgentDiscovery::operator=(AgentDiscovery&&) noexcept = default;

void AgentDiscovery::ObserveLine(std::string_view line) {
  // Every reference carries "agentId" and sits under "toolUseResult" or an "agent_progress"
  // event. Every line of an agent file has an "agentId" envelope, so the second test keeps us
  // from parsing those (1 MiB+ image lines included). Real files never escape key names.
  if (!ContainsText(line, "\"agentId\"")) return;
  if (!ContainsText(line, "\"toolUseResult\"") && !ContainsText(line, "\"agent_progress\"")) return;

  object root;
  if (auto err = parser_->Parse(line).get(root)) {
    spdlog::debug("agent discovery: skipping a {}-byte line: {}", line.size(),
                  simdjson::error_message(err));
    parser_->MaybeShrink();
    return;
  }
  std::vector<std::string_view> ids;
  CollectReferences(root, &ids);
  for (std::string_view id : ids) Reference(id);
  parser_->MaybeShrink();
}

void AgentDiscovery::Reference(std::string_view id) {
  if (!IsValidAgentId(id)) return Reject("referenced", id);
  auto [it, fresh] = referenced_.emplace(id);
  if (!fresh || reported_ids_.count(*it)) return;  // cycles and repeats are harmless
  if (pending_.size() >= kMaxPendingIds) {
    spdlog::warn("agent discovery: {} agent ids pending; not tracking {} (the scan may still "
                 "find it)", pending_.size(), *it);
    return;
  }
  pending_.push_back(*it);
}

void AgentDiscovery::Reject(std::string_view where, std::string_view id) {
  ++rejected_ids_;
  if (rejected_ids_ <= kMaxRejectWarnings) {
    spdlog::warn("agent discovery: rejected unsafe agent id {} ({}); ids must match "
                 "[A-Za-z0-9_-]{{6,64}}", Printable(id), where);
  } else {
    spdlog::debug("agent discovery: rejected unsafe agent id {} ({})", Printable(id), where);
  }
}

// Files on disk are seen again on every Poll(); count and log each bad one only once.
void AgentDiscovery::RejectOnce(const std::string& path, std::string_view id) {
  if (warned_paths_.insert(path).second) Reject("file " + Printable(path), id);
}

void AgentDiscovery::WarnOnce(const std::string& path, const std::string& why) {
  if (warned_paths_.insert(path).second) {
    spdlog::warn("agent discovery: refusing {}: {}", Printable(path), why);
  }
}

std::vector<DiscoveredFile> AgentDiscovery::Poll() {
  std::vector<DiscoveredFile> out;
  if (!EnsureProjectReal()) return out;
  ++polls_;
  PollPending(&out);

  std::vector<Candidate> found;
  ScanSubagents(&found);
  ScanOldLayout(&found);
  std::sort(found.begin(), found.end(),
            [](const Candidate& a, const Candidate& b) { return a.path < b.path; });
  for (const Candidate& c : found) OfferScanned(c, &out);

  // An id whose file the scan found (a workflow agent, say) is no longer waited for.
  std::erase_if(pending_, [this](const std::string& id) { return reported_ids_.count(id) > 0; });
  return out;
}

bool AgentDiscovery::EnsureProjectReal() {
  if (project_real_.empty()) {
    std::error_code ec;
    fs::path real = fs::canonical(project_dir_, ec);
    if (ec) {
      spdlog::debug("agent discovery: project dir {} not resolvable yet", project_dir_);
      return false;
    }
    project_real_ = real.string();
  }
  // The transcript is uploaded as such; an agent-*.jsonl symlink to it must not be a 2nd copy.
  if (!transcript_seeded_ && session_dir_ok_) {
    std::error_code ec;
    fs::path real = fs::canonical(project_dir_ + "/" + session_id_ + ".jsonl", ec);
    if (!ec) reported_paths_.insert(real.string());
    transcript_seeded_ = !ec;
  }
  return true;
}

// Referenced ids: the 2.1.x path first, then the old layout beside the session
// (TRANSCRIPTS.md "Layout on disk"). An id whose candidates exist but are all refused is
// dropped (logged); one with no file yet stays pending, in reference order.
void AgentDiscovery::PollPending(std::vector<DiscoveredFile>* out) {
  std::deque<std::string> still;
  for (std::string& id : pending_) {
    std::string name = "agent-" + id + ".jsonl";
    std::vector<std::string> paths;
    if (session_dir_ok_) paths.push_back(project_dir_ + "/" + session_id_ + "/subagents/" + name);
    paths.push_back(project_dir_ + "/" + name);

    bool settled = reported_ids_.count(id) > 0, refused = false;
    for (size_t i = 0; i < paths.size() && !settled; ++i) {
      if (settled_paths_.count(paths[i])) {
        settled = true;
        break;
      }
      std::string canonical;
      FileId file_id;
      Resolution r = Resolve(paths[i], &canonical, &file_id);
      refused |= r == Resolution::kRefused;
      if (r != Resolution::kOk) continue;
      Take(Candidate{paths[i], name, id, FileType::kAgent, false, false}, canonical, out);
      settled = true;
    }
    if (!settled && !refused) still.push_back(std::move(id));
  }
  pending_ = std::move(still);
}

namespace {

// Split "a/b/c" (relative to subagents/) into components.
std::vector<std::string_view> Components(std::string_view rel) {
  std::vector<std::string_view> parts;
  for (size_t pos = 0; pos <= rel.size();) {
    size_t slash = rel.find('/', pos);
    if (slash == std::string_view::npos) slash = rel.size();
    parts.push_back(rel.substr(pos, slash - pos));
    pos = slash + 1;
  }
  return parts;
}

// Which directories under subagents/ can hold files we want.
bool WantDir(const std::vector<std::string_view>& parts) {
  if (parts.back() == "tool-results" || parts.size() >= kMaxScanDepth) return false;
  if (parts[0] != "workflows") return true;
  return parts.size() == 1 || (parts.size() == 2 && IsValidRunId(parts[1]));
}

}  // namespace

// Recursive walk of <project>/<session>/subagents/ (TRANSCRIPTS.md "Layout on disk").
// Directory symlinks are not followed (recursive_directory_iterator's default).
void AgentDiscovery::ScanSubagents(std::vector<Candidate>* found) {
  if (!session_dir_ok_) return;
  const std::string root = project_dir_ + "/" + session_id_ + "/subagents";
  std::error_code ec;
  fs::recursive_directory_iterator it(root, fs::directory_options::skip_permission_denied, ec);
  for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    std::string path = it->path().string();
    if (path.size() <= root.size() + 1 || settled_paths_.count(path)) continue;
    std::vector<std::string_view> parts = Components(std::string_view(path).substr(root.size() + 1));
    std::error_code sec;
    fs::file_status st = it->symlink_status(sec);
    if (sec) continue;
    if (fs::is_directory(st)) {
      if (!WantDir(parts)) it.disable_recursion_pending();
      continue;
    }
    if (!fs::is_regular_file(st) && !fs::is_symlink(st)) continue;

    std::string_view name = parts.back();
    std::optional<std::string_view> id = AgentFileId(name);
    bool workflow = parts[0] == "workflows";
    if (workflow && (parts.size() != 3 || !IsValidRunId(parts[1]))) continue;
    if (workflow && name == "journal.jsonl") {
      found->push_back({path, "subagents/" + std::string(parts[0]) + "/" + std::string(parts[1]) +
                                  "/journal.jsonl",
                        "", FileType::kWorkflowJournal, true, false});
      continue;
    }
    if (!id) continue;  // *.meta.json and anything else
    if (!IsValidAgentId(*id)) {
      RejectOnce(path, *id);
      continue;
    }
    std::string file_name = workflow ? "subagents/workflows/" + std::string(parts[1]) + "/" +
                                           std::string(name)
                                     : std::string(name);
    found->push_back({path, std::move(file_name), std::string(*id), FileType::kAgent, workflow,
                      false});
  }
}

// Old layout (2.0.x): agent-<id>.jsonl beside the session; ownership is decided later by the
// sessionId of its lines.
void AgentDiscovery::ScanOldLayout(std::vector<Candidate>* found) {
  std::error_code ec;
  for (fs::directory_iterator it(project_dir_, ec); !ec && it != fs::directory_iterator();
       it.increment(ec)) {
    std::string name = it->path().filename().string();
    std::optional<std::string_view> id = AgentFileId(name);
    if (!id) continue;
    std::string path = project_dir_ + "/" + name;
    if (settled_paths_.count(path)) continue;
    if (!IsValidAgentId(*id)) {
      RejectOnce(path, *id);
      continue;
    }
    std::error_code sec;
    fs::file_status st = it->symlink_status(sec);
    if (sec || (!fs::is_regular_file(st) && !fs::is_symlink(st))) continue;
    found->push_back({path, name, std::string(*id), FileType::kAgent, false, true});
  }
}

void AgentDiscovery::OfferScanned(const Candidate& c, std::vector<DiscoveredFile>* out) {
  if (settled_paths_.count(c.path)) return;
  std::string canonical;
  FileId file_id;
  if (Resolve(c.path, &canonical, &file_id) != Resolution::kOk) return;
  if (c.old_layout && !OldLayoutMatches(c.path, canonical, file_id)) return;
  Take(c, canonical, out);
}

const std::string* AgentDiscovery::RealDir(const std::string& dir) {
  // A stat once per Poll() keeps the cache honest: a directory replaced
  // since by a symlink to elsewhere leads to another inode and is resolved
  // again.
  auto it = real_dirs_.find(dir);
  if (it != real_dirs_.end() && it->second.checked_in_poll == polls_) return &it->second.real;
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) return nullptr;
  const auto dev = static_cast<uint64_t>(st.st_dev), ino = static_cast<uint64_t>(st.st_ino);
  if (it == real_dirs_.end() || it->second.dev != dev || it->second.ino != ino) {
    char* real = ::realpath(dir.c_str(), nullptr);
    if (real == nullptr) return nullptr;
    RealDirEntry entry{real, 0, 0, 0};
    std::free(real);
    struct stat real_st {};
    if (::stat(entry.real.c_str(), &real_st) != 0) return nullptr;
    entry.dev = static_cast<uint64_t>(real_st.st_dev);
    entry.ino = static_cast<uint64_t>(real_st.st_ino);
    if (entry.dev != dev || entry.ino != ino) return nullptr;  // changed while we looked: the slow path decides
    it = real_dirs_.insert_or_assign(dir, std::move(entry)).first;
  }
  it->second.checked_in_poll = polls_;
  return &it->second.real;
}

// realpath() + containment + regular-file check: the only gate between a name found on disk or
// in a transcript and a file we upload.
AgentDiscovery::Resolution AgentDiscovery::Resolve(const std::string& path,
                                                   std::string* canonical, FileId* id) {
  // A regular file, not a symlink, in a directory resolved before: its
  // realpath is the directory's plus its name, and lstat already has its
  // identity — one lstat instead of a readlink per path component.
  // (`save --all` resolves every old-layout agent file of a project once for
  // each session there.)
  struct stat st {};
  const size_t slash = path.rfind('/');
  const std::string* dir = nullptr;
  const bool plain = slash != std::string::npos && slash > 0 && ::lstat(path.c_str(), &st) == 0 &&
                     S_ISREG(st.st_mode) && (dir = RealDir(path.substr(0, slash))) != nullptr;
  if (plain) {
    *canonical = *dir + path.substr(slash);
  } else {
    char* real = ::realpath(path.c_str(), nullptr);
    if (real == nullptr) {
      if (errno == ENOENT || errno == ENOTDIR) return Resolution::kAbsent;  // maybe later
      WarnOnce(path, std::string("realpath: ") + std::strerror(errno));
      return Resolution::kRefused;
    }
    canonical->assign(real);
    std::free(real);
  }
  if (!PathIsInside(*canonical, project_real_)) {
    WarnOnce(path, "it resolves outside the project directory " + project_real_);
    return Resolution::kRefused;
  }
  if (!plain) {
    if (::stat(canonical->c_str(), &st) != 0) return Resolution::kAbsent;  // raced with unlink
    if (!S_ISREG(st.st_mode)) {
      WarnOnce(path, "not a regular file");
      return Resolution::kRefused;
    }
  }
  *id = FileId{static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino),
               static_cast<uint64_t>(st.st_size)};
  return Resolution::kOk;
}

// Reports `c` unless the same file (canonical path) or the same backend file_name was reported
// already: two files must never share one file_name, first wins (PROTOCOL.md /sync/chunk).
void AgentDiscovery::Take(const Candidate& c, const std::string& canonical,
                          std::vector<DiscoveredFile>* out) {
  settled_paths_.insert(c.path);
  if (reported_paths_.count(canonical)) {
    spdlog::debug("agent discovery: {} is a file already reported", c.path);
    return;
  }
  if (reported_names_.count(c.file_name)) {
    WarnOnce(c.path, "file_name " + c.file_name + " already belongs to another file");
    return;
  }
  reported_paths_.insert(canonical);
  reported_names_.insert(c.file_name);
  if (!c.id.empty()) reported_ids_.insert(c.id);
  probes_.erase(c.path);
  out->push_back(DiscoveredFile{canonical, c.file_name, c.type, c.workflow});
}

namespace {

// The session an old-layout agent file belongs to, shared by every
// AgentDiscovery of the process: `tsync save --all` discovers each session of
// a project in turn, and each would otherwise open and parse the head of every
// agent file beside it. Keyed by canonical path and (dev, inode): a file's
// first sessionId never changes, and a replaced file is another inode.
class SharedOwners {
 public:
  std::optional<std::string> Find(const std::string& canonical, uint64_t dev, uint64_t ino) {
    std::lock_guard lock(mu_);
    auto it = owners_.find(canonical);
    if (it == owners_.end() || it->second.dev != dev || it->second.ino != ino) return std::nullopt;
    return it->second.session_id;
  }
  void Put(const std::string& canonical, uint64_t dev, uint64_t ino, std::string session_id) {
    std::lock_guard lock(mu_);
    owners_[canonical] = Owner{dev, ino, std::move(session_id)};
  }

 private:
  struct Owner {
    uint64_t dev, ino;
    std::string session_id;  // "" when the head names none (it is nobody's)
  };
  std::mutex mu_;
  std::unordered_map<std::string, Owner> owners_;  // guarded by mu_
};

SharedOwners& Owners() {
  static SharedOwners owners;
  return owners;
}

}  // namespace

// Cached per (path, dev, inode): other sessions' agent files are read once, not every Poll(),
// and once per process whichever session reads them first (SharedOwners).
// An undecided file (no complete line with a sessionId yet) is re-read only when it grows.
bool AgentDiscovery::OldLayoutMatches(const std::string& path, const std::string& canonical,
                                      const FileId& id) {
  ProbeVerdict& v = probes_[path];
  if (v.id.dev == id.dev && v.id.ino == id.ino && v.id.ino != 0) {
    if (v.state != Probe::kUndecided) return v.state == Probe::kMatch;
    if (v.id.size == id.size) return false;
  }
  Probe state = Probe::kUndecided;
  if (std::optional<std::string> owner = Owners().Find(canonical, id.dev, id.ino)) {
    state = *owner == session_id_ ? Probe::kMatch : Probe::kOther;
  } else {
    std::string found;
    state = ProbeSessionId(canonical, id, &found);
    if (state != Probe::kUndecided) Owners().Put(canonical, id.dev, id.ino, std::move(found));
  }
  v = ProbeVerdict{id, state};
  return v.state == Probe::kMatch;
}

AgentDiscovery::Probe AgentDiscovery::ProbeSessionId(const std::string& canonical,
                                                      const FileId& id, std::string* owner) {
  UniqueFd fd(::open(canonical.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  struct stat st {};
  if (!fd.valid() || ::fstat(fd.get(), &st) != 0 || static_cast<uint64_t>(st.st_ino) != id.ino) {
    return Probe::kUndecided;  // replaced under us; the next Poll() looks again
  }
  std::string buf;
  for (size_t window : kProbeWindows) {
    buf.resize(window);
    Result<size_t> n = PreadFull(fd.get(), buf.data(), window, 0);
    if (!n.ok()) return Probe::kUndecided;
    buf.resize(*n);
    // Only newline-terminated lines exist (TRANSCRIPTS.md "Lines").
    for (size_t pos = 0, nl; (nl = buf.find('\n', pos)) != std::string::npos; pos = nl + 1) {
      std::string_view line(buf.data() + pos, nl - pos);
      object root;
      std::string_view session;
      if (!ContainsText(line, "\"sessionId\"") || parser_->Parse(line).get(root) ||
          root["sessionId"].get(session)) {
        continue;
      }
      owner->assign(session);
      parser_->MaybeShrink();
      return *owner == session_id_ ? Probe::kMatch : Probe::kOther;
    }
    if (*n < window) return Probe::kUndecided;  // wait for the first complete line
  }
  spdlog::warn("agent discovery: no sessionId in the first {} bytes of {}; treating it as "
               "another session's", kProbeWindows.back(), canonical);
  return Probe::kOther;
}

}  // namespace tsync::tracker
