#include "fuzz/fuzz_util.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>

namespace tsync::fuzz {

void Fail(const char* expr, const char* file, int line, const std::string& why) {
  std::fprintf(stderr, "\n== property violated at %s:%d: %s\n== %s\n", file, line, expr, why.c_str());
  std::fflush(stderr);
  std::abort();
}

void QuietLogs() { spdlog::set_level(spdlog::level::off); }

const std::string& ScratchDir(const char* target) {
  static const std::string* dir = [target] {
    // $TMPDIR first: scripts/run-fuzz points it into its own work dir (on
    // tmpfs when there is one), which it removes even after a crash.
    const char* tmpdir = std::getenv("TMPDIR");
    std::string base = tmpdir && *tmpdir                    ? std::string(tmpdir)
                       : ::access("/dev/shm", W_OK) == 0 ? std::string("/dev/shm")
                                                          : std::filesystem::temp_directory_path().string();
    std::string templ = base + "/tsync-fuzz-" + target + "-XXXXXX";
    if (::mkdtemp(templ.data()) == nullptr) {
      std::perror("mkdtemp");
      std::abort();
    }
    auto* made = new std::string(templ);
    std::atexit([] {
      std::error_code ec;
      std::filesystem::remove_all(*dir, ec);
    });
    return made;
  }();
  return *dir;
}

bool ParseJson(simdjson::dom::parser& parser, std::string_view text, simdjson::dom::element* out) {
  simdjson::padded_string padded(text);
  // The DOM keeps its strings in the parser's own buffers, never pointers
  // into the input, so the padded copy may go.
  return parser.parse(padded).get(*out) == simdjson::SUCCESS;
}

namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;

const char* TypeName(element_type t) {
  switch (t) {
    case element_type::ARRAY: return "array";
    case element_type::OBJECT: return "object";
    case element_type::INT64: return "int64";
    case element_type::UINT64: return "uint64";
    case element_type::DOUBLE: return "double";
    case element_type::STRING: return "string";
    case element_type::BOOL: return "bool";
    case element_type::NULL_VALUE: return "null";
  }
  return "?";
}

std::string Diff(element a, element b, const StringValuesMatch& strings_match, const std::string& path) {
  if (a.type() != b.type()) {
    return path + ": " + TypeName(a.type()) + " vs " + TypeName(b.type());
  }
  switch (a.type()) {
    case element_type::OBJECT: {
      simdjson::dom::object oa = a.get_object().value_unsafe(), ob = b.get_object().value_unsafe();
      if (oa.size() != ob.size()) {
        return path + ": " + std::to_string(oa.size()) + " vs " + std::to_string(ob.size()) + " keys";
      }
      auto ia = oa.begin(), ib = ob.begin();
      for (; ia != oa.end(); ++ia, ++ib) {
        const std::string kpath = path + "." + Shown(ia.key(), 40);
        if (ia.key() != ib.key()) return kpath + ": key differs (" + Shown(ib.key(), 40) + ")";
        std::string d = Diff(ia.value(), ib.value(), strings_match, kpath);
        if (!d.empty()) return d;
      }
      return "";
    }
    case element_type::ARRAY: {
      simdjson::dom::array aa = a.get_array().value_unsafe(), ab = b.get_array().value_unsafe();
      if (aa.size() != ab.size()) {
        return path + ": " + std::to_string(aa.size()) + " vs " + std::to_string(ab.size()) + " elements";
      }
      size_t i = 0;
      for (auto ia = aa.begin(), ib = ab.begin(); ia != aa.end(); ++ia, ++ib, ++i) {
        std::string d = Diff(*ia, *ib, strings_match, path + "[" + std::to_string(i) + "]");
        if (!d.empty()) return d;
      }
      return "";
    }
    case element_type::STRING: {
      std::string_view sa = a.get_string().value_unsafe(), sb = b.get_string().value_unsafe();
      return sa == sb || (strings_match && strings_match(sa, sb)) ? "" : path + ": \"" + Shown(sa, 60) + "\" vs \"" + Shown(sb, 60) + "\"";
    }
    case element_type::INT64:
      return a.get_int64().value_unsafe() == b.get_int64().value_unsafe() ? "" : path + ": int64 differs";
    case element_type::UINT64:
      return a.get_uint64().value_unsafe() == b.get_uint64().value_unsafe() ? "" : path + ": uint64 differs";
    case element_type::DOUBLE: {
      // Bit patterns, so NaN cannot occur (JSON has none) and -0.0 != 0.0.
      double da = a.get_double().value_unsafe(), db = b.get_double().value_unsafe();
      return std::memcmp(&da, &db, sizeof da) == 0 ? "" : path + ": double differs";
    }
    case element_type::BOOL:
      return a.get_bool().value_unsafe() == b.get_bool().value_unsafe() ? "" : path + ": bool differs";
    case element_type::NULL_VALUE: return "";
  }
  return path + ": unknown type";
}

}  // namespace

std::string JsonDifference(element a, element b, const StringValuesMatch& strings_match) {
  return Diff(a, b, strings_match, "$");
}

std::string Shown(std::string_view s, size_t max) {
  std::string out;
  for (size_t i = 0; i < s.size() && i < max; ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
  if (s.size() > max) out += "…(" + std::to_string(s.size()) + " bytes)";
  return out;
}

}  // namespace tsync::fuzz
