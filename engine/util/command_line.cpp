// SPDX-License-Identifier: MIT
#include "util/command_line.hpp"

#include <cstring>
#include <mutex>

namespace rollback::util {

namespace {

std::mutex g_mutex;
int g_argc = 0;
char** g_argv = nullptr;

} // namespace

void remember_command_line(int argc, char** argv) {
    std::lock_guard lock(g_mutex);
    g_argc = argc;
    g_argv = argv;
}

void forget_command_line() {
    std::lock_guard lock(g_mutex);
    g_argc = 0;
    g_argv = nullptr;
}

int hide_in_command_line(std::string_view secret) {
    static constexpr std::string_view k_mask = "***";
    if (secret.size() < k_mask.size()) {
        return 0; // the mask would not fit, and such a value is never a registered secret
    }
    std::lock_guard lock(g_mutex);
    int hidden = 0;
    // argv[0] is the program: a secret there is not one the engine was given.
    for (int i = 1; i < g_argc && g_argv != nullptr; ++i) {
        char* arg = g_argv[i];
        if (arg == nullptr) {
            break;
        }
        size_t len = std::strlen(arg);
        std::string_view view(arg, len);
        for (size_t at = view.find(secret); at != std::string_view::npos;
             at = view.find(secret, at + k_mask.size())) {
            // The argument's own bytes only: its NUL and the next argument stay where they are.
            std::memcpy(arg + at, k_mask.data(), k_mask.size());
            const size_t tail = at + secret.size();
            std::memmove(arg + at + k_mask.size(), arg + tail, len - tail);
            const size_t new_len = len - (secret.size() - k_mask.size());
            std::memset(arg + new_len, 0, len - new_len);
            len = new_len;
            view = std::string_view(arg, len);
            ++hidden;
        }
    }
    return hidden;
}

} // namespace rollback::util
