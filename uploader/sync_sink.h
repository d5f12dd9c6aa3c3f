// SyncSink: the Sink over a Confab-compatible sync backend (SyncClient).
//
// It adds to the client exactly what the Sink contract asks for:
//  - requests are validated with the shared sink validators before anything
//    is sent, so the backend and the archive refuse the same input with the
//    same kInvalidInput messages;
//  - the server's 400 "first_line must be N" becomes an accepted-or-not
//    ChunkOutcome (expected_first_line = N, last_synced_line = N - 1);
//  - every other failure becomes a Status of the kind the caller acts on
//    (ApiError::ToStatus): kAuth (log in again), kNotFound, kTransient with
//    retry_after when the server sent Retry-After, kInvalidInput (the server
//    refused the request), kConfig (TLS/insecure URL refused).
// A chunk whose reply was lost (kTransient) may have been stored: the caller
// re-Inits and resumes at last_synced_line + 1 (PROTOCOL.md "Recovery").
//
// Thread-safety: any method from any thread. Each call borrows a client (its
// own kept-alive connection) from a pool: calls at once run side by side, each
// encoding, compressing and sending its own request (`save --jobs N` keeps N
// uploads on the wire). The pool grows to the number of calls at once, through
// the factory given at construction; without one, calls share the first
// client and wait for it (one request on the wire at a time).
#pragma once

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "uploader/sink.h"
#include "uploader/sync_client.h"

namespace tsync::uploader {

class SyncSink : public Sink {
 public:
  /// Makes another client for the pool (the same backend, key and options).
  using ClientFactory = std::function<Result<std::unique_ptr<SyncClient>>()>;

  /// `client` is the first of the pool; `more` (optional) makes the others.
  explicit SyncSink(std::unique_ptr<SyncClient> client, ClientFactory more = nullptr);
  ~SyncSink() override;

  Result<InitResult> Init(const SessionInfo& info) override;
  Result<ChunkOutcome> AppendChunk(const ChunkRequest& req) override;
  Status SendEvent(const std::string& session_id, std::string_view event_type, std::string_view timestamp,
                   std::string_view payload_json) override;
  Status SetSummary(const std::string& external_id, std::string_view summary) override;
  Status AddGithubLink(const std::string& session_id, const GithubLink& link) override;
  Result<std::vector<std::string>> ReadLines(const std::string& session_id, const std::string& file_name,
                                             uint64_t after_line) override;
  Result<std::string> FindSession(const std::string& external_id) override;
  Result<std::vector<FileInfo>> ListFiles(const std::string& session_id) override;

 private:
  class Lease;
  /// An idle client, a new one from the factory, or (without a factory)
  /// the first one once it is returned.
  Result<Lease> Borrow();
  void Return(std::unique_ptr<SyncClient> client);

  ClientFactory more_;
  std::mutex mu_;
  std::condition_variable returned_;
  std::vector<std::unique_ptr<SyncClient>> idle_;  // guarded by mu_
};

}  // namespace tsync::uploader
