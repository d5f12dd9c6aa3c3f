// Shared pieces of the libFuzzer targets in fuzz/ (issue 7).
//
// A target states properties and aborts when one fails (FUZZ_CHECK), so
// libFuzzer saves the input as a reproducer: "does not crash" is only the
// least of what is checked. JSON is checked with simdjson, an independent
// parser, never with the code under test.
// Thread-safety: libFuzzer runs a target on one thread; nothing here locks.
#pragma once

#include <simdjson.h>

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace tsync::fuzz {

/// Prints what failed, where and why, then aborts (libFuzzer reports a crash).
[[noreturn]] void Fail(const char* expr, const char* file, int line, const std::string& why);

#define FUZZ_CHECK(cond, why)                                         \
  do {                                                                \
    if (!(cond)) ::tsync::fuzz::Fail(#cond, __FILE__, __LINE__, why); \
  } while (0)

/// Turns the project's logging off: warnings for every odd input would
/// dominate the run time and bury libFuzzer's own output.
void QuietLogs();

/// A fresh directory for a target's files: under $TMPDIR, else on tmpfs
/// (/dev/shm) when there is one so fsync() costs nothing; removed at normal
/// exit.
const std::string& ScratchDir(const char* target);

/// Parses `text` with simdjson into `parser`; false when it is not valid JSON
/// (UTF-8 included).
bool ParseJson(simdjson::dom::parser& parser, std::string_view text, simdjson::dom::element* out);

/// Decides whether string value `b` may stand where `a` stood.
using StringValuesMatch = std::function<bool(std::string_view a, std::string_view b)>;

/// Compares two documents: same types, same keys in the same order, same
/// array lengths, same numbers and booleans. String *values* must be equal,
/// or pass `strings_match` when one is given. Returns "" when they match,
/// else the path of the first difference and what differs.
std::string JsonDifference(simdjson::dom::element a, simdjson::dom::element b,
                           const StringValuesMatch& strings_match = nullptr);

/// `s` shortened for a failure message, with non-printable bytes escaped.
std::string Shown(std::string_view s, size_t max = 200);

}  // namespace tsync::fuzz
