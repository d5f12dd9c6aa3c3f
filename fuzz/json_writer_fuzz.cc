// Fuzz target: the JSON writer and escaper (base/json.h).
//
// Input: drives a FuzzedDataProvider that builds a document — objects,
// arrays, strings, signed and unsigned integers at their extremes, booleans,
// null, and subtrees written by a second writer and inserted with Raw() —
// then the remaining bytes as one string.
// Properties:
//  - JsonWriter's output parses with simdjson and gives back the same
//    document: types, keys in order, array lengths, every string and number;
//  - AppendJsonString of any bytes: exactly JsonEscapedSize(s) + 2 bytes (the
//    chunk budget relies on it), no raw byte below 0x20, and for valid UTF-8
//    simdjson decodes it back to the same bytes; AppendJsonEscaped appends
//    the same without the quotes.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/json.h"
#include "base/utf8.h"
#include "fuzz/fuzz_util.h"

namespace {

using tsync::fuzz::Shown;

struct Node {
  enum Kind { kObject, kArray, kString, kInt, kUInt, kBool, kNull } kind = kNull;
  std::string text;  // kString
  int64_t i = 0;
  uint64_t u = 0;
  bool b = false;
  bool raw = false;  // written by another writer and inserted with Raw()
  std::vector<std::string> keys;  // kObject: one per child
  std::vector<Node> children;
};

std::string ValidString(FuzzedDataProvider& in, size_t max) {
  std::string s = in.ConsumeRandomLengthString(max);
  if (tsync::IsValidUtf8(s)) return s;
  std::string fixed;
  tsync::AppendRepairedUtf8(&fixed, s);
  return fixed;
}

int64_t PickInt(FuzzedDataProvider& in) {
  switch (in.ConsumeIntegralInRange(0, 3)) {
    case 0: return INT64_MIN;
    case 1: return INT64_MAX;
    case 2: return 0;
    default: return in.ConsumeIntegral<int64_t>();
  }
}

uint64_t PickUInt(FuzzedDataProvider& in) {
  switch (in.ConsumeIntegralInRange(0, 2)) {
    case 0: return UINT64_MAX;
    case 1: return uint64_t{1} << 63;
    default: return in.ConsumeIntegral<uint64_t>();
  }
}

Node Generate(FuzzedDataProvider& in, int depth, int* budget) {
  Node n;
  --*budget;
  int kind = in.ConsumeIntegralInRange(0, 6);
  if ((kind == Node::kObject || kind == Node::kArray) && (depth >= 8 || *budget <= 0)) kind = Node::kString;
  n.kind = static_cast<Node::Kind>(kind);
  n.raw = depth > 0 && in.ConsumeIntegralInRange(0, 7) == 0;
  switch (n.kind) {
    case Node::kObject:
    case Node::kArray: {
      const int count = in.ConsumeIntegralInRange(0, 6);
      for (int c = 0; c < count && *budget > 0 && in.remaining_bytes() > 0; ++c) {
        if (n.kind == Node::kObject) n.keys.push_back(ValidString(in, 24));
        n.children.push_back(Generate(in, depth + 1, budget));
      }
      break;
    }
    case Node::kString: n.text = ValidString(in, 96); break;
    case Node::kInt: n.i = PickInt(in); break;
    case Node::kUInt: n.u = PickUInt(in); break;
    case Node::kBool: n.b = in.ConsumeBool(); break;
    case Node::kNull: break;
  }
  return n;
}

void Write(const Node& n, tsync::JsonWriter& w, bool top) {
  if (n.raw && !top) {
    tsync::JsonWriter sub;
    Write(n, sub, true);
    w.Raw(sub.str());
    return;
  }
  switch (n.kind) {
    case Node::kObject:
      w.BeginObject();
      for (size_t i = 0; i < n.children.size(); ++i) {
        w.Key(n.keys[i]);
        Write(n.children[i], w, false);
      }
      w.EndObject();
      break;
    case Node::kArray:
      w.BeginArray();
      for (const Node& child : n.children) Write(child, w, false);
      w.EndArray();
      break;
    case Node::kString: w.String(n.text); break;
    case Node::kInt: w.Int(n.i); break;
    case Node::kUInt: w.UInt(n.u); break;
    case Node::kBool: w.Bool(n.b); break;
    case Node::kNull: w.Null(); break;
  }
}

// "" when `e` is the document `n` describes, else where it differs.
std::string Compare(const Node& n, simdjson::dom::element e, const std::string& path) {
  using simdjson::dom::element_type;
  switch (n.kind) {
    case Node::kObject: {
      simdjson::dom::object o;
      if (e.get_object().get(o) != simdjson::SUCCESS) return path + ": not an object";
      if (o.size() != n.children.size()) return path + ": " + std::to_string(o.size()) + " keys";
      size_t i = 0;
      for (auto field : o) {
        const std::string& key = n.keys[i];
        if (field.key != key) return path + ": key \"" + Shown(field.key) + "\" for \"" + Shown(key) + "\"";
        std::string d = Compare(n.children[i++], field.value, path + "." + Shown(key, 20));
        if (!d.empty()) return d;
      }
      return "";
    }
    case Node::kArray: {
      simdjson::dom::array a;
      if (e.get_array().get(a) != simdjson::SUCCESS) return path + ": not an array";
      if (a.size() != n.children.size()) return path + ": " + std::to_string(a.size()) + " elements";
      size_t i = 0;
      for (auto item : a) {
        std::string d = Compare(n.children[i], item, path + "[" + std::to_string(i) + "]");
        if (!d.empty()) return d;
        ++i;
      }
      return "";
    }
    case Node::kString: {
      std::string_view s;
      if (e.get_string().get(s) != simdjson::SUCCESS) return path + ": not a string";
      return s == n.text ? "" : path + ": \"" + Shown(s) + "\" for \"" + Shown(n.text) + "\"";
    }
    case Node::kInt: {
      int64_t v = 0;
      if (e.type() != element_type::INT64 || e.get_int64().get(v) != simdjson::SUCCESS || v != n.i) {
        return path + ": not the int64 " + std::to_string(n.i);
      }
      return "";
    }
    case Node::kUInt: {
      uint64_t v = 0;
      if ((e.type() != element_type::INT64 && e.type() != element_type::UINT64) ||
          e.get_uint64().get(v) != simdjson::SUCCESS || v != n.u) {
        return path + ": not the uint64 " + std::to_string(n.u);
      }
      return "";
    }
    case Node::kBool: {
      bool v = false;
      return e.get_bool().get(v) == simdjson::SUCCESS && v == n.b ? "" : path + ": not the bool";
    }
    case Node::kNull: return e.is_null() ? "" : path + ": not null";
  }
  return path + ": ?";
}

void CheckEscaping(std::string_view s) {
  std::string quoted;
  tsync::AppendJsonString(&quoted, s);
  const std::string what = "AppendJsonString(\"" + Shown(s) + "\")";
  FUZZ_CHECK(quoted.size() == tsync::JsonEscapedSize(s) + 2,
             what + " wrote " + std::to_string(quoted.size()) + " bytes, JsonEscapedSize says " +
                 std::to_string(tsync::JsonEscapedSize(s)) + " + 2");
  for (char c : quoted) FUZZ_CHECK(static_cast<unsigned char>(c) >= 0x20, what + " left a control byte");
  std::string bare = "x";
  tsync::AppendJsonEscaped(&bare, s);
  FUZZ_CHECK(bare.substr(1) == quoted.substr(1, quoted.size() - 2), what + ": AppendJsonEscaped differs");
  simdjson::dom::parser parser;
  simdjson::dom::element e;
  const bool parsed = tsync::fuzz::ParseJson(parser, quoted, &e);
  if (!tsync::IsValidUtf8(s)) {
    FUZZ_CHECK(!parsed, what + ": simdjson accepted ill-formed UTF-8 (IsValidUtf8 disagrees with simdjson)");
    return;
  }
  std::string_view back;
  FUZZ_CHECK(parsed && e.get_string().get(back) == simdjson::SUCCESS, what + ": not a JSON string: " + Shown(quoted));
  FUZZ_CHECK(back == s, what + ": decodes to \"" + Shown(back) + "\"");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  int budget = 200;
  const Node doc = Generate(in, 0, &budget);
  tsync::JsonWriter w;
  Write(doc, w, true);
  simdjson::dom::parser parser;
  simdjson::dom::element e;
  FUZZ_CHECK(tsync::fuzz::ParseJson(parser, w.str(), &e), "JsonWriter wrote invalid JSON: " + Shown(w.str(), 400));
  const std::string diff = Compare(doc, e, "$");
  FUZZ_CHECK(diff.empty(), "JsonWriter round trip differs at " + diff + " in " + Shown(w.str(), 400));

  CheckEscaping(in.ConsumeRemainingBytesAsString());
  CheckEscaping(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
