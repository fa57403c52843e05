// Memory for the data plane's per-core tables: large mappings backed by
// huge pages where the kernel gives them (fewer TLB misses on random
// lookups), and cache prefetch hints for the batch pipeline.
#ifndef BULKHEAD_PACKET_MEMORY_H
#define BULKHEAD_PACKET_MEMORY_H

#include <stddef.h>

/// How a mapping is backed.
enum packet_memory_backing {
  /// Ordinary pages (small mapping, or the kernel refused huge pages).
  packet_memory_small_pages = 0,
  /// Transparent huge pages requested with madvise(MADV_HUGEPAGE).
  packet_memory_transparent_huge_pages = 1,
  /// Reserved huge pages (MAP_HUGETLB).
  packet_memory_reserved_huge_pages = 2,
};

/// Zeroed memory of at least `bytes` bytes aligned to 2 MiB when it is
/// 2 MiB or more; NULL if mmap fails (the caller falls back to the heap).
/// `*backing` says what the kernel gave. Free with packet_memory_unmap
/// and the same `bytes`.
void *packet_memory_map(size_t bytes, int *backing);
void packet_memory_unmap(void *memory, size_t bytes);

/// Prefetch hints: one cache line into all levels, for reading or for
/// writing. Never fault; an address past a mapping is harmless.
static inline void packet_memory_prefetch(const void *address) {
  __builtin_prefetch(address, 0, 3);
}

static inline void packet_memory_prefetch_for_write(const void *address) {
  __builtin_prefetch(address, 1, 3);
}

#endif
