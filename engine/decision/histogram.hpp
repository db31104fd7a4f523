// SPDX-License-Identifier: MIT
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace rollback::decision {

/// Latency histogram with log-linear buckets (16 per power of two, ≤ 3.2% relative error), in
/// milliseconds, from 1/64 ms to ~9 hours. Bucket choice uses the bits of the double, not libm, so
/// results are identical on every machine — replay and live must agree bit for bit.
class LatencyHistogram {
  public:
    static constexpr int k_buckets = 16 * 30;

    /// The bucket of `ms`; values below the range go to bucket 0, above it to the last bucket.
    static int bucket_of(double ms);
    /// The value reported for a bucket: the midpoint of its range.
    static double bucket_value(int bucket);
    /// The range [lower, upper) of values a bucket holds, in ms. Bucket 0 also holds everything
    /// below the range (lower 0); the last bucket everything above it (upper +infinity).
    static std::pair<double, double> bucket_range(int bucket);

    void add(int bucket, int64_t n = 1) {
        m_counts[static_cast<std::size_t>(bucket)] += n;
        m_total += n;
    }
    void add_ms(double ms) { add(bucket_of(ms)); }
    int64_t total() const { return m_total; }
    /// Nearest-rank percentile (0 < p ≤ 1): the midpoint of its bucket; -1 when empty.
    double percentile(double p) const;
    /// The range [lower, upper) in which the true nearest-rank percentile lies (its bucket's
    /// range); {-1, -1} when empty. A rule compares the edge on the side that does not breach
    /// (docs/decision.md, "Latency percentiles"), so the 3.2% bucket width never turns a value
    /// under a threshold into a breach.
    std::pair<double, double> percentile_range(double p) const;
    void clear();

  private:
    int percentile_bucket(double p) const; ///< -1 when empty
    std::array<int64_t, k_buckets> m_counts{};
    int64_t m_total = 0;
};

/// A sparse histogram carried by one sample: (bucket, count) pairs in bucket order.
using SparseHistogram = std::vector<std::pair<uint16_t, uint32_t>>;

/// Builds the sparse form of a set of latencies (ms).
SparseHistogram sparse_histogram(const std::vector<double>& latencies_ms);

} // namespace rollback::decision
