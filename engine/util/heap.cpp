// SPDX-License-Identifier: MIT
#include "util/heap.hpp"

#include <cstdint>
#include <cstdlib>
#include <malloc.h>
#include <sys/mman.h>

namespace rollback::util {

void reserve_heap_in_huge_pages(std::size_t bytes) {
#if defined(__GLIBC__) && defined(MADV_HUGEPAGE)
    // Page faults were the largest single cost of `status`, `report`, `validate` of 20,000 steps
    // on a virtual machine (docs/benchmarks.md). glibc's own switch for this is the environment
    // (GLIBC_TUNABLES=glibc.malloc.hugetlb=1), read before main: too late here, so the same by
    // hand: one block of `bytes` from the heap (not a separate mapping), advised, then freed into
    // the heap's top, where the next allocations are carved from; not trimmed back meanwhile.
    constexpr std::uintptr_t k_huge = std::uintptr_t{2} << 20;
    mallopt(M_MMAP_THRESHOLD, static_cast<int>(bytes + k_huge));
    mallopt(M_TRIM_THRESHOLD, static_cast<int>(2 * bytes + k_huge));
    void* block = std::malloc(bytes);
    if (block == nullptr) {
        return;
    }
    const auto at = reinterpret_cast<std::uintptr_t>(block);
    const std::uintptr_t begin = (at + k_huge - 1) & ~(k_huge - 1);
    const std::uintptr_t end = (at + bytes) & ~(k_huge - 1);
    if (end > begin) {
        (void)madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE); // best effort
    }
    std::free(block);
#else
    (void)bytes;
#endif
}

} // namespace rollback::util
