// SHA-256 over OpenSSL's EVP interface (hardware-accelerated where the CPU
// allows). Used for file fingerprints, rewrite detection and oversize-line
// placeholders. Thread-safety: a Sha256 object is not shared; the free
// function is safe from any thread.
#pragma once

#include <memory>
#include <string>
#include <string_view>

namespace tsync {

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void Update(std::string_view data);
  /// Lower-case hex digest (64 chars). The object must not be reused after.
  std::string FinishHex();

 private:
  struct Ctx;
  std::unique_ptr<Ctx> ctx_;
};

std::string Sha256Hex(std::string_view data);

}  // namespace tsync
