#define _GNU_SOURCE
#include "packet_memory.h"

#include <stdint.h>
#include <sys/mman.h>

// 2 MiB: the huge page size of x86-64 and of aarch64 with 4 KiB granules.
static const size_t huge_page = (size_t)2 << 20;

static size_t rounded(size_t bytes) { return (bytes + huge_page - 1) & ~(huge_page - 1); }

void *packet_memory_map(size_t bytes, int *backing) {
  *backing = packet_memory_small_pages;
  if (bytes < huge_page) {
    void *small = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return small == MAP_FAILED ? NULL : small;
  }
  size_t size = rounded(bytes);
#ifdef MAP_HUGETLB
  // Reserved pages exist only where an operator set vm.nr_hugepages (the
  // card's firmware does); elsewhere this fails at once.
  void *reserved =
      mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
  if (reserved != MAP_FAILED) {
    *backing = packet_memory_reserved_huge_pages;
    return reserved;
  }
#endif
  // Over-map by one huge page and trim, so the region starts on a 2 MiB
  // boundary and transparent huge pages can back all of it.
  uint8_t *raw =
      mmap(NULL, size + huge_page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) return NULL;
  uintptr_t start = ((uintptr_t)raw + huge_page - 1) & ~(uintptr_t)(huge_page - 1);
  uint8_t *aligned = (uint8_t *)start;
  if (aligned > raw) munmap(raw, (size_t)(aligned - raw));
  size_t tail = (size_t)(raw + size + huge_page - (aligned + size));
  if (tail > 0) munmap(aligned + size, tail);
#ifdef MADV_HUGEPAGE
  if (madvise(aligned, size, MADV_HUGEPAGE) == 0) *backing = packet_memory_transparent_huge_pages;
#endif
  return aligned;
}

void packet_memory_unmap(void *memory, size_t bytes) {
  if (memory == NULL) return;
  munmap(memory, bytes < huge_page ? bytes : rounded(bytes));
}
