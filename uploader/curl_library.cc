#include "uploader/curl_library.h"

#include <dlfcn.h>

#include <mutex>
#include <string>

namespace tsync::uploader {
namespace {

// The SONAME of libcurl 7.16 and every later 7.x and 8.x: what the runtime
// package (Debian's libcurl4) installs, unlike the -dev package's libcurl.so.
constexpr const char* kLibcurl = "libcurl.so.4";

template <typename F>
bool Bind(void* handle, const char* name, F& slot, std::string& missing) {
  slot = reinterpret_cast<F>(::dlsym(handle, name));
  if (slot == nullptr && missing.empty()) missing = name;
  return slot != nullptr;
}

Result<const CurlLibrary*> Load() {
  // Never closed: libcurl and its TLS library keep global state for the
  // process's life. Bound lazily: of the ~30 libraries libcurl brings (TLS,
  // Kerberos, LDAP, SSH, ...) a sync calls few functions, and resolving all
  // their symbols up front cost a one-line `tsync save` 1-1.5 ms of its
  // ~14 (A/B, 50 runs each). The functions tsync calls are looked up below,
  // so a libcurl without one still fails here, with its name.
  void* handle = ::dlopen(kLibcurl, RTLD_LAZY | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* why = ::dlerror();
    return Status::Config(std::string("cannot load ") + kLibcurl + " (" + (why != nullptr ? why : "unknown error") +
                          "); install libcurl 7.85 or later (Debian and Ubuntu: apt install libcurl4)");
  }
  static CurlLibrary lib;
  std::string missing;
  Bind(handle, "curl_global_init", lib.global_init, missing);
  Bind(handle, "curl_easy_init", lib.easy_init, missing);
  Bind(handle, "curl_easy_cleanup", lib.easy_cleanup, missing);
  Bind(handle, "curl_easy_reset", lib.easy_reset, missing);
  Bind(handle, "curl_easy_setopt", lib.easy_setopt, missing);
  Bind(handle, "curl_easy_perform", lib.easy_perform, missing);
  Bind(handle, "curl_easy_getinfo", lib.easy_getinfo, missing);
  Bind(handle, "curl_easy_strerror", lib.easy_strerror, missing);
  Bind(handle, "curl_easy_escape", lib.easy_escape, missing);
  Bind(handle, "curl_free", lib.free, missing);
  Bind(handle, "curl_slist_append", lib.slist_append, missing);
  Bind(handle, "curl_slist_free_all", lib.slist_free_all, missing);
  Bind(handle, "curl_getdate", lib.getdate, missing);
  Bind(handle, "curl_version_info", lib.version_info, missing);
  if (!missing.empty()) {
    return Status::Config(std::string(kLibcurl) + " has no " + missing +
                          "; install libcurl 7.85 or later (Debian and Ubuntu: apt install libcurl4)");
  }
  if (CURLcode code = lib.global_init(CURL_GLOBAL_DEFAULT); code != CURLE_OK) {
    return Status::Internal("curl_global_init failed (" + std::to_string(static_cast<int>(code)) + ")");
  }
  return &lib;
}

}  // namespace

Result<const CurlLibrary*> LoadCurl() {
  static const Result<const CurlLibrary*> loaded = Load();
  return loaded;
}

}  // namespace tsync::uploader
