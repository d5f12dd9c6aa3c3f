#include "base/memory.h"

#include <malloc.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <vector>

namespace tsync {
namespace {

/// Unmaps every read-only, file-backed mapping of this process that holds
/// no private (anonymous) page, as listed by /proc/self/smaps. Returns how
/// many mappings were released.
int ReleaseFileMappings() {
  // stdio, not iostreams: nothing allocated beyond the FILE buffer. The
  // mappings are listed first and released after the file is closed.
  FILE* smaps = std::fopen("/proc/self/smaps", "re");
  if (smaps == nullptr) return 0;
  struct Range {
    uintptr_t start = 0, end = 0;
    bool candidate = false;  // file-backed, not writable, resident
    bool has_private = false;
  };
  std::vector<Range> ranges;
  ranges.reserve(256);
  char line[4096 + 128];
  Range* current = nullptr;
  while (std::fgets(line, sizeof line, smaps) != nullptr) {
    const char c = line[0];
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')) {  // "start-end perms offset dev inode path"
      current = nullptr;
      unsigned long start = 0, end = 0, inode = 0;
      char perms[8] = {};
      int path_at = 0;
      if (std::sscanf(line, "%lx-%lx %7s %*s %*s %lu %n", &start, &end, perms, &inode, &path_at) < 4) continue;
      current = &ranges.emplace_back(
          Range{start, end, inode != 0 && path_at > 0 && line[path_at] == '/' && perms[1] != 'w', false});
    } else if (current != nullptr) {
      unsigned long kib = 0;
      // Pages this process holds a copy of: anonymous ones (copy-on-write
      // results, relocated tables) and, without swap, nothing else.
      if (std::sscanf(line, "Anonymous: %lu kB", &kib) == 1 && kib > 0) current->has_private = true;
      if (std::sscanf(line, "Swap: %lu kB", &kib) == 1 && kib > 0) current->has_private = true;
      if (std::sscanf(line, "Rss: %lu kB", &kib) == 1 && kib == 0) current->candidate = false;
      if (std::strncmp(line, "VmFlags:", 8) == 0 && std::strstr(line, " lo") != nullptr) current->candidate = false;
    }
  }
  std::fclose(smaps);
  int released = 0;
  for (const Range& r : ranges) {
    if (!r.candidate || r.has_private) continue;
    if (::madvise(reinterpret_cast<void*>(r.start), r.end - r.start, MADV_DONTNEED) == 0) ++released;
  }
  return released;
}

}  // namespace

void KeepLargeBuffersOutOfHeap() {
#if defined(__GLIBC__)
  mallopt(M_MMAP_THRESHOLD, 1 << 20);
#endif
}

uint64_t ResidentBytes() {
  FILE* statm = std::fopen("/proc/self/statm", "re");
  if (statm == nullptr) return 0;
  unsigned long size = 0, resident = 0;
  const bool ok = std::fscanf(statm, "%lu %lu", &size, &resident) == 2;
  std::fclose(statm);
  return ok ? static_cast<uint64_t>(resident) * static_cast<uint64_t>(::sysconf(_SC_PAGESIZE)) : 0;
}

MemoryRelease ReleaseIdleMemory() {
  MemoryRelease r;
  r.rss_before = ResidentBytes();
#if defined(__GLIBC__)
  ::malloc_trim(0);
#endif
  r.mappings_released = ReleaseFileMappings();
  r.rss_after = ResidentBytes();
  return r;
}

}  // namespace tsync
