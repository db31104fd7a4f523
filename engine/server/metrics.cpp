// SPDX-License-Identifier: MIT
#include "server/metrics.hpp"

#include "util/encode.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>

namespace rollback::server {

std::string format_value(double v) {
    if (std::isnan(v)) {
        return "NaN";
    }
    if (std::isinf(v)) {
        return v > 0 ? "+Inf" : "-Inf";
    }
    char buf[32];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
    return std::string(buf, end);
}

std::string format_labels(const Labels& labels) {
    if (labels.empty()) {
        return {};
    }
    std::string s = "{";
    for (size_t i = 0; i < labels.size(); ++i) {
        if (i > 0) {
            s += ',';
        }
        s += labels[i].first;
        s += "=\"";
        // A label value must be valid UTF-8, or Prometheus refuses the whole page (a catalog
        // path is bytes): a byte outside valid UTF-8 is written as the text \xHH.
        for (char c : util::valid_utf8(labels[i].second)) {
            if (c == '\\') {
                s += "\\\\";
            } else if (c == '"') {
                s += "\\\"";
            } else if (c == '\n') {
                s += "\\n";
            } else {
                s += c;
            }
        }
        s += '"';
    }
    s += '}';
    return s;
}

Metrics::Family* Metrics::find(const std::string& name) {
    for (auto& f : m_families) {
        if (f.name == name) {
            return &f;
        }
    }
    return nullptr;
}

void Metrics::declare(const std::string& name, MetricType type, std::string help,
                      std::vector<double> buckets) {
    std::lock_guard lock(m_mutex);
    if (find(name)) {
        return;
    }
    Family f;
    f.name = name;
    f.type = type;
    f.help = std::move(help);
    std::sort(buckets.begin(), buckets.end());
    f.buckets = std::move(buckets);
    f.counts.assign(f.buckets.size() + 1, 0); // + the +Inf bucket
    m_families.push_back(std::move(f));
}

void Metrics::set(const std::string& name, const Labels& labels, double value) {
    std::lock_guard lock(m_mutex);
    if (Family* f = find(name)) {
        f->series[format_labels(labels)] = value;
    }
}

void Metrics::add(const std::string& name, const Labels& labels, double delta) {
    std::lock_guard lock(m_mutex);
    if (Family* f = find(name)) {
        f->series[format_labels(labels)] += delta;
    }
}

void Metrics::observe(const std::string& name, double value) {
    std::lock_guard lock(m_mutex);
    Family* f = find(name);
    if (!f || f->type != MetricType::histogram) {
        return;
    }
    auto it = std::lower_bound(f->buckets.begin(), f->buckets.end(), value);
    ++f->counts[static_cast<size_t>(it - f->buckets.begin())];
    ++f->count;
    f->sum += value;
}

void Metrics::clear(const std::string& name) {
    std::lock_guard lock(m_mutex);
    if (Family* f = find(name)) {
        f->series.clear();
    }
}

void Metrics::erase(const std::string& name, const Labels& labels) {
    std::lock_guard lock(m_mutex);
    if (Family* f = find(name)) {
        f->series.erase(format_labels(labels));
    }
}

std::string Metrics::render() const {
    std::lock_guard lock(m_mutex);
    std::string out;
    for (const auto& f : m_families) {
        out += "# HELP " + f.name + " " + f.help + "\n";
        out += "# TYPE " + f.name + " " +
               (f.type == MetricType::counter     ? "counter"
                : f.type == MetricType::histogram ? "histogram"
                                                  : "gauge") +
               "\n";
        if (f.type == MetricType::histogram) {
            uint64_t cumulative = 0;
            for (size_t i = 0; i <= f.buckets.size(); ++i) {
                cumulative += f.counts[i];
                const std::string le = i < f.buckets.size() ? format_value(f.buckets[i]) : "+Inf";
                out += f.name + "_bucket{le=\"" + le + "\"} " + std::to_string(cumulative) + "\n";
            }
            out += f.name + "_sum " + format_value(f.sum) + "\n";
            out += f.name + "_count " + std::to_string(f.count) + "\n";
            continue;
        }
        for (const auto& [labels, v] : f.series) {
            out += f.name + labels + " " + format_value(v) + "\n";
        }
    }
    return out;
}

} // namespace rollback::server
