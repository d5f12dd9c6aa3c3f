#include "base/memory.h"

#include <malloc.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <mutex>
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

// The idle pooled buffers. Never destroyed: buffers may be given back from
// other threads' exit paths after static destruction began.
struct BufferPool {
  struct Idle {
    char* data;
    size_t capacity;
  };
  std::mutex mu;
  std::vector<Idle> idle;  // at most PooledBuffer::kMaxIdle
};

BufferPool& Pool() {
  static auto* pool = new BufferPool;
  return *pool;
}

}  // namespace

// The size class a request is served from: powers of two from 1 MiB (a
// 14 MiB read block and a 15 MiB one share a buffer; the pages past what is
// written are never touched), 64 KiB steps below.
size_t SizeClass(size_t capacity) {
  constexpr size_t kLarge = size_t{1} << 20, kStep = size_t{64} << 10;
  if (capacity <= kLarge) return (capacity + kStep - 1) / kStep * kStep;
  size_t c = kLarge;
  while (c < capacity) c <<= 1;
  return c;
}

PooledBuffer::PooledBuffer(size_t capacity) {
  if (capacity == 0) return;
  const size_t size = SizeClass(capacity);
  {
    BufferPool& pool = Pool();
    std::lock_guard lock(pool.mu);
    for (auto it = pool.idle.begin(); it != pool.idle.end(); ++it) {
      if (it->capacity == size) {
        data_ = it->data;
        capacity_ = it->capacity;
        pool.idle.erase(it);
        return;
      }
    }
  }
  data_ = new char[size];
  capacity_ = size;
}

PooledBuffer::~PooledBuffer() { GiveBack(); }

PooledBuffer::PooledBuffer(PooledBuffer&& other) noexcept : data_(other.data_), capacity_(other.capacity_) {
  other.data_ = nullptr;
  other.capacity_ = 0;
}

PooledBuffer& PooledBuffer::operator=(PooledBuffer&& other) noexcept {
  if (this != &other) {
    GiveBack();
    data_ = other.data_;
    capacity_ = other.capacity_;
    other.data_ = nullptr;
    other.capacity_ = 0;
  }
  return *this;
}

void PooledBuffer::GiveBack() {
  if (data_ == nullptr) return;
  char* drop = data_;
  if (capacity_ > kKeepResident) {
    // Only the first kKeepResident bytes stay resident while idle: the
    // kernel takes the pages past them back (they read as zeros next time;
    // the contents are unspecified anyway).
    const uintptr_t page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
    const uintptr_t from = (reinterpret_cast<uintptr_t>(data_) + kKeepResident + page - 1) / page * page;
    const uintptr_t to = (reinterpret_cast<uintptr_t>(data_) + capacity_) / page * page;
    if (to > from) ::madvise(reinterpret_cast<void*>(from), to - from, MADV_DONTNEED);
  }
  {
    BufferPool& pool = Pool();
    std::lock_guard lock(pool.mu);
    static_assert(kMaxIdle > 0);
    if (pool.idle.size() < static_cast<size_t>(kMaxIdle)) {
      pool.idle.push_back({data_, capacity_});
      drop = nullptr;
    } else {
      // Full: the smallest of the idle ones and this one is freed.
      auto smallest = pool.idle.begin();
      for (auto it = pool.idle.begin(); it != pool.idle.end(); ++it) {
        if (it->capacity < smallest->capacity) smallest = it;
      }
      if (smallest->capacity < capacity_) {
        drop = smallest->data;
        *smallest = {data_, capacity_};
      }
    }
  }
  delete[] drop;
  data_ = nullptr;
  capacity_ = 0;
}

int PooledBuffer::IdleCount() {
  BufferPool& pool = Pool();
  std::lock_guard lock(pool.mu);
  return static_cast<int>(pool.idle.size());
}

size_t PooledBuffer::IdleBytes() {
  BufferPool& pool = Pool();
  std::lock_guard lock(pool.mu);
  size_t total = 0;
  for (const auto& b : pool.idle) total += b.capacity;
  return total;
}

void PooledBuffer::ReleaseIdle() {
  std::vector<BufferPool::Idle> released;
  {
    BufferPool& pool = Pool();
    std::lock_guard lock(pool.mu);
    released.swap(pool.idle);
  }
  for (const auto& b : released) delete[] b.data;
}

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
  PooledBuffer::ReleaseIdle();
#if defined(__GLIBC__)
  ::malloc_trim(0);
#endif
  r.mappings_released = ReleaseFileMappings();
  r.rss_after = ResidentBytes();
  return r;
}

}  // namespace tsync
