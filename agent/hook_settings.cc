#include "agent/hook_settings.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <utility>

#include "base/fs.h"
#include "base/utf8.h"
#include "config/json_error_location.h"

namespace tsync::agent {
namespace {

// ordered_json keeps the user's key order; plain json would sort the keys.
using Json = nlohmann::ordered_json;

// MCP tools are named mcp__<server>__<tool> (plugin servers:
// mcp__plugin_<plugin>_<server>__<tool>). The server name is the user's
// choice, usually "github"; the GitHub MCP server's tool is
// create_pull_request. A matcher holding characters other than letters,
// digits, '_' and '|' is a JavaScript regex tested unanchored, hence ^ and $.
constexpr std::string_view kGithubPullRequestMatcher = "^mcp__.*github.*__create_pull_request$";

constexpr TsyncHook kHooks[] = {
    {"SessionStart", "", "session-start"},
    {"SessionEnd", "", "session-end"},
    {"Stop", "", "stop"},
    {"PreCompact", "", "pre-compact"},
    {"SubagentStop", "", "subagent-stop"},
    {"UserPromptSubmit", "", "user-prompt-submit"},
    {"PostToolUse", "Bash", "post-tool-use"},
    {"PostToolUse", kGithubPullRequestMatcher, "post-tool-use"},
};

const char* const kNothingChanged = "; nothing was changed";

bool ShellSafe(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         std::string_view("/._-+:@%,=").find(c) != std::string_view::npos;
}

bool IsOurSubcommand(std::string_view sub) {
  for (const TsyncHook& h : kHooks) {
    if (h.subcommand == sub) return true;
  }
  return false;
}

// A command tsync installed: `<binary> hook <subcommand>` whose binary's
// file name is `tsync` (any directory, quoted or not).
struct TsyncCommand {
  std::string binary;
  std::string subcommand;
};

std::optional<TsyncCommand> ParseTsyncCommand(std::string_view cmd) {
  while (!cmd.empty() && (cmd.back() == ' ' || cmd.back() == '\t')) cmd.remove_suffix(1);
  const size_t at = cmd.rfind(" hook ");
  if (at == std::string_view::npos) return std::nullopt;
  std::string_view sub = cmd.substr(at + 6);
  if (!IsOurSubcommand(sub)) return std::nullopt;
  std::string_view bin = cmd.substr(0, at);
  while (!bin.empty() && (bin.front() == ' ' || bin.front() == '\t')) bin.remove_prefix(1);
  while (!bin.empty() && (bin.back() == ' ' || bin.back() == '\t')) bin.remove_suffix(1);
  std::string binary;
  if (bin.size() >= 2 && bin.front() == '\'' && bin.back() == '\'') {
    // HookCommand's quoting: '…' with each ' written as '\''.
    std::string_view inner = bin.substr(1, bin.size() - 2);
    for (size_t i = 0; i < inner.size(); ++i) {
      if (inner.substr(i, 4) == "'\\''") {
        binary += '\'';
        i += 3;
      } else {
        binary += inner[i];
      }
    }
  } else if (bin.size() >= 2 && bin.front() == '"' && bin.back() == '"') {
    binary = bin.substr(1, bin.size() - 2);
  } else {
    binary = bin;
  }
  const size_t slash = binary.rfind('/');
  if ((slash == std::string::npos ? binary : binary.substr(slash + 1)) != "tsync") return std::nullopt;
  return TsyncCommand{std::move(binary), std::string(sub)};
}

// The tsync command in a hook entry, if the entry is one of ours.
std::optional<TsyncCommand> OurEntry(const Json& entry) {
  if (!entry.is_object()) return std::nullopt;
  auto cmd = entry.find("command");
  if (cmd == entry.end() || !cmd->is_string()) return std::nullopt;
  return ParseTsyncCommand(cmd->get_ref<const std::string&>());
}

std::string GroupMatcher(const Json& group) {
  auto m = group.find("matcher");
  return m != group.end() && m->is_string() ? m->get<std::string>() : std::string();
}

// Whether tsync entries in `group` count as `hook`'s: a match-everything hook
// accepts any group (the user may have narrowed it); a tool hook only the
// group with exactly its matcher.
bool GroupServes(const Json& group, const TsyncHook& hook) {
  return hook.matcher.empty() || GroupMatcher(group) == hook.matcher;
}

std::string EntryLabel(std::string_view event, std::string_view matcher) {
  std::string out(event);
  if (!matcher.empty()) out += "[" + std::string(matcher) + "]";
  return out;
}

// --- Shape checks: every container on the way to our entries ------------

Status WrongType(const std::string& shown, const std::string& key_path, const char* want, const Json& got) {
  return Status::InvalidInput("settings file " + shown + ": " + key_path + " must be " + want + ", found " +
                              std::string(got.type_name()) + kNothingChanged +
                              "; fix it by hand (see Claude Code's hooks documentation) and run this again");
}

// The `hooks` object, nullptr when absent.
Result<Json*> HooksObject(Json* doc, const std::string& shown) {
  auto it = doc->find("hooks");
  if (it == doc->end()) return static_cast<Json*>(nullptr);
  if (!it->is_object()) return WrongType(shown, "hooks", "an object of event names", *it);
  return &*it;
}

Status CheckEventList(const Json& list, const std::string& event, const std::string& shown) {
  const std::string path = "hooks." + event;
  if (!list.is_array()) return WrongType(shown, path, "an array of matcher groups", list);
  for (size_t g = 0; g < list.size(); ++g) {
    const std::string gpath = path + "[" + std::to_string(g) + "]";
    const Json& group = list[g];
    if (!group.is_object()) return WrongType(shown, gpath, "an object ({\"matcher\": …, \"hooks\": […]})", group);
    auto m = group.find("matcher");
    if (m != group.end() && !m->is_string()) return WrongType(shown, gpath + ".matcher", "a string", *m);
    auto h = group.find("hooks");
    if (h != group.end() && !h->is_array()) return WrongType(shown, gpath + ".hooks", "an array of hooks", *h);
  }
  return Status::Ok();
}

// Checks every event list tsync reads or edits.
Status CheckShape(Json* doc, const std::string& shown) {
  Result<Json*> hooks = HooksObject(doc, shown);
  if (!hooks.ok()) return hooks.status();
  if (*hooks == nullptr) return Status::Ok();
  for (const TsyncHook& h : kHooks) {
    auto it = (*hooks)->find(std::string(h.event));
    if (it == (*hooks)->end()) continue;
    Status st = CheckEventList(*it, std::string(h.event), shown);
    if (!st.ok()) return st;
  }
  return Status::Ok();
}

// --- Document edits --------------------------------------------------------

struct EntryRef {
  size_t group;
  size_t entry;
};

// Our entries serving `hook` in an event's list (shape already checked).
std::vector<EntryRef> FindEntries(const Json& list, const TsyncHook& hook) {
  std::vector<EntryRef> out;
  for (size_t g = 0; g < list.size(); ++g) {
    if (!GroupServes(list[g], hook)) continue;
    auto entries = list[g].find("hooks");
    if (entries == list[g].end()) continue;
    for (size_t e = 0; e < entries->size(); ++e) {
      std::optional<TsyncCommand> ours = OurEntry((*entries)[e]);
      if (ours && ours->subcommand == hook.subcommand) out.push_back({g, e});
    }
  }
  return out;
}

const Json& EntryAt(const Json& list, EntryRef r) { return list.at(r.group).at("hooks").at(r.entry); }

// Erases `refs` from `list`, then the groups that became empty by it.
void EraseEntries(Json* list, std::vector<EntryRef> refs) {
  std::sort(refs.begin(), refs.end(), [](EntryRef a, EntryRef b) {
    return a.group != b.group ? a.group > b.group : a.entry > b.entry;
  });
  for (const EntryRef& r : refs) {
    Json& entries = (*list)[r.group]["hooks"];
    entries.erase(entries.begin() + static_cast<std::ptrdiff_t>(r.entry));
  }
  std::optional<size_t> last;
  for (const EntryRef& r : refs) {  // groups in descending order
    if (last == r.group) continue;
    last = r.group;
    if ((*list)[r.group]["hooks"].empty()) list->erase(list->begin() + static_cast<std::ptrdiff_t>(r.group));
  }
}

Json NewGroup(const TsyncHook& hook, const std::string& binary) {
  Json entry = Json::object();
  entry["type"] = "command";
  entry["command"] = HookCommand(binary, hook.subcommand);
  entry["timeout"] = kHookTimeoutSeconds;
  Json group = Json::object();
  group["matcher"] = std::string(hook.matcher);
  group["hooks"] = Json::array({std::move(entry)});
  return group;
}

// Install for one hook: keep or repoint one entry, drop duplicates, or append.
void InstallOne(Json* hooks, const TsyncHook& hook, const std::string& binary, HookChange* change) {
  const std::string event(hook.event);
  if (!hooks->contains(event)) (*hooks)[event] = Json::array();
  Json& list = (*hooks)[event];
  std::vector<EntryRef> found = FindEntries(list, hook);
  const std::string label = hook.Label();
  if (found.empty()) {
    list.push_back(NewGroup(hook, binary));
    change->added.push_back(label);
    return;
  }
  size_t keep = 0;  // prefer an entry already running this binary
  for (size_t i = 0; i < found.size(); ++i) {
    if (OurEntry(EntryAt(list, found[i]))->binary == binary) {
      keep = i;
      break;
    }
  }
  const EntryRef kept = found[keep];
  if (OurEntry(EntryAt(list, kept))->binary != binary) {
    list[kept.group]["hooks"][kept.entry]["command"] = HookCommand(binary, hook.subcommand);
    change->updated.push_back(label);
  }
  found.erase(found.begin() + static_cast<std::ptrdiff_t>(keep));
  for (size_t i = 0; i < found.size(); ++i) change->removed.push_back(label);
  EraseEntries(&list, std::move(found));
}

Status Install(Json* doc, const std::string& binary, const std::string& shown, HookChange* change) {
  Status st = CheckShape(doc, shown);
  if (!st.ok()) return st;
  Json* hooks = *HooksObject(doc, shown);
  Json fresh = Json::object();  // `hooks` for a file without one, added only if used
  for (const TsyncHook& h : kHooks) InstallOne(hooks ? hooks : &fresh, h, binary, change);
  if (!hooks && !fresh.empty()) (*doc)["hooks"] = std::move(fresh);
  return Status::Ok();
}

Status Uninstall(Json* doc, const std::string& shown, HookChange* change) {
  Status st = CheckShape(doc, shown);
  if (!st.ok()) return st;
  Json* hooks = *HooksObject(doc, shown);
  if (hooks == nullptr) return Status::Ok();
  bool erased_event = false;
  for (size_t i = 0; i < std::size(kHooks); ++i) {
    const std::string event(kHooks[i].event);
    if (i > 0 && kHooks[i - 1].event == kHooks[i].event) continue;  // one pass per event
    auto it = hooks->find(event);
    if (it == hooks->end()) continue;
    std::vector<EntryRef> ours;
    for (size_t g = 0; g < it->size(); ++g) {
      auto entries = (*it)[g].find("hooks");
      if (entries == (*it)[g].end()) continue;
      for (size_t e = 0; e < entries->size(); ++e) {
        if (OurEntry((*entries)[e])) {
          ours.push_back({g, e});
          change->removed.push_back(EntryLabel(event, GroupMatcher((*it)[g])));
        }
      }
    }
    if (ours.empty()) continue;
    EraseEntries(&*it, std::move(ours));
    if (it->empty()) {
      hooks->erase(event);
      erased_event = true;
    }
  }
  if (erased_event && hooks->empty()) doc->erase("hooks");
  return Status::Ok();
}

// --- The file ------------------------------------------------------------

// What was read, and enough of its identity to notice a change.
struct Snapshot {
  bool exists = false;
  std::string text;
  struct stat st {};
};

bool SameFile(const Snapshot& a, const Snapshot& b) {
  if (a.exists != b.exists) return false;
  if (!a.exists) return true;
  return a.st.st_dev == b.st.st_dev && a.st.st_ino == b.st.st_ino && a.st.st_size == b.st.st_size &&
         a.st.st_mtim.tv_sec == b.st.st_mtim.tv_sec && a.st.st_mtim.tv_nsec == b.st.st_mtim.tv_nsec &&
         a.text == b.text;
}

Result<Snapshot> ReadSnapshot(const std::string& target, const std::string& shown) {
  Snapshot snap;
  UniqueFd fd(::open(target.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    if (errno == ENOENT) return snap;
    return Status::Errno("cannot read settings file " + shown, errno);
  }
  if (::fstat(fd.get(), &snap.st) != 0) return Status::Errno("stat " + shown, errno);
  if (!S_ISREG(snap.st.st_mode)) return Status::InvalidInput("settings file " + shown + " is not a regular file");
  if (static_cast<uint64_t>(snap.st.st_size) > kMaxSettingsBytes) {
    return Status::InvalidInput("settings file " + shown + " is " + std::to_string(snap.st.st_size) +
                                " bytes, more than the " + std::to_string(kMaxSettingsBytes >> 20) +
                                " MiB tsync edits" + kNothingChanged);
  }
  snap.exists = true;
  snap.text.resize(static_cast<size_t>(snap.st.st_size));
  Result<size_t> n = PreadFull(fd.get(), snap.text.data(), snap.text.size(), 0);
  if (!n.ok()) return Status::Io("cannot read settings file " + shown + ": " + n.status().message());
  snap.text.resize(*n);
  return snap;
}

// Line and column (1-based) of a byte offset.
std::pair<size_t, size_t> LineColumn(std::string_view text, size_t offset) {
  size_t line = 1, column = 1;
  for (size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return {line, column};
}

Result<Json> ParseSettings(const std::string& text, const std::string& shown) {
  if (IsBlankText(text)) return Json::object();
  Json doc;
  try {
    doc = Json::parse(text);
  } catch (const Json::exception& e) {
    // parse_error, or out_of_range for a number beyond a double (1e999).
    // Our own description: nlohmann's quotes the text it last read, and
    // settings.json can hold secrets (`env`).
    std::string where;
    const auto* syntax = dynamic_cast<const Json::parse_error*>(&e);
    if (std::optional<config::JsonSyntaxError> err = config::LocateJsonError(text)) {
      where = "line " + std::to_string(err->line) + ", column " + std::to_string(err->column) + ": " + err->what;
    } else if (syntax == nullptr) {
      where = "a number is too large for tsync to keep (beyond about 1.8e308)";
    } else {
      auto [line, column] = LineColumn(text, syntax->byte > 0 ? syntax->byte - 1 : 0);
      where = "line " + std::to_string(line) + ", column " + std::to_string(column) +
              ": not accepted by the JSON parser (an invalid \\u escape?)";
    }
    return Status::InvalidInput("settings file " + shown + " is not valid JSON: " + where + kNothingChanged +
                                "; fix it by hand (Claude Code cannot read it either) and run this again");
  }
  if (!doc.is_object()) {
    return Status::InvalidInput("settings file " + shown + ": the top level must be a JSON object ({ … }), found " +
                                std::string(doc.type_name()) + kNothingChanged);
  }
  return doc;
}


std::string TempName(const std::string& path) {
  std::random_device rd;
  return path + ".tsync-tmp." + std::to_string(::getpid()) + "." + std::to_string(rd());
}

// Writes `text` to a new temp file beside `dest`, fsync'd, mode `mode`.
Result<std::string> WriteTemp(const std::string& dest, std::string_view text, mode_t mode, const struct stat* owner) {
  std::string tmp = TempName(dest);
  UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (!fd.valid()) return Status::Errno("create " + tmp, errno);
  Status st;
  if (::fchmod(fd.get(), mode) != 0) st = Status::Errno("chmod " + tmp, errno);
  // Keep the owner when root edits a user's file; an ordinary user cannot
  // and need not (the file is theirs).
  if (st.ok() && owner && owner->st_uid != ::geteuid()) (void)!::fchown(fd.get(), owner->st_uid, owner->st_gid);
  if (st.ok()) st = WriteAll(fd.get(), text, tmp);
  if (st.ok() && ::fsync(fd.get()) != 0) st = Status::Errno("fsync " + tmp, errno);
  if (st.ok() && ::close(fd.release()) != 0) st = Status::Errno("close " + tmp, errno);
  if (!st.ok()) {
    ::unlink(tmp.c_str());
    return st;
  }
  return tmp;
}

// Moves `tmp` to `dest` only if `dest` does not exist (link() refuses to
// replace); *existed says it did. Falls back to a checked rename where the
// file system has no hard links.
Status PublishNew(const std::string& tmp, const std::string& dest, bool* existed) {
  *existed = false;
  if (::link(tmp.c_str(), dest.c_str()) == 0) {
    ::unlink(tmp.c_str());
    return Status::Ok();
  }
  int err = errno;
  struct stat st;
  if (err == EEXIST || ((err == EPERM || err == EOPNOTSUPP || err == ENOSYS) && ::lstat(dest.c_str(), &st) == 0)) {
    *existed = true;
    ::unlink(tmp.c_str());
    return Status::Ok();
  }
  if (err == EPERM || err == EOPNOTSUPP || err == ENOSYS) {
    if (::rename(tmp.c_str(), dest.c_str()) == 0) return Status::Ok();
    err = errno;
  }
  ::unlink(tmp.c_str());
  return Status::Errno("create " + dest, err);
}

// The one-time copy of the file before tsync's first change; never replaced.
Status MakeBackup(const std::string& backup, const Snapshot& original, bool* made) {
  *made = false;
  struct stat st;
  if (::lstat(backup.c_str(), &st) == 0) return Status::Ok();
  Result<std::string> tmp = WriteTemp(backup, original.text, 0600, &original.st);
  if (!tmp.ok()) return tmp.status();
  bool existed = false;
  Status s = PublishNew(*tmp, backup, &existed);
  if (!s.ok()) return s;
  *made = !existed;
  return FsyncDir(DirName(backup));
}

enum class Commit { kDone, kChangedUnderneath };

// Replaces `target` with `text` if it still holds what `before` read.
Result<Commit> CommitIfUnchanged(const std::string& target, const std::string& shown, const Snapshot& before,
                                 const std::string& text, const HookEditSeams& seams, int attempt) {
  const std::string dir = DirName(target);
  const mode_t mode = before.exists ? (before.st.st_mode & 07777) : 0600;
  Result<std::string> tmp = WriteTemp(target, text, mode, before.exists ? &before.st : nullptr);
  if (!tmp.ok()) return tmp.status();
  if (seams.before_commit) seams.before_commit(attempt);
  Result<Snapshot> now = ReadSnapshot(target, shown);
  if (!now.ok() || !SameFile(before, *now)) {
    ::unlink(tmp->c_str());
    if (!now.ok()) return now.status();
    return Commit::kChangedUnderneath;
  }
  if (before.exists) {
    if (::rename(tmp->c_str(), target.c_str()) != 0) {
      int err = errno;
      ::unlink(tmp->c_str());
      return Status::Errno("rename to " + target, err);
    }
  } else {
    bool existed = false;
    Status st = PublishNew(*tmp, target, &existed);
    if (!st.ok()) return st;
    if (existed) return Commit::kChangedUnderneath;
  }
  Status st = FsyncDir(dir);
  if (!st.ok()) return st;
  return Commit::kDone;
}

using DocEdit = std::function<Status(Json* doc, HookChange* change)>;

Status WriteFailed(const std::string& shown, const Status& st) {
  if (st.kind() != Status::Kind::kIo) return st;
  return Status::Io("cannot write settings file " + shown + " (" + st.message() +
                    "); check that its directory is writable" + kNothingChanged);
}

// Read, edit in memory, write if changed and unchanged underneath; retried
// from a fresh read when another writer got there first (header, 5).
Result<HookChange> RunEdit(const std::string& path, const DocEdit& edit, const HookEditSeams& seams) {
  const std::string target = WriteTargetOf(path);
  for (int attempt = 1; attempt <= kEditAttempts; ++attempt) {
    Result<Snapshot> snap = ReadSnapshot(target, path);
    if (!snap.ok()) return snap.status();
    Result<Json> doc = ParseSettings(snap->text, path);
    if (!doc.ok()) return doc.status();
    HookChange change;
    change.written = target;
    Status st = edit(&*doc, &change);
    if (!st.ok()) return st;
    if (change.added.empty() && change.updated.empty() && change.removed.empty()) return change;

    const bool newline = !snap->exists || IsBlankText(snap->text) || snap->text.back() == '\n';
    std::string text;
    try {
      text = doc->dump(2) + (newline ? "\n" : "");
    } catch (const Json::exception&) {
      return Status::InvalidInput("settings file " + path + ": a new value is not valid UTF-8" + kNothingChanged);
    }
    if (!snap->exists) {
      st = MakeDirs(DirName(target), 0700);
      if (!st.ok()) return WriteFailed(path, st);
    } else {
      bool made = false;
      const std::string backup = path + ".tsync-backup";
      st = MakeBackup(backup, *snap, &made);
      if (!st.ok()) {
        return Status::Io("cannot write the backup " + backup + " (" + st.message() +
                          "); check that the directory is writable" + kNothingChanged);
      }
      if (made) change.backup = backup;
    }
    Result<Commit> done = CommitIfUnchanged(target, path, *snap, text, seams, attempt);
    if (!done.ok()) return WriteFailed(path, done.status());
    if (*done == Commit::kDone) {
      change.changed = true;
      change.created = !snap->exists;
      return change;
    }
  }
  return Status::Conflict("settings file " + path + " kept changing while tsync was editing it (" +
                          std::to_string(kEditAttempts) + " tries)" + kNothingChanged +
                          "; close whatever is writing it (a Claude Code /hooks or /config screen?) and run this again");
}

}  // namespace

std::string TsyncHook::Label() const { return EntryLabel(event, matcher); }

std::span<const TsyncHook> TsyncHooks() { return kHooks; }

std::string HookCommand(const std::string& binary, std::string_view subcommand) {
  bool safe = !binary.empty();
  for (char c : binary) safe = safe && ShellSafe(c);
  std::string quoted;
  if (safe) {
    quoted = binary;
  } else {
    quoted = "'";
    for (char c : binary) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
    quoted += "'";
  }
  return quoted + " hook " + std::string(subcommand);
}

Result<HookChange> InstallHooks(const std::string& settings_path, const std::string& tsync_binary,
                                const HookEditSeams& seams) {
  bool control = false;
  for (char c : tsync_binary) control = control || static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
  if (!tsync_binary.starts_with("/") || control || !IsValidUtf8(tsync_binary)) {
    return Status::InvalidInput("the tsync binary for hooks must be an absolute path without control characters, got '" +
                                tsync_binary + "'" + kNothingChanged);
  }
  return RunEdit(
      settings_path,
      [&](Json* doc, HookChange* change) { return Install(doc, tsync_binary, settings_path, change); }, seams);
}

Result<HookChange> InstallHooks(const std::string& settings_path, const std::string& tsync_binary) {
  return InstallHooks(settings_path, tsync_binary, HookEditSeams{});
}

Result<HookChange> UninstallHooks(const std::string& settings_path, const HookEditSeams& seams) {
  return RunEdit(
      settings_path, [&](Json* doc, HookChange* change) { return Uninstall(doc, settings_path, change); }, seams);
}

Result<HookChange> UninstallHooks(const std::string& settings_path) {
  return UninstallHooks(settings_path, HookEditSeams{});
}

const char* HookStateName(HookState state) {
  switch (state) {
    case HookState::kInstalled: return "installed";
    case HookState::kMissing: return "missing";
    case HookState::kOtherBinary: return "other-binary";
  }
  return "unknown";
}

bool HooksReport::AllInstalled() const {
  if (!valid || hooks.empty()) return false;
  for (const HookStatus& h : hooks) {
    if (h.state != HookState::kInstalled) return false;
  }
  return true;
}

HooksReport HooksStatus(const std::string& settings_path, const std::string& tsync_binary) {
  HooksReport report;
  report.settings_path = settings_path;
  Result<Snapshot> snap = ReadSnapshot(settings_path, settings_path);
  Result<Json> doc = snap.ok() ? ParseSettings(snap->text, settings_path) : Result<Json>(snap.status());
  Status shape = doc.ok() ? CheckShape(&*doc, settings_path) : doc.status();
  report.exists = !snap.ok() || snap->exists;  // unreadable is still there
  if (!shape.ok()) {
    report.valid = false;
    report.problem = shape.message();
    return report;
  }
  auto disabled = doc->find("disableAllHooks");
  report.all_disabled = disabled != doc->end() && disabled->is_boolean() && disabled->get<bool>();
  const Json* hooks = doc->contains("hooks") ? &doc->at("hooks") : nullptr;
  for (const TsyncHook& h : kHooks) {
    HookStatus status{h, HookState::kMissing, ""};
    const std::string event(h.event);
    if (hooks && hooks->contains(event)) {
      const Json& list = hooks->at(event);
      for (const EntryRef& r : FindEntries(list, h)) {
        const Json& entry = EntryAt(list, r);
        const bool same = OurEntry(entry)->binary == tsync_binary;
        if (same || status.state == HookState::kMissing) {
          status.state = same ? HookState::kInstalled : HookState::kOtherBinary;
          status.command = entry.at("command").get<std::string>();
        }
        if (same) break;
      }
    }
    report.hooks.push_back(std::move(status));
  }
  return report;
}

}  // namespace tsync::agent
