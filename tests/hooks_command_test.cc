// `tsync hooks install|uninstall|status` and `tsync setup` as a user runs
// them: the real binary in a private HOME, editing
// <CLAUDE_CONFIG_DIR>/settings.json (agent/hooks_command.h; the editor
// itself is tested in hook_settings_test.cc).
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "agent/exit_codes.h"
#include "base/status.h"
#include "tests/refserver_process.h"
#include "tests/samples_home.h"
#include "tests/test_util.h"

namespace tsync::testing {
namespace {

using Json = nlohmann::ordered_json;

// Claude Code event → `tsync hook` subcommand, for the hooks without a matcher.
const std::vector<std::pair<std::string, std::string>> kEvents = {
    {"SessionStart", "session-start"}, {"SessionEnd", "session-end"},     {"Stop", "stop"},
    {"PreCompact", "pre-compact"},     {"SubagentStop", "subagent-stop"}, {"UserPromptSubmit", "user-prompt-submit"},
};

bool Has(const std::string& haystack, const std::string& needle) { return haystack.find(needle) != std::string::npos; }

std::string Settings(const SamplesHome& h) { return h.claude + "/settings.json"; }

/// The one tsync command under `event` (matcher ""), and its timeout.
std::pair<std::string, int> OurHook(const Json& doc, const std::string& event) {
  for (const Json& group : doc.at("hooks").at(event)) {
    for (const Json& hook : group.at("hooks")) {
      const std::string cmd = hook.value("command", "");
      if (Has(cmd, " hook ")) return {cmd, hook.value("timeout", 0)};
    }
  }
  return {"", 0};
}

std::vector<std::string> States(const Json& status) {
  std::vector<std::string> out;
  for (const Json& h : status.at("hooks")) out.push_back(h.at("state").get<std::string>());
  return out;
}

}  // namespace

TEST_CASE("hooks install — every hook runs this binary with a 30 s timeout, a second install changes nothing",
          "[hooks]") {
  SamplesHome h;
  ProcessResult before = h.Run({"hooks", "status", "--json"});
  INFO(before.out << before.err);
  CHECK(before.exit_code == 1);
  Json status = Json::parse(before.out);
  CHECK(status.at("exists") == false);
  CHECK(status.at("settings_path") == Settings(h));
  CHECK(status.at("binary") == TSYNC_BINARY);
  CHECK(States(status) == std::vector<std::string>(8, "missing"));

  ProcessResult in = h.Run({"hooks", "install"});
  INFO(in.out << in.err);
  REQUIRE(in.exit_code == 0);
  CHECK(Has(in.out, "installed tsync's hooks in " + Settings(h) + " (new file)"));
  CHECK(Has(in.out, "each runs: " + std::string(TSYNC_BINARY) + " hook <event>"));
  const std::string written = ReadWholeFile(Settings(h));
  Json doc = Json::parse(written);
  for (const auto& [event, sub] : kEvents) {
    INFO(event);
    // SessionEnd hooks are cut off after ~1.5 s at exit unless they declare a timeout.
    CHECK(OurHook(doc, event) == std::pair<std::string, int>{std::string(TSYNC_BINARY) + " hook " + sub, 30});
  }
  struct stat st;
  REQUIRE(::stat(Settings(h).c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);

  ProcessResult again = h.Run({"hooks", "install"});
  CHECK(again.exit_code == 0);
  CHECK(Has(again.out, "already installed"));
  CHECK(ReadWholeFile(Settings(h)) == written);

  ProcessResult text = h.Run({"hooks", "status"});
  CHECK(text.exit_code == 0);
  CHECK(Has(text.out, "8 hooks: 8 installed\n"));
  CHECK(Has(text.out, "  SessionEnd "));
  Json after = Json::parse(h.Run({"hooks", "status", "--json"}).out);
  CHECK(after.at("exit_code") == 0);
  CHECK(States(after) == std::vector<std::string>(8, "installed"));

  ProcessResult out = h.Run({"hooks", "uninstall"});
  CHECK(out.exit_code == 0);
  CHECK(Has(out.out, "removed tsync's hooks from " + Settings(h)));
  CHECK(Json::parse(ReadWholeFile(Settings(h))) == Json::object());
  CHECK(h.Run({"hooks", "status"}).exit_code == 1);
  ProcessResult twice = h.Run({"hooks", "uninstall", "--json"});
  CHECK(twice.exit_code == 0);
  CHECK(Json::parse(twice.out).at("changed") == false);
}

TEST_CASE("hooks status — an entry running another tsync is outdated until install repoints it, the rest is kept",
          "[hooks]") {
  SamplesHome h;
  const std::string original = R"({
  "model": "opus",
  "hooks": {
    "PreToolUse": [{"matcher": "Bash", "hooks": [{"type": "command", "command": "other-tool check"}]}],
    "Stop": [{"matcher": "", "hooks": [{"type": "command", "command": "/old/bin/tsync hook stop"}]}]
  }
}
)";
  WriteFile(Settings(h), original, 0600);
  ProcessResult st = h.Run({"hooks", "status"});
  INFO(st.out << st.err);
  CHECK(st.exit_code == 1);
  CHECK(Has(st.out, "outdated: /old/bin/tsync hook stop\n"));
  CHECK(Has(st.out, "8 hooks: 0 installed, 7 missing, 1 running another tsync — run `tsync hooks install`"));
  Json status = Json::parse(h.Run({"hooks", "status", "--json"}).out);
  CHECK(status.at("hooks").at(2).at("event") == "Stop");
  CHECK(status.at("hooks").at(2).at("state") == "outdated");
  CHECK(status.at("hooks").at(2).at("command") == "/old/bin/tsync hook stop");

  ProcessResult in = h.Run({"hooks", "install", "--json"});
  INFO(in.out << in.err);
  REQUIRE(in.exit_code == 0);
  Json change = Json::parse(in.out);
  CHECK(change.at("changed") == true);
  CHECK(change.at("updated") == Json::array({"Stop"}));
  CHECK(change.at("added").size() == 7);
  CHECK(change.at("backup") == Settings(h) + ".tsync-backup");
  CHECK(ReadWholeFile(Settings(h) + ".tsync-backup") == original);
  Json doc = Json::parse(ReadWholeFile(Settings(h)));
  CHECK(doc.at("model") == "opus");
  CHECK(doc.at("hooks").at("PreToolUse").at(0).at("hooks").at(0).at("command") == "other-tool check");
  CHECK(OurHook(doc, "Stop").first == std::string(TSYNC_BINARY) + " hook stop");
  CHECK(h.Run({"hooks", "status"}).exit_code == 0);

  // Uninstall takes out tsync's entries, whatever their path, and nothing else.
  REQUIRE(h.Run({"hooks", "uninstall"}).exit_code == 0);
  doc = Json::parse(ReadWholeFile(Settings(h)));
  CHECK(doc.at("model") == "opus");
  CHECK(doc.at("hooks").size() == 1);
  CHECK(doc.at("hooks").contains("PreToolUse"));
}

TEST_CASE("hooks — a settings.json that is not JSON or has the wrong shape is refused with exit 2, untouched",
          "[hooks]") {
  SamplesHome h;
  for (const std::string& bad : {std::string("{\"hooks\": [1, 2]}\n"), std::string("{\n  \"model\": opus\n}\n")}) {
    WriteFile(Settings(h), bad, 0600);
    for (const char* action : {"install", "uninstall", "status"}) {
      ProcessResult r = h.Run({"hooks", action});
      INFO(action << ": " << r.out << r.err);
      CHECK(r.exit_code == 2);
      CHECK(Has(r.out + r.err, Settings(h)));
      CHECK(ReadWholeFile(Settings(h)) == bad);
    }
    ProcessResult json = h.Run({"hooks", "install", "--json"});
    CHECK(json.exit_code == 2);
    Json doc = Json::parse(json.out);
    CHECK(doc.at("exit_code") == 2);
    CHECK(Has(doc.at("error").get<std::string>(), "nothing was changed"));
  }
  CHECK(Has(h.Run({"hooks", "install"}).err, "line 2, column"));
  CHECK_FALSE(std::filesystem::exists(Settings(h) + ".tsync-backup"));
  // A settings file that keeps changing underneath is a conflict: exit 1.
  CHECK(agent::ExitCodeFor(Status::Conflict("changed")) == 1);
}

TEST_CASE("hooks install — started through a symlink or PATH, the hooks keep that stable path", "[hooks]") {
  SamplesHome h;
  TempDir bin;
  std::filesystem::create_symlink(TSYNC_BINARY, bin / "tsync");
  const std::vector<std::string> env = {"HOME=" + h.home.path(), "CLAUDE_CONFIG_DIR=" + h.claude};

  std::vector<std::string> path_env = env;
  path_env.push_back("PATH=" + bin.path() + ":/usr/bin:/bin");
  ProcessResult by_path = RunProcess({"/bin/sh", "-c", "tsync hooks install"}, path_env);
  INFO(by_path.out << by_path.err);
  REQUIRE(by_path.exit_code == 0);
  Json doc = Json::parse(ReadWholeFile(Settings(h)));
  CHECK(OurHook(doc, "SessionStart").first == bin / "tsync hook session-start");

  // Run by its real path, the same hooks read as another binary's.
  std::vector<std::string> plain_env = env;
  plain_env.push_back("PATH=/usr/bin:/bin");
  CHECK(RunProcess({TSYNC_BINARY, "hooks", "status"}, plain_env).exit_code == 1);
  ProcessResult by_link = RunProcess({bin / "tsync", "hooks", "status", "--json"}, plain_env);
  CHECK(by_link.exit_code == 0);
  CHECK(Json::parse(by_link.out).at("binary") == bin / "tsync");

  // A link under another name is not a stable tsync path: the real file is used.
  std::filesystem::create_symlink(TSYNC_BINARY, bin / "ts");
  ProcessResult other = RunProcess({bin / "ts", "hooks", "status", "--json"}, plain_env);
  CHECK(Json::parse(other.out).at("binary") == TSYNC_BINARY);
}

TEST_CASE("setup — installs the hooks, then names the archive, asks for a login, or checks the backend", "[hooks]") {
  SamplesHome h;
  RefServer server;
  ProcessResult archive = h.Run({"setup"});
  INFO(archive.out << archive.err);
  CHECK(archive.exit_code == 0);
  CHECK(Has(archive.out, "installed tsync's hooks in " + Settings(h)));
  CHECK(Has(archive.out, "no backend configured: sessions are saved to the local archive " + h.home.path()));
  CHECK(Has(archive.out, "tsync login --backend-url"));
  CHECK(h.Run({"hooks", "status"}).exit_code == 0);

  ProcessResult no_key = h.Run({"setup"}, {"TSYNC_BACKEND_URL=" + server.url()});
  INFO(no_key.out << no_key.err);
  CHECK(no_key.exit_code == 3);
  CHECK(Has(no_key.out, "already installed"));
  CHECK(Has(no_key.out, "no API key yet: run `tsync login`"));

  WriteFile(h.home / ".config/tsync/config.json",
            R"({"backend_url": ")" + server.url() + R"(", "api_key": "k1"})" "\n", 0600);
  ProcessResult ok = h.Run({"setup"});
  INFO(ok.out << ok.err);
  CHECK(ok.exit_code == 0);
  CHECK(Has(ok.out, "backend " + server.url()));
  CHECK(Has(ok.out, "reachable; the API key is valid (one@example.com)"));
  CHECK_FALSE(Has(ok.out + ok.err, "k1"));

  ProcessResult refused = h.Run({"setup"}, {"TSYNC_API_KEY=not-a-key"});
  CHECK(refused.exit_code == 3);
  CHECK(Has(refused.out, "the backend refused the API key: run `tsync login`"));

  ProcessResult down = h.Run({"setup"}, {"TSYNC_BACKEND_URL=http://127.0.0.1:1"});
  CHECK(down.exit_code == 4);
  CHECK(Has(down.out, "unreachable: "));
}

}  // namespace tsync::testing
