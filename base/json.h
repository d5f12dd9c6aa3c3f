// JSON string escaping and a small streaming writer.
//
// JsonEscapedSize() is *the* definition of how many bytes a string occupies
// inside a request body: the chunk reader budgets chunks with it and the
// uploader's writer emits exactly that many bytes (PROTOCOL.md "The decoded
// body must stay <= 16 MiB after JSON escaping"). Both must use the functions
// here so the budget can never disagree with the wire.
//
// Escapes: `"` and `\` get a backslash; \b \f \n \r \t use their short forms;
// other bytes below 0x20 become \u00XX. Everything else (including DEL and
// all non-ASCII UTF-8) is copied verbatim; callers make strings valid UTF-8
// first (see base/utf8.h).
// Thread-safety: the free functions are pure; a JsonWriter is single-owner.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tsync {

/// Length of `s` once escaped, *without* the surrounding quotes.
size_t JsonEscapedSize(std::string_view s);

/// Appends `s` escaped, without quotes.
void AppendJsonEscaped(std::string* out, std::string_view s);

/// Room WriteJsonEscaped needs for a string of `bytes`: the worst case
/// (every byte \u00XX) plus one 16-byte store past the end.
constexpr size_t JsonEscapeRoom(size_t bytes) { return 6 * bytes + 16; }

/// Writes `s` escaped, without quotes, to `out` (JsonEscapeRoom(s.size())
/// bytes of room) and returns how many bytes it wrote. Faster than
/// AppendJsonEscaped where quotes are dense (transcript lines): it copies 16
/// bytes at a time into a buffer the caller sized once.
size_t WriteJsonEscaped(char* out, std::string_view s);

/// Appends `"s"` with escaping.
void AppendJsonString(std::string* out, std::string_view s);

/// Streaming writer for request bodies and state files. Commas and nesting
/// are tracked for the caller; misuse (a value where a key is due) is a
/// programming error and produces invalid JSON rather than a crash.
class JsonWriter {
 public:
  JsonWriter& BeginObject();
  JsonWriter& EndObject();
  JsonWriter& BeginArray();
  JsonWriter& EndArray();
  JsonWriter& Key(std::string_view key);
  JsonWriter& String(std::string_view value);
  JsonWriter& Int(int64_t value);
  JsonWriter& UInt(uint64_t value);
  JsonWriter& Bool(bool value);
  JsonWriter& Null();
  /// Inserts already-encoded JSON as one value.
  JsonWriter& Raw(std::string_view json);

  /// Pre-allocates room for `bytes` of output (avoids regrowth of big bodies).
  JsonWriter& Reserve(size_t bytes) {
    out_.reserve(bytes);
    return *this;
  }
  const std::string& str() const { return out_; }
  std::string Take() { return std::move(out_); }

 private:
  void BeforeValue();

  std::string out_;
  // One entry per open container: true until its first element is written.
  std::vector<bool> first_;
  bool after_key_ = false;
};

}  // namespace tsync
