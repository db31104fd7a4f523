// SPDX-License-Identifier: MIT
#include "exec/core_dump.hpp"

#include <cstdlib>
#include <cstring>
#include <sys/prctl.h>
#include <sys/resource.h>

namespace rollback::exec {
namespace {

// Written once at start, before any thread or child exists; read by vfork children.
struct rlimit g_started_with {};
bool g_lowered = false;

} // namespace

bool forbid_core_dumps() {
    const char* allow = std::getenv(k_allow_core_dump_env);
    if (allow != nullptr && std::strcmp(allow, "1") == 0) {
        return false;
    }
    ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    if (::getrlimit(RLIMIT_CORE, &g_started_with) == 0) {
        struct rlimit none = g_started_with;
        none.rlim_cur = 0;
        g_lowered = ::setrlimit(RLIMIT_CORE, &none) == 0;
    }
    return true;
}

void restore_core_limit() noexcept {
    if (g_lowered) {
        ::setrlimit(RLIMIT_CORE, &g_started_with);
    }
}

} // namespace rollback::exec
