// SPDX-License-Identifier: MIT
#include "playbook/hosts.hpp"

#include "util/encode.hpp"

#include <boost/json.hpp>

namespace rollback::playbook {
namespace {

std::string host_value(std::string_view name, const remote::Host& host) {
    if (name == "host") {
        return host.name;
    }
    if (name.rfind("host.", 0) == 0) {
        if (auto it = host.vars.find(std::string(name.substr(5))); it != host.vars.end()) {
            return it->second;
        }
    }
    return {};
}

// A placeholder written into a URL or a form was percent-encoded by the loader ("%1Ehost%1F"):
// the host's value goes there percent-encoded too, as any value in that place would.
std::string bind_encoded(std::string_view text, const remote::Host& host) {
    const std::string open = util::percent_encode(std::string(1, k_host_open));
    const std::string close = util::percent_encode(std::string(1, k_host_close));
    std::string out;
    size_t pos = 0;
    for (;;) {
        size_t at = text.find(open, pos);
        size_t end = at == std::string_view::npos ? at : text.find(close, at + open.size());
        if (end == std::string_view::npos) {
            out.append(text.substr(pos));
            return out;
        }
        out.append(text.substr(pos, at - pos));
        out += util::percent_encode(
            host_value(text.substr(at + open.size(), end - at - open.size()), host));
        pos = end + close.size();
    }
}

void bind_json(boost::json::value& v, const remote::Host& host) {
    if (v.is_string()) {
        std::string s(v.as_string());
        v = bind_encoded(bind_host_text(s, host), host);
    } else if (v.is_array()) {
        for (auto& e : v.as_array()) {
            bind_json(e, host);
        }
    } else if (v.is_object()) {
        for (auto& kv : v.as_object()) {
            bind_json(kv.value(), host);
        }
    }
}

} // namespace

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
        out += host_value(text.substr(open + 1, close - open - 1), host);
        pos = close + 1;
    }
}

std::string show_host_references(std::string_view text) {
    std::string out(text);
    const std::string encoded_open = util::percent_encode(std::string(1, k_host_open));
    const std::string encoded_close = util::percent_encode(std::string(1, k_host_close));
    for (auto [open, close] : {std::pair{std::string(1, k_host_open), std::string(1, k_host_close)},
                               std::pair{encoded_open, encoded_close}}) {
        for (size_t at; (at = out.find(open)) != std::string::npos;) {
            size_t end = out.find(close, at + open.size());
            if (end == std::string::npos) {
                break;
            }
            out.replace(end, close.size(), "}}");
            out.replace(at, open.size(), "{{");
        }
    }
    return out;
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
    if (!s.params.empty()) {
        boost::json::value params(std::move(s.params));
        bind_json(params, host);
        s.params = std::move(params.as_object());
        // The keys as parsed at load held the placeholders: the action parses the bound ones
        // again (KindAction parses a step without a kept struct), with the same checks.
        s.parsed = nullptr;
    }
    for (auto& [_, values] : s.sql_params) {
        for (auto& v : values) {
            v = bind_host_text(v, host);
        }
    }
    return s;
}

} // namespace rollback::playbook
