// SPDX-License-Identifier: MIT
#include "report/hosts_view.hpp"

#include <algorithm>
#include <set>

namespace rollback::report {

std::string describe_host_record(const journal::Entry& e) {
    if (e.type() == journal::RecordType::step_host_started) {
        const auto& r = std::get<journal::StepHostStarted>(e.record);
        return "step " + r.step + "@" + r.host + ": started (attempt " + std::to_string(r.attempt) +
               ", batch " + std::to_string(r.batch) + ")";
    }
    const auto& r = std::get<journal::StepHostFinished>(e.record);
    std::string groups;
    for (int g : r.remote_groups) {
        groups += (groups.empty() ? "" : ", ") + std::to_string(g);
    }
    return "step " + r.step + "@" + r.host + ": " + r.status + " (" + r.summary + ")" +
           (groups.empty() ? "" : ", process group " + groups + " on the host");
}

std::string hosts_grid(const journal::RunState& s) {
    std::vector<const journal::StepState*> steps;
    std::vector<std::string> hosts; // in first-seen order over the steps
    for (const auto& st : s.steps) {
        if (st.hosts.empty()) {
            continue;
        }
        steps.push_back(&st);
        for (const auto& [h, _] : st.hosts) {
            if (std::find(hosts.begin(), hosts.end(), h) == hosts.end()) {
                hosts.push_back(h);
            }
        }
    }
    if (steps.empty()) {
        return "";
    }
    auto pad = [](std::string text, size_t w) {
        text.resize(std::max(text.size() + 2, w), ' ');
        return text;
    };
    size_t w_host = 6;
    for (const auto& h : hosts) {
        w_host = std::max(w_host, h.size() + 2);
    }
    std::vector<size_t> widths;
    std::string out = "\n  " + pad("HOST", w_host);
    for (const auto* st : steps) {
        size_t w = st->id.size() + 2;
        for (const auto& [_, status] : st->hosts) {
            w = std::max(w, status.size() + 2);
        }
        widths.push_back(w);
        out += pad(st->id, w);
    }
    out = out.substr(0, out.find_last_not_of(' ') + 1) + "\n";
    for (const auto& h : hosts) {
        std::string line = "  " + pad(h, w_host);
        for (size_t i = 0; i < steps.size(); ++i) {
            auto it = steps[i]->hosts.find(h);
            line += pad(it == steps[i]->hosts.end() ? "-" : it->second, widths[i]);
        }
        out += line.substr(0, line.find_last_not_of(' ') + 1) + "\n";
    }
    return out;
}

boost::json::object hosts_json(const journal::StepState& st) {
    boost::json::object o;
    for (const auto& [h, status] : st.hosts) {
        o[h] = status;
    }
    return o;
}

} // namespace rollback::report
