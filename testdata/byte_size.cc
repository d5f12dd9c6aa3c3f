#include "testdata/byte_size.h"

#include <cctype>
#include <cmath>
#include <cstdio>

namespace tsync::testdata {
namespace {

int UnitShift(char c) {
  switch (std::tolower(static_cast<unsigned char>(c))) {
    case 'k': return 10;
    case 'm': return 20;
    case 'g': return 30;
    case 't': return 40;
    default: return -1;
  }
}

}  // namespace

Result<uint64_t> ParseByteSize(std::string_view text) {
  const std::string original(text);
  auto bad = [&] { return Status::InvalidInput("not a byte size: \"" + original + "\" (try 64M or 1G)"); };
  size_t i = 0;
  double value = 0;
  bool digits = false;
  for (; i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])); ++i, digits = true) {
    value = value * 10 + (text[i] - '0');
  }
  if (i < text.size() && text[i] == '.') {
    double scale = 0.1;
    for (++i; i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])); ++i, digits = true) {
      value += (text[i] - '0') * scale;
      scale /= 10;
    }
  }
  if (!digits) return bad();
  int shift = 0;
  if (i < text.size() && UnitShift(text[i]) >= 0) shift = UnitShift(text[i++]);
  if (shift > 0 && i < text.size() && (text[i] == 'i' || text[i] == 'I')) ++i;
  if (i < text.size() && (text[i] == 'b' || text[i] == 'B')) ++i;
  if (i != text.size()) return bad();
  const double bytes = std::ldexp(value, shift);
  if (bytes >= 18446744073709551616.0) return bad();
  return static_cast<uint64_t>(std::llround(bytes));
}

std::string FormatByteSize(uint64_t bytes) {
  static const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  if (bytes < 1024) return std::to_string(bytes) + " B";
  double v = static_cast<double>(bytes);
  int unit = 0;
  while (v >= 1024 && unit < 4) {
    v /= 1024;
    ++unit;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f %s", v, kUnits[unit]);
  return buf;
}

}  // namespace tsync::testdata
