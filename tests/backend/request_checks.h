// Pure validation helpers for request bodies and fields (PROTOCOL.md
// "Endpoints"), plus the violation counters for the stricter-than-Confab
// checks that flag client bugs.
// Thread-safety: free functions are pure; Violations locks internally.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include <simdjson.h>

namespace tsync::refserver {

constexpr size_t kChunkBodyCap = 16u * 1024 * 1024;
constexpr size_t kSmallBodyCap = 128u * 1024;

/// 8-4-4-4-12 hex digits.
bool IsUuid(std::string_view s);

/// Why a chunk file_name is unsafe, or empty when it is fine.
std::string FileNameProblem(std::string_view name);

/// Number of Unicode code points in valid UTF-8.
size_t Utf8Chars(std::string_view s);

/// Checks `git_info` (init and chunk metadata); empty string when valid.
std::string GitInfoProblem(simdjson::dom::element git_info);

/// A parsed GitHub PR or commit URL (PROTOCOL.md github-links).
struct GithubRef {
  std::string link_type;  // pull_request | commit
  std::string owner, repo, ref;
};
std::optional<GithubRef> ParseGithubUrl(std::string_view url);

/// RFC 3339 date-time with an explicit zone ("Z" or "+hh:mm").
bool IsRfc3339(std::string_view s);

/// Counts of client-bug violations by kind, served at /debug/violations.
class Violations {
 public:
  void Count(const std::string& kind);
  std::string ToJson();

 private:
  std::mutex mu_;
  std::map<std::string, int64_t> counts_;
};

}  // namespace tsync::refserver
