#include "config/config_edit.h"

#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <utility>

#include "base/fs.h"
#include "base/utf8.h"
#include "config/config_file.h"
#include "config/json_error_location.h"

namespace tsync::config {
namespace {

// ordered_json keeps the user's key order; plain json would sort the keys.
using Json = nlohmann::ordered_json;

constexpr FieldSpec kFields[] = {
    {"backend_url", FieldKind::kUrl, "the sync backend (https://…); unset: save to the local archive"},
    {"api_key", FieldKind::kSecret, "the backend API key; set it with `tsync login`"},
    {"allow_insecure_http", FieldKind::kBool, "true allows plain http:// to hosts other than this machine"},
    {"ca_file", FieldKind::kPath, "an extra CA bundle (PEM) for the backend's TLS certificate"},
    {"claude_dir", FieldKind::kPath, "Claude Code's directory (default ~/.claude)"},
    {"state_dir", FieldKind::kPath, "where tsync keeps checkpoints (default ~/.local/state/tsync)"},
    {"archive_dir", FieldKind::kPath, "the local archive (default ~/.local/share/tsync/archive)"},
    {"log_level", FieldKind::kLogLevel, "trace, debug, info, warn, error or off"},
    {"redaction.enabled", FieldKind::kBool, "false turns redaction off for uploads (not recommended)"},
    {"redaction.rules", FieldKind::kRules, "custom redaction rules; edit them in the config file"},
};

// LoadConfigText logs what it finds (unknown fields, for one) each time it
// runs; an edit loads the file four times, and a warning about a field the
// edit did not touch is noise here (`tsync config get` shows them).
// spdlog's level is process-wide, so this is only for the single-threaded
// CLI path the edit runs on.
class QuietLogs {
 public:
  QuietLogs() : saved_(spdlog::get_level()) { spdlog::set_level(spdlog::level::off); }
  ~QuietLogs() { spdlog::set_level(saved_); }
  QuietLogs(const QuietLogs&) = delete;
  QuietLogs& operator=(const QuietLogs&) = delete;

 private:
  spdlog::level::level_enum saved_;
};

// The file's text, "{}" when it is missing or blank.
Result<std::string> ReadForEdit(const std::string& path, const std::string& shown) {
  Result<std::string> text = ReadFile(path, kMaxConfigFileBytes);
  if (!text.ok()) {
    if (text.status().kind() == Status::Kind::kNotFound) return std::string("{}");
    return Status::Config("cannot read config file " + shown + ": " + text.status().message());
  }
  if (IsBlankText(*text)) return std::string("{}");
  return text;
}

Result<Json> ParseForEdit(const std::string& text, const std::string& shown) {
  Json doc = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) {
    // LocateJsonError names the place without quoting the text, which may
    // hold the API key; nlohmann's own message quotes what it last read.
    std::string where;
    if (std::optional<JsonSyntaxError> err = LocateJsonError(text)) {
      where = ": line " + std::to_string(err->line) + ", column " + std::to_string(err->column) + ": " + err->what;
    }
    return Status::Config("config file " + shown + " is not valid JSON" + where +
                          "; fix it by hand (tsync edits only valid files), or delete it to start afresh");
  }
  if (!doc.is_object()) {
    return Status::Config("config file " + shown + ": the top level must be a JSON object ({ ... }), got " +
                          std::string(doc.type_name()) + "; fix it by hand, or delete it to start afresh");
  }
  return doc;
}

// Applies one change to `doc`; sets *had_value. Dotted names address a key
// inside an object ("redaction.enabled").
Status Apply(Json* doc, const FieldChange& change, const std::string& shown, bool* had_value) {
  Json* parent = doc;
  std::string_view name = change.field;
  const size_t dot = name.find('.');
  if (dot != std::string_view::npos) {
    const std::string outer(name.substr(0, dot));
    auto it = doc->find(outer);
    if (it == doc->end()) {
      *had_value = false;
      if (!change.value) return Status::Ok();
      (*doc)[outer] = Json::object();
      it = doc->find(outer);
    } else if (!it->is_object()) {
      return Status::Config("config file " + shown + ": field '" + outer + "' must be an object, got " +
                            std::string(it->type_name()) + "; fix it by hand before changing '" + change.field + "'");
    }
    parent = &*it;
    name = name.substr(dot + 1);
  }
  const std::string key(name);
  *had_value = parent->contains(key);
  if (!change.value) {
    parent->erase(key);
  } else if (const bool* b = std::get_if<bool>(&*change.value)) {
    (*parent)[key] = *b;
  } else {
    (*parent)[key] = std::get<std::string>(*change.value);
  }
  return Status::Ok();
}


Status Write(const std::string& path, const std::string& text) {
  const std::string target = WriteTargetOf(path);
  Status st = MakeDirs(DirName(target), 0700);
  if (st.ok()) st = WriteFileAtomic(target, text, 0600);
  if (!st.ok()) {
    return Status::Io("cannot write config file " + path + " (" + st.message() +
                      "); check that its directory is writable; the file was not changed");
  }
  return Status::Ok();
}

bool HasControlChar(std::string_view s) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return true;
  }
  return false;
}

}  // namespace

std::span<const FieldSpec> ConfigFields() { return kFields; }

const FieldSpec* FindConfigField(std::string_view name) {
  for (const FieldSpec& f : kFields) {
    if (name == f.name) return &f;
  }
  return nullptr;
}

std::string ConfigFieldNames() {
  std::string out;
  for (const FieldSpec& f : kFields) out += (out.empty() ? "" : ", ") + std::string(f.name);
  return out;
}

Result<FieldValue> ParseFieldValue(const FieldSpec& field, std::string_view text) {
  const std::string name(field.name);
  if (field.kind == FieldKind::kRules) {
    return Status::InvalidInput(name + " is a list of rules and cannot be set on the command line; edit it in the "
                                       "config file (see README, Configuration)");
  }
  if (field.kind == FieldKind::kBool) {
    if (text == "true") return FieldValue(true);
    if (text == "false") return FieldValue(false);
    return Status::InvalidInput(name + " must be true or false, got '" + std::string(text) + "'");
  }
  if (!IsValidUtf8(text) || HasControlChar(text)) {
    return Status::InvalidInput(name + " must be text without control characters or invalid UTF-8");
  }
  switch (field.kind) {
    case FieldKind::kLogLevel:
      if (!ParseLogLevel(text)) {
        return Status::InvalidInput(name + " must be one of trace, debug, info, warn, error, off; got '" +
                                    std::string(text) + "'");
      }
      break;
    case FieldKind::kPath:
      if (!text.starts_with("/") && !text.starts_with("~/")) {
        return Status::InvalidInput(name + " must be an absolute path (starting with / or ~/), got '" +
                                    std::string(text) + "'");
      }
      break;
    case FieldKind::kUrl:
      if (text.empty()) {
        return Status::InvalidInput(name + " must not be empty; to save to the local archive instead, run "
                                           "`tsync config unset " + name + "`");
      }
      break;
    case FieldKind::kSecret:
      if (text.empty()) return Status::InvalidInput(name + " must not be empty");
      break;
    case FieldKind::kBool:
    case FieldKind::kRules: break;
  }
  return FieldValue(std::string(text));
}

Environment FileOnlyEnvironment(const Environment& env) {
  std::map<std::string, std::string> vars;
  for (const char* name : {"HOME", "XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_DATA_HOME"}) {
    if (std::optional<std::string> v = env(name)) vars[name] = *v;
  }
  return MapEnvironment(std::move(vars));
}

Result<EditResult> EditConfigFile(const std::string& path, const std::vector<FieldChange>& changes,
                                  const Environment& env, const ConfigOverrides& flags) {
  // An edit rewrites the file 0600, which would quietly adopt whatever someone
  // else put in a file they could write; it is refused as a load is.
  if (struct stat st; ::stat(path.c_str(), &st) == 0) {
    if (Status mode = CheckConfigFileMode(path, st.st_mode, nullptr); !mode.ok()) return mode;
  }
  Result<std::string> before_text = ReadForEdit(path, path);
  if (!before_text.ok()) return before_text.status();
  Result<Json> doc = ParseForEdit(*before_text, path);
  if (!doc.ok()) return doc.status();
  const Json before = *doc;

  EditResult result;
  for (const FieldChange& change : changes) {
    if (!FindConfigField(change.field)) {
      return Status::InvalidInput("unknown config field '" + change.field + "'; valid fields: " + ConfigFieldNames());
    }
    bool had = false;
    Status st = Apply(&*doc, change, path, &had);
    if (!st.ok()) return st;
    result.had_value.push_back(had);
  }
  result.changed = *doc != before;
  std::string after_text;
  try {
    after_text = doc->dump(2) + "\n";
  } catch (const nlohmann::json::exception&) {
    return Status::InvalidInput("config file " + path + ": a new value is not valid UTF-8");
  }

  // A check that held before the edit must hold after it (header, step 3).
  const Environment file_env = FileOnlyEnvironment(env);
  Result<LoadedConfig> after_whole = Status::Internal("not loaded");
  {
    QuietLogs quiet;
    Result<LoadedConfig> before_file = LoadConfigText(*before_text, path, file_env);
    Result<LoadedConfig> after_file = LoadConfigText(after_text, path, file_env);
    if (!after_file.ok() && before_file.ok()) return after_file.status();
    Result<LoadedConfig> before_whole = LoadConfigText(*before_text, path, env, flags);
    after_whole = LoadConfigText(after_text, path, env, flags);
    if (!after_whole.ok() && before_whole.ok()) return after_whole.status();
    if (!after_file.ok()) {
      result.remaining_problem = after_file.status().message();
    } else if (!after_whole.ok()) {
      result.remaining_problem = after_whole.status().message();
    }
  }
  if (after_whole.ok()) result.reloaded = std::move(after_whole).value();
  if (!result.changed) return result;
  Status st = Write(path, after_text);
  if (!st.ok()) return st;
  return result;
}

}  // namespace tsync::config
