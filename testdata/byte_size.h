// Human byte sizes for the generator and benchmark command lines.
//
// "64M", "1G", "512k", "1.5G", "4096" — binary units (K = 1024), with an
// optional "iB"/"B" suffix. Shared so tsync-gen and the benchmarks accept
// the same spellings. Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"

namespace tsync::testdata {

/// Parses "<number>[K|M|G|T][i][B]" (case-insensitive); kInvalidInput otherwise.
Result<uint64_t> ParseByteSize(std::string_view text);

/// "1.0 GiB", "64.0 MiB", "512 B": for humans, not for parsing back.
std::string FormatByteSize(uint64_t bytes);

}  // namespace tsync::testdata
