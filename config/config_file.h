// Reading and writing the config file itself; internal to config/.
//
// LoadConfig (config.h) layers sources; this unit turns one file into one
// Layer — the values the file sets, type-checked, with unknown fields and
// loose permissions reported as warnings — and turns a Config back into
// file text. Semantic checks that depend on other layers (URL scheme versus
// allow_insecure_http, `~/` expansion, absolute paths) happen after merging.
// Thread-safety: pure functions apart from file I/O and logging.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "config/config.h"

namespace tsync::config {

/// The values one source sets; nullopt means "this source says nothing".
struct Layer {
  std::optional<std::string> backend_url;
  std::optional<std::string> api_key;
  std::optional<bool> redaction_enabled;
  std::optional<std::vector<CustomRule>> redaction_rules;
  std::optional<std::string> claude_dir;
  std::optional<std::string> state_dir;
  std::optional<std::string> archive_dir;
  std::optional<LogLevel> log_level;
  std::optional<bool> allow_insecure_http;
  std::optional<std::string> ca_file;
};

/// Parses config JSON. Errors and `warnings` name `path`.
Result<Layer> ParseConfigText(std::string_view text, const std::string& path, std::vector<std::string>* warnings);

/// Reads and parses the file at `path`; nullopt when it does not exist.
/// Appends (and logs) permission warnings; drops the api_key of a
/// world-writable file (see the comment in the .cc).
Result<std::optional<Layer>> ReadConfigFile(const std::string& path, std::vector<std::string>* warnings);

/// The file text SaveConfig writes: indented JSON ending in a newline.
std::string SerializeConfig(const Config& config);

}  // namespace tsync::config
