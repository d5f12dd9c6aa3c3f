// The reference backend as a child process, and a raw HTTP/1.1 helper that
// can also observe "no reply at all" (PROTOCOL.md faults).
//
// The raw client is a small socket helper rather than httplib::Client:
// Debian's cpp-httplib is a compiled library built with
// CPPHTTPLIB_OPENSSL_SUPPORT, and httplib::Client's layout depends on that
// macro.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "tests/test_util.h"

namespace tsync::testing {

/// Runs tsync-refserver on 127.0.0.1 with a key file ("k1" for user 1
/// one@example.com, "k2" for user 2) and a database inside a TempDir; stops
/// it (SIGTERM) on destruction. Restart() keeps the database.
class RefServer {
 public:
  explicit RefServer(std::vector<std::string> extra_args = {});
  ~RefServer();
  RefServer(const RefServer&) = delete;
  RefServer& operator=(const RefServer&) = delete;

  int port() const { return port_; }
  /// "http://127.0.0.1:<port>"
  std::string url() const;
  /// The server's private directory (keys, db); tests may put files here.
  const TempDir& dir() const { return dir_; }
  void Restart();

 private:
  void Start();
  void Stop();

  TempDir dir_;
  std::vector<std::string> extra_;
  pid_t pid_ = -1;
  int port_ = 0;
};

struct Reply {
  bool received = false;  // false: the connection closed without a byte
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
};

using Headers = std::vector<std::pair<std::string, std::string>>;

Reply ParseReply(const std::string& raw);

/// One request on a fresh connection ("Connection: close"), reading to EOF.
Reply Send(int port, const std::string& method, const std::string& target, const Headers& headers,
           const std::string& body = "");
/// Send from the local address `source_ip` (any 127.x.y.z reaches the
/// server), so one test can be several clients to per-IP limits.
Reply SendFrom(const std::string& source_ip, int port, const std::string& method, const std::string& target,
               const Headers& headers, const std::string& body = "");

/// One row of the server's events table.
struct StoredEvent {
  std::string type;
  std::string timestamp;
  std::string payload;  // minified JSON
};
/// The events the server stored for the session whose external id is
/// `external_id`, in the order they arrived (read from its database).
std::vector<StoredEvent> StoredEvents(const RefServer& server, const std::string& external_id);

/// One row of the server's github_links table.
struct StoredGithubLink {
  std::string link_type;
  std::string url;
  std::string title;  // "" when none was sent
  std::string source;
};
/// The GitHub links the server stored for the session whose external id is
/// `external_id`, in the order they arrived (read from its database).
std::vector<StoredGithubLink> StoredGithubLinks(const RefServer& server, const std::string& external_id);

/// The session metadata the server stored ("" when unset).
struct StoredMetadata {
  std::string first_user_message;
  std::string summary;
};
StoredMetadata StoredSessionMetadata(const RefServer& server, const std::string& external_id);

/// The server's count of client-bug violations of `kind` (/debug/violations).
int64_t ViolationCount(int port, const char* kind);
/// The sum over every kind.
int64_t TotalViolations(int port);
/// How many faults of `kind` (write_503, read_503, drop_after_commit, reset)
/// the server has injected (/debug/faults).
int64_t InjectedFaults(int port, const char* kind);
/// The most chunks (of any files) the server was storing at once (/debug/load).
int64_t PeakChunksInFlight(int port);

}  // namespace tsync::testing
