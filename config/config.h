// tsync's configuration: what it is, where it comes from, how it is checked.
//
// One Config value is built at start-up by layering four sources, each
// overriding the one before (defaults < file < environment < flags):
// 1) defaults, derived from HOME, XDG_{CONFIG,STATE,DATA}_HOME;
// 2) the JSON file at $TSYNC_CONFIG, else $XDG_CONFIG_HOME/tsync/config.json,
//    else ~/.config/tsync/config.json (a missing file is fine);
// 3) TSYNC_BACKEND_URL, TSYNC_API_KEY, TSYNC_STATE_DIR, CLAUDE_CONFIG_DIR;
// 4) command-line flags, as ConfigOverrides.
// The result remembers which source each value came from (`tsync status`
// shows it), and every problem is a kConfig Status that names the file,
// variable or flag, the field, and what to do. The environment is injected
// (config/environment.h) and nothing here keeps global state.
// Thread-safety: plain values and functions; a Config is immutable once
// loaded and safe to share.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "config/environment.h"

namespace tsync::config {

/// Where an effective value came from.
enum class Source { kDefault, kFile, kEnv, kFlag };
/// "default", "file", "env", "flag".
const char* SourceName(Source source);

/// Log verbosity; the names match spdlog's (spdlog::level::from_str accepts them).
enum class LogLevel { kTrace, kDebug, kInfo, kWarn, kError, kOff };
const char* LogLevelName(LogLevel level);
/// Exactly one of trace|debug|info|warn|error|off.
std::optional<LogLevel> ParseLogLevel(std::string_view name);

/// A user-supplied redaction rule (config key `redaction.rules[]`). Only
/// shape-checked here; the redactor compiles `regex` and `key_pattern` (RE2)
/// and reports pattern errors itself.
struct CustomRule {
  std::string id;                     // required: [a-z0-9-]+, unique among the rules
  std::string regex;                  // required, non-empty; RE2 over decoded text
  std::vector<std::string> keywords;  // required: >= 1, each lower-case [a-z0-9_.=:-]{3,}
  int secret_group = 0;               // capture group that is the secret; 0: the whole match
  std::string key_pattern;            // optional RE2 over JSON key names; empty: none
  std::string description;            // optional

  bool operator==(const CustomRule&) const = default;
};

struct RedactionConfig {
  bool enabled = true;
  std::vector<CustomRule> rules;

  bool operator==(const RedactionConfig&) const = default;
};

/// The effective configuration. Paths are absolute and `~`-expanded.
struct Config {
  std::string backend_url;  // validated, no trailing '/'; empty: local archive sink
  std::string api_key;      // may be empty; show it only through MaskSecret()
  RedactionConfig redaction;
  std::string claude_dir;   // Claude Code's data dir (~/.claude)
  std::string state_dir;    // tsync's checkpoints and logs
  std::string archive_dir;  // local archive sink root, used when backend_url is empty
  LogLevel log_level = LogLevel::kInfo;
  bool allow_insecure_http = false;  // permit http:// to non-loopback hosts
  std::string ca_file;               // extra CA bundle (PEM); empty: system store

  bool HasBackend() const { return !backend_url.empty(); }
  /// <claude_dir>/projects, where the transcripts live (TRANSCRIPTS.md "Layout on disk").
  std::string ProjectsDir() const { return claude_dir + "/projects"; }

  bool operator==(const Config&) const = default;
};

/// The source of each effective value in a Config, field by field.
struct ConfigSources {
  Source backend_url = Source::kDefault;
  Source api_key = Source::kDefault;
  Source redaction_enabled = Source::kDefault;
  Source redaction_rules = Source::kDefault;
  Source claude_dir = Source::kDefault;
  Source state_dir = Source::kDefault;
  Source archive_dir = Source::kDefault;
  Source log_level = Source::kDefault;
  Source allow_insecure_http = Source::kDefault;
  Source ca_file = Source::kDefault;
};

/// Command-line overrides; the CLI sets what the user passed. Errors name
/// the flag as written in the comment, so the CLI should use those spellings.
struct ConfigOverrides {
  std::optional<std::string> config_path;   // --config (absolute or ~/…)
  std::optional<std::string> backend_url;   // --backend-url ("" selects the archive sink)
  std::optional<std::string> api_key;       // --api-key
  std::optional<std::string> claude_dir;    // --claude-dir
  std::optional<std::string> state_dir;     // --state-dir
  std::optional<std::string> archive_dir;   // --archive-dir
  std::optional<std::string> log_level;     // --log-level
  std::optional<bool> allow_insecure_http;  // --allow-insecure-http
  std::optional<std::string> ca_file;       // --ca-file
  std::optional<bool> redaction_enabled;    // --redact / --no-redact
};

/// A loaded configuration plus what `tsync status` and callers need to know
/// about how it was built.
struct LoadedConfig {
  Config config;
  ConfigSources sources;
  std::string path;         // the config file consulted
  bool file_found = false;  // false: no file, defaults/env/flags only
  /// Human-readable warnings (also logged): loose permissions, unknown
  /// fields, an ignored api_key. Never contain secrets.
  std::vector<std::string> warnings;
};

/// Largest config file accepted; anything bigger is not a config file.
inline constexpr size_t kMaxConfigFileBytes = 1 << 20;

/// The config file path: $TSYNC_CONFIG, else $XDG_CONFIG_HOME/tsync/config.json,
/// else $HOME/.config/tsync/config.json. A relative XDG_CONFIG_HOME is ignored
/// (XDG spec); a relative TSYNC_CONFIG, or no usable HOME when it is needed,
/// is a kConfig error.
Result<std::string> ResolveConfigPath(const Environment& env);

/// The config file LoadConfig reads: flags.config_path (absolute or ~/…),
/// else ResolveConfigPath(). Commands that edit the file use the same one.
Result<std::string> ConfigPathFor(const Environment& env, const ConfigOverrides& flags);

/// Loads from the path given by flags.config_path, else ResolveConfigPath().
Result<LoadedConfig> LoadConfig(const Environment& env, const ConfigOverrides& flags = {});

/// Loads from `path` (which need not exist), applying env and flags on top.
Result<LoadedConfig> LoadConfigFile(const std::string& path, const Environment& env, const ConfigOverrides& flags = {});

/// Loads as if the file at `path` held `text`, without touching the disk (no
/// permission checks). config/config_edit.h checks an edit with it before
/// writing, so a refused edit never reaches the file.
Result<LoadedConfig> LoadConfigText(std::string_view text, const std::string& path, const Environment& env,
                                    const ConfigOverrides& flags = {});

/// Writes every field of `config` to `path` as indented JSON, atomically,
/// mode 0600, creating the directory with mode 0700 if missing. Loading the
/// file back with an empty environment yields an equal Config. Note that this
/// pins values that came from defaults or the environment into the file.
Status SaveConfig(const std::string& path, const Config& config);

/// A key safe to display: "cfb_…a1b2" (prefix up to '_' and the last four
/// characters) for keys of 16+ characters, "****" for shorter ones,
/// "(not set)" for none.
std::string MaskSecret(std::string_view secret);

}  // namespace tsync::config
