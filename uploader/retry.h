// Retry timing for the sync client: exponential backoff with full jitter,
// and the parsing of a server's Retry-After header.
//
// Full jitter (delay = uniform(0, min(cap, base * 2^attempt))) spreads the
// retries of many agents that failed together, instead of having them hammer
// the server in lock-step. A Retry-After sent by the server replaces the
// computed delay (PROTOCOL.md "Rate limits": Confab sends none, but honour it
// if some server does).
// Thread-safety: pure functions and plain values.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

namespace tsync::uploader {

/// How often and how patiently one call is retried inside the client.
struct RetryPolicy {
  /// Attempts per call, the first included; 1 disables retrying.
  int max_attempts = 5;
  std::chrono::milliseconds base{500};
  std::chrono::milliseconds cap{60'000};
};

/// The full-jitter delay before retry number `retry` (0 for the first retry):
/// floor(unit * min(cap, base * 2^retry)), `unit` in [0, 1) from the caller's
/// RNG. Always within [0, cap].
std::chrono::milliseconds BackoffDelay(const RetryPolicy& policy, int retry, double unit);

/// Parses a Retry-After value: delta-seconds ("120") or an HTTP-date, which
/// is measured against `now`. A date in the past gives 0. nullopt when the
/// value is neither.
std::optional<std::chrono::milliseconds> ParseRetryAfter(std::string_view value,
                                                         std::chrono::system_clock::time_point now);

}  // namespace tsync::uploader
