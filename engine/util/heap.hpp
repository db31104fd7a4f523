// SPDX-License-Identifier: MIT
#pragma once

#include <cstddef>

namespace rollback::util {

/// For a short command that builds tens of MB of small objects (a long journal folded, a long
/// playbook loaded): the next `bytes` of the malloc heap are asked for as transparent huge pages
/// (madvise MADV_HUGEPAGE), so that their first touch is one fault per 2 MiB instead of one per
/// 4 KiB; blocks below `bytes` come from the heap, freed memory is kept for reuse. Costs no memory
/// until touched. Where the kernel gives no huge pages (THP "never", another allocator) nothing
/// changes. Not for long-lived processes (the monitor), whose resident size it would round up.
void reserve_heap_in_huge_pages(std::size_t bytes);

} // namespace rollback::util
