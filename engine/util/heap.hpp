// SPDX-License-Identifier: MIT
#pragma once

#include <cstddef>
#include <memory>
#include <type_traits>
#include <utility>
#include <vector>

namespace rollback::util {

/// For a short command that builds tens of MB of small objects (a long journal folded, a long
/// playbook loaded): the next `bytes` of the malloc heap are asked for as transparent huge pages
/// (madvise MADV_HUGEPAGE), so that their first touch is one fault per 2 MiB instead of one per
/// 4 KiB; blocks below `bytes` come from the heap, freed memory is kept for reuse. Costs no memory
/// until touched. Where the kernel gives no huge pages (THP "never", another allocator) nothing
/// changes. Not for long-lived processes (the monitor), whose resident size it would round up.
void reserve_heap_in_huge_pages(std::size_t bytes);

/// Hands `value` to the end of the process: it is never destroyed, its memory goes back with the
/// whole address space. For a short command about to exit, whose tens of thousands of small
/// objects (a long run's step states, a long playbook's steps) cost milliseconds to free one by
/// one. Only for plain data (no file, lock or buffer whose destructor does something), and never
/// in a long-lived process. Kept reachable: a leak checker sees no leak.
template <typename T>
void leave_to_exit(T&& value) {
    static auto* const kept = new std::vector<std::shared_ptr<void>>();
    kept->push_back(std::make_shared<std::decay_t<T>>(std::forward<T>(value)));
}

} // namespace rollback::util
