// Rendering of `tsync scan` results for people (a table) and for scripts
// (one JSON document). Sizes only — never line contents.
#pragma once

#include <string>
#include <vector>

#include "agent/session_scan.h"

namespace tsync::agent {

std::string ScanReportText(const std::vector<SessionScan>& scans);
std::string ScanReportJson(const std::vector<SessionScan>& scans);

/// "512 B", "1.5 KiB", "14.0 MiB", "1.00 GiB".
std::string HumanBytes(uint64_t bytes);

}  // namespace tsync::agent
