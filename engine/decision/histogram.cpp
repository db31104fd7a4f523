// SPDX-License-Identifier: MIT
#include "decision/histogram.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
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

std::pair<double, double> LatencyHistogram::bucket_range(int bucket) {
    int exp = bucket / 16 + k_min_exp;
    int sub = bucket % 16;
    double lower = bucket == 0 ? 0.0 : std::ldexp(1.0 + sub / 16.0, exp);
    double upper = bucket == k_buckets - 1 ? std::numeric_limits<double>::infinity()
                                           : std::ldexp(1.0 + (sub + 1) / 16.0, exp);
    return {lower, upper};
}

double LatencyHistogram::percentile(double p) const {
    int b = percentile_bucket(p);
    return b < 0 ? -1.0 : bucket_value(b);
}

std::pair<double, double> LatencyHistogram::percentile_range(double p) const {
    int b = percentile_bucket(p);
    return b < 0 ? std::pair{-1.0, -1.0} : bucket_range(b);
}

int LatencyHistogram::percentile_bucket(double p) const {
    if (m_total == 0) {
        return -1;
    }
    auto rank = static_cast<int64_t>(std::ceil(p * static_cast<double>(m_total)));
    rank = std::clamp<int64_t>(rank, 1, m_total);
    int64_t seen = 0;
    for (int i = 0; i < k_buckets; ++i) {
        seen += m_counts[static_cast<size_t>(i)];
        if (seen >= rank) {
            return i;
        }
    }
    return k_buckets - 1;
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
