// Environment: how config/ reads environment variables.
//
// Loading the configuration depends on a dozen variables (HOME, XDG_*,
// TSYNC_*, CLAUDE_CONFIG_DIR). Reading them through this seam, instead of
// calling getenv() deep inside the loader, lets tests describe an environment
// as a plain map and never touch the process environment, which Catch2 runs
// share. Thread-safety: ProcessEnvironment() calls getenv() and is as safe as
// that (fine unless something calls setenv() concurrently); a MapEnvironment
// owns a copy of its map and is safe to call from any thread.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace tsync::config {

/// Returns the value of a variable, or nullopt when it is not set.
using Environment = std::function<std::optional<std::string>(std::string_view name)>;

/// The real process environment (getenv).
Environment ProcessEnvironment();

/// A fixed environment for tests: variables not in `vars` are unset.
Environment MapEnvironment(std::map<std::string, std::string> vars);

/// The variable's value, treating an empty value as unset. The XDG Base
/// Directory spec says so for XDG_*, and `TSYNC_API_KEY= tsync ...` reads as
/// "no key" to people, so every variable config/ reads follows the same rule.
std::optional<std::string> GetNonEmpty(const Environment& env, std::string_view name);

}  // namespace tsync::config
