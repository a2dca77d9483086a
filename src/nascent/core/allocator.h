// Process-wide allocator settings for training on CPU. glibc returns large blocks (activations
// of a mini-batch) to the kernel on every free and page-faults them back on the next step;
// keeping them in the heap makes small-network training about 1.5-2x faster on this kind of
// machine (bench/allocator_bench measures it).
#pragma once

namespace nascent {

// Call once at the start of main(), before large allocations.
void tune_allocator();

}  // namespace nascent
