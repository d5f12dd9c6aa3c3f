// `tsync list`: the sessions on disk with what a person needs to pick one —
// id, project, size, last activity, a title (the summary, else the first
// user message) and whether the current destination holds it all.
#pragma once

#include <iosfwd>
#include <string>

#include "config/config.h"

namespace tsync::agent {

struct ListArgs {
  std::string since;  // "5d" etc.; empty: every session
  std::string to;     // the destination whose sync state is shown; default: configured
  bool json = false;
};

int RunList(const config::Config& config, const ListArgs& args, std::ostream& out);

}  // namespace tsync::agent
