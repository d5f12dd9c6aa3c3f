#include "testdata/redaction_corpus.h"

#include "base/json.h"

namespace tsync::testdata {

namespace {

// Escapes like a writer with "ensure ASCII" and "escape slashes" settings.
std::string EscapeAsciiOnly(std::string_view s) {
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      if (c == '/') {
        out += "\\/";
      } else {
        AppendJsonEscaped(&out, s.substr(i, 1));
      }
      ++i;
      continue;
    }
    // Decode one UTF-8 sequence (the corpus texts are valid UTF-8).
    size_t len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
    uint32_t cp = c & (len == 4 ? 0x07 : len == 3 ? 0x0F : 0x1F);
    for (size_t k = 1; k < len && i + k < s.size(); ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
    i += len;
    auto u16 = [&](uint32_t u) {
      out += "\\u";
      for (int shift = 12; shift >= 0; shift -= 4) out += kHex[(u >> shift) & 0xF];
    };
    if (cp >= 0x10000) {
      cp -= 0x10000;
      u16(0xD800 + (cp >> 10));
      u16(0xDC00 + (cp & 0x3FF));
    } else {
      u16(cp);
    }
  }
  return out;
}

std::string Quoted(std::string_view s) {
  std::string out;
  AppendJsonString(&out, s);
  return out;
}

constexpr std::string_view kEnvelope =
    R"("uuid":"6f1c2d3e-4a5b-4c6d-8e9f-0a1b2c3d4e5f","sessionId":"29a570ad-a0aa-4b9d-bb21-a8fcb685d10e","timestamp":"2026-11-21T05:43:36.973Z")";

}  // namespace

std::vector<CorpusLine> PlantInContexts(std::string_view text) {
  std::vector<CorpusLine> out;
  out.push_back({"tool_result",
                 R"({"type":"user","message":{"role":"user","content":[{"tool_use_id":"toolu_01A2b3C4d5E6f7G8h9","type":"tool_result","content":)" +
                     Quoted(std::string("$ cat notes.txt\n") + std::string(text) + "\n(end of file)") + R"(}]},)" +
                     std::string(kEnvelope) + "}"});
  out.push_back({"bash_command",
                 R"({"type":"assistant","message":{"role":"assistant","content":[{"type":"tool_use","id":"toolu_01Xy","name":"Bash","input":{"command":)" +
                     Quoted(text) + R"(,"description":"Run it"}}],"usage":{"input_tokens":1234,"output_tokens":56}},)" +
                     std::string(kEnvelope) + "}"});
  std::string nested = R"({"log":)" + Quoted(text) + R"(,"level":"info"})";
  out.push_back({"nested_json", R"({"type":"attachment","attachment":{"type":"file","content":)" + Quoted(nested) +
                                    R"(},)" + std::string(kEnvelope) + "}"});
  out.push_back({"escaped_writer", R"({"type":"system","content":")" + EscapeAsciiOnly(text) + R"(",)" +
                                       std::string(kEnvelope) + "}"});
  return out;
}

}  // namespace tsync::testdata
