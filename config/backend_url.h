// Validation of the sync backend's base URL.
//
// The URL decides where the API key is sent (PROTOCOL.md "Transport": every
// request carries `Authorization: Bearer <api-key>`), so it is checked before
// anything uses it: https:// only, plain http:// only to this machine (a local
// test backend) unless the user opts in, and nothing that would smuggle a
// second credential or confuse the path joining the uploader does.
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"

namespace tsync::config {

/// Checks `url` and returns it normalised: scheme lower-cased, one trailing
/// `/` removed (the uploader appends paths starting with `/`). An empty URL is
/// valid and means "no backend: use the local archive sink".
///
/// Refused, with a kConfig Status whose message says why and what to do (the
/// caller prefixes where the URL came from):
/// 1) schemes other than https:// and http://;
/// 2) http:// to anything but a loopback host (127.0.0.0/8, `localhost`,
///    `[::1]`), unless `allow_insecure_http`;
/// 3) `user:password@` in the authority, an empty host, a bad port;
/// 4) spaces, control characters, a query or a fragment.
Result<std::string> ValidateBackendUrl(std::string_view url, bool allow_insecure_http);

/// True for `localhost`, a dotted-quad in 127.0.0.0/8 and `[::1]`.
bool IsLoopbackHost(std::string_view host);

}  // namespace tsync::config
