// Substring search for the per-line pre-checks that run over every byte
// synced (agent/session_facts, tracker/agent_discovery): is `"gitBranch"` or
// `"agentId"` anywhere in this 1 MB line?
#pragma once

#include <cstddef>
#include <string_view>

namespace tsync {

/// The offset of the first `needle` in `hay` at or after `from`, or npos.
/// Compares two bytes of the needle at 16 positions at once (SSE2), taken
/// from inside it (`"key"` patterns start and end with a quote, which JSON
/// is full of), and confirms each candidate with memcmp: about twice
/// glibc's memmem on transcript lines.
size_t FindText(std::string_view hay, std::string_view needle, size_t from = 0);

inline bool ContainsText(std::string_view hay, std::string_view needle) {
  return FindText(hay, needle) != std::string_view::npos;
}

}  // namespace tsync
