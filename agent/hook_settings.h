// Editing Claude Code's settings.json for `tsync hooks install|uninstall|status`.
//
// Claude Code runs hook commands listed in $CLAUDE_CONFIG_DIR/settings.json
// (default ~/.claude/settings.json; TRANSCRIPTS.md "Hooks"):
//   {"hooks": {"SessionStart": [{"matcher": "", "hooks": [{"type": "command",
//                                 "command": "/abs/tsync hook session-start"}]}]}}
// The file is the user's: it holds their permissions, env, model and other
// tools' hooks. An edit here
// 1) changes only tsync's own entries — a hook whose command is
//    `<path ending in /tsync> hook <subcommand>` — and keeps every other key,
//    other tools' hooks and matcher groups, and the order of keys;
// 2) re-serialises the whole document with a 2-space indent (as Claude Code
//    writes it), non-ASCII as UTF-8; it ends with a newline when the file did,
//    or was missing or blank. So a file already in that form keeps every byte
//    outside our entries; a file in another form (tabs, \u escapes) keeps its
//    keys, order and values but not its spacing;
// 3) writes nothing when nothing changes (the file's bytes and mtime stay);
// 4) refuses, with the file untouched, text that is not a JSON object (the
//    error names the file, line and column), a `hooks` value, event value or
//    matcher group of an unexpected type (the error names the key path, e.g.
//    hooks.SessionStart[0].hooks), and files over kMaxSettingsBytes;
// 5) writes atomically: a temp file beside the target (the file's mode kept;
//    0600 for a new file, its directory made 0700), fsync'd, and renamed only
//    after checking that the file still holds what was read. Claude Code (or
//    the user's editor) may write it meanwhile and has no lock protocol, so a
//    change between read and rename restarts the edit from a fresh read; after
//    kEditAttempts tries it is a kConflict. (A write landing in the
//    microseconds between that check and the rename can still be lost.);
// 6) before its first change to an existing file, copies it once to
//    `<settings_path>.tsync-backup`; that backup is never overwritten;
// 7) follows a symlinked settings.json (dotfile managers): its target is
//    replaced, the link stays.
// Install then uninstall gives back the original document (same keys, order
// and values; the same bytes for a file in the form of 2)), with one
// exception: an empty list under one of tsync's events, or an empty `hooks`
// object, that was there before install is gone after uninstall.
// Thread-safety: functions over the file system; no shared state.
#pragma once

#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace tsync::agent {

/// Largest settings.json edited or inspected.
inline constexpr size_t kMaxSettingsBytes = 4 << 20;
/// Reads-and-checks an edit makes before giving up with kConflict.
inline constexpr int kEditAttempts = 3;
/// The `timeout` (seconds) on the hook entries tsync adds. Hooks must return
/// fast (the user is waiting), so a stuck upload is cut off rather than
/// waited for; checkpoints let the next hook resume. It also matters for
/// SessionEnd: without a `timeout`, Claude Code gives SessionEnd hooks 1.5 s
/// at exit, and a declared one raises that budget (up to 60 s).
inline constexpr int kHookTimeoutSeconds = 30;

/// One hook tsync installs: for `event`, a matcher group with `matcher`
/// running `<tsync> hook <subcommand>`.
struct TsyncHook {
  std::string_view event;       // "SessionStart", "PostToolUse", …
  std::string_view matcher;     // "" matches everything; else a tool-name pattern
  std::string_view subcommand;  // "session-start", "post-tool-use", …
  /// "SessionStart", or "PostToolUse[Bash]" when the matcher is not "".
  std::string Label() const;
};

/// The hooks tsync installs, in the order they are added: SessionStart,
/// SessionEnd, Stop, PreCompact, SubagentStop, UserPromptSubmit, then
/// PostToolUse for `Bash` and for the GitHub MCP server's create_pull_request
/// tool (issue 8).
std::span<const TsyncHook> TsyncHooks();

/// The command line Claude Code runs: `<binary> hook <subcommand>`, the binary
/// single-quoted when it holds characters the shell would interpret.
std::string HookCommand(const std::string& binary, std::string_view subcommand);

/// What an install or uninstall did.
struct HookChange {
  bool changed = false;  // false: the file already said so and was not written
  bool created = false;  // the file did not exist and was created
  std::string written;   // the file replaced: the settings path, or a symlink's target
  std::string backup;    // the backup this call made; empty when none was made
  std::vector<std::string> added;    // Labels of entries added
  std::vector<std::string> updated;  // Labels whose binary path was replaced
  std::vector<std::string> removed;  // Labels of entries removed (duplicates, or by uninstall)
};

/// Adds tsync's hooks (TsyncHooks()) running `tsync_binary`, an absolute
/// path. An entry already there is kept as it is (its matcher and timeout
/// too); one with another tsync path is changed to this one in place; a
/// missing one is appended as a new matcher group at the end of its event's
/// list. Errors: kInvalidInput (binary not absolute, bad JSON, wrong types,
/// file too large), kConflict (changed underneath every time), kIo.
Result<HookChange> InstallHooks(const std::string& settings_path, const std::string& tsync_binary);

/// Removes tsync's entries (any binary path) from tsync's events. A matcher
/// group, an event's list and the `hooks` object are removed only when they
/// become empty because of that. A missing file is "nothing to do", not an
/// error.
Result<HookChange> UninstallHooks(const std::string& settings_path);

/// Where one of TsyncHooks() stands in the file.
enum class HookState {
  kInstalled,    // present, running the given binary
  kMissing,      // absent
  kOtherBinary,  // present, running another tsync binary
};
const char* HookStateName(HookState state);  // "installed", "missing", "other-binary"

struct HookStatus {
  TsyncHook hook;
  HookState state = HookState::kMissing;
  std::string command;  // the command found; empty when kMissing
};

/// What `tsync hooks status` shows.
struct HooksReport {
  std::string settings_path;
  bool exists = false;  // false: no settings file (everything is missing)
  bool valid = true;    // false: unreadable, not JSON, or hooks of the wrong types
  std::string problem;  // why not valid; names file, line/column or key path
  bool all_disabled = false;  // `"disableAllHooks": true`: Claude Code runs no hooks at all
  std::vector<HookStatus> hooks;  // one per TsyncHooks(), in that order; empty if !valid

  bool AllInstalled() const;
};

/// Reads (never writes) the settings file and reports each of TsyncHooks()
/// against `tsync_binary`.
HooksReport HooksStatus(const std::string& settings_path, const std::string& tsync_binary);

/// For tests: the same edits with a callback run after the file was read and
/// the new text prepared, just before the check-and-rename, so a test can
/// play another writer. `attempt` counts from 1.
struct HookEditSeams {
  std::function<void(int attempt)> before_commit;
};
Result<HookChange> InstallHooks(const std::string& settings_path, const std::string& tsync_binary,
                                const HookEditSeams& seams);
Result<HookChange> UninstallHooks(const std::string& settings_path, const HookEditSeams& seams);

}  // namespace tsync::agent
