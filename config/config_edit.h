// Editing the user's config file in place: `tsync config set/unset`,
// `tsync login` and `tsync logout` change one or two fields and leave
// everything else as the user wrote it.
//
// An edit:
// 1) reads the file (a missing or blank file is `{}`), refusing text that is
//    not a JSON object with an error naming the file, line and column, and
//    a file other users may write (kConfig, as LoadConfig refuses it);
// 2) changes only the named fields, keeping every other key — unknown ones
//    included — with its value and in its place; nothing is filled in from
//    defaults or the environment (unlike SaveConfig, config.h);
// 3) checks the result twice with LoadConfigText (config.h): the file on its
//    own (HOME and XDG_* only, so a TSYNC_* variable cannot hide a bad value
//    in the file), and the whole configuration with the caller's environment
//    and flags. A check that passed before the edit and fails after it
//    refuses the edit (kConfig, the message names the field) and the file is
//    not touched. A problem the file already had does not block an edit, so
//    `logout` still removes a key from a file with another mistake;
// 4) writes atomically (base/fs.h WriteFileAtomic), mode 0600, creating the
//    directory with mode 0700. A symlinked config file (dotfile managers)
//    is followed: its target is replaced, the link stays.
// Two tsync processes editing at the same moment can lose one edit (last
// rename wins); they cannot produce a torn file.
// Thread-safety: functions over the file system; no shared state.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "base/status.h"
#include "config/config.h"
#include "config/environment.h"

namespace tsync::config {

/// How a field's value is typed on a command line and stored in the file.
enum class FieldKind {
  kUrl,       // backend_url: a string, checked by ValidateBackendUrl on reload
  kSecret,    // api_key: a string never shown whole
  kBool,      // "true" | "false"
  kPath,      // absolute or ~/…, stored as typed
  kLogLevel,  // trace|debug|info|warn|error|off
  kRules,     // redaction.rules: edited in the file by hand, never set here
};

/// A config field by its name in the file ("redaction.enabled" is the
/// `enabled` key inside the `redaction` object).
struct FieldSpec {
  const char* name;
  FieldKind kind;
  const char* help;  // one line for `tsync config --help` and error messages
};

/// Every field of the config file, in the order `tsync config get` lists them.
std::span<const FieldSpec> ConfigFields();
/// The field called `name`, or nullptr.
const FieldSpec* FindConfigField(std::string_view name);
/// "backend_url, api_key, …" for error messages.
std::string ConfigFieldNames();

/// A value as stored in the file: a JSON string or boolean.
using FieldValue = std::variant<std::string, bool>;

/// Parses command-line text for `field` (kInvalidInput naming the field when
/// it is not of the field's type). Refuses kRules. The value itself is
/// checked against the rest of the configuration by EditConfigFile.
Result<FieldValue> ParseFieldValue(const FieldSpec& field, std::string_view text);

/// One change: set the field to `value`, or remove it when nullopt.
struct FieldChange {
  std::string field;  // a FieldSpec name
  std::optional<FieldValue> value;
};

/// What an edit did.
struct EditResult {
  bool changed = false;          // false: the file already said so; not rewritten
  std::vector<bool> had_value;   // per change: the field was in the file before
  /// The configuration after the edit with the caller's environment and
  /// flags, when it loads (it may not, see 3) above).
  std::optional<LoadedConfig> reloaded;
  /// A problem the file had before the edit and still has; empty otherwise.
  std::string remaining_problem;
};

/// Applies `changes` to the config file at `path` (see the header comment).
/// `env` and `flags` are the caller's, for the whole-configuration check.
/// Errors: kConfig (unparseable file, a change that makes it invalid, a
/// parent of a field that is not an object), kIo (read or write failed).
Result<EditResult> EditConfigFile(const std::string& path, const std::vector<FieldChange>& changes,
                                  const Environment& env, const ConfigOverrides& flags = {});

/// The environment a config file is checked with on its own: only HOME and
/// XDG_{CONFIG,STATE,DATA}_HOME from `env`.
Environment FileOnlyEnvironment(const Environment& env);

}  // namespace tsync::config
