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
//  - the API key never appears in an error or a warning (checked when the key
//    is at least 12 bytes and occurs once in the text, so no other field can
//    be the one echoed).
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

size_t Occurrences(std::string_view text, std::string_view what) {
  size_t n = 0;
  for (size_t at = 0; (at = text.find(what, at)) != std::string_view::npos; ++at) ++n;
  return n;
}

// The api_key string of the text, if it is one worth looking for.
std::string LeakableKey(std::string_view text) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  std::string_view key;
  if (!tsync::fuzz::ParseJson(parser, text, &doc) || doc["api_key"].get(key) != simdjson::SUCCESS) return "";
  if (key.size() < 12 || Occurrences(text, key) != 1) return "";
  return std::string(key);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  tsync::fuzz::QuietLogs();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const tsync::config::Environment env = tsync::config::MapEnvironment({{"HOME", "/home/fuzz"}});
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const std::string key = LeakableKey(text);
  const std::string what = "config \"" + Shown(text, 300) + "\"";

  tsync::Result<tsync::config::LoadedConfig> loaded = tsync::config::LoadConfigText(text, kPath, env);
  if (!loaded.ok()) {
    const std::string& msg = loaded.status().message();
    FUZZ_CHECK(loaded.status().kind() == tsync::Status::Kind::kConfig, what + ": refused with a non-config error");
    FUZZ_CHECK(msg.find(kPath) != std::string::npos, what + ": the error does not name the file: " + Shown(msg));
    FUZZ_CHECK(key.empty() || msg.find(key) == std::string::npos, what + ": the error shows the API key");
    return 0;
  }
  const tsync::config::Config& c = loaded->config;
  for (const std::string& w : loaded->warnings) {
    FUZZ_CHECK(key.empty() || w.find(key) == std::string::npos, what + ": a warning shows the API key");
  }
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
