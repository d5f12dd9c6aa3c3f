// `tsync login` and `tsync logout`: put an API key for the backend into the
// config file, and take it out again.
//
// Login has two ways in (PROTOCOL.md "Device login", "GET /api/v1/auth/validate"):
// 1) `--api-key-stdin`: one key read from stdin (never from argv, which
//    leaks into shell history and `ps`), checked with /auth/validate and
//    stored only when the backend accepts it;
// 2) the device flow: POST /auth/device/code, show the user the page and
//    code, poll /auth/device/token until the login is approved in a browser,
//    denied, or expires, then store the issued key.
// Either way the key goes into the config file through config/config_edit.h
// (in place, atomic, mode 0600), then the account's email is printed. The
// key itself is never printed, logged or handed to another process.
//
// Polling time is injected (PollClock), so the poll loop is unit-tested
// without sleeping. The binary itself waits the server's `interval`; the
// environment variable TSYNC_DEVICE_POLL_MS (milliseconds) replaces that
// wait for integration tests against the reference backend, which answers
// interval 5. It is honoured only for a backend on this machine (loopback),
// so it can never make tsync poll a real server faster than it asked.
// Thread-safety: single-threaded command functions.
#pragma once

#include <chrono>
#include <functional>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"
#include "config/config.h"
#include "config/environment.h"
#include "uploader/sync_client.h"

namespace tsync::agent {

struct LoginArgs {
  bool api_key_stdin = false;
  std::string backend_url;  // --backend-url: used for this login and saved; empty: configured
};

/// Longest API key accepted from stdin.
inline constexpr size_t kMaxApiKeyBytes = 4096;

/// Reads one API key from `in`: everything up to EOF (or the first newline
/// when `one_line`, for a terminal), trailing whitespace stripped. Refuses
/// (kInvalidInput, never quoting the input) an empty key, one over
/// kMaxApiKeyBytes, and one with spaces, control characters (a second line)
/// or non-ASCII bytes — the key goes into an HTTP header verbatim.
Result<std::string> ReadApiKey(std::istream& in, bool one_line);

/// The device-flow poll loop's sense of time.
struct PollClock {
  std::function<std::chrono::steady_clock::time_point()> now;
  std::function<void(std::chrono::milliseconds)> sleep;
};
/// steady_clock and std::this_thread::sleep_for.
PollClock RealPollClock();

/// One POST /auth/device/token (SyncClient::PollDeviceToken).
using DeviceTokenPoll =
    std::function<uploader::ApiResult<uploader::DeviceToken>(std::string_view device_code)>;

struct PollOptions {
  /// Replaces the server's interval (TSYNC_DEVICE_POLL_MS; see above).
  std::optional<std::chrono::milliseconds> interval_override;
  /// Network or server failures in a row before giving up (kTransient).
  int max_failures_in_a_row = 3;
};

/// Waits `code.interval` (1 to 300 s), polls, and repeats until the login
/// is approved — returning the issued key — or cannot be: denied, expired,
/// unknown to the server (invalid_grant), or the account's key limit reached
/// (each kAuth with its own advice); the code's `expires_in` (at most an
/// hour) passing (kAuth); the backend failing max_failures_in_a_row polls in
/// a row (kTransient). `slow_down` and 429 add 5 s to the wait (RFC 8628 §3.5).
Result<std::string> AwaitDeviceToken(const uploader::DeviceCode& code, const DeviceTokenPoll& poll,
                                     const PollClock& clock, const PollOptions& options = {});

/// TSYNC_DEVICE_POLL_MS from `env` when it applies to `backend_url` (a
/// loopback host, see above); nullopt otherwise, with a warning when the
/// variable is set but ignored.
std::optional<std::chrono::milliseconds> DevicePollOverride(const config::Environment& env,
                                                            const std::string& backend_url);

/// "<hostname> (tsync)", the key name the device flow asks the backend for.
std::string DeviceKeyName();

/// `tsync login`. `in` is stdin (a terminal gets a prompt and no echo).
int RunLogin(const config::Environment& env, const config::ConfigOverrides& flags, const LoginArgs& args,
             std::istream& in, std::ostream& out);

/// `tsync logout`: removes api_key from the config file (idempotent).
int RunLogout(const config::Environment& env, const config::ConfigOverrides& flags, std::ostream& out);

}  // namespace tsync::agent
