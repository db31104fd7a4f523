// SPDX-License-Identifier: MIT
#pragma once

// The engine's own metrics and their Prometheus text exposition (format 0.0.4). Thread-safe:
// the monitor loop sets gauges and counts ticks, the HTTP thread counts requests and renders.

#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace rollback::server {

using Labels = std::vector<std::pair<std::string, std::string>>;

enum class MetricType { counter, gauge, histogram };

class Metrics {
  public:
    /// Declares a family (once; again is a no-op). `name` follows Prometheus' rules
    /// ([a-zA-Z_:][a-zA-Z0-9_:]*), counters end in `_total`. Histograms take their upper bounds.
    void declare(const std::string& name, MetricType type, std::string help,
                 std::vector<double> buckets = {});
    /// A gauge's value for `labels`. Undeclared names are ignored.
    void set(const std::string& name, const Labels& labels, double value);
    /// Adds `delta` to a counter (a series starts at 0).
    void add(const std::string& name, const Labels& labels, double delta = 1);
    /// One observation of a histogram.
    void observe(const std::string& name, double value);
    /// Removes every series of `name` (a gauge whose label set changed, e.g. after a reload).
    void clear(const std::string& name);
    /// Removes the series of `name` with exactly `labels` (a value that is no longer known).
    void erase(const std::string& name, const Labels& labels);
    /// The exposition: every family in declaration order with HELP and TYPE, its series sorted
    /// by labels; label values escaped (\\, \", \n), made valid UTF-8 (a byte outside it as the
    /// text \xHH, util::valid_utf8).
    std::string render() const;

  private:
    struct Family {
        std::string name, help;
        MetricType type = MetricType::gauge;
        std::vector<double> buckets;
        std::map<std::string, double> series; ///< rendered label set → value
        std::vector<uint64_t> counts;         ///< histogram: per bucket (not cumulative)
        uint64_t count = 0;
        double sum = 0;
    };
    Family* find(const std::string& name);
    mutable std::mutex m_mutex;
    std::vector<Family> m_families;
};

/// A number as the exposition writes it: shortest round trip, "+Inf", "-Inf", "NaN".
std::string format_value(double v);
/// `{a="x",b="y"}`, "" for no labels.
std::string format_labels(const Labels& labels);

} // namespace rollback::server
