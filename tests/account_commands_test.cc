// `tsync login`, `logout`, `config` and `version`, end to end: the real
// binary against the real reference backend (keys "k1" for
// one@example.com and "k2"; device logins are approved on the second poll).
// Every run has its own HOME, XDG_CONFIG_HOME and XDG_STATE_HOME, and the
// API key must never show up in anything the binary prints.
#include <simdjson.h>
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <regex>
#include <string>
#include <vector>

#include "tests/refserver_process.h"
#include "tests/test_util.h"

namespace tsync::testing {
namespace {

struct AccountFixture {
  TempDir home;
  std::string config_dir = home / "xdg-config/tsync";
  std::string config_path = config_dir + "/config.json";

  std::vector<std::string> Env(std::vector<std::string> extra) const {
    std::vector<std::string> env = {"HOME=" + home.path(), "PATH=/usr/bin:/bin",
                                    "XDG_CONFIG_HOME=" + home / "xdg-config",
                                    "XDG_STATE_HOME=" + home / "xdg-state"};
    env.insert(env.end(), extra.begin(), extra.end());
    return env;
  }
  ProcessResult Run(std::vector<std::string> args, std::vector<std::string> extra_env = {}) const {
    args.insert(args.begin(), TSYNC_BINARY);
    return RunProcess(args, Env(std::move(extra_env)));
  }
  ProcessResult RunIn(const std::string& input, std::vector<std::string> args,
                      std::vector<std::string> extra_env = {}) const {
    args.insert(args.begin(), TSYNC_BINARY);
    return RunProcess(args, Env(std::move(extra_env)), input);
  }
  std::string Config() const { return ReadWholeFile(config_path); }
};

mode_t ModeOf(const std::string& path) {
  struct stat st;
  REQUIRE(::stat(path.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

bool Has(const std::string& text, std::string_view needle) { return text.find(needle) != std::string::npos; }

/// The string value of `key` in the config file's top-level object.
std::string ConfigString(const std::string& text, const char* key) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  std::string_view value;
  if (parser.parse(text).get(doc) || doc[key].get_string().get(value)) return "";
  return std::string(value);
}

}  // namespace

TEST_CASE("login --api-key-stdin — a good key is stored 0600 beside the user's fields and never printed",
          "[account]") {
  RefServer server;
  AccountFixture fx;
  WriteFile(fx.config_path, "{\"log_level\": \"warn\", \"my_note\": \"keep me\"}\n", 0644);
  ProcessResult r = fx.RunIn("k1\n", {"login", "--api-key-stdin", "--backend-url", server.url()});
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(Has(r.out, "one@example.com"));
  CHECK(Has(r.out, fx.config_path));
  CHECK_FALSE(Has(r.out, "k1"));
  CHECK_FALSE(Has(r.err, "k1"));

  const std::string text = fx.Config();
  CHECK(ConfigString(text, "api_key") == "k1");
  CHECK(ConfigString(text, "backend_url") == server.url());
  CHECK(ConfigString(text, "my_note") == "keep me");
  CHECK(ConfigString(text, "log_level") == "warn");
  CHECK_FALSE(Has(text, "state_dir"));  // nothing pinned from defaults
  CHECK(ModeOf(fx.config_path) == 0600);

  // The stored key is what the next command uses.
  ProcessResult masked = fx.Run({"config", "get", "api_key"});
  CHECK(masked.exit_code == 0);
  CHECK(masked.out == "****\n");
}

TEST_CASE("login --api-key-stdin — a refused key exits 3 and the config file is untouched", "[account]") {
  RefServer server;
  AccountFixture fx;
  const std::string original = "{\"backend_url\": \"" + server.url() + "\", \"api_key\": \"k2\"}\n";
  WriteFile(fx.config_path, original, 0600);
  ProcessResult r = fx.RunIn("cfb_wrongwrongwrong\n", {"login", "--api-key-stdin"});
  INFO(r.err);
  CHECK(r.exit_code == 3);
  CHECK(Has(r.err, "refused the API key"));
  CHECK(Has(r.err, "nothing was saved"));
  CHECK_FALSE(Has(r.err + r.out, "wrongwrong"));
  CHECK(fx.Config() == original);
}

TEST_CASE("login --api-key-stdin — empty, spaced, multi-line and oversized input exit 2 without echoing it",
          "[account]") {
  RefServer server;
  AccountFixture fx;
  const std::string inputs[] = {"", "\n", "cfb_has space\n", "cfb_lineone\ncfb_linetwo\n",
                                std::string(5000, 'z') + "\n"};
  for (const std::string& input : inputs) {
    INFO(input.size());
    ProcessResult r = fx.RunIn(input, {"login", "--api-key-stdin", "--backend-url", server.url()});
    CHECK(r.exit_code == 2);
    CHECK(Has(r.err, "stdin"));
    CHECK_FALSE(Has(r.err, "cfb_"));
    CHECK_FALSE(Has(r.err, "zzzz"));
    CHECK_FALSE(std::filesystem::exists(fx.config_path));
  }
}

TEST_CASE("login — no backend configured exits 2 and says how to set one — an unreachable one exits 4",
          "[account]") {
  AccountFixture fx;
  ProcessResult none = fx.RunIn("k1\n", {"login", "--api-key-stdin"});
  CHECK(none.exit_code == 2);
  CHECK(Has(none.err, "--backend-url"));
  CHECK(Has(none.err, "tsync config set backend_url"));
  CHECK(Has(none.err, "TSYNC_BACKEND_URL"));

  ProcessResult down = fx.RunIn("k1\n", {"login", "--api-key-stdin", "--backend-url", "http://127.0.0.1:1"});
  CHECK(down.exit_code == 4);
  CHECK(Has(down.err, "try again later"));
  CHECK_FALSE(std::filesystem::exists(fx.config_path));

  ProcessResult insecure = fx.RunIn("k1\n", {"login", "--api-key-stdin", "--backend-url", "http://sync.example.com"});
  CHECK(insecure.exit_code == 2);
  CHECK(Has(insecure.err, "--backend-url"));
}

TEST_CASE("login — device flow end to end — shows the code, stores the issued key, save uses it", "[account]") {
  RefServer server;
  AccountFixture fx;
  ProcessResult r = fx.Run({"login", "--backend-url", server.url()}, {"TSYNC_DEVICE_POLL_MS=20"});
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(Has(r.out, server.url() + "/device"));
  CHECK(std::regex_search(r.out, std::regex("enter the code:  [0-9A-F]{4}-[0-9A-F]{4}")));
  CHECK(Has(r.out, "one@example.com"));

  const std::string key = ConfigString(fx.Config(), "api_key");
  REQUIRE(key.starts_with("cfb_"));
  CHECK(key.size() > 20);
  CHECK_FALSE(Has(r.out, key));
  CHECK_FALSE(Has(r.err, key));
  CHECK(ModeOf(fx.config_path) == 0600);

  ProcessResult masked = fx.Run({"config", "get", "api_key"});
  CHECK(masked.exit_code == 0);
  CHECK(masked.out == "cfb_…" + key.substr(key.size() - 4) + "\n");

  // A save without --to goes to the saved backend with the saved key.
  const std::string claude = fx.home / ".claude";
  std::filesystem::create_directories(claude + "/projects");
  std::filesystem::copy(std::string(TSYNC_SAMPLES_DIR) + "/claude-code-2.1.328/-home-dev-demo-project",
                        claude + "/projects/-home-dev-demo-project", std::filesystem::copy_options::recursive);
  ProcessResult save = fx.Run({"save", "f772"}, {"CLAUDE_CONFIG_DIR=" + claude});
  INFO(save.out << save.err);
  CHECK(save.exit_code == 0);
  CHECK(Has(save.out, server.url()));
  CHECK_FALSE(Has(save.out + save.err, key));
  Reply found = Send(server.port(), "GET", "/api/v1/sessions/by-external-id/f77208d6-3db0-4287-a546-37ae05a6bf08",
                     {{"Authorization", "Bearer k1"}});
  CHECK(found.status == 200);
}

TEST_CASE("login — a backend without device login (404) exits 2 and points to --api-key-stdin", "[account]") {
  RefServer server;
  AccountFixture fx;
  // Under a path prefix every route of the refserver is 404.
  ProcessResult r = fx.Run({"login", "--backend-url", server.url() + "/no-such-prefix"});
  INFO(r.err);
  CHECK(r.exit_code == 2);
  CHECK(Has(r.err, "does not offer device login"));
  CHECK(Has(r.err, "tsync login --api-key-stdin"));
  CHECK_FALSE(std::filesystem::exists(fx.config_path));
}

TEST_CASE("logout — removes the key and keeps the rest — again says not logged in — warns about TSYNC_API_KEY",
          "[account]") {
  AccountFixture fx;
  WriteFile(fx.config_path, "{\"backend_url\": \"https://sync.example.com\", \"api_key\": \"cfb_0123456789abcdef\"}",
            0600);
  ProcessResult first = fx.Run({"logout"});
  INFO(first.err);
  CHECK(first.exit_code == 0);
  CHECK(Has(first.out, "Logged out"));
  CHECK_FALSE(Has(first.out + first.err, "0123456789abcdef"));
  CHECK_FALSE(Has(fx.Config(), "api_key"));
  CHECK(ConfigString(fx.Config(), "backend_url") == "https://sync.example.com");

  ProcessResult second = fx.Run({"logout"}, {"TSYNC_API_KEY=cfb_fromtheenvironment"});
  CHECK(second.exit_code == 0);
  CHECK(Has(second.out, "Not logged in"));
  CHECK(Has(second.err, "TSYNC_API_KEY is set"));
  CHECK_FALSE(Has(second.err, "fromtheenvironment"));
}

TEST_CASE("config — set, get and unset round trip through the file", "[account]") {
  AccountFixture fx;
  WriteFile(fx.config_path, "{\"my_note\": 42}", 0600);
  CHECK(fx.Run({"config", "set", "log_level", "debug"}).exit_code == 0);
  CHECK(fx.Run({"config", "set", "redaction.enabled", "false"}).exit_code == 0);
  ProcessResult set_dir = fx.Run({"config", "set", "state_dir", "~/my-state"});
  CHECK(set_dir.exit_code == 0);
  CHECK(Has(set_dir.out, "set state_dir = ~/my-state in " + fx.config_path));

  CHECK(fx.Run({"config", "get", "log_level"}).out == "debug\n");
  CHECK(fx.Run({"config", "get", "redaction.enabled"}).out == "false\n");
  CHECK(fx.Run({"config", "get", "state_dir"}).out == fx.home / "my-state\n");
  CHECK(Has(fx.Config(), "\"my_note\": 42"));
  CHECK(ModeOf(fx.config_path) == 0600);

  ProcessResult again = fx.Run({"config", "set", "log_level", "debug"});
  CHECK(again.exit_code == 0);
  CHECK(Has(again.out, "already"));

  ProcessResult unset = fx.Run({"config", "unset", "log_level"});
  CHECK(unset.exit_code == 0);
  CHECK(Has(unset.out, "now info (default)"));
  CHECK(fx.Run({"config", "get", "log_level"}).out == "info\n");
  ProcessResult unset_again = fx.Run({"config", "unset", "log_level"});
  CHECK(unset_again.exit_code == 0);
  CHECK(Has(unset_again.out, "not set"));
  CHECK(Has(fx.Config(), "\"my_note\": 42"));
}

TEST_CASE("config get — every field with its source — the API key masked", "[account]") {
  AccountFixture fx;
  WriteFile(fx.config_path, "{\"api_key\": \"cfb_0123456789abcdef\", \"log_level\": \"warn\"}", 0600);
  ProcessResult r = fx.Run({"--claude-dir", fx.home / "claude", "config", "get"},
                           {"TSYNC_BACKEND_URL=https://env.example.com"});
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(Has(r.out, "config file: " + fx.config_path));
  CHECK(std::regex_search(r.out, std::regex("backend_url +https://env\\.example\\.com +\\(env\\)")));
  CHECK(std::regex_search(r.out, std::regex("api_key +cfb_…cdef +\\(file\\)")));
  CHECK(std::regex_search(r.out, std::regex("log_level +warn +\\(file\\)")));
  CHECK(std::regex_search(r.out, std::regex("claude_dir +" + fx.home.path() + "/claude +\\(flag\\)")));
  CHECK(std::regex_search(r.out, std::regex("redaction\\.enabled +true +\\(default\\)")));
  CHECK_FALSE(Has(r.out + r.err, "0123456789ab"));

  // A value the environment overrides: set works, with a warning.
  ProcessResult set = fx.Run({"config", "set", "backend_url", "https://file.example.com"},
                             {"TSYNC_BACKEND_URL=https://env.example.com"});
  CHECK(set.exit_code == 0);
  CHECK(Has(set.err, "TSYNC_BACKEND_URL"));
  CHECK(ConfigString(fx.Config(), "backend_url") == "https://file.example.com");
}

TEST_CASE("config set — invalid values exit 2 naming the field and leave the file untouched", "[account]") {
  AccountFixture fx;
  const std::string original = "{\"log_level\": \"info\"}";
  WriteFile(fx.config_path, original, 0600);
  struct Case {
    std::vector<std::string> args;
    const char* expect;
  };
  const Case cases[] = {
      {{"config", "set", "backend_url", "http://sync.example.com"}, "field 'backend_url'"},
      {{"config", "set", "log_level", "loud"}, "log_level must be one of"},
      {{"config", "set", "allow_insecure_http", "yes"}, "allow_insecure_http must be true or false"},
      {{"config", "set", "archive_dir", "relative/dir"}, "archive_dir must be an absolute path"},
      {{"config", "set", "redaction.rules", "[]"}, "edit it in the config file"},
  };
  for (const Case& c : cases) {
    INFO(c.args[2]);
    ProcessResult r = fx.Run(c.args);
    CHECK(r.exit_code == 2);
    CHECK(Has(r.err, c.expect));
  }
  CHECK(fx.Config() == original);

  ProcessResult unknown = fx.Run({"config", "set", "backend", "https://x.example.com"});
  CHECK(unknown.exit_code == 2);
  CHECK(Has(unknown.err, "unknown config field 'backend'"));
  CHECK(Has(unknown.err, "backend_url, api_key, allow_insecure_http"));
  CHECK(fx.Run({"config", "get", "nope"}).exit_code == 2);
  CHECK(fx.Config() == original);
}

TEST_CASE("config set api_key — refused with a pointer to login --api-key-stdin, the value never echoed",
          "[account]") {
  AccountFixture fx;
  ProcessResult r = fx.Run({"config", "set", "api_key", "cfb_typedonthecommandline"});
  CHECK(r.exit_code == 2);
  CHECK(Has(r.err, "tsync login --api-key-stdin"));
  CHECK_FALSE(Has(r.out + r.err, "typedonthecommandline"));
  CHECK_FALSE(std::filesystem::exists(fx.config_path));
}

TEST_CASE("config — a config file that is not JSON is named with its line — logout and set refuse to guess",
          "[account]") {
  AccountFixture fx;
  const std::string broken = "{\n  \"log_level\": \"info\",\n  oops\n}\n";
  WriteFile(fx.config_path, broken, 0600);
  ProcessResult set = fx.Run({"config", "set", "log_level", "debug"});
  CHECK(set.exit_code == 2);
  CHECK(Has(set.err, fx.config_path));
  CHECK(Has(set.err, "line 3"));
  ProcessResult logout = fx.Run({"logout"});
  CHECK(logout.exit_code == 2);
  CHECK(Has(logout.err, "line 3"));
  ProcessResult get = fx.Run({"config", "get"});
  CHECK(get.exit_code == 2);
  CHECK(Has(get.err, "line 3"));
  CHECK(fx.Config() == broken);
}

TEST_CASE("version — text and --json — the --version flag still works", "[account]") {
  AccountFixture fx;
  ProcessResult text = fx.Run({"version"});
  REQUIRE(text.exit_code == 0);
  CHECK(text.out.starts_with("tsync 0."));
  CHECK(Has(text.out, "libcurl: "));
  CHECK(Has(text.out, "zstd: "));
  CHECK(Has(text.out, "compiler: "));

  ProcessResult json = fx.Run({"version", "--json"});
  REQUIRE(json.exit_code == 0);
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  REQUIRE(parser.parse(json.out).get(doc) == simdjson::SUCCESS);
  std::string_view version = doc["version"].get_string().value();
  CHECK(text.out.starts_with("tsync " + std::string(version) + "\n"));
  CHECK(doc["libraries"]["libcurl"].get_string().value().size() > 0);
  CHECK(doc["libraries"]["simdjson"].get_string().value() == "3.0.1");

  ProcessResult flag = fx.Run({"--version"});
  CHECK(flag.exit_code == 0);
  CHECK(Has(flag.out, std::string(version)));
}

}  // namespace tsync::testing
