// SPDX-License-Identifier: MIT
#include "state/state_args.hpp"

#include <algorithm>
#include <cctype>
#include <cstring>

namespace rollback::state {

std::string shell_word(const std::string& text) {
    const bool plain = !text.empty() && std::all_of(text.begin(), text.end(), [](unsigned char c) {
        return std::isalnum(c) != 0 || std::strchr("/._-+:@%,=", c) != nullptr;
    });
    if (plain) {
        return text;
    }
    std::string out = "'";
    for (char c : text) {
        out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    }
    return out + "'";
}

std::string state_args(const StateLocation& at, bool with_config) {
    const std::string config =
        at.config.empty() ? std::string() : " -c " + shell_word(at.config.string());
    if (at.shared) {
        return config; // --state-dir would name a local state (docs/config.md)
    }
    const std::string dir = " --state-dir " + shell_word(at.dir.string());
    if (!with_config || at.config.empty()) {
        return dir;
    }
    return at.config_dir == at.dir ? config : config + dir;
}

} // namespace rollback::state
