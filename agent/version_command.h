// `tsync version`: what this binary is — its version, the compiler and build
// type, and the versions of the libraries it runs with (the ones that decide
// wire behaviour and speed: libcurl and its TLS library, simdjson with the
// instruction set it picked, zstd). For bug reports; `--json` for scripts.
// RE2 is not listed: it has no version API (its pkg-config file says 0.0.0).
// Thread-safety: pure functions apart from writing to `out`.
#pragma once

#include <iosfwd>
#include <string>
#include <utility>
#include <vector>

namespace tsync::agent {

struct BuildInfo {
  std::string version;     // the project version, as `--version` prints it
  std::string compiler;    // "GCC 12.2.0"
  std::string build_type;  // CMAKE_BUILD_TYPE; "" when not set
  std::string sanitizers;  // TSYNC_SANITIZE; "" for a normal build
  /// (name, version) in a stable order; runtime versions where the library
  /// reports one (libcurl, zstd), compile-time ones otherwise.
  std::vector<std::pair<std::string, std::string>> libraries;
};

BuildInfo CurrentBuildInfo();
/// "tsync <version>\n" then one "  <what>: <value>" line per item.
std::string VersionText(const BuildInfo& info);
/// One JSON object: {"version","compiler","build_type","sanitizers","libraries":{name: version}}.
std::string VersionJson(const BuildInfo& info);

int RunVersion(bool json, std::ostream& out);

}  // namespace tsync::agent
