#include "config/config.h"

#include <spdlog/spdlog.h>

#include <cctype>
#include <filesystem>
#include <utility>

#include "base/fs.h"
#include "config/backend_url.h"
#include "config/config_file.h"

namespace tsync::config {

const char* SourceName(Source source) {
  switch (source) {
    case Source::kDefault: return "default";
    case Source::kFile: return "file";
    case Source::kEnv: return "env";
    case Source::kFlag: return "flag";
  }
  return "unknown";
}

namespace {

constexpr std::pair<LogLevel, const char*> kLogLevels[] = {
    {LogLevel::kTrace, "trace"}, {LogLevel::kDebug, "debug"}, {LogLevel::kInfo, "info"},
    {LogLevel::kWarn, "warn"},   {LogLevel::kError, "error"}, {LogLevel::kOff, "off"},
};

// A value being merged, with the layer that set it last.
template <typename T>
struct Tracked {
  T value{};
  Source source = Source::kDefault;

  void Apply(const std::optional<T>& v, Source s) {
    if (!v) return;
    value = *v;
    source = s;
  }
};

struct Draft {
  Tracked<std::string> backend_url, api_key, claude_dir, state_dir, archive_dir, ca_file;
  Tracked<LogLevel> log_level{LogLevel::kInfo};
  Tracked<bool> allow_insecure_http{false}, redaction_enabled{true};
  Tracked<std::vector<CustomRule>> redaction_rules;

  void Apply(const Layer& l, Source s) {
    backend_url.Apply(l.backend_url, s);
    api_key.Apply(l.api_key, s);
    claude_dir.Apply(l.claude_dir, s);
    state_dir.Apply(l.state_dir, s);
    archive_dir.Apply(l.archive_dir, s);
    ca_file.Apply(l.ca_file, s);
    log_level.Apply(l.log_level, s);
    allow_insecure_http.Apply(l.allow_insecure_http, s);
    redaction_enabled.Apply(l.redaction_enabled, s);
    redaction_rules.Apply(l.redaction_rules, s);
  }
};

// Names a value's origin in error messages, so the user knows what to edit.
struct Origins {
  std::string path;  // the config file

  std::string Where(std::string_view field, Source source) const {
    switch (source) {
      case Source::kFile: return "config file " + path + ": field '" + std::string(field) + "'";
      case Source::kEnv: return "environment variable " + EnvName(field);
      case Source::kFlag: return "command-line option --" + FlagName(field);
      case Source::kDefault: break;
    }
    return "the default " + std::string(field);
  }
  static std::string EnvName(std::string_view field) {
    if (field == "claude_dir") return "CLAUDE_CONFIG_DIR";
    std::string name = "TSYNC_";
    for (char c : field) name += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return name;
  }
  static std::string FlagName(std::string_view field) {
    std::string name(field);
    for (char& c : name) c = c == '_' ? '-' : c;
    return name;
  }
};

// HOME, if it is usable for expansion: set and absolute.
std::optional<std::string> Home(const Environment& env) {
  std::optional<std::string> home = GetNonEmpty(env, "HOME");
  if (home && home->front() == '/') return home;
  return std::nullopt;
}

// $<var>, or $HOME/<fallback>; "" when neither is usable. The XDG spec says
// relative values are invalid and must be ignored.
std::string XdgDir(const Environment& env, std::string_view var, std::string_view fallback) {
  std::optional<std::string> dir = GetNonEmpty(env, var);
  if (dir && dir->front() == '/') return *dir;
  std::optional<std::string> home = Home(env);
  return home ? *home + "/" + std::string(fallback) : std::string();
}

Draft Defaults(const Environment& env) {
  Draft d;
  std::optional<std::string> home = Home(env);
  if (home) d.claude_dir.value = *home + "/.claude";
  std::string state = XdgDir(env, "XDG_STATE_HOME", ".local/state");
  if (!state.empty()) d.state_dir.value = state + "/tsync";
  std::string data = XdgDir(env, "XDG_DATA_HOME", ".local/share");
  if (!data.empty()) d.archive_dir.value = data + "/tsync/archive";
  return d;
}

Layer EnvLayer(const Environment& env) {
  Layer l;
  l.backend_url = GetNonEmpty(env, "TSYNC_BACKEND_URL");
  l.api_key = GetNonEmpty(env, "TSYNC_API_KEY");
  l.state_dir = GetNonEmpty(env, "TSYNC_STATE_DIR");
  l.claude_dir = GetNonEmpty(env, "CLAUDE_CONFIG_DIR");
  return l;
}

Result<Layer> FlagLayer(const ConfigOverrides& f) {
  Layer l;
  l.backend_url = f.backend_url;
  l.api_key = f.api_key;
  l.claude_dir = f.claude_dir;
  l.state_dir = f.state_dir;
  l.archive_dir = f.archive_dir;
  l.ca_file = f.ca_file;
  l.allow_insecure_http = f.allow_insecure_http;
  l.redaction_enabled = f.redaction_enabled;
  if (f.log_level) {
    l.log_level = ParseLogLevel(*f.log_level);
    if (!l.log_level) {
      return Status::Config(
          "command-line option --log-level must be one of trace, debug, info, warn, error, off; got '" + *f.log_level +
          "'");
    }
  }
  return l;
}

// Expands a leading "~/" and insists on an absolute path; `what` names the
// value's origin. Returns the lexically normalised path without a trailing '/'.
Result<std::string> AbsolutePath(std::string value, const std::string& what, const Environment& env) {
  if (value.find('\0') != std::string::npos) return Status::Config(what + " contains a NUL character");
  if (value == "~" || value.starts_with("~/")) {
    std::optional<std::string> home = Home(env);
    if (!home) return Status::Config(what + " starts with ~ but $HOME is not set; write the full path");
    value = *home + value.substr(1);
  }
  if (!value.starts_with("/")) {
    return Status::Config(what + " must be an absolute path (starting with / or ~/), got '" + value + "'");
  }
  std::string normal = std::filesystem::path(value).lexically_normal().string();
  // lexically_normal keeps "//" and "///" as they are; all of them are "/".
  while (normal.size() > 1 && normal.back() == '/') normal.pop_back();
  return normal;
}

Status ResolvePath(Tracked<std::string>* f, std::string_view field, const Origins& o, const Environment& env) {
  if (f->value.empty()) {
    if (f->source == Source::kDefault) {
      if (field == "ca_file") return Status::Ok();  // optional: the system CA store
      return Status::Config("cannot work out the default " + std::string(field) +
                            ": $HOME is not set or not absolute; set HOME, or set '" + std::string(field) + "' in " +
                            o.path);
    }
    return Status::Config(o.Where(field, f->source) +
                          " is empty; give an absolute path, or remove it to use the default");
  }
  Result<std::string> path = AbsolutePath(f->value, o.Where(field, f->source), env);
  if (!path.ok()) return path.status();
  f->value = std::move(path).value();
  return Status::Ok();
}

// The key goes into an HTTP header verbatim; anything outside printable
// ASCII would corrupt the request (or, with CR/LF, inject headers).
Status CheckApiKey(const Tracked<std::string>& key, const Origins& o) {
  for (char c : key.value) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f) {
      return Status::Config(o.Where("api_key", key.source) +
                            " contains spaces, line breaks or non-ASCII characters; copy the key again");
    }
  }
  return Status::Ok();
}

Status Validate(Draft* d, const Origins& o, const Environment& env) {
  Result<std::string> url = ValidateBackendUrl(d->backend_url.value, d->allow_insecure_http.value);
  if (!url.ok()) return Status::Config(o.Where("backend_url", d->backend_url.source) + " " + url.status().message());
  d->backend_url.value = std::move(url).value();
  Status st = CheckApiKey(d->api_key, o);
  if (!st.ok()) return st;
  std::pair<Tracked<std::string>*, std::string_view> paths[] = {{&d->claude_dir, "claude_dir"},
                                                                {&d->state_dir, "state_dir"},
                                                                {&d->archive_dir, "archive_dir"},
                                                                {&d->ca_file, "ca_file"}};
  for (auto& [field, name] : paths) {
    st = ResolvePath(field, name, o, env);
    if (!st.ok()) return st;
  }
  return Status::Ok();
}

LoadedConfig Finish(const Draft& d) {
  LoadedConfig out;
  Config& c = out.config;
  ConfigSources& s = out.sources;
  c.backend_url = d.backend_url.value;
  s.backend_url = d.backend_url.source;
  c.api_key = d.api_key.value;
  s.api_key = d.api_key.source;
  c.redaction.enabled = d.redaction_enabled.value;
  s.redaction_enabled = d.redaction_enabled.source;
  c.redaction.rules = d.redaction_rules.value;
  s.redaction_rules = d.redaction_rules.source;
  c.claude_dir = d.claude_dir.value;
  s.claude_dir = d.claude_dir.source;
  c.state_dir = d.state_dir.value;
  s.state_dir = d.state_dir.source;
  c.archive_dir = d.archive_dir.value;
  s.archive_dir = d.archive_dir.source;
  c.log_level = d.log_level.value;
  s.log_level = d.log_level.source;
  c.allow_insecure_http = d.allow_insecure_http.value;
  s.allow_insecure_http = d.allow_insecure_http.source;
  c.ca_file = d.ca_file.value;
  s.ca_file = d.ca_file.source;
  return out;
}

// Some messages quote what the user wrote ("'…' has no scheme"); when that
// is the API key (say TSYNC_BACKEND_URL and TSYNC_API_KEY swapped), the key
// is replaced. Shorter keys are left alone: they would match ordinary words.
Status WithoutApiKey(Status st, const std::string& key) {
  std::string message = st.message();
  if (key.size() < 8 || message.find(key) == std::string::npos) return st;
  static constexpr std::string_view kShown = "[the API key]";
  for (size_t pos = message.find(key); pos != std::string::npos; pos = message.find(key, pos + kShown.size())) {
    message.replace(pos, key.size(), kShown);
  }
  return Status::Config(std::move(message));
}

// Layers `file` (what the config file at `path` sets, if it exists) under
// the environment and flags, and validates the result.
Result<LoadedConfig> Merge(const std::string& path, const std::optional<Layer>& file, std::vector<std::string> warnings,
                           const Environment& env, const ConfigOverrides& flags) {
  Result<Layer> flag_layer = FlagLayer(flags);
  if (!flag_layer.ok()) return flag_layer.status();

  Draft draft = Defaults(env);
  if (file) draft.Apply(*file, Source::kFile);
  draft.Apply(EnvLayer(env), Source::kEnv);
  draft.Apply(*flag_layer, Source::kFlag);
  Status st = Validate(&draft, Origins{path}, env);
  if (!st.ok()) return WithoutApiKey(std::move(st), draft.api_key.value);

  LoadedConfig out = Finish(draft);
  out.path = path;
  out.file_found = file.has_value();
  out.warnings = std::move(warnings);
  return out;
}

Result<LoadedConfig> Load(const std::string& path, bool path_explicit, const Environment& env,
                          const ConfigOverrides& flags) {
  std::vector<std::string> warnings;
  Result<std::optional<Layer>> file = ReadConfigFile(path, &warnings);
  if (!file.ok()) return file.status();
  if (!file->has_value() && path_explicit) {
    // A typo in TSYNC_CONFIG or --config would otherwise silently mean "defaults".
    std::string msg = "config file " + path + " does not exist; using defaults";
    spdlog::warn("{}", msg);
    warnings.push_back(std::move(msg));
  }
  return Merge(path, *file, std::move(warnings), env, flags);
}

}  // namespace

const char* LogLevelName(LogLevel level) {
  for (const auto& [value, name] : kLogLevels) {
    if (value == level) return name;
  }
  return "info";
}

std::optional<LogLevel> ParseLogLevel(std::string_view name) {
  for (const auto& [value, level_name] : kLogLevels) {
    if (name == level_name) return value;
  }
  return std::nullopt;
}

Result<std::string> ResolveConfigPath(const Environment& env) {
  if (std::optional<std::string> path = GetNonEmpty(env, "TSYNC_CONFIG")) {
    return AbsolutePath(*path, "environment variable TSYNC_CONFIG", env);
  }
  std::string dir = XdgDir(env, "XDG_CONFIG_HOME", ".config");
  if (dir.empty()) {
    return Status::Config(
        "cannot find the config file: neither XDG_CONFIG_HOME nor HOME is set to an absolute path; set HOME, "
        "or point TSYNC_CONFIG at the file");
  }
  return dir + "/tsync/config.json";
}

Result<std::string> ConfigPathFor(const Environment& env, const ConfigOverrides& flags) {
  if (flags.config_path) return AbsolutePath(*flags.config_path, "command-line option --config", env);
  return ResolveConfigPath(env);
}

Result<LoadedConfig> LoadConfig(const Environment& env, const ConfigOverrides& flags) {
  Result<std::string> path = ConfigPathFor(env, flags);
  if (!path.ok()) return path.status();
  const bool path_explicit = flags.config_path || GetNonEmpty(env, "TSYNC_CONFIG").has_value();
  return Load(*path, path_explicit, env, flags);
}

Result<LoadedConfig> LoadConfigFile(const std::string& path, const Environment& env, const ConfigOverrides& flags) {
  return Load(path, false, env, flags);
}

Result<LoadedConfig> LoadConfigText(std::string_view text, const std::string& path, const Environment& env,
                                    const ConfigOverrides& flags) {
  std::vector<std::string> warnings;
  Result<Layer> file = ParseConfigText(text, path, &warnings);
  if (!file.ok()) return file.status();
  return Merge(path, std::move(file).value(), std::move(warnings), env, flags);
}

Status SaveConfig(const std::string& path, const Config& config) {
  Status st = MakeDirs(DirName(path), 0700);
  if (!st.ok()) return st;
  return WriteFileAtomic(path, SerializeConfig(config), 0600);
}

std::string MaskSecret(std::string_view secret) {
  if (secret.empty()) return "(not set)";
  // Below 16 characters even the last four would give away too much.
  if (secret.size() < 16) return "****";
  std::string out;
  size_t underscore = secret.find('_');
  if (underscore != std::string_view::npos && underscore < 8) out = std::string(secret.substr(0, underscore + 1));
  return out + "…" + std::string(secret.substr(secret.size() - 4));
}

}  // namespace tsync::config
