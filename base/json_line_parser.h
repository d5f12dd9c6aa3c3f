// JsonLineParser: parses one transcript line at a time with simdjson.
//
// simdjson needs SIMDJSON_PADDING readable bytes past its input; a line is a
// view into the caller's buffer, so it is copied into one reused padded
// buffer (cost proportional to the line, no allocation once warm).
// Thread-safety: single-owner.
#pragma once

#include <simdjson.h>

#include <cstring>
#include <string_view>
#include <vector>

namespace tsync {

class JsonLineParser {
 public:
  /// The parse of `line`; valid until the next Parse().
  simdjson::simdjson_result<simdjson::dom::element> Parse(std::string_view line) {
    if (buf_.size() < line.size() + simdjson::SIMDJSON_PADDING) buf_.resize(line.size() + simdjson::SIMDJSON_PADDING);
    std::memcpy(buf_.data(), line.data(), line.size());
    return parser_.parse(buf_.data(), line.size(), false);
  }

  /// Frees the buffers after a one-off huge line (a pasted image), so it does
  /// not pin its memory for the life of the session.
  void MaybeShrink() {
    if (buf_.size() <= kShrinkAbove) return;
    buf_ = {};
    parser_ = simdjson::dom::parser{};
  }

 private:
  static constexpr size_t kShrinkAbove = 8 * 1024 * 1024;
  simdjson::dom::parser parser_;
  std::vector<char> buf_;
};

}  // namespace tsync
