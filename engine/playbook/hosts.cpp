// SPDX-License-Identifier: MIT
#include "playbook/hosts.hpp"

namespace rollback::playbook {

std::string bind_host_text(std::string_view text, const remote::Host& host) {
    std::string out;
    size_t pos = 0;
    for (;;) {
        size_t open = text.find(k_host_open, pos);
        size_t close = open == std::string_view::npos ? open : text.find(k_host_close, open + 1);
        if (close == std::string_view::npos) {
            out.append(text.substr(pos));
            return out;
        }
        out.append(text.substr(pos, open - pos));
        std::string_view name = text.substr(open + 1, close - open - 1);
        if (name == "host") {
            out += host.name;
        } else if (name.rfind("host.", 0) == 0) {
            if (auto it = host.vars.find(std::string(name.substr(5))); it != host.vars.end()) {
                out += it->second;
            }
        }
        pos = close + 1;
    }
}

Step bind_host(const Step& step, const remote::Host& host) {
    Step s = step;
    for (auto& a : s.argv) {
        a = bind_host_text(a, host);
    }
    for (auto& a : s.probe) {
        a = bind_host_text(a, host);
    }
    for (auto& [_, v] : s.env) {
        v = bind_host_text(v, host);
    }
    s.cwd = s.cwd.empty() ? "." : bind_host_text(s.cwd, host);
    s.description = bind_host_text(s.description, host);
    return s;
}

} // namespace rollback::playbook
