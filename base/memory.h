// Process-wide memory settings shared by the tsync binary and the benches
// that measure it, and the memory a long-lived idle process hands back.
#pragma once

#include <cstddef>
#include <cstdint>

namespace tsync {

/// Makes glibc serve every allocation of 1 MiB or more with its own mmap,
/// returned to the system on free. Without it glibc's dynamic threshold
/// moves up after the first large free, and each 14 MiB chunk buffer (read
/// block, request body, compressed body) then stays in the heap: a long
/// upload's RSS creeps up by tens of MiB. Call first thing in main().
void KeepLargeBuffersOutOfHeap();

/// A large byte buffer (a chunk's read block, a compressed request body)
/// taken from a small process-wide pool of idle ones, and given back to it
/// when destroyed. A fresh 14 MiB buffer is mapped, page-faulted and zeroed
/// by the kernel page by page as it fills, and unmapped again when freed:
/// about 6% of `save --all`'s CPU went there. Buffers come in size classes
/// (powers of two from 1 MiB) and a request is served only from its own
/// class. An idle buffer keeps at most its first kKeepResident bytes
/// resident (the rest is handed back with MADV_DONTNEED), and at most
/// kMaxIdle buffers wait in the pool (the smallest make way): `save --all`
/// takes half the page faults for about 6 MiB more peak RSS. ReleaseIdleMemory
/// empties the pool. The contents are uninitialised. Thread-safe; move-only.
class PooledBuffer {
 public:
  static constexpr int kMaxIdle = 6;
  static constexpr size_t kKeepResident = size_t{2} << 20;

  PooledBuffer() = default;
  /// A buffer of at least `capacity` bytes (capacity 0: none); capacity()
  /// tells its real size.
  explicit PooledBuffer(size_t capacity);
  ~PooledBuffer();
  PooledBuffer(PooledBuffer&& other) noexcept;
  PooledBuffer& operator=(PooledBuffer&& other) noexcept;
  PooledBuffer(const PooledBuffer&) = delete;
  PooledBuffer& operator=(const PooledBuffer&) = delete;

  char* data() const { return data_; }
  size_t capacity() const { return capacity_; }
  explicit operator bool() const { return data_ != nullptr; }

  /// Idle buffers in the pool and their capacity in bytes (for tests).
  static int IdleCount();
  static size_t IdleBytes();
  /// Frees every idle buffer.
  static void ReleaseIdle();

 private:
  void GiveBack();

  char* data_ = nullptr;
  size_t capacity_ = 0;
};

/// What ReleaseIdleMemory did, in bytes of this process's resident set.
struct MemoryRelease {
  uint64_t rss_before = 0;
  uint64_t rss_after = 0;
  int mappings_released = 0;
};

/// For a process about to sit idle (the watcher between a session's
/// writes): frees the idle pooled buffers, returns the heap's free pages to the system (malloc_trim) and
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
