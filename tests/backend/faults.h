// Fault injection and rate limiting for the reference backend.
//
// Clients must survive what the real server and the network do to them
// (PROTOCOL.md "What the reference backend must enforce"): a share of 503s,
// connections dropped after the chunk was committed ("stored, reply lost"),
// connections reset before the body is read, slow replies, and 429 bursts.
// Every random decision comes from one seeded generator so a failing run can
// be replayed with the same --seed.
// Thread-safety: FaultInjector and RateLimiter lock internally.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <random>

namespace httplib {
struct Request;
}

namespace tsync::refserver {

struct FaultRates {
  double fail = 0;                // 503 before processing
  double drop_after_commit = 0;   // chunk committed, then no reply
  double reset = 0;               // connection closed before the body is read
  int delay_ms = 0;               // added to every write request
};

class FaultInjector {
 public:
  FaultInjector(FaultRates rates, uint64_t seed) : rates_(rates), rng_(seed) {}

  bool ShouldFail() { return Roll(rates_.fail); }
  bool ShouldDropAfterCommit() { return Roll(rates_.drop_after_commit); }
  bool ShouldReset() { return Roll(rates_.reset); }
  void Delay() const;

 private:
  bool Roll(double p);

  const FaultRates rates_;
  std::mutex mu_;
  std::mt19937_64 rng_;
};

/// Token bucket per user shared by init, chunk and event (PROTOCOL.md
/// "Rate limits"). A rate <= 0 disables limiting.
class RateLimiter {
 public:
  RateLimiter(double rate_per_s, double burst) : rate_(rate_per_s), burst_(burst) {}
  bool Allow(int64_t user_id);

 private:
  struct Bucket {
    double tokens;
    std::chrono::steady_clock::time_point last;
  };
  const double rate_;
  const double burst_;
  std::mutex mu_;
  std::map<int64_t, Bucket> buckets_;
};

/// Cuts the TCP connection `req` arrived on so the client gets no reply at
/// all: cpp-httplib has no API for that, so the socket is found by its
/// address pair and shut down (then closed with RST by httplib). Returns
/// false when the socket could not be found.
bool AbortConnection(const httplib::Request& req);

}  // namespace tsync::refserver
