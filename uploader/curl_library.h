// libcurl, loaded when the first request needs it rather than at process
// start. Linked normally, libcurl brings ~27 more shared libraries into every
// tsync process (TLS, LDAP, Kerberos, SSH, IDN, HTTP/2, …): about 5 ms of
// symbol lookup and page faults before main(), paid by each hook Claude Code
// runs although a hook never sends a request. Loaded with dlopen, only the
// processes that talk to a backend pay it, once.
// Internal to uploader/ (the only place that includes curl.h).
// Thread-safety: LoadCurl is safe to call from any thread; the table it
// returns is immutable.
#pragma once

#include <curl/curl.h>

#include "base/status.h"

namespace tsync::uploader {

/// The libcurl functions tsync calls. curl_easy_setopt and curl_easy_getinfo
/// are reached through these pointers, so curl.h's compile-time checks of
/// their argument types do not apply: pass exactly the documented types
/// (long, curl_off_t, char*, function pointers).
struct CurlLibrary {
  decltype(&::curl_global_init) global_init = nullptr;
  decltype(&::curl_easy_init) easy_init = nullptr;
  decltype(&::curl_easy_cleanup) easy_cleanup = nullptr;
  decltype(&::curl_easy_reset) easy_reset = nullptr;
  decltype(&::curl_easy_setopt) easy_setopt = nullptr;
  decltype(&::curl_easy_perform) easy_perform = nullptr;
  decltype(&::curl_easy_getinfo) easy_getinfo = nullptr;
  decltype(&::curl_easy_strerror) easy_strerror = nullptr;
  decltype(&::curl_easy_escape) easy_escape = nullptr;
  decltype(&::curl_free) free = nullptr;
  decltype(&::curl_slist_append) slist_append = nullptr;
  decltype(&::curl_slist_free_all) slist_free_all = nullptr;
  decltype(&::curl_getdate) getdate = nullptr;
  decltype(&::curl_version_info) version_info = nullptr;
};

/// libcurl.so.4, loaded and globally initialised on the first call; later
/// calls return the same table (or the same error). kConfig when the library
/// or one of its functions cannot be loaded, naming the package to install.
Result<const CurlLibrary*> LoadCurl();

}  // namespace tsync::uploader
