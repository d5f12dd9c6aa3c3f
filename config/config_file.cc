#include "config/config_file.h"

#include <simdjson.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>
#include <set>

#include "base/fs.h"
#include "base/json.h"
#include "config/json_error_location.h"

namespace tsync::config {
namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;

const char* TypeName(element_type type) {
  switch (type) {
    case element_type::ARRAY: return "array";
    case element_type::OBJECT: return "object";
    case element_type::INT64:
    case element_type::UINT64:
    case element_type::DOUBLE: return "number";
    case element_type::STRING: return "string";
    case element_type::BOOL: return "boolean";
    case element_type::NULL_VALUE: return "null";
  }
  return "unknown";
}

std::string OctalMode(mode_t mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
  return buf;
}

// Type-checks values of one file and words errors the same way everywhere:
// "config file <path>: field '<a.b[i].c>' must be a <type>, got <type>".
class FileParser {
 public:
  FileParser(const std::string& path, std::vector<std::string>* warnings) : path_(path), warnings_(warnings) {}

  Result<Layer> ParseRoot(element root);

 private:
  Status Error(const std::string& field, const std::string& problem) const {
    return Status::Config("config file " + path_ + ": field '" + field + "' " + problem);
  }
  Status TypeError(const std::string& field, const char* want, element value) const {
    return Error(field, std::string("must be ") + want + ", got " + TypeName(value.type()) +
                            "; fix the value, or remove the field to use the default");
  }
  void Warn(const std::string& message) {
    spdlog::warn("{}", message);
    warnings_->push_back(message);
  }
  void WarnUnknown(const std::string& field) {
    Warn("config file " + path_ + ": unknown field '" + field + "' ignored (misspelt, or meant for a newer tsync?)");
  }
  // Warns once per repeated key: simdjson keeps both, and the last one wins.
  void CheckDuplicate(std::set<std::string_view>* seen, std::string_view key, const std::string& field) {
    if (!seen->insert(key).second) {
      Warn("config file " + path_ + ": field '" + field + "' appears more than once; the last one is used");
    }
  }

  Status GetString(element value, const std::string& field, std::optional<std::string>* out) const;
  Status GetBool(element value, const std::string& field, std::optional<bool>* out) const;
  Status ParseTopField(std::string_view key, element value, Layer* layer);
  Status ParseRedaction(element value, Layer* layer);
  Result<std::vector<CustomRule>> ParseRules(element value);
  Result<CustomRule> ParseRule(element value, const std::string& field);
  Status ParseKeywords(element value, const std::string& field, std::vector<std::string>* out) const;
  Status ParseSecretGroup(element value, const std::string& field, int* out) const;

  const std::string& path_;
  std::vector<std::string>* warnings_;
};

Status FileParser::GetString(element value, const std::string& field, std::optional<std::string>* out) const {
  std::string_view s;
  if (value.get_string().get(s) != simdjson::SUCCESS) return TypeError(field, "a string", value);
  *out = std::string(s);
  return Status::Ok();
}

Status FileParser::GetBool(element value, const std::string& field, std::optional<bool>* out) const {
  bool b = false;
  if (value.get_bool().get(b) != simdjson::SUCCESS) return TypeError(field, "a boolean", value);
  *out = b;
  return Status::Ok();
}

Result<Layer> FileParser::ParseRoot(element root) {
  simdjson::dom::object object;
  if (root.get_object().get(object) != simdjson::SUCCESS) {
    return Status::Config("config file " + path_ + ": the top level must be a JSON object ({ ... }), got " +
                          TypeName(root.type()));
  }
  Layer layer;
  std::set<std::string_view> seen;
  for (simdjson::dom::key_value_pair field : object) {
    CheckDuplicate(&seen, field.key, std::string(field.key));
    Status st = ParseTopField(field.key, field.value, &layer);
    if (!st.ok()) return st;
  }
  return layer;
}

Status FileParser::ParseTopField(std::string_view key, element value, Layer* layer) {
  std::string field(key);
  if (key == "backend_url") return GetString(value, field, &layer->backend_url);
  if (key == "api_key") return GetString(value, field, &layer->api_key);
  if (key == "claude_dir") return GetString(value, field, &layer->claude_dir);
  if (key == "state_dir") return GetString(value, field, &layer->state_dir);
  if (key == "archive_dir") return GetString(value, field, &layer->archive_dir);
  if (key == "ca_file") return GetString(value, field, &layer->ca_file);
  if (key == "allow_insecure_http") return GetBool(value, field, &layer->allow_insecure_http);
  if (key == "redaction") return ParseRedaction(value, layer);
  if (key == "log_level") {
    std::optional<std::string> name;
    Status st = GetString(value, field, &name);
    if (!st.ok()) return st;
    layer->log_level = ParseLogLevel(*name);
    if (!layer->log_level) {
      return Error(field, "must be one of trace, debug, info, warn, error, off; got '" + *name + "'");
    }
    return Status::Ok();
  }
  WarnUnknown(field);
  return Status::Ok();
}

Status FileParser::ParseRedaction(element value, Layer* layer) {
  simdjson::dom::object object;
  if (value.get_object().get(object) != simdjson::SUCCESS) return TypeError("redaction", "an object", value);
  std::set<std::string_view> seen;
  for (simdjson::dom::key_value_pair field : object) {
    std::string name = "redaction." + std::string(field.key);
    CheckDuplicate(&seen, field.key, name);
    if (field.key == "enabled") {
      Status st = GetBool(field.value, name, &layer->redaction_enabled);
      if (!st.ok()) return st;
    } else if (field.key == "rules") {
      Result<std::vector<CustomRule>> rules = ParseRules(field.value);
      if (!rules.ok()) return rules.status();
      layer->redaction_rules = std::move(rules).value();
    } else if (field.key == "custom_rules") {
      // The old key: ignoring it with a warning would silently stop
      // redacting what the user asked us to redact.
      return Error(name,
                   "is no longer supported; rename it to 'redaction.rules', with each rule written as "
                   "{\"id\", \"regex\", \"keywords\": [...], \"secret_group\"?, \"key_pattern\"?, \"description\"?}");
    } else {
      WarnUnknown(name);
    }
  }
  return Status::Ok();
}

Result<std::vector<CustomRule>> FileParser::ParseRules(element value) {
  simdjson::dom::array array;
  if (value.get_array().get(array) != simdjson::SUCCESS) {
    return TypeError("redaction.rules", "an array", value);
  }
  std::vector<CustomRule> rules;
  for (element item : array) {
    std::string field = "redaction.rules[" + std::to_string(rules.size()) + "]";
    Result<CustomRule> rule = ParseRule(item, field);
    if (!rule.ok()) return rule.status();
    // Rule ids label redactions in reports; two rules with one id would be
    // indistinguishable there.
    for (size_t i = 0; i < rules.size(); ++i) {
      if (rules[i].id == rule->id) {
        return Error(field + ".id", "'" + rule->id + "' is already used by redaction.rules[" + std::to_string(i) +
                                        "]; give each rule its own id");
      }
    }
    rules.push_back(std::move(rule).value());
  }
  return rules;
}

// Rule ids appear in markers ([REDACTED:<id>]); keywords are looked for in
// raw lines before decoding, so they are limited to characters no JSON
// writer escapes (the same rules as built-in rules, redact/rule.h).
bool IsIdChar(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'; }
bool IsKeywordChar(char c) { return IsIdChar(c) || c == '_' || c == '.' || c == '=' || c == ':'; }

Result<CustomRule> FileParser::ParseRule(element value, const std::string& field) {
  simdjson::dom::object object;
  if (value.get_object().get(object) != simdjson::SUCCESS) return TypeError(field, "an object", value);
  std::optional<std::string> id, regex, key_pattern, description;
  bool has_keywords = false;
  CustomRule rule;
  std::set<std::string_view> seen;
  for (simdjson::dom::key_value_pair kv : object) {
    std::string name = field + "." + std::string(kv.key);
    CheckDuplicate(&seen, kv.key, name);
    Status st;
    if (kv.key == "id") {
      st = GetString(kv.value, name, &id);
    } else if (kv.key == "regex") {
      st = GetString(kv.value, name, &regex);
    } else if (kv.key == "key_pattern") {
      st = GetString(kv.value, name, &key_pattern);
    } else if (kv.key == "description") {
      st = GetString(kv.value, name, &description);
    } else if (kv.key == "keywords") {
      rule.keywords.clear();
      has_keywords = true;
      st = ParseKeywords(kv.value, name, &rule.keywords);
    } else if (kv.key == "secret_group") {
      st = ParseSecretGroup(kv.value, name, &rule.secret_group);
    } else if (kv.key == "pattern") {
      st = Error(name, "is now called 'regex'; rename it");
    } else {
      WarnUnknown(name);
    }
    if (!st.ok()) return st;
  }
  if (!id || id->empty()) {
    return Error(field + ".id", "is missing or empty; every rule needs an id, a regex and keywords");
  }
  for (char c : *id) {
    if (!IsIdChar(c)) {
      return Error(field + ".id", "'" + *id + "' may only use lower-case letters, digits and '-' (like 'acme-token')");
    }
  }
  if (!regex || regex->empty()) {
    return Error(field + ".regex", "is missing or empty; every rule needs an id, a regex and keywords");
  }
  if (!has_keywords || rule.keywords.empty()) {
    return Error(field + ".keywords",
                 "is missing or empty; list at least one word that occurs in every text the rule should match "
                 "(the rule only runs where one of them occurs)");
  }
  if (key_pattern && key_pattern->empty()) {
    return Error(field + ".key_pattern", "is empty; give an RE2 pattern over JSON key names, or remove the field");
  }
  rule.id = std::move(*id);
  rule.regex = std::move(*regex);
  rule.key_pattern = key_pattern.value_or("");
  rule.description = description.value_or("");
  return rule;
}

Status FileParser::ParseKeywords(element value, const std::string& field, std::vector<std::string>* out) const {
  simdjson::dom::array array;
  if (value.get_array().get(array) != simdjson::SUCCESS) return TypeError(field, "an array of strings", value);
  for (element item : array) {
    std::string name = field + "[" + std::to_string(out->size()) + "]";
    std::optional<std::string> word;
    Status st = GetString(item, name, &word);
    if (!st.ok()) return st;
    bool valid = word->size() >= 3;
    for (char c : *word) valid &= IsKeywordChar(c);
    if (!valid) {
      return Error(name, "'" + *word +
                             "' must be at least 3 characters of lower-case a-z, 0-9, '_', '.', '-', '=', ':' (keywords are "
                             "matched case-insensitively)");
    }
    out->push_back(std::move(*word));
  }
  return Status::Ok();
}

Status FileParser::ParseSecretGroup(element value, const std::string& field, int* out) const {
  // Only integral JSON numbers: 1.0 or "1" is more likely a mistake than intent.
  int64_t n = 0;
  if (value.type() != element_type::INT64 && value.type() != element_type::UINT64) {
    return TypeError(field, "a non-negative integer", value);
  }
  if (value.type() == element_type::UINT64 || value.get_int64().get(n) != simdjson::SUCCESS || n < 0 ||
      n > std::numeric_limits<int>::max()) {
    return Error(field, "must be a non-negative integer (the capture group that is the secret; 0 is the whole "
                        "match), got " + simdjson::to_string(value));
  }
  *out = static_cast<int>(n);
  return Status::Ok();
}

Status SyntaxError(std::string_view text, const std::string& path, simdjson::error_code code) {
  std::string where;
  if (std::optional<JsonSyntaxError> err = LocateJsonError(text)) {
    where = ": line " + std::to_string(err->line) + ", column " + std::to_string(err->column) + ": " + err->what;
  } else {
    where = " (" + std::string(simdjson::error_message(code)) + ")";
  }
  return Status::Config("config file " + path + " is not valid JSON" + where +
                        "; fix it, or delete the file to use the defaults");
}

}  // namespace

Result<Layer> ParseConfigText(std::string_view text, const std::string& path, std::vector<std::string>* warnings) {
  if (IsBlankText(text)) {
    return Status::Config("config file " + path +
                          " is empty; write a JSON object such as {\"backend_url\": \"https://…\"}, or delete "
                          "the file to use the defaults");
  }
  simdjson::dom::parser parser;
  simdjson::padded_string padded(text);
  element root;
  simdjson::error_code code = parser.parse(padded).get(root);
  if (code != simdjson::SUCCESS) return SyntaxError(text, path, code);
  return FileParser(path, warnings).ParseRoot(root);
}

// Permission checks. The file holds the API key, so read access for other
// users is a leak worth a warning. Write access for them is refused outright:
// whoever can write the file chooses where the transcripts and the key go
// (backend_url, ca_file, allow_insecure_http), whether secrets are redacted
// (redaction.enabled) and whose account receives everything (api_key).
// Ignoring only its api_key, as tsync once did, left the rest theirs.
Status CheckConfigFileMode(const std::string& path, mode_t mode, std::vector<std::string>* warnings) {
  if ((mode & 022) != 0) {
    std::string msg = "config file " + path + " is writable by other users (mode " + OctalMode(mode) +
                      "), so anyone on this machine could have chosen where tsync sends your transcripts and key, "
                      "or turned redaction off; tsync will not use it. Check what it says, then run: chmod 600 " +
                      path;
    return Status::Config(std::move(msg));
  }
  if ((mode & 044) != 0 && warnings != nullptr) {
    std::string msg = "config file " + path + " is readable by other users (mode " + OctalMode(mode) +
                      ") and may hold your API key; run: chmod 600 " + path;
    spdlog::warn("{}", msg);
    warnings->push_back(std::move(msg));
  }
  return Status::Ok();
}

Result<std::optional<Layer>> ReadConfigFile(const std::string& path, std::vector<std::string>* warnings) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return std::optional<Layer>();
    return Status::Config("cannot read config file " + path + ": " + std::strerror(errno));
  }
  if (!S_ISREG(st.st_mode)) return Status::Config("config file " + path + " is not a regular file");
  if (Status mode = CheckConfigFileMode(path, st.st_mode, warnings); !mode.ok()) return mode;
  if (static_cast<uint64_t>(st.st_size) > kMaxConfigFileBytes) {
    return Status::Config("config file " + path + " is " + std::to_string(st.st_size) +
                          " bytes, over the 1 MiB limit; check that it is really a tsync config file");
  }
  Result<std::string> text = ReadFile(path, kMaxConfigFileBytes);
  if (!text.ok()) {
    if (text.status().kind() == Status::Kind::kNotFound) return std::optional<Layer>();
    return Status::Config("cannot read config file " + path + ": " + text.status().message());
  }
  Result<Layer> layer = ParseConfigText(*text, path, warnings);
  if (!layer.ok()) return layer.status();
  return std::optional<Layer>(std::move(layer).value());
}

// JsonWriter writes compact JSON; people edit this file by hand, so put one
// value per line. Walks the compact text, skipping over string contents.
static std::string Indent(std::string_view json) {
  std::string out;
  int depth = 0;
  bool in_string = false, escaped = false;
  auto newline = [&] { out += '\n' + std::string(static_cast<size_t>(depth) * 2, ' '); };
  for (size_t i = 0; i < json.size(); ++i) {
    char c = json[i];
    if (in_string) {
      out += c;
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        in_string = false;
      continue;
    }
    if (c == '"') {
      in_string = true;
      out += c;
    } else if ((c == '{' || c == '[') && i + 1 < json.size() && (json[i + 1] == '}' || json[i + 1] == ']')) {
      out += c;
      out += json[++i];  // keep {} and [] on one line
    } else if (c == '{' || c == '[') {
      out += c;
      ++depth;
      newline();
    } else if (c == '}' || c == ']') {
      --depth;
      newline();
      out += c;
    } else if (c == ',') {
      out += c;
      newline();
    } else if (c == ':') {
      out += ": ";
    } else {
      out += c;
    }
  }
  return out + '\n';
}

static void WriteRules(JsonWriter& w, const std::vector<CustomRule>& rules) {
  w.BeginArray();
  for (const CustomRule& rule : rules) {
    w.BeginObject().Key("id").String(rule.id).Key("regex").String(rule.regex);
    w.Key("keywords").BeginArray();
    for (const std::string& k : rule.keywords) w.String(k);
    w.EndArray();
    if (rule.secret_group != 0) w.Key("secret_group").Int(rule.secret_group);
    if (!rule.key_pattern.empty()) w.Key("key_pattern").String(rule.key_pattern);
    if (!rule.description.empty()) w.Key("description").String(rule.description);
    w.EndObject();
  }
  w.EndArray();
}

std::string SerializeConfig(const Config& c) {
  JsonWriter w;
  w.BeginObject().Key("backend_url").String(c.backend_url);
  if (!c.api_key.empty()) w.Key("api_key").String(c.api_key);
  w.Key("allow_insecure_http").Bool(c.allow_insecure_http);
  if (!c.ca_file.empty()) w.Key("ca_file").String(c.ca_file);
  // Empty paths are left out so loading falls back to the defaults rather
  // than failing on an empty path.
  if (!c.claude_dir.empty()) w.Key("claude_dir").String(c.claude_dir);
  if (!c.state_dir.empty()) w.Key("state_dir").String(c.state_dir);
  if (!c.archive_dir.empty()) w.Key("archive_dir").String(c.archive_dir);
  w.Key("log_level").String(LogLevelName(c.log_level));
  w.Key("redaction").BeginObject().Key("enabled").Bool(c.redaction.enabled).Key("rules");
  WriteRules(w, c.redaction.rules);
  w.EndObject().EndObject();
  return Indent(w.str());
}

}  // namespace tsync::config
