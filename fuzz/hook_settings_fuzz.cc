// Fuzz target: the settings.json editor (agent/hook_settings.h).
//
// Input: the text of Claude Code's settings.json. It is written to a file in
// a scratch directory (tmpfs when there is one: every edit fsyncs), then
// install, install again, install for another binary path, and uninstall run
// on it. nlohmann::ordered_json (the editor's own parser) decides what counts
// as a JSON object; simdjson checks every file the editor writes.
// Properties:
//  - nothing crashes or throws, whatever the text;
//  - a refused edit (not JSON, not an object, wrong types) is kInvalidInput
//    and leaves the file byte-identical, with no backup;
//  - a JSON object is refused only for a wrong type under `hooks` (shape);
//  - after install: the file is valid JSON; every top-level key other than
//    `hooks` is kept with its value and in its order; events tsync does not
//    use are untouched; in tsync's events every hook that is not a tsync
//    command is kept, in order; `hooks status` shows every hook installed; the
//    first change left a byte-identical backup, no change left the file as it
//    was;
//  - install is idempotent: the second one changes nothing (not even the
//    bytes);
//  - install for another binary path repoints every hook to it;
//  - uninstall leaves every hook missing and the other keys as they were; and
//    for a document with no tsync command, no empty list under tsync's events
//    and no empty `hooks` object, install + uninstall gives back the document
//    (and the very bytes when the file was in the editor's own format).
#include <fcntl.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "agent/hook_settings.h"
#include "base/fs.h"
#include "fuzz/fuzz_util.h"

namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;
using tsync::agent::HookState;
using tsync::fuzz::Shown;

const std::string kBinary = "/usr/local/bin/tsync";
const std::string kOtherBinary = "/opt/my tools/tsync";

std::string ReadOrEmpty(const std::string& path) {
  tsync::Result<std::string> text = tsync::ReadFile(path, 64 << 20);
  return text.ok() ? *text : std::string();
}

bool IsTsyncEvent(const std::string& event) {
  for (const tsync::agent::TsyncHook& h : tsync::agent::TsyncHooks()) {
    if (h.event == event) return true;
  }
  return false;
}

// A hook entry that may be tsync's: its command mentions tsync and " hook ".
// Everything else the editor must keep.
bool MaybeTsync(const Json& entry) {
  if (!entry.is_object()) return false;
  auto cmd = entry.find("command");
  if (cmd == entry.end() || !cmd->is_string()) return false;
  const std::string& s = cmd->get_ref<const std::string&>();
  return s.find("tsync") != std::string::npos && s.find(" hook ") != std::string::npos;
}

// The entries of an event's list that are surely not tsync's, in order.
std::vector<Json> ForeignEntries(const Json& list) {
  std::vector<Json> out;
  if (!list.is_array()) return out;
  for (const Json& group : list) {
    if (!group.is_object() || !group.contains("hooks") || !group["hooks"].is_array()) continue;
    for (const Json& entry : group["hooks"]) {
      if (!MaybeTsync(entry)) out.push_back(entry);
    }
  }
  return out;
}

bool HasTsyncOrEmpty(const Json& doc) {
  if (!doc.contains("hooks")) return false;
  const Json& hooks = doc["hooks"];
  if (hooks.is_object() && hooks.empty()) return true;
  for (const auto& [event, list] : hooks.items()) {
    if (!IsTsyncEvent(event)) continue;
    if (list.is_array() && list.empty()) return true;
    for (const Json& group : list) {
      if (!group.contains("hooks")) continue;
      for (const Json& entry : group["hooks"]) {
        if (MaybeTsync(entry)) return true;
        // Commands that name tsync some other way ("tsync" alone in a path).
        if (entry.is_object() && entry.contains("command") && entry["command"].is_string() &&
            entry["command"].get<std::string>().find("tsync") != std::string::npos) {
          return true;
        }
      }
    }
  }
  return false;
}

// Checks that `after` kept what the editor must not touch in `before`.
void CheckKept(const Json& before, const Json& after, const std::string& what) {
  std::vector<std::string> keys_before, keys_after;
  for (const auto& [k, v] : before.items()) {
    if (k == "hooks") continue;
    keys_before.push_back(k);
    FUZZ_CHECK(after.contains(k) && after[k] == v, what + ": top-level key " + Shown(k) + " changed");
  }
  for (const auto& [k, v] : after.items()) {
    if (k != "hooks") keys_after.push_back(k);
  }
  FUZZ_CHECK(keys_before == keys_after, what + ": top-level keys changed or moved");
  if (!before.contains("hooks") || !before["hooks"].is_object()) return;
  const Json& hb = before["hooks"];
  for (const auto& [event, list] : hb.items()) {
    if (!IsTsyncEvent(event)) {
      FUZZ_CHECK(after.contains("hooks") && after["hooks"].contains(event) && after["hooks"][event] == list,
                 what + ": another tool's event " + Shown(event) + " changed");
      continue;
    }
    const Json none = Json::array();
    const Json& now = after.contains("hooks") && after["hooks"].contains(event) ? after["hooks"][event] : none;
    FUZZ_CHECK(ForeignEntries(list) == ForeignEntries(now), what + ": other hooks under " + event + " changed");
  }
}

Json ParseWritten(const std::string& text, const std::string& what) {
  simdjson::dom::parser parser;
  simdjson::dom::element e;
  FUZZ_CHECK(tsync::fuzz::ParseJson(parser, text, &e) && e.is_object(),
             what + ": wrote something that is not a JSON object: " + Shown(text, 400));
  Json doc = Json::parse(text, nullptr, false);
  FUZZ_CHECK(!doc.is_discarded(), what + ": nlohmann cannot read what was written");
  return doc;
}

void CheckStatus(const std::string& path, const std::string& binary, HookState want, const std::string& what) {
  tsync::agent::HooksReport report = tsync::agent::HooksStatus(path, binary);
  FUZZ_CHECK(report.valid, what + ": status finds the file invalid: " + report.problem);
  for (const tsync::agent::HookStatus& h : report.hooks) {
    FUZZ_CHECK(h.state == want, what + ": " + h.hook.Label() + " is " + tsync::agent::HookStateName(h.state) +
                                    ", want " + tsync::agent::HookStateName(want));
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  tsync::fuzz::QuietLogs();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 64 * 1024) return 0;  // size limits are not what this target is for
  static const std::string dir = tsync::fuzz::ScratchDir("hook_settings");
  const std::string path = dir + "/settings.json";
  const std::string backup = path + ".tsync-backup";
  for (const auto& entry : fs::directory_iterator(dir)) fs::remove(entry.path());
  const std::string text(reinterpret_cast<const char*>(data), size);
  {
    tsync::UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    FUZZ_CHECK(fd.valid() && tsync::WriteAll(fd.get(), text, path).ok(), "cannot write the settings file");
  }
  const bool blank = tsync::IsBlankText(text);
  Json original = blank ? Json::object() : Json::parse(text, nullptr, false);
  const bool object = !original.is_discarded() && original.is_object();

  tsync::Result<tsync::agent::HookChange> first = tsync::agent::InstallHooks(path, kBinary);
  if (!first.ok()) {
    const std::string what = "refused install (" + first.status().message() + ")";
    FUZZ_CHECK(first.status().kind() == tsync::Status::Kind::kInvalidInput, what + ": not kInvalidInput");
    FUZZ_CHECK(ReadOrEmpty(path) == text, what + ": the file changed");
    FUZZ_CHECK(!fs::exists(backup), what + ": a backup was made");
    if (object) {
      FUZZ_CHECK(first.status().message().find("hooks") != std::string::npos,
                 what + ": a JSON object refused for something other than the shape of hooks");
    }
    FUZZ_CHECK(tsync::agent::UninstallHooks(path).status().kind() == tsync::Status::Kind::kInvalidInput,
               what + ": uninstall accepted what install refused");
    FUZZ_CHECK(ReadOrEmpty(path) == text, what + ": uninstall changed the refused file");
    return 0;
  }
  FUZZ_CHECK(object, "install accepted text that is not a JSON object: " + Shown(text, 400));

  const std::string installed_text = ReadOrEmpty(path);
  const std::string what = "install into \"" + Shown(text, 300) + "\"";
  const Json installed = ParseWritten(installed_text, what);
  CheckKept(original, installed, what);
  CheckStatus(path, kBinary, HookState::kInstalled, what);
  if (first->changed) {
    FUZZ_CHECK(ReadOrEmpty(backup) == text && fs::exists(backup), what + ": the backup is not the original");
  } else {
    FUZZ_CHECK(installed_text == text, what + ": nothing changed but the file did");
  }

  tsync::Result<tsync::agent::HookChange> again = tsync::agent::InstallHooks(path, kBinary);
  FUZZ_CHECK(again.ok() && !again->changed, what + ": a second install changed something");
  FUZZ_CHECK(ReadOrEmpty(path) == installed_text, what + ": a second install changed the bytes");

  tsync::Result<tsync::agent::HookChange> moved = tsync::agent::InstallHooks(path, kOtherBinary);
  FUZZ_CHECK(moved.ok(), what + ": install for another binary failed: " + moved.status().message());
  CheckStatus(path, kOtherBinary, HookState::kInstalled, what + " then another binary");
  CheckStatus(path, kBinary, HookState::kOtherBinary, what + " then another binary");
  CheckKept(original, ParseWritten(ReadOrEmpty(path), what + " then another binary"), what + " then another binary");

  tsync::Result<tsync::agent::HookChange> removed = tsync::agent::UninstallHooks(path);
  FUZZ_CHECK(removed.ok(), what + ": uninstall failed: " + removed.status().message());
  const std::string after_text = ReadOrEmpty(path);
  const Json after = ParseWritten(after_text, what + " then uninstall");
  CheckStatus(path, kOtherBinary, HookState::kMissing, what + " then uninstall");
  CheckKept(original, after, what + " then uninstall");
  if (!HasTsyncOrEmpty(original)) {
    FUZZ_CHECK(after == original, what + ": install + uninstall did not give back the document: " +
                                      Shown(after_text, 400));
    const std::string own_form = blank ? std::string() : original.dump(2);
    if (!blank && (text == own_form || text == own_form + "\n")) {
      FUZZ_CHECK(after_text == text, what + ": install + uninstall changed the bytes: " + Shown(after_text, 400));
    }
  }
  return 0;
}
