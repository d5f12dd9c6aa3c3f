// Finds where a JSON document first goes wrong, for error messages.
//
// simdjson's DOM parser rejects bad input with an error code but no position,
// and "invalid JSON" without a line number is useless to someone fixing a
// hand-edited config file. This is a small, non-recursive syntax checker run
// only after simdjson has failed, so its speed does not matter and deeply
// nested input cannot overflow the stack. Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace tsync::config {

/// Where and why a JSON text stops being valid.
struct JsonSyntaxError {
  size_t line = 1;    // 1-based
  size_t column = 1;  // 1-based, in bytes
  std::string what;   // e.g. "expected ',' or '}'"
};

/// The first syntax error in `text` (RFC 8259 grammar, plus well-formed
/// UTF-8), or nullopt when the text is valid JSON.
std::optional<JsonSyntaxError> LocateJsonError(std::string_view text);

}  // namespace tsync::config
