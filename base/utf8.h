// UTF-8 validation and deterministic repair.
//
// The protocol carries lines as JSON strings, which cannot hold raw invalid
// bytes (PROTOCOL.md /sync/chunk: "the client must make every line valid
// UTF-8 itself"). Repair follows the Unicode "maximal subpart" practice
// (the same as WHATWG's decoder): each maximal ill-formed subsequence becomes
// exactly one U+FFFD, so the same input always yields the same output.
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

namespace tsync {

/// True when `s` is well-formed UTF-8 (no overlongs, surrogates or > U+10FFFF).
bool IsValidUtf8(std::string_view s);

/// Appends `s` to `out` with each maximal ill-formed subsequence replaced by
/// U+FFFD; returns how many replacements were made.
size_t AppendRepairedUtf8(std::string* out, std::string_view s);

/// The longest prefix of `s` of at most `max_bytes` that does not cut a
/// UTF-8 sequence (assumes `s` is valid UTF-8).
std::string_view TruncateUtf8(std::string_view s, size_t max_bytes);

}  // namespace tsync
