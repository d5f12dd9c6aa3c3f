// Secret-named JSON keys: `{"password": "…"}`, `{"apiKey": "…"}`,
// `{"client-secret": "…"}` carry a secret whatever its shape, so the whole
// string value is redacted. Names are compared after normalising case,
// camelCase, kebab-case, dotted and spaced forms to snake_case words.
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

namespace tsync::redact {

/// "clientSecret", "Client-Secret", "client.secret" -> "client_secret".
std::string NormalizeKeyName(std::string_view key);

/// True when a key with this (raw) name holds a secret value.
bool IsSecretKeyName(std::string_view key);

}  // namespace tsync::redact
