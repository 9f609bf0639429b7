#pragma once

namespace FeedScope {

/// The allocator settings of a long-running monitor (the GUI, the agent, and the benchmarks that
/// measure them): large buffers get their own mappings (returned to the system when freed) and
/// freed heap is trimmed only beyond 1 MiB, instead of glibc's dynamic thresholds keeping every
/// flood's peak resident (measured by feedscope-soak) or trimming and faulting the heap back in on
/// every socket read (measured with perf in bench_feed). Call first thing in main().
void tuneAllocatorForLongRuns();

/// Gives freed memory in every malloc arena back to the system (call every few seconds).
void trimAllocator();

} // namespace FeedScope
