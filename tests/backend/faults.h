// Fault injection and rate limiting for the reference backend.
//
// Clients must survive what the real server and the network do to them
// (PROTOCOL.md "What the reference backend must enforce"): a share of 503s
// on writes and on reads, connections dropped after the chunk was committed
// ("stored, reply lost"), connections reset before the body is read, slow
// replies, rare latency spikes, and 429s from the per-user and per-IP
// limiters.
// Every random decision comes from one seeded generator so a failing run can
// be replayed with the same --seed (given the same order of requests).
// Thread-safety: FaultInjector and RateLimiter lock internally.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <random>
#include <string>

namespace httplib {
struct Request;
}

namespace tsync::refserver {

struct FaultRates {
  double fail = 0;                // 503 before processing a write (POST/PATCH)
  double read_fail = 0;           // 503 before answering a GET (capabilities excepted)
  double drop_after_commit = 0;   // chunk committed, then no reply
  double reset = 0;               // connection closed before the body is read
  int delay_ms = 0;               // added to every write request
  double spike = 0;               // share of write requests delayed a further spike_ms
  int spike_ms = 0;               // a latency spike (rare, long; --spike-rate/--spike-ms)
};

class FaultInjector {
 public:
  FaultInjector(FaultRates rates, uint64_t seed) : rates_(rates), rng_(seed) {}

  bool ShouldFail() { return Roll(rates_.fail, "write_503"); }
  bool ShouldFailRead() { return Roll(rates_.read_fail, "read_503"); }
  bool ShouldDropAfterCommit() { return Roll(rates_.drop_after_commit, "drop_after_commit"); }
  bool ShouldReset() { return Roll(rates_.reset, "reset"); }
  /// delay_ms, plus spike_ms for a `spike` share of calls (counted as
  /// latency_spike).
  void Delay();
  /// Records a fault decided elsewhere (the rate limiters' 429s), so
  /// /debug/faults shows it too.
  void Count(const char* kind);
  /// {"injected":{"<kind>":N,...}}: what was injected so far, so tests can
  /// prove a fault really happened (served at /debug/faults).
  std::string ToJson();

 private:
  bool Roll(double p, const char* kind);

  const FaultRates rates_;
  std::mutex mu_;  // guards rng_ and injected_
  std::mt19937_64 rng_;
  std::map<std::string, int64_t> injected_;
};

/// Token buckets by key: per user for init, chunk and event, and per remote
/// address for every request (PROTOCOL.md "Rate limits"). A rate <= 0
/// disables limiting.
class RateLimiter {
 public:
  RateLimiter(double rate_per_s, double burst) : rate_(rate_per_s), burst_(burst) {}
  bool Allow(const std::string& key);

 private:
  struct Bucket {
    double tokens;
    std::chrono::steady_clock::time_point last;
  };
  const double rate_;
  const double burst_;
  std::mutex mu_;
  std::map<std::string, Bucket> buckets_;
};

/// Cuts the TCP connection `req` arrived on so the client gets no reply at
/// all: cpp-httplib has no API for that, so the socket is found by its
/// address pair and shut down (then closed with RST by httplib). Returns
/// false when the socket could not be found.
bool AbortConnection(const httplib::Request& req);

}  // namespace tsync::refserver
