// Fuzz target: config loading (config/config.h LoadConfigText, which parses
// with config/config_file.h ParseConfigText and validates after merging with
// defaults from a fixed environment).
//
// Input: the text of a config file.
// Properties:
//  - nothing crashes, whatever the text; a refusal is a kConfig that names
//    the file;
//  - a loaded config has absolute claude, state and archive dirs and no
//    trailing '/' on the backend URL;
//  - SerializeConfig (what `tsync config` and SaveConfig write) gives valid
//    JSON (simdjson) that loads back to an equal Config, and serialising that
//    gives the same text (a fixed point);
//  - the API key never appears in an error or a warning: neither a key from
//    the environment nor the file's (at least 12 bytes, written once: it
//    counts as shown when changing it in the file changes the message, as a
//    fixed message may contain the same text).
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "config/config_file.h"
#include "fuzz/fuzz_util.h"

namespace {

using tsync::fuzz::Shown;

const std::string kPath = "/home/fuzz/.config/tsync/config.json";
// A key from the environment that no file can guess: it must never show.
const std::string kEnvKey = "cfb_EnvOnly7Qx2Vw9Lm4Rt8Yk3";

size_t Occurrences(std::string_view text, std::string_view what) {
  size_t n = 0;
  for (size_t at = 0; (at = text.find(what, at)) != std::string_view::npos; ++at) ++n;
  return n;
}

// The file's api_key when it is worth looking for in messages: 12 bytes or
// more, written literally as the value of "api_key" and nowhere else in the
// text. Returns its offset in the text, or npos.
size_t LeakableKey(std::string_view text, std::string* key) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  std::string_view k;
  if (!tsync::fuzz::ParseJson(parser, text, &doc) || doc["api_key"].get(k) != simdjson::SUCCESS) return std::string_view::npos;
  if (k.size() < 12 || Occurrences(text, k) != 1) return std::string_view::npos;
  const size_t at = text.find(k);
  size_t i = at;
  auto skip_space_back = [&] {
    while (i > 0 && (text[i - 1] == ' ' || text[i - 1] == '\t' || text[i - 1] == '\n' || text[i - 1] == '\r')) --i;
  };
  if (i == 0 || text[--i] != '"') return std::string_view::npos;
  skip_space_back();
  if (i == 0 || text[--i] != ':') return std::string_view::npos;
  skip_space_back();
  if (i < 9 || text.substr(i - 9, 9) != "\"api_key\"") return std::string_view::npos;
  *key = std::string(k);
  return at;
}

// `key` with every letter and digit moved on by one (a->b, z->a, 9->0):
// the same length and the same characters of every other kind, so the file
// is refused or accepted for the same reasons.
std::string Shifted(std::string key) {
  for (char& c : key) {
    if (c >= 'a' && c <= 'z') c = c == 'z' ? 'a' : static_cast<char>(c + 1);
    else if (c >= 'A' && c <= 'Z') c = c == 'Z' ? 'A' : static_cast<char>(c + 1);
    else if (c >= '0' && c <= '9') c = c == '9' ? '0' : static_cast<char>(c + 1);
  }
  return key;
}

// What a user would see: the error, or the warnings.
std::vector<std::string> Messages(std::string_view text, const tsync::config::Environment& env) {
  tsync::Result<tsync::config::LoadedConfig> r = tsync::config::LoadConfigText(text, kPath, env);
  return r.ok() ? r->warnings : std::vector<std::string>{r.status().message()};
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  tsync::fuzz::QuietLogs();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const tsync::config::Environment env = tsync::config::MapEnvironment({{"HOME", "/home/fuzz"}});
  static const tsync::config::Environment env_with_key =
      tsync::config::MapEnvironment({{"HOME", "/home/fuzz"}, {"TSYNC_API_KEY", kEnvKey}});
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const std::string what = "config \"" + Shown(text, 300) + "\"";

  tsync::Result<tsync::config::LoadedConfig> loaded = tsync::config::LoadConfigText(text, kPath, env);
  if (!loaded.ok()) {
    const std::string& msg = loaded.status().message();
    FUZZ_CHECK(loaded.status().kind() == tsync::Status::Kind::kConfig, what + ": refused with a non-config error");
    // Named, unless the file's own key is a piece of the message (libFuzzer
    // builds one from the text it sees): hiding the key wins, and the scrub
    // may then cover part of the path.
    FUZZ_CHECK(msg.find(kPath) != std::string::npos || msg.find("[the API key]") != std::string::npos,
               what + ": the error does not name the file: " + Shown(msg));
  }

  // The key never shows: the environment's (unguessable) one, and the file's
  // — which may also be a fragment of a fixed message, so it counts as shown
  // only when changing the key in the file changes the message.
  // (libFuzzer learns the key from the comparisons below and may write it
  // into the file, say as a field name a warning quotes: that is no leak.)
  if (text.find(kEnvKey) == std::string_view::npos) {
    for (const std::string& m : Messages(text, env_with_key)) {
      FUZZ_CHECK(m.find(kEnvKey) == std::string::npos, what + ": a message shows the environment's API key");
    }
  }
  std::string key;
  if (const size_t at = LeakableKey(text, &key); at != std::string_view::npos) {
    std::string other_text(text);
    other_text.replace(at, key.size(), Shifted(key));
    const std::vector<std::string> first = Messages(text, env), second = Messages(other_text, env);
    FUZZ_CHECK(first.size() == second.size(), what + ": another key gives another number of messages");
    for (size_t i = 0; i < first.size(); ++i) {
      FUZZ_CHECK(first[i].find(key) == std::string::npos || second[i].find(key) != std::string::npos,
                 what + ": a message shows the API key: " + Shown(first[i]));
    }
  }
  if (!loaded.ok()) return 0;

  const tsync::config::Config& c = loaded->config;
  for (const std::string* dir : {&c.claude_dir, &c.state_dir, &c.archive_dir}) {
    FUZZ_CHECK(dir->starts_with("/"), what + ": a dir is not absolute: " + Shown(*dir));
  }
  FUZZ_CHECK(!c.backend_url.ends_with("/"), what + ": the backend URL ends in '/'");

  const std::string saved = tsync::config::SerializeConfig(c);
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  FUZZ_CHECK(tsync::fuzz::ParseJson(parser, saved, &doc), what + ": SerializeConfig wrote invalid JSON: " + Shown(saved, 400));
  tsync::Result<tsync::config::LoadedConfig> again = tsync::config::LoadConfigText(saved, kPath, env);
  FUZZ_CHECK(again.ok(), what + ": the saved config does not load: " + again.status().message());
  FUZZ_CHECK(again->config == c, what + ": the saved config loads as another config: " + Shown(saved, 400));
  FUZZ_CHECK(tsync::config::SerializeConfig(again->config) == saved, what + ": serialising is not a fixed point");
  return 0;
}
