#include "tests/backend/faults.h"

#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <string>
#include <thread>

namespace tsync::refserver {

void FaultInjector::Delay() {
  int ms = rates_.delay_ms;
  if (rates_.spike_ms > 0 && Roll(rates_.spike, "latency_spike")) ms += rates_.spike_ms;
  if (ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(ms));
}

void FaultInjector::Count(const char* kind) {
  std::lock_guard lock(mu_);
  ++injected_[kind];
}

bool FaultInjector::Roll(double p, const char* kind) {
  if (p <= 0) return false;
  std::lock_guard lock(mu_);
  if (std::uniform_real_distribution<double>(0.0, 1.0)(rng_) >= p) return false;
  ++injected_[kind];
  return true;
}

std::string FaultInjector::ToJson() {
  std::lock_guard lock(mu_);
  std::string out = "{\"injected\":{";
  for (const auto& [kind, n] : injected_) {
    if (out.back() != '{') out += ',';
    out += "\"" + kind + "\":" + std::to_string(n);  // kinds are fixed identifiers
  }
  return out + "}}";
}

bool RateLimiter::Allow(const std::string& key) {
  if (rate_ <= 0) return true;
  auto now = std::chrono::steady_clock::now();
  std::lock_guard lock(mu_);
  auto [it, fresh] = buckets_.try_emplace(key, Bucket{burst_, now});
  Bucket& b = it->second;
  if (!fresh) {
    double elapsed = std::chrono::duration<double>(now - b.last).count();
    b.tokens = std::min(burst_, b.tokens + elapsed * rate_);
    b.last = now;
  }
  if (b.tokens < 1.0) return false;
  b.tokens -= 1.0;
  return true;
}

namespace {

/// Port and textual address of a socket end; false for non-IPv4/IPv6.
bool Endpoint(const sockaddr_storage& ss, std::string* addr, int* port) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (ss.ss_family == AF_INET) {
    const auto& in = reinterpret_cast<const sockaddr_in&>(ss);
    inet_ntop(AF_INET, &in.sin_addr, buf, sizeof buf);
    *port = ntohs(in.sin_port);
  } else if (ss.ss_family == AF_INET6) {
    const auto& in6 = reinterpret_cast<const sockaddr_in6&>(ss);
    inet_ntop(AF_INET6, &in6.sin6_addr, buf, sizeof buf);
    *port = ntohs(in6.sin6_port);
  } else {
    return false;
  }
  *addr = buf;
  return true;
}

bool SocketMatches(int fd, const httplib::Request& req) {
  sockaddr_storage peer{}, local{};
  socklen_t peer_len = sizeof peer, local_len = sizeof local;
  if (getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &peer_len) != 0) return false;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&local), &local_len) != 0) return false;
  std::string peer_addr, local_addr;
  int peer_port = 0, local_port = 0;
  return Endpoint(peer, &peer_addr, &peer_port) && Endpoint(local, &local_addr, &local_port) &&
         peer_port == req.remote_port && peer_addr == req.remote_addr && local_port == req.local_port;
}

}  // namespace

bool AbortConnection(const httplib::Request& req) {
  for (int fd = 3; fd < 65536; ++fd) {
    if (!SocketMatches(fd, req)) continue;
    // Linger 0 turns httplib's later close() into an RST; shutdown stops
    // httplib's reply from reaching the client in the meantime.
    linger lg{1, 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    shutdown(fd, SHUT_RDWR);
    return true;
  }
  return false;
}

}  // namespace tsync::refserver
