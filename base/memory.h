// Process-wide memory settings shared by the tsync binary and the benches
// that measure it, and the memory a long-lived idle process hands back.
#pragma once

#include <cstdint>

namespace tsync {

/// Makes glibc serve every allocation of 1 MiB or more with its own mmap,
/// returned to the system on free. Without it glibc's dynamic threshold
/// moves up after the first large free, and each 14 MiB chunk buffer (read
/// block, request body, compressed body) then stays in the heap: a long
/// upload's RSS creeps up by tens of MiB. Call first thing in main().
void KeepLargeBuffersOutOfHeap();

/// What ReleaseIdleMemory did, in bytes of this process's resident set.
struct MemoryRelease {
  uint64_t rss_before = 0;
  uint64_t rss_after = 0;
  int mappings_released = 0;
};

/// For a process about to sit idle (the watcher between a session's
/// writes): returns the heap's free pages to the system (malloc_trim) and
/// unmaps the resident pages of its read-only file mappings — the binary's
/// and libraries' code and tables, mostly start-up work touched once
/// (MADV_DONTNEED). Those pages equal the file's bytes and stay in the page
/// cache, so the ones needed again come back on first touch without disk
/// I/O, exactly as after the kernel's own reclaim. A mapping holding any
/// private copy (relocated tables made read-only after start-up, writable
/// data) is left alone: dropping those pages would lose the copy.
/// Call it while no other thread changes mappings (loads a library,
/// mprotects): between listing and releasing, a mapping must stay as listed.
MemoryRelease ReleaseIdleMemory();

/// This process's resident set size in bytes (/proc/self/statm), 0 when
/// unreadable.
uint64_t ResidentBytes();

}  // namespace tsync
