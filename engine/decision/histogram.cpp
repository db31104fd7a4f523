// SPDX-License-Identifier: MIT
#include "decision/histogram.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>

namespace rollback::decision {

namespace {
// Bucket 0 starts at 2^-6 ms; each octave has 16 linear sub-buckets.
constexpr int k_min_exp = -6;
} // namespace

int LatencyHistogram::bucket_of(double ms) {
    if (!(ms > 0.0)) {
        return 0;
    }
    uint64_t bits;
    std::memcpy(&bits, &ms, sizeof bits);
    int exp = static_cast<int>((bits >> 52) & 0x7ff) - 1023;
    int sub = static_cast<int>((bits >> 48) & 0xf);
    int b = (exp - k_min_exp) * 16 + sub;
    return std::clamp(b, 0, k_buckets - 1);
}

double LatencyHistogram::bucket_value(int bucket) {
    int exp = bucket / 16 + k_min_exp;
    int sub = bucket % 16;
    return std::ldexp(1.0 + (sub + 0.5) / 16.0, exp);
}

double LatencyHistogram::percentile(double p) const {
    if (m_total == 0) {
        return -1.0;
    }
    auto rank = static_cast<int64_t>(std::ceil(p * static_cast<double>(m_total)));
    rank = std::clamp<int64_t>(rank, 1, m_total);
    int64_t seen = 0;
    for (int i = 0; i < k_buckets; ++i) {
        seen += m_counts[static_cast<size_t>(i)];
        if (seen >= rank) {
            return bucket_value(i);
        }
    }
    return bucket_value(k_buckets - 1);
}

void LatencyHistogram::clear() {
    m_counts.fill(0);
    m_total = 0;
}

SparseHistogram sparse_histogram(const std::vector<double>& latencies_ms) {
    std::map<uint16_t, uint32_t> counts;
    for (double v : latencies_ms) {
        ++counts[static_cast<uint16_t>(LatencyHistogram::bucket_of(v))];
    }
    return {counts.begin(), counts.end()};
}

} // namespace rollback::decision
