// SPDX-License-Identifier: MIT
#include "playbook/hosts.hpp"

namespace rollback::playbook {

namespace {

/// `text` with each placeholder replaced by what `value(name)` makes of its name.
template <typename F>
std::string replace_placeholders(std::string_view text, F&& value) {
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
        value(text.substr(open + 1, close - open - 1), out);
        pos = close + 1;
    }
}

} // namespace

std::string show_host_references(std::string_view text) {
    return replace_placeholders(text, [](std::string_view name, std::string& out) {
        out.append("{{").append(name).append("}}");
    });
}

std::string bind_host_text(std::string_view text, const remote::Host& host) {
    return replace_placeholders(text, [&](std::string_view name, std::string& out) {
        if (name == "host") {
            out += host.name;
        } else if (name.rfind("host.", 0) == 0) {
            if (auto it = host.vars.find(std::string(name.substr(5))); it != host.vars.end()) {
                out += it->second;
            }
        }
    });
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
