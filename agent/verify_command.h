// `tsync verify`: proves what a destination holds for a session. Every
// tracked file (transcript, agents, workflow files) is read locally exactly
// as a sync reads it and compared line by line with what the backend or
// archive returns. A stored line may differ from the local one only where it
// holds a redaction marker ([REDACTED:<rule>]); anything else is reported:
// lines missing from the destination, extra lines, and differing lines.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"

namespace tsync::agent {

struct VerifyArgs {
  std::string prefix;
  std::string to;  // a backend URL or an archive directory; default: the configured one
  bool json = false;
};

/// True when `stored` equals `local` with each redaction marker in `stored`
/// standing for some text of `local` (a wildcard).
bool MatchesWithRedactions(std::string_view stored, std::string_view local);

struct FileVerification {
  std::string file_name;
  uint64_t local_lines = 0;
  uint64_t stored_lines = 0;
  uint64_t redacted_lines = 0;         // equal up to redaction markers
  std::vector<uint64_t> differing;     // line numbers (at most 20 listed)
  uint64_t differing_count = 0;
  uint64_t missing() const { return local_lines > stored_lines ? local_lines - stored_lines : 0; }
  uint64_t extra() const { return stored_lines > local_lines ? stored_lines - local_lines : 0; }
  bool ok() const { return differing_count == 0 && missing() == 0 && extra() == 0; }
};

int RunVerify(const config::Config& config, const VerifyArgs& args, std::ostream& out);

}  // namespace tsync::agent
