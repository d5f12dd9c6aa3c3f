// Process-wide memory settings shared by the tsync binary and the benches
// that measure it.
#pragma once

namespace tsync {

/// Makes glibc serve every allocation of 1 MiB or more with its own mmap,
/// returned to the system on free. Without it glibc's dynamic threshold
/// moves up after the first large free, and each 14 MiB chunk buffer (read
/// block, request body, compressed body) then stays in the heap: a long
/// upload's RSS creeps up by tens of MiB. Call first thing in main().
void KeepLargeBuffersOutOfHeap();

}  // namespace tsync
