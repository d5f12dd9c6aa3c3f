// config/config_edit.h: editing the user's config file in place — other
// keys kept as written, atomic 0600 writes, invalid edits refused with the
// file untouched, clear errors for files that cannot be edited.
#include "config/config_edit.h"

#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <string>

#include "base/fs.h"
#include "tests/test_util.h"

namespace tsync::testing {
namespace {

struct EditFixture {
  TempDir home;
  std::string path = home / ".config/tsync/config.json";
  config::Environment env = config::MapEnvironment({{"HOME", home.path()}});

  Result<config::EditResult> Edit(std::vector<config::FieldChange> changes,
                                  const config::Environment* with_env = nullptr) const {
    return config::EditConfigFile(path, changes, with_env ? *with_env : env);
  }
};

mode_t ModeOf(const std::string& path) {
  struct stat st;
  REQUIRE(::stat(path.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

ino_t InodeOf(const std::string& path) {
  struct stat st;
  REQUIRE(::stat(path.c_str(), &st) == 0);
  return st.st_ino;
}

bool Contains(const std::string& haystack, std::string_view needle) {
  return haystack.find(needle) != std::string::npos;
}

}  // namespace

TEST_CASE("config edit — keeps unknown keys, their order and values, and nested fields", "[config_edit]") {
  EditFixture fx;
  WriteFile(fx.path,
            "{\n  \"zeta_note\": \"keep me\",\n  \"log_level\": \"warn\",\n"
            "  \"redaction\": {\"enabled\": true, \"future_option\": [1, 2.5, null],\n"
            "    \"rules\": [{\"id\": \"acme-token\", \"regex\": \"acme_[a-z0-9]{8}\", \"keywords\": [\"acme_\"]}]},\n"
            "  \"alpha_unknown\": {\"deep\": {\"x\": false}}\n}\n",
            0600);
  Result<config::EditResult> r = fx.Edit({{"log_level", std::string("debug")}, {"redaction.enabled", false}});
  INFO((r.ok() ? "" : r.status().ToString()));
  REQUIRE(r.ok());
  CHECK(r->changed);
  CHECK(r->had_value == std::vector<bool>{true, true});
  const std::string text = ReadWholeFile(fx.path);
  INFO(text);
  // Unknown keys and values survive, in the user's order.
  CHECK(Contains(text, "\"zeta_note\": \"keep me\""));
  CHECK(Contains(text, "\"future_option\""));
  CHECK(Contains(text, "2.5"));
  CHECK(Contains(text, "\"deep\""));
  CHECK(Contains(text, "acme_[a-z0-9]{8}"));
  CHECK(text.find("zeta_note") < text.find("log_level"));
  CHECK(text.find("log_level") < text.find("alpha_unknown"));
  // The edits themselves.
  CHECK(Contains(text, "\"log_level\": \"debug\""));
  CHECK(Contains(text, "\"enabled\": false"));
  // Nothing pinned from defaults: no state_dir, claude_dir, backend_url.
  CHECK_FALSE(Contains(text, "state_dir"));
  CHECK_FALSE(Contains(text, "claude_dir"));
  CHECK_FALSE(Contains(text, "backend_url"));
  // And it loads as the configuration the user meant.
  Result<config::LoadedConfig> loaded = config::LoadConfigFile(fx.path, fx.env);
  REQUIRE(loaded.ok());
  CHECK(loaded->config.log_level == config::LogLevel::kDebug);
  CHECK_FALSE(loaded->config.redaction.enabled);
  CHECK(loaded->config.redaction.rules.size() == 1);
  REQUIRE(r->reloaded.has_value());
  CHECK(r->reloaded->config == loaded->config);
}

TEST_CASE("config edit — a new file is written atomically with mode 0600 in a 0700 directory", "[config_edit]") {
  EditFixture fx;
  Result<config::EditResult> r = fx.Edit({{"backend_url", std::string("https://sync.example.com")}});
  REQUIRE(r.ok());
  CHECK(r->had_value == std::vector<bool>{false});
  CHECK(ModeOf(fx.path) == 0600);
  CHECK(ModeOf(DirName(fx.path)) == 0700);
  CHECK(ReadWholeFile(fx.path) == "{\n  \"backend_url\": \"https://sync.example.com\"\n}\n");

  // An existing file with loose permissions is replaced (a new inode, via
  // rename) by a 0600 one, and no temporary file is left beside it.
  ::chmod(fx.path.c_str(), 0644);
  const ino_t before = InodeOf(fx.path);
  REQUIRE(fx.Edit({{"log_level", std::string("error")}}).ok());
  CHECK(InodeOf(fx.path) != before);
  CHECK(ModeOf(fx.path) == 0600);
  size_t entries = 0;
  for (const auto& e : std::filesystem::directory_iterator(DirName(fx.path))) {
    INFO(e.path());
    CHECK(e.path().filename() == "config.json");
    ++entries;
  }
  CHECK(entries == 1);
}

TEST_CASE("config edit — an edit that changes nothing does not rewrite the file", "[config_edit]") {
  EditFixture fx;
  WriteFile(fx.path, "{\"log_level\":\"warn\"}", 0600);
  const ino_t before = InodeOf(fx.path);
  Result<config::EditResult> same = fx.Edit({{"log_level", std::string("warn")}});
  REQUIRE(same.ok());
  CHECK_FALSE(same->changed);
  Result<config::EditResult> absent = fx.Edit({{"api_key", std::nullopt}});
  REQUIRE(absent.ok());
  CHECK_FALSE(absent->changed);
  CHECK(absent->had_value == std::vector<bool>{false});
  CHECK(InodeOf(fx.path) == before);
  CHECK(ReadWholeFile(fx.path) == "{\"log_level\":\"warn\"}");
}

TEST_CASE("config edit — invalid values are refused, the error names the field, the file is untouched",
          "[config_edit]") {
  EditFixture fx;
  const std::string original = "{\n  \"log_level\": \"info\",\n  \"custom\": 1\n}\n";
  WriteFile(fx.path, original, 0600);
  const ino_t inode = InodeOf(fx.path);

  struct Case {
    const char* field;
    config::FieldValue value;
    const char* expect;
  };
  const Case cases[] = {
      {"backend_url", std::string("ftp://sync.example.com"), "field 'backend_url'"},
      {"backend_url", std::string("http://sync.example.com"), "field 'backend_url'"},
      {"ca_file", std::string("relative/ca.pem"), "field 'ca_file'"},
      {"log_level", std::string("loud"), "field 'log_level'"},
      {"api_key", std::string("has space"), "field 'api_key'"},
  };
  for (const Case& c : cases) {
    INFO(c.field);
    Result<config::EditResult> r = fx.Edit({{c.field, c.value}});
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().kind() == Status::Kind::kConfig);
    CHECK(Contains(r.status().message(), c.expect));
    CHECK(Contains(r.status().message(), fx.path));
    CHECK_FALSE(Contains(r.status().message(), "has space"));
  }
  CHECK(ReadWholeFile(fx.path) == original);
  CHECK(InodeOf(fx.path) == inode);

  // A value the environment overrides is still checked as the file's own.
  config::Environment with_url =
      config::MapEnvironment({{"HOME", fx.home.path()}, {"TSYNC_BACKEND_URL", "https://env.example.com"}});
  Result<config::EditResult> hidden = fx.Edit({{"backend_url", std::string("http://evil.example.com")}}, &with_url);
  REQUIRE_FALSE(hidden.ok());
  CHECK(Contains(hidden.status().message(), "field 'backend_url'"));
  CHECK(ReadWholeFile(fx.path) == original);

  // Removing allow_insecure_http would break the http:// URL it allows.
  WriteFile(fx.path, "{\"backend_url\": \"http://sync.example.com\", \"allow_insecure_http\": true}", 0600);
  Result<config::EditResult> unset = fx.Edit({{"allow_insecure_http", std::nullopt}});
  REQUIRE_FALSE(unset.ok());
  CHECK(Contains(unset.status().message(), "backend_url"));
  CHECK(ReadWholeFile(fx.path) == "{\"backend_url\": \"http://sync.example.com\", \"allow_insecure_http\": true}");
}

TEST_CASE("config edit — a file that is not valid JSON is named with its line and column, never quoted",
          "[config_edit]") {
  EditFixture fx;
  const std::string broken = "{\n  \"log_level\": \"info\",\n  \"api_key\": \"cfb_secretvalue12345\"\n  \"x\": 1\n}\n";
  WriteFile(fx.path, broken, 0600);
  Result<config::EditResult> r = fx.Edit({{"log_level", std::string("debug")}});
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().kind() == Status::Kind::kConfig);
  const std::string& m = r.status().message();
  INFO(m);
  CHECK(Contains(m, fx.path));
  CHECK(Contains(m, "line 4"));
  CHECK(Contains(m, "column"));
  CHECK_FALSE(Contains(m, "secretvalue"));
  CHECK(ReadWholeFile(fx.path) == broken);

  WriteFile(fx.path, "[1, 2]", 0600);
  Result<config::EditResult> array = fx.Edit({{"log_level", std::string("debug")}});
  REQUIRE_FALSE(array.ok());
  CHECK(Contains(array.status().message(), "top level must be a JSON object"));

  WriteFile(fx.path, "{\"redaction\": true}", 0600);
  Result<config::EditResult> nested = fx.Edit({{"redaction.enabled", false}});
  REQUIRE_FALSE(nested.ok());
  CHECK(Contains(nested.status().message(), "field 'redaction' must be an object"));
  CHECK(ReadWholeFile(fx.path) == "{\"redaction\": true}");
}

TEST_CASE("config edit — a blank file edits as {} — a problem the file already had does not block removing the key",
          "[config_edit]") {
  EditFixture fx;
  WriteFile(fx.path, "  \n", 0600);
  REQUIRE(fx.Edit({{"log_level", std::string("warn")}}).ok());
  CHECK(ReadWholeFile(fx.path) == "{\n  \"log_level\": \"warn\"\n}\n");

  // log_level is already wrong; logging out must still work, and say so.
  WriteFile(fx.path, "{\"api_key\": \"cfb_0123456789abcdef\", \"log_level\": \"loud\"}", 0600);
  Result<config::EditResult> r = fx.Edit({{"api_key", std::nullopt}});
  REQUIRE(r.ok());
  CHECK(r->had_value == std::vector<bool>{true});
  CHECK(Contains(r->remaining_problem, "field 'log_level'"));
  CHECK_FALSE(r->reloaded.has_value());
  CHECK_FALSE(Contains(ReadWholeFile(fx.path), "api_key"));
  CHECK(Contains(ReadWholeFile(fx.path), "\"loud\""));
}

TEST_CASE("config edit — a symlinked config file is edited through the link", "[config_edit]") {
  EditFixture fx;
  const std::string target = fx.home / "dotfiles/tsync.json";
  WriteFile(target, "{\"log_level\": \"info\"}", 0600);
  REQUIRE(MakeDirs(DirName(fx.path), 0700).ok());
  REQUIRE(::symlink(target.c_str(), fx.path.c_str()) == 0);
  REQUIRE(fx.Edit({{"log_level", std::string("debug")}}).ok());
  struct stat st;
  REQUIRE(::lstat(fx.path.c_str(), &st) == 0);
  CHECK(S_ISLNK(st.st_mode));
  CHECK(Contains(ReadWholeFile(target), "\"debug\""));
}

TEST_CASE("config edit — unknown fields and unwritable places are named errors", "[config_edit]") {
  EditFixture fx;
  Result<config::EditResult> unknown = fx.Edit({{"backend", std::string("x")}});
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.status().kind() == Status::Kind::kInvalidInput);
  CHECK(Contains(unknown.status().message(), "backend_url, api_key"));

  // The config "directory" is a file: nothing can be written there.
  WriteFile(fx.home / "blocker", "", 0600);
  Result<config::EditResult> blocked = config::EditConfigFile(
      fx.home / "blocker/config.json", {{"log_level", std::string("warn")}}, fx.env);
  REQUIRE_FALSE(blocked.ok());
  CHECK(Contains(blocked.status().message(), fx.home / "blocker/config.json"));
}

TEST_CASE("config edit — a file other users may write is refused and left as it is", "[config_edit]") {
  // Rewriting it 0600 would quietly adopt what someone else may have put there.
  EditFixture fx;
  const std::string planted = "{\"backend_url\": \"https://attacker.example\"}";
  WriteFile(fx.path, planted, 0600);
  REQUIRE(::chmod(fx.path.c_str(), 0620) == 0);
  const ino_t before = InodeOf(fx.path);
  Result<config::EditResult> r = fx.Edit({{"log_level", std::string("debug")}});
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().kind() == Status::Kind::kConfig);
  CHECK(Contains(r.status().message(), "writable by other users"));
  CHECK(Contains(r.status().message(), "chmod 600 " + fx.path));
  CHECK(InodeOf(fx.path) == before);
  CHECK(ModeOf(fx.path) == 0620);
  CHECK(ReadWholeFile(fx.path) == planted);
}

TEST_CASE("ParseFieldValue — types values by field and refuses what the file would not take", "[config_edit]") {
  auto parse = [](const char* field, std::string_view text) {
    const config::FieldSpec* spec = config::FindConfigField(field);
    REQUIRE(spec != nullptr);
    return config::ParseFieldValue(*spec, text);
  };
  CHECK(std::get<bool>(*parse("redaction.enabled", "false")) == false);
  CHECK(std::get<bool>(*parse("allow_insecure_http", "true")) == true);
  CHECK_FALSE(parse("allow_insecure_http", "yes").ok());
  CHECK(std::get<std::string>(*parse("state_dir", "~/state")) == "~/state");
  CHECK(std::get<std::string>(*parse("archive_dir", "/srv/archive")) == "/srv/archive");
  Result<config::FieldValue> relative = parse("claude_dir", "claude");
  REQUIRE_FALSE(relative.ok());
  CHECK(Contains(relative.status().message(), "claude_dir must be an absolute path"));
  CHECK(parse("log_level", "trace").ok());
  CHECK_FALSE(parse("log_level", "INFO").ok());
  CHECK_FALSE(parse("backend_url", "").ok());
  CHECK_FALSE(parse("backend_url", "https://a\n.example.com").ok());
  CHECK_FALSE(parse("redaction.rules", "[]").ok());
  CHECK(config::FindConfigField("nope") == nullptr);
}

}  // namespace tsync::testing
