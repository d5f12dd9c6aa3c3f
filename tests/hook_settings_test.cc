// agent/hook_settings.h: tsync's entries in Claude Code's settings.json —
// added, repointed and removed without disturbing anything else, written
// atomically, refused with the file untouched when the file is not what we
// expect, and never racing silently with another writer.
#include "agent/hook_settings.h"

#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/fs.h"
#include "tests/test_util.h"

namespace tsync::testing {
namespace {

using Json = nlohmann::ordered_json;
using agent::HookState;

const std::string kTsync = "/opt/tsync/bin/tsync";
const std::string kFixtures = std::string(TSYNC_TESTDATA_DIR) + "/settings/";

// The event → subcommand table the CLI's `tsync hook <subcommand>` relies on.
const std::vector<std::pair<std::string, std::string>> kEvents = {
    {"SessionStart", "session-start"}, {"SessionEnd", "session-end"},     {"Stop", "stop"},
    {"PreCompact", "pre-compact"},     {"SubagentStop", "subagent-stop"}, {"UserPromptSubmit", "user-prompt-submit"},
};

struct SettingsFixture {
  TempDir home;
  std::string path = home / ".claude/settings.json";
  std::string backup = path + ".tsync-backup";
};

Json ParseFile(const std::string& path) { return Json::parse(ReadWholeFile(path)); }

std::string Canonical(const std::string& text) { return Json::parse(text).dump(2) + "\n"; }

struct stat StatOf(const std::string& path) {
  struct stat st;
  REQUIRE(::stat(path.c_str(), &st) == 0);
  return st;
}

bool Exists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

bool Contains(const std::string& haystack, std::string_view needle) {
  return haystack.find(needle) != std::string::npos;
}

// Every file name in `dir`, to catch leftover temp files.
std::vector<std::string> Names(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

// The commands in every group of `event`, in file order.
std::vector<std::string> Commands(const Json& doc, const std::string& event) {
  std::vector<std::string> out;
  for (const Json& group : doc.at("hooks").at(event)) {
    for (const Json& h : group.at("hooks")) out.push_back(h.at("command").get<std::string>());
  }
  return out;
}

Result<agent::HookChange> Install(const std::string& path, const std::string& binary = kTsync) {
  return agent::InstallHooks(path, binary);
}

void RequireOk(const Result<agent::HookChange>& r) {
  INFO((r.ok() ? "" : r.status().ToString()));
  REQUIRE(r.ok());
}

}  // namespace

TEST_CASE("hook settings — install into a missing file creates it (0600, directory 0700) with every tsync hook",
          "[hooks]") {
  SettingsFixture fx;
  Result<agent::HookChange> r = Install(fx.path);
  RequireOk(r);
  CHECK(r->changed);
  CHECK(r->created);
  CHECK(r->written == fx.path);
  CHECK(r->backup.empty());  // nothing to back up
  CHECK_FALSE(Exists(fx.backup));
  CHECK(r->added.size() == agent::TsyncHooks().size());
  CHECK((StatOf(fx.path).st_mode & 07777) == 0600);
  CHECK((StatOf(fx.home / ".claude").st_mode & 07777) == 0700);

  const std::string text = ReadWholeFile(fx.path);
  CHECK(text.back() == '\n');
  CHECK(text == Canonical(text));  // 2-space indent, as Claude Code writes it
  const Json doc = Json::parse(text);
  for (const auto& [event, sub] : kEvents) {
    INFO(event);
    const Json& groups = doc.at("hooks").at(event);
    REQUIRE(groups.size() == 1);
    CHECK(groups[0].at("matcher") == "");
    const Json& hook = groups[0].at("hooks").at(0);
    CHECK(hook.at("type") == "command");
    CHECK(hook.at("command") == kTsync + " hook " + sub);
    CHECK(hook.at("timeout") == agent::kHookTimeoutSeconds);
  }
  // Issue 8: Bash and the GitHub MCP pull-request tool, one matcher group each.
  const Json& post = doc.at("hooks").at("PostToolUse");
  REQUIRE(post.size() == 2);
  CHECK(post[0].at("matcher") == "Bash");
  CHECK(post[1].at("matcher") == "^mcp__.*github.*__create_pull_request$");
  for (const Json& g : post) CHECK(g.at("hooks").at(0).at("command") == kTsync + " hook post-tool-use");
  CHECK(Names(fx.home / ".claude") == std::vector<std::string>{"settings.json"});

  agent::HooksReport status = agent::HooksStatus(fx.path, kTsync);
  CHECK(status.exists);
  CHECK(status.valid);
  CHECK(status.AllInstalled());
}

TEST_CASE("hook settings — a blank file is treated as {} and backed up before the first change", "[hooks]") {
  SettingsFixture fx;
  WriteFile(fx.path, "  \n", 0600);
  RequireOk(Install(fx.path));
  CHECK(ReadWholeFile(fx.backup) == "  \n");
  CHECK(ParseFile(fx.path).at("hooks").size() == 7);  // six events and PostToolUse
}

TEST_CASE("hook settings — other keys keep their order and bytes, other tools' hooks stay first, the mode is kept",
          "[hooks]") {
  SettingsFixture fx;
  const std::string original = ReadWholeFile(kFixtures + "claude-code-style.json");
  REQUIRE(original == Canonical(original));  // the fixture is in Claude Code's own form
  WriteFile(fx.path, original, 0644);
  REQUIRE(::chmod(fx.path.c_str(), 0644) == 0);

  RequireOk(Install(fx.path));
  const std::string after = ReadWholeFile(fx.path);
  INFO(after);
  CHECK((StatOf(fx.path).st_mode & 07777) == 0644);

  // Byte for byte up to the hooks object, and from the key after it on.
  const size_t hooks_at = original.find("\n  \"hooks\": {");
  REQUIRE(hooks_at != std::string::npos);
  CHECK(after.substr(0, hooks_at) == original.substr(0, hooks_at));
  const std::string tail_key = "\n  \"env\": {";
  REQUIRE(after.find(tail_key) != std::string::npos);
  CHECK(after.substr(after.find(tail_key)) == original.substr(original.find(tail_key)));

  // Top-level key order unchanged.
  const Json before_doc = Json::parse(original);
  const Json doc = Json::parse(after);
  std::vector<std::string> keys_before, keys_after;
  for (const auto& item : before_doc.items()) keys_before.push_back(item.key());
  for (const auto& item : doc.items()) keys_after.push_back(item.key());
  CHECK(keys_after == keys_before);

  // Other tools' groups come first, untouched; ours are appended.
  const Json& start = doc.at("hooks").at("SessionStart");
  REQUIRE(start.size() == 2);
  CHECK(start[0] == before_doc.at("hooks").at("SessionStart")[0]);
  CHECK(start[1].at("hooks")[0].at("command") == kTsync + " hook session-start");
  const Json& post = doc.at("hooks").at("PostToolUse");
  REQUIRE(post.size() == 4);
  CHECK(post[0] == before_doc.at("hooks").at("PostToolUse")[0]);
  CHECK(post[1] == before_doc.at("hooks").at("PostToolUse")[1]);  // the user's own Bash group
  CHECK(post[2].at("matcher") == "Bash");
  CHECK(post[2].at("hooks")[0].at("command") == kTsync + " hook post-tool-use");
  CHECK(doc.at("hooks").at("Notification") == before_doc.at("hooks").at("Notification"));
  // Events the file did not have are added after the ones it had.
  std::vector<std::string> events;
  for (const auto& item : doc.at("hooks").items()) events.push_back(item.key());
  CHECK(events == std::vector<std::string>{"SessionStart", "PostToolUse", "Notification", "SessionEnd", "Stop",
                                           "PreCompact", "SubagentStop", "UserPromptSubmit"});
}

TEST_CASE("hook settings — a second install changes nothing — bytes, mtime and inode stay and it says so", "[hooks]") {
  SettingsFixture fx;
  WriteFile(fx.path, ReadWholeFile(kFixtures + "claude-code-style.json"), 0600);
  RequireOk(Install(fx.path));
  const std::string first = ReadWholeFile(fx.path);
  const struct stat st1 = StatOf(fx.path);
  ::usleep(20000);  // a rewrite now would show in the mtime

  Result<agent::HookChange> again = Install(fx.path);
  RequireOk(again);
  CHECK_FALSE(again->changed);
  CHECK(again->added.empty());
  CHECK(again->updated.empty());
  CHECK(again->removed.empty());
  CHECK(again->backup.empty());
  const struct stat st2 = StatOf(fx.path);
  CHECK(ReadWholeFile(fx.path) == first);
  CHECK(st2.st_ino == st1.st_ino);
  CHECK(st2.st_mtim.tv_sec == st1.st_mtim.tv_sec);
  CHECK(st2.st_mtim.tv_nsec == st1.st_mtim.tv_nsec);
  CHECK(Names(fx.home / ".claude") == std::vector<std::string>{"settings.json", "settings.json.tsync-backup"});
}

TEST_CASE("hook settings — an older tsync path is repointed in place, duplicates dropped, look-alikes left alone",
          "[hooks]") {
  SettingsFixture fx;
  WriteFile(fx.path, R"({
  "hooks": {
    "SessionStart": [
      {"matcher": "startup", "hooks": [{"type": "command", "command": "/home/u/old/tsync hook session-start", "timeout": 5}]}
    ],
    "Stop": [
      {"hooks": [
        {"type": "command", "command": "'/opt/my tools/tsync' hook stop"},
        {"type": "command", "command": "/usr/bin/not-tsync hook stop"},
        {"type": "command", "command": "tsync-helper hook stop"}
      ]},
      {"matcher": "", "hooks": [{"type": "command", "command": "/opt/tsync/bin/tsync hook stop"}]}
    ]
  }
}
)",
            0600);
  Result<agent::HookChange> r = Install(fx.path);
  RequireOk(r);
  CHECK(r->updated == std::vector<std::string>{"SessionStart"});
  CHECK(r->removed == std::vector<std::string>{"Stop"});  // the duplicate under another path
  const Json doc = ParseFile(fx.path);

  // Repointed where it was: the user's matcher and timeout kept.
  const Json& start = doc.at("hooks").at("SessionStart");
  REQUIRE(start.size() == 1);
  CHECK(start[0].at("matcher") == "startup");
  CHECK(start[0].at("hooks")[0].at("command") == kTsync + " hook session-start");
  CHECK(start[0].at("hooks")[0].at("timeout") == 5);

  // One tsync entry for Stop (the one already on this binary); the commands
  // that only look like ours are kept.
  const std::vector<std::string> stop = Commands(doc, "Stop");
  CHECK(stop == std::vector<std::string>{"/usr/bin/not-tsync hook stop", "tsync-helper hook stop",
                                         kTsync + " hook stop"});
  CHECK(agent::HooksStatus(fx.path, kTsync).AllInstalled());
}

TEST_CASE("hook settings — status tells installed, missing and another binary apart", "[hooks]") {
  SettingsFixture fx;
  agent::HooksReport none = agent::HooksStatus(fx.path, kTsync);
  CHECK_FALSE(none.exists);
  CHECK(none.valid);
  REQUIRE(none.hooks.size() == agent::TsyncHooks().size());
  for (const agent::HookStatus& h : none.hooks) CHECK(h.state == HookState::kMissing);
  CHECK_FALSE(none.AllInstalled());

  WriteFile(fx.path, R"({"hooks": {
    "SessionStart": [{"matcher": "", "hooks": [{"type": "command", "command": "/opt/tsync/bin/tsync hook session-start"}]}],
    "Stop": [{"hooks": [{"type": "command", "command": "/usr/local/bin/tsync hook stop"}]}],
    "PostToolUse": [{"matcher": "Edit", "hooks": [{"type": "command", "command": "/opt/tsync/bin/tsync hook post-tool-use"}]}]
  }})",
            0600);
  agent::HooksReport report = agent::HooksStatus(fx.path, kTsync);
  CHECK(report.exists);
  REQUIRE(report.valid);
  REQUIRE(report.hooks.size() == 8);
  CHECK(report.hooks[0].hook.event == "SessionStart");
  CHECK(report.hooks[0].state == HookState::kInstalled);
  CHECK(report.hooks[1].state == HookState::kMissing);  // SessionEnd
  CHECK(report.hooks[2].hook.event == "Stop");
  CHECK(report.hooks[2].state == HookState::kOtherBinary);
  CHECK(report.hooks[2].command == "/usr/local/bin/tsync hook stop");
  // A post-tool-use entry under another matcher serves neither tool hook.
  CHECK(report.hooks[6].hook.Label() == "PostToolUse[Bash]");
  CHECK(report.hooks[6].state == HookState::kMissing);
  CHECK(report.hooks[7].state == HookState::kMissing);
  CHECK(std::string(agent::HookStateName(HookState::kOtherBinary)) == "other-binary");
  CHECK_FALSE(report.AllInstalled());
  CHECK_FALSE(report.all_disabled);

  // Claude Code's switch that turns every hook off is reported too.
  RequireOk(Install(fx.path));
  Json doc = ParseFile(fx.path);
  doc["disableAllHooks"] = true;
  WriteFile(fx.path, doc.dump(2));
  report = agent::HooksStatus(fx.path, kTsync);
  CHECK(report.AllInstalled());
  CHECK(report.all_disabled);
}

TEST_CASE("hook settings — uninstall removes only tsync's entries and restores a Claude Code-style file byte for byte",
          "[hooks]") {
  SettingsFixture fx;
  const std::string original = ReadWholeFile(kFixtures + "claude-code-style.json");
  WriteFile(fx.path, original, 0600);
  RequireOk(Install(fx.path));
  REQUIRE(ReadWholeFile(fx.path) != original);

  Result<agent::HookChange> r = agent::UninstallHooks(fx.path);
  RequireOk(r);
  CHECK(r->changed);
  CHECK(r->removed.size() == agent::TsyncHooks().size());
  CHECK(ReadWholeFile(fx.path) == original);

  // Nothing left to remove: no write.
  const struct stat st = StatOf(fx.path);
  Result<agent::HookChange> again = agent::UninstallHooks(fx.path);
  RequireOk(again);
  CHECK_FALSE(again->changed);
  CHECK(StatOf(fx.path).st_mtim.tv_nsec == st.st_mtim.tv_nsec);
}

TEST_CASE("hook settings — uninstall keeps other entries in a shared group and containers it did not empty",
          "[hooks]") {
  SettingsFixture fx;
  WriteFile(fx.path, R"({
  "hooks": {
    "Stop": [
      {"hooks": [{"type": "command", "command": "say done"}, {"type": "command", "command": "/x/tsync hook stop"}]},
      {"matcher": "", "hooks": [{"type": "command", "command": "/y/tsync hook stop"}]},
      {"matcher": "", "hooks": []}
    ],
    "SessionEnd": [{"hooks": [{"type": "command", "command": "/x/tsync hook session-end"}]}],
    "Notification": [{"hooks": [{"type": "command", "command": "/x/tsync hook stop"}]}]
  }
}
)",
            0600);
  RequireOk(agent::UninstallHooks(fx.path));
  const Json doc = ParseFile(fx.path);
  // The shared group keeps its other hook; the group we emptied is gone; the
  // group that was empty before stays.
  const Json& stop = doc.at("hooks").at("Stop");
  REQUIRE(stop.size() == 2);
  CHECK(stop[0].at("hooks").size() == 1);
  CHECK(stop[0].at("hooks")[0].at("command") == "say done");
  CHECK(stop[1].at("hooks").empty());
  // An event list we emptied is removed.
  CHECK_FALSE(doc.at("hooks").contains("SessionEnd"));
  // Events tsync never installs are not touched.
  CHECK(doc.at("hooks").at("Notification")[0].at("hooks")[0].at("command") == "/x/tsync hook stop");
}

TEST_CASE("hook settings — install then uninstall gives back the document — exactly what is guaranteed", "[hooks]") {
  SettingsFixture fx;
  SECTION("a file in another form keeps keys, order and values, in 2-space form") {
    const std::string original = ReadWholeFile(kFixtures + "unusual-formatting.json");
    WriteFile(fx.path, original, 0600);
    RequireOk(Install(fx.path));
    RequireOk(agent::UninstallHooks(fx.path));
    const std::string after = ReadWholeFile(fx.path);
    CHECK(Json::parse(after) == Json::parse(original));  // ordered: order counts
    CHECK(after == Json::parse(original).dump(2));       // no trailing newline, as the original
  }
  SECTION("a file without hooks ends as it began") {
    const std::string original = "{\n  \"model\": \"opus\"\n}\n";
    WriteFile(fx.path, original, 0600);
    RequireOk(Install(fx.path));
    RequireOk(agent::UninstallHooks(fx.path));
    CHECK(ReadWholeFile(fx.path) == original);
  }
  SECTION("the exception — an event list that was already empty is removed with our entries") {
    WriteFile(fx.path, "{\n  \"hooks\": {\n    \"Stop\": []\n  }\n}\n", 0600);
    RequireOk(Install(fx.path));
    RequireOk(agent::UninstallHooks(fx.path));
    CHECK(ReadWholeFile(fx.path) == "{}\n");
  }
  SECTION("a file tsync created is left as an empty object") {
    RequireOk(Install(fx.path));
    RequireOk(agent::UninstallHooks(fx.path));
    CHECK(ReadWholeFile(fx.path) == "{}\n");
  }
}

TEST_CASE("hook settings — tabs, no trailing newline and unicode escapes are read and kept as values", "[hooks]") {
  SettingsFixture fx;
  WriteFile(fx.path, ReadWholeFile(kFixtures + "unusual-formatting.json"), 0600);
  Result<agent::HookChange> r = Install(fx.path);
  RequireOk(r);
  const std::string after = ReadWholeFile(fx.path);
  INFO(after);
  CHECK(after.back() == '}');  // the file had no trailing newline; none added
  CHECK(after == Json::parse(after).dump(2));
  const Json doc = Json::parse(after);
  CHECK(doc.at("zeta").at("name") == "caf\u00e9 \U0001F600");
  CHECK(Contains(after, "caf\u00e9 \U0001F600"));  // written as UTF-8
  CHECK(doc.at("zeta").at("url") == "https://example.com/x");
  CHECK(doc.at("alpha") == Json::parse("[1, 2.5, -0.125, 1000.0, true, null]"));
  CHECK(Commands(doc, "Stop") == std::vector<std::string>{"say done", kTsync + " hook stop"});
  CHECK(ReadWholeFile(fx.backup) == ReadWholeFile(kFixtures + "unusual-formatting.json"));
}

TEST_CASE("hook settings — hooks of the wrong type are refused with the key path and the file untouched",
          "[hooks]") {
  SettingsFixture fx;
  std::string text, key_path;
  SECTION("hooks is an array") {
    text = R"({"model": "opus", "hooks": []})";
    key_path = "hooks must be an object";
  }
  SECTION("an event is an object") {
    text = R"({"hooks": {"SessionStart": {}}})";
    key_path = "hooks.SessionStart must be an array";
  }
  SECTION("a group's hooks is a string") {
    text = R"({"hooks": {"Stop": [{"hooks": []}, {"matcher": "", "hooks": "say done"}]}})";
    key_path = "hooks.Stop[1].hooks must be an array";
  }
  SECTION("a group is a string") {
    text = R"({"hooks": {"PostToolUse": ["Bash"]}})";
    key_path = "hooks.PostToolUse[0] must be an object";
  }
  SECTION("a matcher is a number") {
    text = R"({"hooks": {"PreCompact": [{"matcher": 7, "hooks": []}]}})";
    key_path = "hooks.PreCompact[0].matcher must be a string";
  }
  SECTION("the top level is an array") {
    text = R"([{"hooks": {}}])";
    key_path = "the top level must be a JSON object";
  }
  WriteFile(fx.path, text, 0600);
  const struct stat before = StatOf(fx.path);
  for (int op = 0; op < 2; ++op) {
    Result<agent::HookChange> r = op == 0 ? Install(fx.path) : agent::UninstallHooks(fx.path);
    REQUIRE_FALSE(r.ok());
    INFO(r.status().message());
    CHECK(r.status().kind() == Status::Kind::kInvalidInput);
    CHECK(Contains(r.status().message(), key_path));
    CHECK(Contains(r.status().message(), fx.path));
    CHECK(Contains(r.status().message(), "nothing was changed"));
  }
  CHECK(ReadWholeFile(fx.path) == text);
  CHECK(StatOf(fx.path).st_mtim.tv_nsec == before.st_mtim.tv_nsec);
  CHECK(Names(fx.home / ".claude") == std::vector<std::string>{"settings.json"});  // no backup, no temp file
  agent::HooksReport report = agent::HooksStatus(fx.path, kTsync);
  CHECK(report.exists);
  CHECK_FALSE(report.valid);
  CHECK(Contains(report.problem, key_path));
  CHECK(report.hooks.empty());
}

TEST_CASE("hook settings — invalid JSON is refused naming the file, line and column", "[hooks]") {
  SettingsFixture fx;
  const std::string text = "{\n  \"model\": \"opus\",\n  \"env\": {\"A\": \"1\" \"B\": \"2\"}\n}\n";
  WriteFile(fx.path, text, 0600);
  Result<agent::HookChange> r = Install(fx.path);
  REQUIRE_FALSE(r.ok());
  INFO(r.status().message());
  CHECK(r.status().kind() == Status::Kind::kInvalidInput);
  CHECK(Contains(r.status().message(), fx.path));
  CHECK(Contains(r.status().message(), "line 3, column 20"));
  CHECK(Contains(r.status().message(), "nothing was changed"));
  CHECK_FALSE(Contains(r.status().message(), "\"2\""));  // no quoting of the file's text
  CHECK(ReadWholeFile(fx.path) == text);
  CHECK_FALSE(Exists(fx.backup));

  // A lone surrogate passes the syntax check but not the parser; still placed.
  WriteFile(fx.path, "{\n  \"a\": \"\\ud800\"\n}\n", 0600);
  r = Install(fx.path);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().kind() == Status::Kind::kInvalidInput);
  CHECK(Contains(r.status().message(), "line 2, column"));
  CHECK(Contains(agent::HooksStatus(fx.path, kTsync).problem, "not valid JSON"));
}

TEST_CASE("hook settings — the backup is made once, before the first change, and never overwritten", "[hooks]") {
  SettingsFixture fx;
  const std::string original = "{\"model\": \"opus\"}";
  WriteFile(fx.path, original, 0644);
  Result<agent::HookChange> r = Install(fx.path);
  RequireOk(r);
  CHECK(r->backup == fx.backup);
  CHECK(ReadWholeFile(fx.backup) == original);
  CHECK((StatOf(fx.backup).st_mode & 07777) == 0600);  // settings can hold secrets (env)

  Result<agent::HookChange> u = agent::UninstallHooks(fx.path);
  RequireOk(u);
  CHECK(u->changed);
  CHECK(u->backup.empty());
  WriteFile(fx.path, "{\"model\": \"sonnet\"}\n", 0600);
  RequireOk(Install(fx.path, "/usr/bin/tsync"));
  CHECK(ReadWholeFile(fx.backup) == original);
}

TEST_CASE("hook settings — a change between read and write is noticed and the edit redone on the new text",
          "[hooks]") {
  SettingsFixture fx;
  WriteFile(fx.path, "{\n  \"model\": \"opus\"\n}\n", 0600);
  int calls = 0;
  agent::HookEditSeams seams;
  seams.before_commit = [&](int attempt) {
    ++calls;
    if (attempt == 1) WriteFile(fx.path, "{\n  \"model\": \"opus\",\n  \"theme\": \"dark\"\n}\n");
  };
  Result<agent::HookChange> r = agent::InstallHooks(fx.path, kTsync, seams);
  RequireOk(r);
  CHECK(calls == 2);
  const Json doc = ParseFile(fx.path);
  CHECK(doc.at("theme") == "dark");  // the other writer's change survives
  CHECK(doc.at("hooks").size() == 7);
  CHECK(Names(fx.home / ".claude") == std::vector<std::string>{"settings.json", "settings.json.tsync-backup"});
}

TEST_CASE("hook settings — a file that keeps changing underneath ends in kConflict with the other writer's text",
          "[hooks]") {
  SettingsFixture fx;
  WriteFile(fx.path, "{}\n", 0600);
  std::string last;
  agent::HookEditSeams seams;
  seams.before_commit = [&](int attempt) {
    last = "{\"edit\": " + std::to_string(attempt) + "}\n";
    WriteFile(fx.path, last);
  };
  Result<agent::HookChange> r = agent::InstallHooks(fx.path, kTsync, seams);
  REQUIRE_FALSE(r.ok());
  INFO(r.status().message());
  CHECK(r.status().kind() == Status::Kind::kConflict);
  CHECK(Contains(r.status().message(), fx.path));
  CHECK(Contains(r.status().message(), "nothing was changed"));
  CHECK(last == "{\"edit\": 3}\n");
  CHECK(ReadWholeFile(fx.path) == last);
  CHECK(Names(fx.home / ".claude") == std::vector<std::string>{"settings.json", "settings.json.tsync-backup"});

}

TEST_CASE("hook settings — a settings file that appears while tsync creates it is not overwritten", "[hooks]") {
  SettingsFixture fx;
  agent::HookEditSeams seams;
  seams.before_commit = [&](int attempt) { WriteFile(fx.path, "{\"made\": " + std::to_string(attempt) + "}"); };
  // Attempt 1 saw no file and must not replace the one that appeared; later
  // attempts read it, and each is spoiled again by the next write.
  Result<agent::HookChange> r = agent::InstallHooks(fx.path, kTsync, seams);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().kind() == Status::Kind::kConflict);
  CHECK(ReadWholeFile(fx.path) == "{\"made\": 3}");
}

TEST_CASE("hook settings — a symlinked settings.json is followed — the target edited, the link kept", "[hooks]") {
  SettingsFixture fx;
  const std::string target = fx.home / "dotfiles/claude/settings.json";
  WriteFile(target, "{\"model\": \"opus\"}\n", 0640);
  REQUIRE(::chmod(target.c_str(), 0640) == 0);
  REQUIRE(MakeDirs(fx.home / ".claude").ok());
  REQUIRE(::symlink("../dotfiles/claude/settings.json", fx.path.c_str()) == 0);

  Result<agent::HookChange> r = Install(fx.path);
  RequireOk(r);
  CHECK(r->written == target);
  struct stat st;
  REQUIRE(::lstat(fx.path.c_str(), &st) == 0);
  CHECK(S_ISLNK(st.st_mode));
  CHECK(ParseFile(target).at("hooks").size() == 7);
  CHECK(ParseFile(target).at("model") == "opus");
  CHECK((StatOf(target).st_mode & 07777) == 0640);
  CHECK(ReadWholeFile(fx.backup) == "{\"model\": \"opus\"}\n");  // beside the link
  CHECK(agent::HooksStatus(fx.path, kTsync).AllInstalled());

  RequireOk(agent::UninstallHooks(fx.path));
  REQUIRE(::lstat(fx.path.c_str(), &st) == 0);
  CHECK(S_ISLNK(st.st_mode));
  CHECK(ReadWholeFile(target) == "{\n  \"model\": \"opus\"\n}\n");
}

TEST_CASE("hook settings — a file over 4 MiB is refused and left alone", "[hooks]") {
  SettingsFixture fx;
  std::string big = "{\"pad\": \"" + std::string(agent::kMaxSettingsBytes, 'x') + "\"}\n";
  WriteFile(fx.path, big, 0600);
  Result<agent::HookChange> r = Install(fx.path);
  REQUIRE_FALSE(r.ok());
  INFO(r.status().message());
  CHECK(r.status().kind() == Status::Kind::kInvalidInput);
  CHECK(Contains(r.status().message(), "4 MiB"));
  CHECK(Contains(r.status().message(), fx.path));
  CHECK(ReadWholeFile(fx.path).size() == big.size());
  CHECK_FALSE(Exists(fx.backup));
  CHECK_FALSE(agent::HooksStatus(fx.path, kTsync).valid);
}

TEST_CASE("hook settings — HookCommand quotes what the shell would split, and the quoted form is recognised",
          "[hooks]") {
  CHECK(agent::HookCommand("/usr/local/bin/tsync", "stop") == "/usr/local/bin/tsync hook stop");
  CHECK(agent::HookCommand("/opt/my tools/tsync", "session-start") == "'/opt/my tools/tsync' hook session-start");
  CHECK(agent::HookCommand("/opt/it's/tsync", "stop") == "'/opt/it'\\''s/tsync' hook stop");
  CHECK(agent::HookCommand("/o/$HOME/tsync", "stop") == "'/o/$HOME/tsync' hook stop");

  SettingsFixture fx;
  const std::string odd = fx.home / "it's here/tsync";
  RequireOk(Install(fx.path, odd));
  CHECK(agent::HooksStatus(fx.path, odd).AllInstalled());
  Result<agent::HookChange> again = Install(fx.path, odd);
  RequireOk(again);
  CHECK_FALSE(again->changed);
  // Moving to a plain path repoints every entry.
  Result<agent::HookChange> moved = Install(fx.path, kTsync);
  RequireOk(moved);
  CHECK(moved->updated.size() == agent::TsyncHooks().size());
  CHECK(moved->added.empty());
}

TEST_CASE("hook settings — install refuses a relative binary, uninstall of a missing file creates nothing",
          "[hooks]") {
  SettingsFixture fx;
  Result<agent::HookChange> r = Install(fx.path, "build/agent/tsync");
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().kind() == Status::Kind::kInvalidInput);
  CHECK(Contains(r.status().message(), "absolute"));
  CHECK_FALSE(Exists(fx.path));

  Result<agent::HookChange> u = agent::UninstallHooks(fx.path);
  RequireOk(u);
  CHECK_FALSE(u->changed);
  CHECK_FALSE(Exists(fx.path));
  CHECK_FALSE(Exists(fx.home / ".claude"));
}

TEST_CASE("hook settings — a number beyond a double is refused with the file untouched, not a crash", "[hooks]") {
  // nlohmann throws out_of_range, not parse_error, for it (found by
  // fuzz/hook_settings_fuzz.cc: the exception ended the process).
  SettingsFixture fx;
  const std::string text = "{\n  \"model\": \"opus\",\n  \"x\": 1e999\n}\n";
  WriteFile(fx.path, text, 0600);
  for (const Result<agent::HookChange>& r : {Install(fx.path), agent::UninstallHooks(fx.path)}) {
    REQUIRE_FALSE(r.ok());
    INFO(r.status().message());
    CHECK(r.status().kind() == Status::Kind::kInvalidInput);
    CHECK(Contains(r.status().message(), "too large"));
  }
  CHECK(ReadWholeFile(fx.path) == text);
  CHECK_FALSE(Exists(fx.backup));
  CHECK_FALSE(agent::HooksStatus(fx.path, kTsync).valid);
}

}  // namespace tsync::testing
