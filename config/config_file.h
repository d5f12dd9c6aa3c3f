// Reading and writing the config file itself; internal to config/.
//
// LoadConfig (config.h) layers sources; this unit turns one file into one
// Layer — the values the file sets, type-checked, with unknown fields and
// a file others may read reported as warnings, one they may write refused —
// and turns a Config back into
// file text. Semantic checks that depend on other layers (URL scheme versus
// allow_insecure_http, `~/` expansion, absolute paths) happen after merging.
// Thread-safety: pure functions apart from file I/O and logging.
#pragma once

#include <sys/types.h>

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

/// The config file's permissions, `mode` as stat() reports it: a kConfig
/// error (the caller reports it) when group or others may write the file,
/// which tsync then neither loads nor edits; a warning (logged, appended to
/// `warnings` when not null) when they may read it.
Status CheckConfigFileMode(const std::string& path, mode_t mode, std::vector<std::string>* warnings);

/// Reads and parses the file at `path`; nullopt when it does not exist.
/// Refuses a file others may write, warns about one they may read
/// (CheckConfigFileMode).
Result<std::optional<Layer>> ReadConfigFile(const std::string& path, std::vector<std::string>* warnings);

/// The file text SaveConfig writes: indented JSON ending in a newline.
std::string SerializeConfig(const Config& config);

}  // namespace tsync::config
