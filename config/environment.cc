#include "config/environment.h"

#include <cstdlib>
#include <utility>

namespace tsync::config {

Environment ProcessEnvironment() {
  return [](std::string_view name) -> std::optional<std::string> {
    std::string key(name);  // getenv needs a NUL-terminated name
    const char* value = std::getenv(key.c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
}

Environment MapEnvironment(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](std::string_view name) -> std::optional<std::string> {
    auto it = vars.find(std::string(name));
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

std::optional<std::string> GetNonEmpty(const Environment& env, std::string_view name) {
  if (!env) return std::nullopt;
  std::optional<std::string> value = env(name);
  if (!value || value->empty()) return std::nullopt;
  return value;
}

}  // namespace tsync::config
