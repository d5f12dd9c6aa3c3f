#include "agent/login_command.h"

#include <spdlog/spdlog.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <iostream>
#include <limits.h>
#include <thread>
#include <vector>

#include "agent/exit_codes.h"
#include "config/backend_url.h"
#include "config/config_edit.h"

#ifndef TSYNC_VERSION
#define TSYNC_VERSION "0.0.0"
#endif

namespace tsync::agent {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using uploader::DeviceToken;

constexpr milliseconds kSlowDownStep = seconds(5);  // RFC 8628 §3.5
constexpr int64_t kMaxLoginSeconds = 3600;          // longest expires_in honoured

int Fail(const Status& status) {
  spdlog::error("{}", status.ToString());
  return ExitCodeFor(status);
}

// The same kind of failure, told in words that fit where it happened.
Status Reword(const Status& status, std::string message) {
  switch (status.kind()) {
    case Status::Kind::kInvalidInput: return Status::InvalidInput(std::move(message));
    case Status::Kind::kConfig: return Status::Config(std::move(message));
    case Status::Kind::kNotFound: return Status::NotFound(std::move(message));
    case Status::Kind::kIo: return Status::Io(std::move(message));
    case Status::Kind::kCorrupt: return Status::Corrupt(std::move(message));
    case Status::Kind::kConflict: return Status::Conflict(std::move(message));
    case Status::Kind::kTransient: return Status::Transient(std::move(message));
    case Status::Kind::kAuth: return Status::Auth(std::move(message));
    case Status::Kind::kOk:
    case Status::Kind::kInternal: break;
  }
  return Status::Internal(std::move(message));
}

// Server-supplied text shown on a terminal: no escape sequences.
std::string Printable(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  }
  return out;
}

// The host of a validated backend URL (scheme://host[:port][/prefix]).
std::string HostOf(std::string_view url) {
  size_t start = url.find("://");
  std::string_view rest = start == std::string_view::npos ? url : url.substr(start + 3);
  rest = rest.substr(0, rest.find('/'));
  if (rest.starts_with("[")) return std::string(rest.substr(0, rest.find(']') + 1));
  return std::string(rest.substr(0, rest.find(':')));
}

// Turns terminal echo off while the key is typed or pasted.
class NoEcho {
 public:
  NoEcho() {
    if (::tcgetattr(STDIN_FILENO, &saved_) != 0) return;
    termios quiet = saved_;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    active_ = ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) == 0;
  }
  ~NoEcho() {
    if (active_) ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_);
  }
  NoEcho(const NoEcho&) = delete;
  NoEcho& operator=(const NoEcho&) = delete;

 private:
  termios saved_{};
  bool active_ = false;
};

// The configuration login works with: the file, env and flags, with
// --backend-url on top; a backend is required.
Result<config::LoadedConfig> LoadForLogin(const config::Environment& env, const config::ConfigOverrides& flags,
                                          const LoginArgs& args) {
  config::ConfigOverrides overrides = flags;
  if (!args.backend_url.empty()) overrides.backend_url = args.backend_url;
  Result<config::LoadedConfig> loaded = config::LoadConfig(env, overrides);
  if (!loaded.ok()) return loaded.status();
  if (!loaded->config.HasBackend()) {
    return Status::Config(
        "no backend to log in to: pass --backend-url https://…, or run `tsync config set backend_url https://…`, or "
        "set TSYNC_BACKEND_URL");
  }
  return loaded;
}

Result<std::unique_ptr<uploader::SyncClient>> ClientWithKey(const config::Config& config, std::string key) {
  config::Config run = config;
  run.api_key = std::move(key);
  uploader::SyncClientOptions options;
  options.version = TSYNC_VERSION;
  return uploader::SyncClient::Create(run, options);
}

// GET /api/v1/auth/validate with `key`: the account's email.
Result<std::string> AccountEmail(const config::Config& config, const std::string& key) {
  auto client = ClientWithKey(config, key);
  if (!client.ok()) return client.status();
  auto auth = (*client)->ValidateAuth();
  if (auth.ok()) return auth->email;
  const uploader::ApiError& e = auth.error();
  std::string reply = e.message + (e.http_status ? " (HTTP " + std::to_string(e.http_status) + ")" : "");
  if (auth.status().kind() == Status::Kind::kAuth) {
    return Status::Auth("the backend " + config.backend_url + " refused the API key: " + reply +
                        "; check that you copied the whole key, or run `tsync login` to log in in a browser");
  }
  return Reword(auth.status(), "cannot check the API key with " + config.backend_url + ": " + reply +
                                   "; try again later");
}

Result<std::string> ObtainKeyFromStdin(std::istream& in) {
  const bool terminal = &in == &std::cin && ::isatty(STDIN_FILENO);
  if (!terminal) return ReadApiKey(in, false);
  std::cerr << "Paste the API key and press Enter (it is not shown): " << std::flush;
  NoEcho no_echo;
  Result<std::string> key = ReadApiKey(in, true);
  std::cerr << "\n";
  return key;
}

Result<std::string> ObtainKeyByDevice(const config::Config& config, const config::Environment& env,
                                      std::ostream& out) {
  auto client = ClientWithKey(config, "");  // device login sends no key
  if (!client.ok()) return client.status();
  auto code = (*client)->RequestDeviceCode(DeviceKeyName());
  if (!code.ok()) {
    if (code.outcome() == uploader::Outcome::kNotFound) {
      return Status::NotFound("the backend " + config.backend_url +
                              " does not offer device login (404 on /auth/device/code); create an API key in its "
                              "web interface and run `tsync login --api-key-stdin`");
    }
    return Reword(code.status(), "cannot start a login with " + config.backend_url + ": " +
                                     code.status().message());
  }
  out << "To log in, open this page in a browser:\n\n    " << Printable(code->verification_uri)
      << "\n\nand enter the code:  " << Printable(code->user_code) << "\n\nWaiting for approval (the code expires in "
      << std::clamp<int64_t>(code->expires_in / 60, 1, kMaxLoginSeconds / 60) << " min)...\n"
      << std::flush;
  PollOptions options;
  options.interval_override = DevicePollOverride(env, config.backend_url);
  uploader::SyncClient& c = **client;
  DeviceTokenPoll poll = [&c](std::string_view device_code) { return c.PollDeviceToken(device_code); };
  return AwaitDeviceToken(code.value(), poll, RealPollClock(), options);
}

void WarnAboutEnvironment(const config::Environment& env, bool backend_saved) {
  if (config::GetNonEmpty(env, "TSYNC_API_KEY")) {
    spdlog::warn("TSYNC_API_KEY is set in this environment and overrides the saved key; unset it to use this login");
  }
  if (backend_saved && config::GetNonEmpty(env, "TSYNC_BACKEND_URL")) {
    spdlog::warn("TSYNC_BACKEND_URL is set in this environment and overrides the saved backend_url");
  }
}

}  // namespace

Result<std::string> ReadApiKey(std::istream& in, bool one_line) {
  // Read a little past the limit so "too long" is told apart from a long
  // key followed by a newline, without reading an unbounded stream.
  const size_t cap = 2 * kMaxApiKeyBytes;
  std::string key;
  char c;
  while (key.size() <= cap && in.get(c)) {
    if (one_line && c == '\n') break;
    key += c;
  }
  if (in.bad()) return Status::Io("cannot read the API key from stdin");
  while (!key.empty() && std::string_view(" \t\r\n\v\f").find(key.back()) != std::string_view::npos) key.pop_back();
  if (key.empty()) {
    return Status::InvalidInput(
        "stdin held no API key; pipe exactly one key in, for example: tsync login --api-key-stdin < key.txt");
  }
  if (key.size() > kMaxApiKeyBytes) {
    return Status::InvalidInput("the text on stdin is over " + std::to_string(kMaxApiKeyBytes) +
                                " bytes, too long for an API key; pipe exactly one key in");
  }
  for (char k : key) {
    const auto u = static_cast<unsigned char>(k);
    if (u <= 0x20 || u >= 0x7f) {
      return Status::InvalidInput(
          "the API key on stdin contains spaces, control characters, more than one line or non-ASCII bytes; pipe "
          "exactly one key in, as the backend showed it");
    }
  }
  return key;
}

PollClock RealPollClock() {
  return PollClock{[] { return std::chrono::steady_clock::now(); },
                   [](milliseconds d) { std::this_thread::sleep_for(d); }};
}

Result<std::string> AwaitDeviceToken(const uploader::DeviceCode& code, const DeviceTokenPoll& poll,
                                     const PollClock& clock, const PollOptions& options) {
  // Clamped so a hostile or broken reply cannot overflow the clock arithmetic
  // or keep tsync waiting for days.
  const seconds lifetime(code.expires_in > 0 ? std::min<int64_t>(code.expires_in, kMaxLoginSeconds) : 300);
  const auto deadline = clock.now() + lifetime;
  milliseconds wait = options.interval_override.value_or(seconds(std::clamp<int64_t>(code.interval, 1, 300)));
  int failures = 0;
  for (;;) {
    if (clock.now() + wait > deadline) {
      return Status::Auth("the login code expired after " + std::to_string(lifetime.count()) +
                          " s without being approved; run `tsync login` again and approve it in the browser in time");
    }
    clock.sleep(wait);
    uploader::ApiResult<DeviceToken> r = poll(code.device_code);
    if (!r.ok()) {
      if (r.outcome() == uploader::Outcome::kRateLimited) {
        wait += kSlowDownStep;
        continue;
      }
      if (r.status().kind() == Status::Kind::kTransient && ++failures < options.max_failures_in_a_row) {
        spdlog::warn("waiting for the login: {}; trying again", r.status().message());
        continue;
      }
      const bool down = r.status().kind() == Status::Kind::kTransient;
      return Reword(r.status(), (down ? "the backend stopped answering while waiting for the login: "
                                      : "the backend refused to complete the login: ") +
                                    r.status().message() + "; run `tsync login` again later");
    }
    failures = 0;
    switch (r->state) {
      case DeviceToken::State::kGranted: return r->access_token;
      case DeviceToken::State::kPending: break;
      case DeviceToken::State::kSlowDown: wait += kSlowDownStep; break;
      case DeviceToken::State::kDenied:
        return Status::Auth("the login was denied in the browser; run `tsync login` again to retry");
      case DeviceToken::State::kExpired:
        return Status::Auth("the login code expired before it was approved; run `tsync login` again");
      case DeviceToken::State::kInvalid:
        return Status::Auth(
            "the backend no longer knows this login (invalid_grant: used or cancelled); run `tsync login` again");
      case DeviceToken::State::kKeyLimit:
        return Status::Auth(
            "your account has reached its API key limit (api_key_limit_exceeded); delete an unused key in the "
            "backend's web interface, then run `tsync login` again");
    }
  }
}

std::optional<milliseconds> DevicePollOverride(const config::Environment& env, const std::string& backend_url) {
  std::optional<std::string> text = config::GetNonEmpty(env, "TSYNC_DEVICE_POLL_MS");
  if (!text) return std::nullopt;
  int ms = 0;
  auto [ptr, ec] = std::from_chars(text->data(), text->data() + text->size(), ms);
  if (ec != std::errc() || ptr != text->data() + text->size() || ms < 1 || ms > 60'000) {
    spdlog::warn("ignoring TSYNC_DEVICE_POLL_MS='{}': give milliseconds between 1 and 60000", Printable(*text));
    return std::nullopt;
  }
  if (!config::IsLoopbackHost(HostOf(backend_url))) {
    spdlog::warn("ignoring TSYNC_DEVICE_POLL_MS: it is a testing aid honoured only for a backend on this machine");
    return std::nullopt;
  }
  return milliseconds(ms);
}

std::string DeviceKeyName() {
  char host[HOST_NAME_MAX + 1] = {};
  std::string name = ::gethostname(host, sizeof host - 1) == 0 && host[0] ? Printable(host) : "unknown-host";
  return name + " (tsync)";
}

int RunLogin(const config::Environment& env, const config::ConfigOverrides& flags, const LoginArgs& args,
             std::istream& in, std::ostream& out) {
  Result<std::string> path = config::ConfigPathFor(env, flags);
  if (!path.ok()) return Fail(path.status());
  Result<config::LoadedConfig> loaded = LoadForLogin(env, flags, args);
  if (!loaded.ok()) return Fail(loaded.status());
  const config::Config& cfg = loaded->config;

  Result<std::string> key = args.api_key_stdin ? ObtainKeyFromStdin(in) : ObtainKeyByDevice(cfg, env, out);
  if (!key.ok()) return Fail(key.status());
  // A typed key is checked before it is kept; an issued one was just made
  // by the backend, so only a clear refusal keeps it out of the file.
  Result<std::string> email = AccountEmail(cfg, *key);
  if (!email.ok() && (args.api_key_stdin || email.status().kind() == Status::Kind::kAuth)) {
    spdlog::error("{}; nothing was saved", email.status().ToString());
    return ExitCodeFor(email.status());
  }

  std::vector<config::FieldChange> changes = {{"api_key", *key}};
  if (!args.backend_url.empty()) changes.push_back({"backend_url", cfg.backend_url});
  Result<config::EditResult> edit = config::EditConfigFile(*path, changes, env, flags);
  if (!edit.ok()) return Fail(edit.status());
  if (!edit->remaining_problem.empty()) {
    spdlog::warn("the config file still has a problem: {}", edit->remaining_problem);
  }

  if (email.ok()) {
    out << "Logged in to " << cfg.backend_url << " as " << Printable(*email) << ".\n";
  } else {
    spdlog::warn("{}", email.status().message());
    out << "Logged in to " << cfg.backend_url << " (the account could not be confirmed yet).\n";
  }
  out << "The API key is saved in " << *path << " (mode 0600).\n";
  if (args.backend_url.empty() && loaded->sources.backend_url == config::Source::kEnv) {
    out << "The backend came from TSYNC_BACKEND_URL and was not saved; pass --backend-url to save it too.\n";
  }
  WarnAboutEnvironment(env, !args.backend_url.empty());
  return kExitOk;
}

int RunLogout(const config::Environment& env, const config::ConfigOverrides& flags, std::ostream& out) {
  Result<std::string> path = config::ConfigPathFor(env, flags);
  if (!path.ok()) return Fail(path.status());
  Result<config::EditResult> edit = config::EditConfigFile(*path, {{"api_key", std::nullopt}}, env, flags);
  if (!edit.ok()) return Fail(edit.status());
  if (edit->had_value.at(0)) {
    out << "Logged out: removed the API key from " << *path
        << ".\nThe key stays valid on the backend; revoke it in the backend's web interface if it may have leaked.\n";
  } else {
    out << "Not logged in: " << *path << " holds no API key; nothing to do.\n";
  }
  if (config::GetNonEmpty(env, "TSYNC_API_KEY")) {
    spdlog::warn("TSYNC_API_KEY is set in this environment and still applies; unset it to log out completely");
  }
  if (!edit->remaining_problem.empty()) {
    spdlog::warn("the config file still has a problem: {}", edit->remaining_problem);
  }
  return kExitOk;
}

}  // namespace tsync::agent
