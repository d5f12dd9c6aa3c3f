// `tsync config get|set|unset`: read and change the config file by field
// name (the names config/config_edit.h lists: backend_url, log_level,
// redaction.enabled, ...).
//
// `get` shows effective values — defaults, file, environment and flags
// merged — each with its source; the API key only through MaskSecret().
// `set` and `unset` change the file in place (config_edit.h: other keys kept,
// atomic, 0600, an edit that would make the configuration invalid refused
// with the file untouched). `set api_key` is refused: a key typed on a
// command line stays in shell history and shows in `ps`; `tsync login
// --api-key-stdin` reads it from stdin instead.
// Exit codes (agent/exit_codes.h): 0 done (also "already so"), 2 unknown
// field, bad value or bad config file, 1 the file could not be written.
// Thread-safety: single-threaded command functions.
#pragma once

#include <iosfwd>
#include <string>

#include "config/config.h"
#include "config/environment.h"

namespace tsync::agent {

/// `tsync config get [FIELD]`; an empty `field` lists every field.
int RunConfigGet(const config::Environment& env, const config::ConfigOverrides& flags, const std::string& field,
                 std::ostream& out);
/// `tsync config set FIELD VALUE`.
int RunConfigSet(const config::Environment& env, const config::ConfigOverrides& flags, const std::string& field,
                 const std::string& value, std::ostream& out);
/// `tsync config unset FIELD`.
int RunConfigUnset(const config::Environment& env, const config::ConfigOverrides& flags, const std::string& field,
                   std::ostream& out);

}  // namespace tsync::agent
