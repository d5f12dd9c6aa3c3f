#include "config/backend_url.h"

#include <cctype>
#include <cstdint>

namespace tsync::config {
namespace {

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

bool AllDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// Strict dotted-quad: exactly four decimal octets 0..255. "127.1" and
// "127.0.0.1.evil.example" are not loopback addresses to us, whatever a
// resolver might make of them.
bool ParseIpv4(std::string_view s, uint8_t out[4]) {
  for (int i = 0; i < 4; ++i) {
    size_t dot = (i < 3) ? s.find('.') : s.size();
    if (dot == std::string_view::npos) return false;
    std::string_view part = s.substr(0, dot);
    if (!AllDigits(part) || part.size() > 3) return false;
    int value = std::stoi(std::string(part));
    if (value > 255) return false;
    out[i] = static_cast<uint8_t>(value);
    s = (i < 3) ? s.substr(dot + 1) : std::string_view();
  }
  return true;
}

bool ValidHostChars(std::string_view host) {
  if (host.front() == '[') {
    if (host.size() < 3 || host.back() != ']') return false;
    for (char c : host.substr(1, host.size() - 2)) {
      if (!std::isxdigit(static_cast<unsigned char>(c)) && c != ':' && c != '.') return false;
    }
    return true;
  }
  for (char c : host) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '.' && c != '_') return false;
  }
  return true;
}

Status CheckPort(std::string_view port) {
  if (!AllDigits(port) || port.size() > 5 || std::stoi(std::string(port)) == 0 ||
      std::stoi(std::string(port)) > 65535) {
    return Status::Config("has an invalid port '" + std::string(port) + "'; use a number from 1 to 65535");
  }
  return Status::Ok();
}

// Splits "host[:port]" / "[v6][:port]" and checks both parts.
Result<std::string> CheckAuthority(std::string_view authority) {
  if (authority.find('@') != std::string_view::npos) {
    return Status::Config(
        "must not contain a user name or password (user:password@); remove it and put the API key in "
        "'api_key' or $TSYNC_API_KEY");
  }
  std::string_view host = authority;
  std::string_view port;
  size_t colon = host.front() == '[' ? host.find("]:") : host.rfind(':');
  if (colon != std::string_view::npos) {
    size_t split = host.front() == '[' ? colon + 1 : colon;
    port = host.substr(split + 1);
    host = host.substr(0, split);
    Status st = CheckPort(port);
    if (!st.ok()) return st;
  }
  if (host.empty()) return Status::Config("has an empty host name; write it as https://host.example");
  if (!ValidHostChars(host)) {
    return Status::Config("has an invalid host name '" + std::string(host) + "'");
  }
  return std::string(host);
}

}  // namespace

bool IsLoopbackHost(std::string_view host) {
  if (EqualsIgnoreCase(host, "localhost") || host == "[::1]") return true;
  uint8_t octets[4];
  return ParseIpv4(host, octets) && octets[0] == 127;
}

Result<std::string> ValidateBackendUrl(std::string_view url, bool allow_insecure_http) {
  if (url.empty()) return std::string();
  for (char c : url) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f) {
      return Status::Config("contains spaces or control characters; check for a stray space or line break");
    }
  }
  size_t sep = url.find("://");
  if (sep == std::string_view::npos || sep == 0) {
    return Status::Config("'" + std::string(url) + "' has no scheme; write it as https://host.example");
  }
  std::string scheme(url.substr(0, sep));
  for (char& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (scheme != "https" && scheme != "http") {
    return Status::Config("uses the unsupported scheme '" + scheme + "://'; only https:// is supported");
  }
  std::string_view rest = url.substr(sep + 3);
  if (rest.find_first_of("?#") != std::string_view::npos) {
    return Status::Config("must not contain a query (?) or fragment (#); give only the server's base URL");
  }
  size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
  if (authority.empty()) return Status::Config("has an empty host name; write it as https://host.example");
  Result<std::string> host = CheckAuthority(authority);
  if (!host.ok()) return host.status();
  if (scheme == "http" && !allow_insecure_http && !IsLoopbackHost(*host)) {
    return Status::Config(
        "uses http://, which would send the API key unencrypted; use https://, or set "
        "\"allow_insecure_http\": true if this network is trusted (http:// to 127.0.0.1, localhost "
        "or [::1] is always allowed)");
  }
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);  // "/p//" is "/p" too
  return scheme + "://" + std::string(authority) + std::string(path);
}

}  // namespace tsync::config
