#include "base/memory.h"

#include <malloc.h>

namespace tsync {

void KeepLargeBuffersOutOfHeap() {
#if defined(__GLIBC__)
  mallopt(M_MMAP_THRESHOLD, 1 << 20);
#endif
}

}  // namespace tsync
