// SPDX-License-Identifier: MIT
#include "util/file_name.hpp"

namespace rollback::util {

namespace {

bool kept(unsigned char c, bool first) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || (c == '.' && !first);
}

} // namespace

std::string file_name_part(std::string_view name) {
    static constexpr char k_hex[] = "0123456789ABCDEF";
    if (name.empty()) {
        return "%";
    }
    std::string out;
    out.reserve(name.size());
    for (size_t i = 0; i < name.size(); ++i) {
        const auto c = static_cast<unsigned char>(name[i]);
        if (kept(c, i == 0)) {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += k_hex[c >> 4];
            out += k_hex[c & 0xF];
        }
    }
    return out;
}

} // namespace rollback::util
