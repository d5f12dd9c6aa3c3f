#include "agent/config_command.h"

#include <spdlog/spdlog.h>

#include <ostream>
#include <vector>

#include "agent/exit_codes.h"
#include "config/config_edit.h"

namespace tsync::agent {
namespace {

int Fail(const Status& status) {
  spdlog::error("{}", status.ToString());
  return ExitCodeFor(status);
}

/// One field's effective value as `config get` shows it.
struct EffectiveValue {
  std::string text;  // what `get FIELD` prints (api_key masked)
  config::Source source = config::Source::kDefault;
};

EffectiveValue Effective(const config::LoadedConfig& loaded, std::string_view field) {
  const config::Config& c = loaded.config;
  const config::ConfigSources& s = loaded.sources;
  auto yes_no = [](bool b) { return std::string(b ? "true" : "false"); };
  if (field == "backend_url") return {c.backend_url, s.backend_url};
  if (field == "api_key") return {config::MaskSecret(c.api_key), s.api_key};
  if (field == "allow_insecure_http") return {yes_no(c.allow_insecure_http), s.allow_insecure_http};
  if (field == "ca_file") return {c.ca_file, s.ca_file};
  if (field == "claude_dir") return {c.claude_dir, s.claude_dir};
  if (field == "state_dir") return {c.state_dir, s.state_dir};
  if (field == "archive_dir") return {c.archive_dir, s.archive_dir};
  if (field == "log_level") return {config::LogLevelName(c.log_level), s.log_level};
  if (field == "redaction.enabled") return {yes_no(c.redaction.enabled), s.redaction_enabled};
  if (field == "redaction.rules") {
    std::string ids;
    for (const config::CustomRule& r : c.redaction.rules) ids += (ids.empty() ? "" : ",") + r.id;
    return {ids, s.redaction_rules};
  }
  return {};
}

// What overrides the file for `field`, in words.
std::string Overrider(std::string_view field, config::Source source) {
  if (source == config::Source::kEnv) {
    if (field == "backend_url") return "the environment variable TSYNC_BACKEND_URL";
    if (field == "api_key") return "the environment variable TSYNC_API_KEY";
    if (field == "state_dir") return "the environment variable TSYNC_STATE_DIR";
    if (field == "claude_dir") return "the environment variable CLAUDE_CONFIG_DIR";
    return "an environment variable";
  }
  std::string flag(field);
  for (char& ch : flag) ch = ch == '_' ? '-' : ch;
  return "the command-line option --" + flag;
}

// After a change to the file: tell the user when it does not take effect.
void WarnIfOverridden(const config::EditResult& edit, std::string_view field) {
  if (edit.reloaded) {
    config::Source source = Effective(*edit.reloaded, field).source;
    if (source == config::Source::kEnv || source == config::Source::kFlag) {
      spdlog::warn("{} is set by {}, which overrides the config file", field, Overrider(field, source));
    }
  }
  if (!edit.remaining_problem.empty()) spdlog::warn("the config file still has a problem: {}", edit.remaining_problem);
}

Result<const config::FieldSpec*> Lookup(const std::string& name) {
  if (const config::FieldSpec* field = config::FindConfigField(name)) return field;
  return Status::InvalidInput("unknown config field '" + name + "'; valid fields: " + config::ConfigFieldNames());
}

void PrintAll(const config::LoadedConfig& loaded, std::ostream& out) {
  out << "config file: " << loaded.path << (loaded.file_found ? "" : " (does not exist: defaults apply)") << "\n";
  for (const config::FieldSpec& f : config::ConfigFields()) {
    EffectiveValue v = Effective(loaded, f.name);
    std::string text = v.text.empty() ? "(not set)" : v.text;
    if (f.kind == config::FieldKind::kRules && !v.text.empty()) {
      text = std::to_string(loaded.config.redaction.rules.size()) + " rule(s): " + v.text;
    }
    std::string name = f.name;
    name.resize(std::max<size_t>(name.size(), 20), ' ');
    out << name << " " << text << "  (" << config::SourceName(v.source) << ")\n";
  }
}

}  // namespace

int RunConfigGet(const config::Environment& env, const config::ConfigOverrides& flags, const std::string& field,
                 std::ostream& out) {
  const config::FieldSpec* spec = nullptr;
  if (!field.empty()) {
    Result<const config::FieldSpec*> found = Lookup(field);
    if (!found.ok()) return Fail(found.status());
    spec = *found;
  }
  Result<config::LoadedConfig> loaded = config::LoadConfig(env, flags);
  if (!loaded.ok()) return Fail(loaded.status());
  if (spec == nullptr) {
    PrintAll(*loaded, out);
  } else {
    out << Effective(*loaded, spec->name).text << "\n";
  }
  return kExitOk;
}

int RunConfigSet(const config::Environment& env, const config::ConfigOverrides& flags, const std::string& field,
                 const std::string& value, std::ostream& out) {
  Result<const config::FieldSpec*> spec = Lookup(field);
  if (!spec.ok()) return Fail(spec.status());
  if ((*spec)->kind == config::FieldKind::kSecret) {
    // Deliberately before the value is looked at: it is never echoed.
    return Fail(Status::InvalidInput(
        "api_key cannot be set on the command line: it would stay in your shell history and show in `ps`; run "
        "`tsync login --api-key-stdin` and paste the key (or `tsync login` to log in in a browser)"));
  }
  Result<config::FieldValue> parsed = config::ParseFieldValue(**spec, value);
  if (!parsed.ok()) return Fail(parsed.status());
  Result<std::string> path = config::ConfigPathFor(env, flags);
  if (!path.ok()) return Fail(path.status());
  Result<config::EditResult> edit = config::EditConfigFile(*path, {{field, *parsed}}, env, flags);
  if (!edit.ok()) return Fail(edit.status());
  if (edit->changed) {
    out << "set " << field << " = " << value << " in " << *path << "\n";
  } else {
    out << field << " is already " << value << " in " << *path << "; nothing changed\n";
  }
  WarnIfOverridden(*edit, field);
  return kExitOk;
}

int RunConfigUnset(const config::Environment& env, const config::ConfigOverrides& flags, const std::string& field,
                   std::ostream& out) {
  Result<const config::FieldSpec*> spec = Lookup(field);
  if (!spec.ok()) return Fail(spec.status());
  Result<std::string> path = config::ConfigPathFor(env, flags);
  if (!path.ok()) return Fail(path.status());
  Result<config::EditResult> edit = config::EditConfigFile(*path, {{field, std::nullopt}}, env, flags);
  if (!edit.ok()) return Fail(edit.status());
  if (!edit->had_value.at(0)) {
    out << field << " is not set in " << *path << "; nothing to do\n";
  } else if (edit->reloaded) {
    EffectiveValue now = Effective(*edit->reloaded, field);
    out << "removed " << field << " from " << *path << "; now " << (now.text.empty() ? "(not set)" : now.text)
        << " (" << config::SourceName(now.source) << ")\n";
  } else {
    out << "removed " << field << " from " << *path << "\n";
  }
  WarnIfOverridden(*edit, field);
  return kExitOk;
}

}  // namespace tsync::agent
