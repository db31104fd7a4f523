// SPDX-License-Identifier: MIT
#pragma once

#include "decision/sample.hpp"

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace rollback::sources {

/// Rows of a CSV that were read but not used.
struct CsvStats {
    uint64_t out_of_order = 0;            ///< rows dated before an earlier row: skipped
    uint64_t first_out_of_order_line = 0; ///< 1-based; 0 when none
    std::string first_out_of_order;       ///< its text (truncated to 200 bytes)
    uint64_t duplicates = 0; ///< rows with the previous row's time: skipped (the first is kept)
};

/// The largest CSV read_value_csv reads (1 GiB; the NAB files are under 1 MB).
inline constexpr size_t k_max_csv_bytes = size_t{1} << 30;

/// A `timestamp,value` CSV (the NAB format: header `timestamp,value`, times like
/// `2014-03-07 03:41:00` taken as UTC, or RFC 3339) as value samples in time order. Throws
/// util::InvalidInput with a located diagnostic for every bad row (header, time, number). A row
/// dated before an earlier row (a real export has them) is skipped and counted in `stats`, as is
/// a row with the previous row's time (the first of them is the sample).
std::vector<decision::Sample> read_value_csv(const std::filesystem::path& path,
                                             CsvStats* stats = nullptr);
std::vector<decision::Sample>
parse_value_csv(std::string_view text, const std::string& display_path, CsvStats* stats = nullptr);

} // namespace rollback::sources
