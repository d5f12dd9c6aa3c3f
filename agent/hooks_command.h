// `tsync hooks install|uninstall|status` and `tsync setup`: put tsync's hooks
// into Claude Code's settings.json (agent/hook_settings.h does the editing),
// show where they stand, and set a new user up in one command.
//
// The settings file is <claude dir>/settings.json, the Claude directory from
// the config ($CLAUDE_CONFIG_DIR, --claude-dir, `claude_dir`, else ~/.claude).
// The hooks run tsync by an absolute path that should survive upgrades
// (HookBinaryPath).
//
// Exit codes (agent/exit_codes.h):
//   install, uninstall: 0 done (or nothing to do); 2 settings.json is not
//     what we expect (bad JSON, wrong types — it is left untouched) or the
//     binary cannot be used; 1 the file kept changing underneath (kConflict)
//     or could not be written.
//   status: 0 every hook installed for this binary; 1 some missing or
//     running another binary (outdated), or `disableAllHooks` is set;
//     2 settings.json cannot be read or has the wrong shape.
//   setup: the install's code when it fails; else 0, or 3 (no key, or the
//     key refused) / 4 (backend unreachable) from its brief backend check.
// Thread-safety: single-threaded command functions.
#pragma once

#include <iosfwd>
#include <string>
#include <string_view>

#include "base/status.h"
#include "config/config.h"

namespace tsync::agent {

/// <claude_dir>/settings.json
std::string ClaudeSettingsPath(const config::Config& config);

/// The absolute path hooks should run: the running executable, but by the
/// name it was started under (argv[0], or its entry on `path_env`) when
/// that is the same file — a symlink such as /usr/local/bin/tsync keeps
/// working when an upgrade moves the real binary, /proc/self/exe would not.
/// kInvalidInput when the file is not named `tsync` (the settings editor
/// recognises its entries by that name); kIo when the running binary was
/// deleted or replaced.
Result<std::string> HookBinaryPath(std::string_view invoked_as, std::string_view path_env);

enum class HooksAction { kInstall, kUninstall, kStatus };

/// `binary` is unused for kUninstall.
int RunHooks(HooksAction action, const config::Config& config, const std::string& binary, bool json,
             std::ostream& out);

/// Installs the hooks, then says what is left to do: log in when no key is
/// set, else a quick check of the backend (reachable? key valid?).
int RunSetup(const config::LoadedConfig& loaded, const std::string& binary, std::ostream& out);

}  // namespace tsync::agent
