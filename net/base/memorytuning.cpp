#include "memorytuning.h"

#include <malloc.h>

namespace FeedScope {

void tuneAllocatorForLongRuns()
{
    mallopt(M_MMAP_THRESHOLD, 256 * 1024);
    mallopt(M_TRIM_THRESHOLD, 1024 * 1024);
}

void trimAllocator()
{
    malloc_trim(0);
}

} // namespace FeedScope
