#include "nascent/core/allocator.h"

#include <malloc.h>

namespace nascent {

void tune_allocator() {
  // Blocks up to 32 MB (the glibc maximum) come from the heap instead of fresh mmap()s, and the
  // heap is not trimmed below 1 GB, so freed activations are reused instead of zero-faulted.
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  mallopt(M_TOP_PAD, 64 << 20);
}

}  // namespace nascent
