// SPDX-License-Identifier: MIT
#pragma once

#include "decision/histogram.hpp"
#include "util/time.hpp"

#include <cstdint>
#include <optional>
#include <string>

namespace rollback::decision {

using util::SystemTime;

/// What one observation of a source says.
enum class SampleKind : uint8_t {
    value,       ///< a number (command, sql, prometheus, CSV replay)
    requests,    ///< request counts of one time bucket (access log): count, errors, latencies
    probe,       ///< one probe of the target: count 1, errors 1 when the target failed it
    unavailable, ///< the source could not be read (monitor-side failure): no data, not downtime
    error,       ///< the check itself failed (command exit code, not a number, error response)
    no_traffic,  ///< a ratio with nothing to divide: Prometheus' NaN of 5xx/all without requests
};

/// One observation of one source at one time. Built by sources/, consumed by the Evaluator.
struct Sample {
    SystemTime time;
    SampleKind kind = SampleKind::value;
    double value = 0;        ///< value: the number; probe: latency in ms
    uint64_t count = 0;      ///< requests: requests in the bucket; probe: 1
    uint64_t errors = 0;     ///< requests: 5xx responses; probe: 1 when the probe failed
    uint64_t late = 0;       ///< requests: lines that came after their interval was final
    SparseHistogram latency; ///< requests/probe: latencies (ms) of the bucket
    std::string detail;      ///< unavailable/error: why (shown in the decision record)

    static Sample make_value(SystemTime t, double v) {
        Sample s;
        s.time = t;
        s.value = v;
        return s;
    }
    static Sample make_requests(SystemTime t, uint64_t count, uint64_t errors,
                                SparseHistogram latency = {}) {
        Sample s;
        s.time = t;
        s.kind = SampleKind::requests;
        s.count = count;
        s.errors = errors;
        s.latency = std::move(latency);
        return s;
    }
    /// `failed`: the target answered wrongly or not at all (refused, 5xx, timeout). `latency_ms`:
    /// the time the probe waited for the target — an answer (any status) or a timeout — and a
    /// latency of the target even when it failed (docs/config.md, http); none when nothing was
    /// waited for (a refused or reset connection, a malformed answer).
    static Sample make_probe(SystemTime t, bool failed, std::optional<double> latency_ms) {
        Sample s;
        s.time = t;
        s.kind = SampleKind::probe;
        s.value = latency_ms.value_or(0.0);
        s.count = 1;
        s.errors = failed ? 1 : 0;
        if (latency_ms) {
            s.latency = {{static_cast<uint16_t>(LatencyHistogram::bucket_of(*latency_ms)), 1}};
        }
        return s;
    }
    static Sample make_missing(SystemTime t, SampleKind kind, std::string detail) {
        Sample s;
        s.time = t;
        s.kind = kind;
        s.detail = std::move(detail);
        return s;
    }
};

} // namespace rollback::decision
