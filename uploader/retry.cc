#include "uploader/retry.h"

#include <algorithm>
#include <charconv>
#include <string>

#include "uploader/curl_library.h"

namespace tsync::uploader {

std::chrono::milliseconds BackoffDelay(const RetryPolicy& policy, int retry, double unit) {
  const int64_t cap = std::max<int64_t>(0, policy.cap.count());
  int64_t ceiling = std::max<int64_t>(0, policy.base.count());
  // Doubling stops at the cap, so the shift can never overflow.
  for (int i = 0; i < retry && ceiling < cap; ++i) ceiling *= 2;
  ceiling = std::min(ceiling, cap);
  unit = std::clamp(unit, 0.0, 1.0);
  auto delay = static_cast<int64_t>(unit * static_cast<double>(ceiling));
  return std::chrono::milliseconds(std::clamp<int64_t>(delay, 0, cap));
}

std::optional<std::chrono::milliseconds> ParseRetryAfter(std::string_view value,
                                                         std::chrono::system_clock::time_point now) {
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t' || value.back() == '\r' ||
                            value.back() == '\n')) {
    value.remove_suffix(1);
  }
  if (value.empty()) return std::nullopt;
  if (value.find_first_not_of("0123456789") == std::string_view::npos) {
    int64_t seconds = 0;
    auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
    if (ec != std::errc() || ptr != value.data() + value.size()) {
      return std::chrono::milliseconds(std::chrono::hours(24));  // absurdly large: saturate
    }
    seconds = std::min<int64_t>(seconds, 24 * 3600);
    return std::chrono::milliseconds(seconds * 1000);
  }
  // An HTTP-date ("Wed, 21 Oct 2015 07:28:00 GMT"); curl_getdate parses all
  // three formats RFC 9110 allows. (A reply came, so libcurl is loaded.)
  Result<const CurlLibrary*> curl = LoadCurl();
  if (!curl.ok()) return std::nullopt;
  const time_t when = (*curl)->getdate(std::string(value).c_str(), nullptr);
  if (when < 0) return std::nullopt;
  const auto target = std::chrono::system_clock::from_time_t(when);
  if (target <= now) return std::chrono::milliseconds(0);
  return std::chrono::duration_cast<std::chrono::milliseconds>(target - now);
}

}  // namespace tsync::uploader
