// SPDX-License-Identifier: MIT
#include "util/heap.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#if defined(__has_feature)
#if __has_feature(address_sanitizer) // clang's spelling of GCC's __SANITIZE_ADDRESS__
#define ROLLBACK_TEST_CLANG_ASAN 1
#endif
#endif

using namespace rollback;

namespace {

// The VmFlags of the mapping of /proc/self/smaps that holds `p` ("" when none does).
std::string vm_flags_at(const void* p) {
    const auto at = reinterpret_cast<std::uintptr_t>(p);
    std::ifstream smaps("/proc/self/smaps");
    std::string line;
    bool inside = false;
    while (std::getline(smaps, line)) {
        std::uintptr_t begin = 0;
        std::uintptr_t end = 0;
        char dash = 0;
        std::istringstream range(line);
        if (range >> std::hex >> begin >> dash >> end && dash == '-') {
            inside = begin <= at && at < end;
        } else if (inside && line.rfind("VmFlags:", 0) == 0) {
            return line;
        }
    }
    return "";
}

} // namespace

TEST_SUITE("util") {
    TEST_CASE("heap: after reserve_heap_in_huge_pages the next large block is in huge pages") {
#if defined(__SANITIZE_ADDRESS__) || defined(ROLLBACK_TEST_CLANG_ASAN)
        MESSAGE("skipped: the sanitizer's allocator is not glibc's heap");
        return;
#endif
        if (!std::filesystem::exists("/sys/kernel/mm/transparent_hugepage/enabled")) {
            MESSAGE("skipped: this kernel has no transparent huge pages");
            return;
        }
        if (std::getenv("ROLLBACK_TEST_HEAP_CHILD") == nullptr) {
            // In a fresh process: a command calls it at the start of main(), on a heap that is
            // almost empty; this one's has held every test before (free blocks all through it).
            const auto self = std::filesystem::read_symlink("/proc/self/exe").string();
            const std::string command = "ROLLBACK_TEST_HEAP_CHILD=1 '" + self +
                                        "' '--test-case=heap: after*' >/dev/null 2>&1";
            CHECK(std::system(command.c_str()) == 0);
            return;
        }
        util::reserve_heap_in_huge_pages(std::size_t{64} << 20);
        // 8 MiB: past glibc's mmap threshold (a separate mapping without the advice) unless the
        // heap now serves it; its middle is in an advised 2 MiB-aligned range.
        void* block = std::malloc(std::size_t{8} << 20);
        REQUIRE(block != nullptr);
        const std::string flags = vm_flags_at(static_cast<char*>(block) + (std::size_t{4} << 20));
        std::free(block);
        INFO(flags);
        CHECK(flags.find(" hg") != std::string::npos);
    }
}
