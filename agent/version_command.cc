#include "agent/version_command.h"

#include <CLI/Version.hpp>
#include <simdjson.h>
#include <spdlog/version.h>

#include <ostream>

#include "agent/exit_codes.h"
#include "base/json.h"
#include "uploader/http_transport.h"

#ifndef TSYNC_VERSION
#define TSYNC_VERSION "0.0.0"
#endif
#ifndef TSYNC_BUILD_TYPE
#define TSYNC_BUILD_TYPE ""
#endif
#ifndef TSYNC_SANITIZE
#define TSYNC_SANITIZE ""
#endif

#define TSYNC_STRINGIFY_(x) #x
#define TSYNC_STRINGIFY(x) TSYNC_STRINGIFY_(x)

namespace tsync::agent {
namespace {

std::string Compiler() {
#if defined(__clang__)
  return std::string("Clang ") + __clang_version__;
#elif defined(__GNUC__)
  return std::string("GCC ") + __VERSION__;
#else
  return "unknown";
#endif
}

}  // namespace

BuildInfo CurrentBuildInfo() {
  BuildInfo info;
  info.version = TSYNC_VERSION;
  info.compiler = Compiler();
  info.build_type = TSYNC_BUILD_TYPE;
  info.sanitizers = TSYNC_SANITIZE;
  const uploader::TransportVersions transport = uploader::GetTransportVersions();
  info.libraries.emplace_back("libcurl", transport.curl);
  info.libraries.emplace_back("tls", transport.tls);
  info.libraries.emplace_back("simdjson", TSYNC_STRINGIFY(SIMDJSON_VERSION));
  info.libraries.emplace_back("simdjson_implementation", simdjson::get_active_implementation()->name());
  info.libraries.emplace_back("zstd", transport.zstd);
  info.libraries.emplace_back("spdlog", std::to_string(SPDLOG_VER_MAJOR) + "." + std::to_string(SPDLOG_VER_MINOR) +
                                            "." + std::to_string(SPDLOG_VER_PATCH));
  info.libraries.emplace_back("cli11", CLI11_VERSION);
  return info;
}

std::string VersionText(const BuildInfo& info) {
  std::string out = "tsync " + info.version + "\n";
  out += "  compiler: " + info.compiler + "\n";
  if (!info.build_type.empty()) out += "  build type: " + info.build_type + "\n";
  if (!info.sanitizers.empty()) out += "  sanitizers: " + info.sanitizers + "\n";
  for (const auto& [name, version] : info.libraries) out += "  " + name + ": " + version + "\n";
  return out;
}

std::string VersionJson(const BuildInfo& info) {
  JsonWriter w;
  w.BeginObject().Key("version").String(info.version).Key("compiler").String(info.compiler);
  w.Key("build_type").String(info.build_type).Key("sanitizers").String(info.sanitizers);
  w.Key("libraries").BeginObject();
  for (const auto& [name, version] : info.libraries) w.Key(name).String(version);
  w.EndObject().EndObject();
  return w.Take() + "\n";
}

int RunVersion(bool json, std::ostream& out) {
  BuildInfo info = CurrentBuildInfo();
  out << (json ? VersionJson(info) : VersionText(info));
  return kExitOk;
}

}  // namespace tsync::agent
