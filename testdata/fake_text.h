// Fake but realistic text for generated transcripts: prose, source code,
// command output, base64 blobs, ids and timestamps.
//
// The point is to exercise escaping, not to read well: prose and code are
// salted with double quotes, backslashes, tabs, newlines and non-ASCII
// (é, 日本語, emoji, a ZWJ sequence), so every JSON string the generator
// writes needs real escaping and carries multi-byte UTF-8. None of the
// output can look like a secret (see fake_secrets.h for those).
// Thread-safety: pure functions of the Rng passed in.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "testdata/rng.h"

namespace tsync::testdata {

/// Markdown-ish prose of about `bytes` bytes (never cuts a UTF-8 sequence).
void AppendProse(Rng& rng, std::string* out, size_t bytes);
std::string Prose(Rng& rng, size_t bytes);

/// Source lines (C++, Python, shell, JSON) of about `bytes` bytes, '\n'-separated.
void AppendCode(Rng& rng, std::string* out, size_t bytes);
std::string Code(Rng& rng, size_t bytes);

/// Terminal output (build logs, test runs, listings) of about `bytes` bytes.
void AppendCommandOutput(Rng& rng, std::string* out, size_t bytes);

/// `chars` characters of the standard base64 alphabet (rounded up to 4).
void AppendBase64(Rng& rng, std::string* out, size_t chars);

/// `digits` lowercase hex digits.
std::string RandomHex(Rng& rng, size_t digits);
/// A version-4 UUID, lowercase, with dashes.
std::string RandomUuid(Rng& rng);
/// "toolu_01" + 22 base58-ish characters, like Anthropic tool-use ids.
std::string RandomToolUseId(Rng& rng);

/// A plausible repository-relative path, sometimes with spaces or non-ASCII.
std::string_view RandomFilePath(Rng& rng);
/// A short shell command line.
std::string_view RandomShellCommand(Rng& rng);

/// "2026-11-21T05:43:36.850Z" for milliseconds since the Unix epoch.
std::string FormatTimestamp(uint64_t unix_ms);

}  // namespace tsync::testdata
