// agent/login_command.h without a server or a clock: the device-flow poll
// loop against scripted replies and a fake clock (no sleeping), and the
// checks on a key read from stdin.
#include "agent/login_command.h"

#include <catch2/catch.hpp>
#include <sstream>
#include <string>
#include <vector>

namespace tsync::agent {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using uploader::ApiError;
using uploader::ApiResult;
using uploader::DeviceToken;
using State = DeviceToken::State;

/// A clock that advances only when the loop sleeps, recording each sleep.
struct FakeClock {
  std::chrono::steady_clock::time_point now{};
  std::vector<milliseconds> sleeps;

  PollClock Clock() {
    return PollClock{[this] { return now; },
                     [this](milliseconds d) {
                       sleeps.push_back(d);
                       now += d;
                     }};
  }
};

/// Replies to successive polls from a script; the last one repeats.
struct ScriptedPolls {
  std::vector<ApiResult<DeviceToken>> replies;
  size_t calls = 0;

  DeviceTokenPoll Poll() {
    return [this](std::string_view device_code) -> ApiResult<DeviceToken> {
      CHECK(device_code == "dev-code");
      const size_t i = std::min(calls++, replies.size() - 1);
      return replies[i];
    };
  }
};

ApiResult<DeviceToken> Reply(State state, std::string token = "") {
  DeviceToken t;
  t.state = state;
  t.access_token = std::move(token);
  return t;
}

ApiResult<DeviceToken> Failure(uploader::Outcome outcome, int http_status) {
  ApiError e;
  e.outcome = outcome;
  e.http_status = http_status;
  e.message = "connection refused";
  e.route = "POST /auth/device/token";
  return e;
}

uploader::DeviceCode Code(int64_t interval = 5, int64_t expires_in = 300) {
  uploader::DeviceCode c;
  c.device_code = "dev-code";
  c.user_code = "ABCD-EFGH";
  c.verification_uri = "https://sync.example.com/device";
  c.interval = interval;
  c.expires_in = expires_in;
  return c;
}

}  // namespace

TEST_CASE("device login — waits the interval before every poll and returns the issued key", "[login]") {
  FakeClock clock;
  ScriptedPolls polls{{Reply(State::kPending), Reply(State::kPending), Reply(State::kGranted, "cfb_issued")}};
  Result<std::string> key = AwaitDeviceToken(Code(), polls.Poll(), clock.Clock());
  REQUIRE(key.ok());
  CHECK(*key == "cfb_issued");
  CHECK(polls.calls == 3);
  CHECK(clock.sleeps == std::vector<milliseconds>{seconds(5), seconds(5), seconds(5)});
}

TEST_CASE("device login — slow_down and 429 each add 5 s to the interval for good", "[login]") {
  FakeClock clock;
  ScriptedPolls polls{{Reply(State::kSlowDown), Reply(State::kPending),
                       Failure(uploader::Outcome::kRateLimited, 429), Reply(State::kGranted, "cfb_k")}};
  REQUIRE(AwaitDeviceToken(Code(), polls.Poll(), clock.Clock()).ok());
  CHECK(clock.sleeps == std::vector<milliseconds>{seconds(5), seconds(10), seconds(10), seconds(15)});
}

TEST_CASE("device login — stops at expires_in without polling past it", "[login]") {
  FakeClock clock;
  ScriptedPolls polls{{Reply(State::kPending)}};
  Result<std::string> key = AwaitDeviceToken(Code(5, 30), polls.Poll(), clock.Clock());
  REQUIRE_FALSE(key.ok());
  CHECK(key.status().kind() == Status::Kind::kAuth);
  CHECK(key.status().message().find("expired") != std::string::npos);
  CHECK(polls.calls == 6);  // at 5, 10, ... 30 s
  CHECK(clock.now - std::chrono::steady_clock::time_point{} <= seconds(30));
}

TEST_CASE("device login — absurd expires_in and interval from the server are clamped", "[login]") {
  FakeClock clock;
  ScriptedPolls polls{{Reply(State::kPending)}};
  Result<std::string> key =
      AwaitDeviceToken(Code(int64_t{1} << 40, int64_t{1} << 50), polls.Poll(), clock.Clock());
  REQUIRE_FALSE(key.ok());
  CHECK(key.status().kind() == Status::Kind::kAuth);
  CHECK(polls.calls == 12);  // every 300 s for an hour
  CHECK(clock.sleeps.front() == seconds(300));
}

TEST_CASE("device login — denied, expired, invalid_grant and the key limit are distinct auth errors", "[login]") {
  struct Case {
    State state;
    const char* words;
  };
  const Case cases[] = {{State::kDenied, "denied"},
                        {State::kExpired, "expired"},
                        {State::kInvalid, "invalid_grant"},
                        {State::kKeyLimit, "key limit"}};
  for (const Case& c : cases) {
    INFO(c.words);
    FakeClock clock;
    ScriptedPolls polls{{Reply(State::kPending), Reply(c.state)}};
    Result<std::string> key = AwaitDeviceToken(Code(), polls.Poll(), clock.Clock());
    REQUIRE_FALSE(key.ok());
    CHECK(key.status().kind() == Status::Kind::kAuth);
    CHECK(key.status().message().find(c.words) != std::string::npos);
    CHECK(key.status().message().find("tsync login") != std::string::npos);
  }
}

TEST_CASE("device login — a backend that stops answering is transient after three failures in a row", "[login]") {
  FakeClock clock;
  ScriptedPolls flaky{{Failure(uploader::Outcome::kTransient, 503), Failure(uploader::Outcome::kTransient, 0),
                       Reply(State::kPending), Failure(uploader::Outcome::kTransient, 0),
                       Reply(State::kGranted, "cfb_k")}};
  CHECK(AwaitDeviceToken(Code(), flaky.Poll(), clock.Clock()).ok());

  ScriptedPolls down{{Failure(uploader::Outcome::kTransient, 0)}};
  Result<std::string> key = AwaitDeviceToken(Code(), down.Poll(), clock.Clock());
  REQUIRE_FALSE(key.ok());
  CHECK(key.status().kind() == Status::Kind::kTransient);
  CHECK(down.calls == 3);
}

TEST_CASE("device login — the interval override replaces the server's wait", "[login]") {
  FakeClock clock;
  ScriptedPolls polls{{Reply(State::kPending), Reply(State::kGranted, "cfb_k")}};
  PollOptions options;
  options.interval_override = milliseconds(20);
  REQUIRE(AwaitDeviceToken(Code(), polls.Poll(), clock.Clock(), options).ok());
  CHECK(clock.sleeps == std::vector<milliseconds>{milliseconds(20), milliseconds(20)});
}

TEST_CASE("ReadApiKey — strips trailing whitespace and refuses what cannot be a key, never quoting it", "[login]") {
  std::istringstream good("cfb_abc123\r\n\n");
  Result<std::string> key = ReadApiKey(good, false);
  REQUIRE(key.ok());
  CHECK(*key == "cfb_abc123");

  std::istringstream terminal("cfb_first\nsecond line\n");
  CHECK(*ReadApiKey(terminal, true) == "cfb_first");

  const std::string bad[] = {"", " \n\t", "cfb_a b", "cfb_one\ncfb_two\n", "cfb_\x01x", "cfb_\xc3\xa9",
                             std::string(kMaxApiKeyBytes + 1, 'k'), std::string(3 * kMaxApiKeyBytes, 'k')};
  for (const std::string& text : bad) {
    INFO(text.size());
    std::istringstream in(text);
    Result<std::string> r = ReadApiKey(in, false);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().kind() == Status::Kind::kInvalidInput);
    if (text.size() > 4) CHECK(r.status().message().find(text.substr(0, 5)) == std::string::npos);
  }
  std::istringstream longest(std::string(kMaxApiKeyBytes, 'k') + "\n");
  CHECK(ReadApiKey(longest, false).ok());
}

TEST_CASE("DeviceKeyName — the host name and (tsync)", "[login]") {
  const std::string name = DeviceKeyName();
  CHECK(name.size() > 8);
  CHECK(name.ends_with(" (tsync)"));
}

}  // namespace tsync::agent

namespace tsync::agent {

TEST_CASE("DevicePollOverride — honoured only for a backend on this machine, and only when well-formed", "[login]") {
  auto env = [](std::string value) { return config::MapEnvironment({{"TSYNC_DEVICE_POLL_MS", std::move(value)}}); };
  CHECK(DevicePollOverride(env("25"), "http://127.0.0.1:8080") == std::chrono::milliseconds(25));
  CHECK(DevicePollOverride(env("25"), "http://localhost") == std::chrono::milliseconds(25));
  CHECK(DevicePollOverride(env("25"), "http://[::1]:9/prefix") == std::chrono::milliseconds(25));
  CHECK_FALSE(DevicePollOverride(env("25"), "https://sync.example.com").has_value());
  CHECK_FALSE(DevicePollOverride(env("25"), "https://127.0.0.1.example.com").has_value());
  CHECK_FALSE(DevicePollOverride(env("0"), "http://127.0.0.1:8080").has_value());
  CHECK_FALSE(DevicePollOverride(env("fast"), "http://127.0.0.1:8080").has_value());
  CHECK_FALSE(DevicePollOverride(config::MapEnvironment({}), "http://127.0.0.1:8080").has_value());
}

}  // namespace tsync::agent
