// TLS between SyncClient (libcurl) and tsync-refserver --tls-cert/--tls-key.
//
// The client must refuse a certificate it cannot verify (unknown CA, a CA
// that did not sign it, a name that is not the URL's host) before a request
// reaches the server, say what to do about it (kRefused / kConfig), and
// work once ca_file names the server's CA. Certificates come from
// tests/test_certs.h (self-signed EC P-256, valid from an hour ago for a day).
#include <catch2/catch.hpp>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "tests/refserver_process.h"
#include "tests/test_certs.h"
#include "tests/test_util.h"
#include "uploader/sync_client.h"

namespace tsync::testing {
namespace {

using uploader::ChunkRequest;
using uploader::Outcome;
using uploader::SessionInfo;
using uploader::SyncClient;

constexpr const char* kExt = "0b6f8e2a-1c3d-4e5f-8a7b-9c0d1e2f3a4b";

std::string HttpsUrl(const RefServer& server) { return "https://127.0.0.1:" + std::to_string(server.port()); }

std::unique_ptr<SyncClient> Client(const std::string& url, const std::string& ca_file) {
  config::Config config;
  config.backend_url = url;
  config.api_key = "k1";
  config.ca_file = ca_file;
  auto client = SyncClient::Create(config);
  REQUIRE(client.ok());
  return std::move(client.value());
}

SessionInfo Info() {
  SessionInfo info;
  info.external_id = kExt;
  info.transcript_path = "/home/u/.claude/projects/p/" + info.external_id + ".jsonl";
  info.metadata_json = R"({"cwd":"/home/u/p","hostname":"h"})";
  return info;
}

/// A verification failure: refused before any request, a config problem
/// whose message names TLS and the fix, without the key.
template <typename T>
void CheckTlsRefused(const uploader::ApiResult<T>& r) {
  REQUIRE_FALSE(r.ok());
  INFO(r.error().message);
  CHECK(r.outcome() == Outcome::kRefused);
  CHECK(r.error().http_status == 0);
  CHECK(r.error().attempts == 1);
  CHECK(r.status().kind() == Status::Kind::kConfig);
  CHECK(r.error().message.find("TLS") != std::string::npos);
  CHECK(r.error().message.find("certificate") != std::string::npos);
  CHECK(r.error().message.find("ca_file") != std::string::npos);
  CHECK(r.error().message.find("k1") == std::string::npos);
}

/// tsync-refserver with `args`, under timeout(1) so a server that
/// wrongly starts listening fails the test instead of hanging it.
ProcessResult RunRefServer(const TempDir& dir, std::vector<std::string> args) {
  WriteFile(dir / "keys", "k1 one@example.com\n");
  std::vector<std::string> argv = {"/usr/bin/timeout", "20", TSYNC_REFSERVER,  "--port", "0",
                                   "--db",             dir / "db", "--keys", dir / "keys"};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunProcess(argv, {});
}

TEST_CASE("tls: a self-signed backend is refused without ca_file and nothing reaches its database", "[tls]") {
  TempDir certs;
  const CertFiles server_cert = MakeSelfSigned(certs, "server", "localhost", "DNS:localhost,IP:127.0.0.1");
  RefServer server(TlsArgs(server_cert));

  auto untrusting = Client(HttpsUrl(server), "");
  CheckTlsRefused(untrusting->ValidateAuth());
  // Init retries transient errors; a verification failure is not one
  // (CheckTlsRefused checks a single attempt).
  CheckTlsRefused(untrusting->Init(Info()));

  auto trusting = Client(HttpsUrl(server), server_cert.cert);
  auto found = trusting->FindSession(kExt);
  CHECK(found.outcome() == Outcome::kNotFound);
}

TEST_CASE("tls: with ca_file naming the backend's certificate, auth, init, chunk and read work", "[tls]") {
  TempDir certs;
  const CertFiles server_cert = MakeSelfSigned(certs, "server", "localhost", "DNS:localhost,IP:127.0.0.1");
  RefServer server(TlsArgs(server_cert));
  auto client = Client(HttpsUrl(server), server_cert.cert);

  auto auth = client->ValidateAuth();
  REQUIRE(auth.ok());
  CHECK(auth->user_id == 1);
  CHECK(auth->email == "one@example.com");

  auto init = client->Init(Info());
  REQUIRE(init.ok());
  CHECK(init->last_synced_line.empty());

  // Over 1 KiB, so the body also goes out zstd-compressed through TLS.
  std::vector<std::string> lines = {R"({"type":"user","n":1})", R"({"type":"assistant","n":2})",
                                    R"({"pad":")" + std::string(2000, 'x') + R"("})"};
  std::vector<std::string_view> views(lines.begin(), lines.end());
  ChunkRequest chunk;
  chunk.session_id = init->session_id;
  chunk.file_name = std::string(kExt) + ".jsonl";
  chunk.first_line = 1;
  chunk.lines = views;
  auto sent = client->SendChunk(chunk);
  REQUIRE(sent.ok());
  CHECK(sent->last_synced_line == 3);

  auto read = client->ReadFile(init->session_id, chunk.file_name, 0);
  REQUIRE(read.ok());
  CHECK(read.value() == lines[0] + "\n" + lines[1] + "\n" + lines[2] + "\n");
  auto found = client->FindSession(kExt);
  REQUIRE(found.ok());
  CHECK(found.value() == init->session_id);
}

TEST_CASE("tls: a ca_file holding a different self-signed certificate is refused", "[tls]") {
  TempDir certs;
  const CertFiles server_cert = MakeSelfSigned(certs, "server", "localhost", "DNS:localhost,IP:127.0.0.1");
  // Same subject and names, different key: only the signature tells them apart.
  const CertFiles other = MakeSelfSigned(certs, "other", "localhost", "DNS:localhost,IP:127.0.0.1");
  RefServer server(TlsArgs(server_cert));

  auto client = Client(HttpsUrl(server), other.cert);
  CheckTlsRefused(client->ValidateAuth());
}

TEST_CASE("tls: a certificate that does not name the URL's host is refused even with its CA", "[tls]") {
  TempDir certs;
  const CertFiles server_cert = MakeSelfSigned(certs, "server", "other.example", "DNS:other.example");
  RefServer server(TlsArgs(server_cert));

  auto client = Client(HttpsUrl(server), server_cert.cert);
  auto r = client->ValidateAuth();
  CheckTlsRefused(r);
  CHECK(r.error().message.find("backend_url") != std::string::npos);
}

TEST_CASE("tls: a ca_file that cannot be read is a config error naming the file", "[tls]") {
  TempDir certs;
  const CertFiles server_cert = MakeSelfSigned(certs, "server", "localhost", "DNS:localhost,IP:127.0.0.1");
  RefServer server(TlsArgs(server_cert));

  const std::string missing = certs / "missing.pem";
  auto client = Client(HttpsUrl(server), missing);
  auto r = client->ValidateAuth();
  REQUIRE_FALSE(r.ok());
  INFO(r.error().message);
  CHECK(r.outcome() == Outcome::kRefused);
  CHECK(r.status().kind() == Status::Kind::kConfig);
  CHECK(r.error().message.find(missing) != std::string::npos);
}

TEST_CASE("refserver: --tls-cert and --tls-key come as a pair and name a usable certificate", "[refserver][tls]") {
  TempDir dir;
  for (const char* flag : {"--tls-cert", "--tls-key"}) {
    INFO(flag);
    ProcessResult r = RunRefServer(dir, {flag, dir / "x.pem"});
    CHECK(r.exit_code == 2);
    CHECK(r.out.empty());
    CHECK(r.err.find("--tls-cert and --tls-key must be given together") != std::string::npos);
  }

  ProcessResult missing = RunRefServer(dir, {"--tls-cert", dir / "none.crt", "--tls-key", dir / "none.key"});
  CHECK(missing.exit_code == 1);
  CHECK(missing.out.empty());
  CHECK(missing.err.find(dir / "none.crt") != std::string::npos);

  const CertFiles a = MakeSelfSigned(dir, "a", "localhost", "DNS:localhost");
  const CertFiles b = MakeSelfSigned(dir, "b", "localhost", "DNS:localhost");
  ProcessResult mismatched = RunRefServer(dir, {"--tls-cert", a.cert, "--tls-key", b.key});
  CHECK(mismatched.exit_code == 1);
  CHECK(mismatched.out.empty());
  CHECK(mismatched.err.find("not a matching pair") != std::string::npos);
}

}  // namespace
}  // namespace tsync::testing
