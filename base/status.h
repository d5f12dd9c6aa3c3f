// Status and Result: the one error type shared by every tsync library.
//
// A Status is either OK or carries a Kind and a human message. Kinds are
// chosen by what the *user* must do about the failure, so the CLI can map
// them onto exit codes and advice without parsing messages:
//   kInvalidInput  bad input (hook JSON, ids, paths, flags)   -> fix the input
//   kConfig        bad configuration file or environment      -> fix the config
//   kNotFound      a file or session that does not exist       -> check the name
//   kIo            the OS failed a read/write/rename           -> check disk/permissions, retry
//   kCorrupt       state on disk we wrote is unreadable        -> ignored and rebuilt
//   kConflict      local and remote state disagree             -> wait / investigate
//   kTransient     a network or server fault                   -> retried later
//   kAuth          the backend refused the credentials          -> log in again
//   kInternal      a tsync bug                                  -> report it
//
// Messages must never contain secrets or transcript payloads (byte counts only).
// Thread-safety: values; safe to copy between threads.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace tsync {

class Status {
 public:
  enum class Kind {
    kOk,
    kInvalidInput,
    kConfig,
    kNotFound,
    kIo,
    kCorrupt,
    kConflict,
    kTransient,
    kAuth,
    kInternal,
  };

  Status() = default;
  static Status Ok() { return Status(); }
  static Status InvalidInput(std::string m) { return Status(Kind::kInvalidInput, std::move(m)); }
  static Status Config(std::string m) { return Status(Kind::kConfig, std::move(m)); }
  static Status NotFound(std::string m) { return Status(Kind::kNotFound, std::move(m)); }
  static Status Io(std::string m) { return Status(Kind::kIo, std::move(m)); }
  /// An I/O failure with errno's text appended: "<what>: <strerror(err)>".
  static Status Errno(const std::string& what, int err);
  static Status Corrupt(std::string m) { return Status(Kind::kCorrupt, std::move(m)); }
  static Status Conflict(std::string m) { return Status(Kind::kConflict, std::move(m)); }
  static Status Transient(std::string m) { return Status(Kind::kTransient, std::move(m)); }
  static Status Auth(std::string m) { return Status(Kind::kAuth, std::move(m)); }
  static Status Internal(std::string m) { return Status(Kind::kInternal, std::move(m)); }

  bool ok() const { return kind_ == Kind::kOk; }
  Kind kind() const { return kind_; }
  const std::string& message() const { return message_; }
  /// For kTransient: how long the server asked us to wait (Retry-After), if
  /// it said; callers schedule the next attempt no earlier than this.
  std::optional<std::chrono::milliseconds> retry_after() const { return retry_after_; }
  Status&& WithRetryAfter(std::optional<std::chrono::milliseconds> delay) && {
    retry_after_ = delay;
    return std::move(*this);
  }
  /// "config error: <message>" style text for humans.
  std::string ToString() const;
  static const char* KindName(Kind kind);

 private:
  Status(Kind kind, std::string message) : kind_(kind), message_(std::move(message)) {}

  Kind kind_ = Kind::kOk;
  std::string message_;
  std::optional<std::chrono::milliseconds> retry_after_;
};

/// A value or a non-OK Status. Access value() only when ok().
template <typename T>
class Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {  // NOLINT: implicit by design
    if (status_.ok()) status_ = Status::Internal("Result built from an OK status without a value");
  }

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  T& operator*() & { return *value_; }
  const T& operator*() const& { return *value_; }

 private:
  std::optional<T> value_;
  Status status_;  // OK exactly when value_ holds a value
};

}  // namespace tsync
