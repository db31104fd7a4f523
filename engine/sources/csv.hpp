// SPDX-License-Identifier: MIT
#pragma once

#include "decision/sample.hpp"

#include <cstddef>
#include <filesystem>
#include <string_view>
#include <vector>

namespace rollback::sources {

/// The largest CSV read_value_csv reads (1 GiB; the NAB files are under 1 MB).
inline constexpr size_t k_max_csv_bytes = size_t{1} << 30;

/// A `timestamp,value` CSV (the NAB format: header `timestamp,value`, times like
/// `2014-03-07 03:41:00` taken as UTC, or RFC 3339) as value samples in file order. Throws
/// util::InvalidInput with a located diagnostic for every bad row (header, time, number, a time
/// before the previous row's). Rows with the previous row's time are kept (the evaluator ignores
/// them).
std::vector<decision::Sample> read_value_csv(const std::filesystem::path& path);
std::vector<decision::Sample> parse_value_csv(std::string_view text,
                                              const std::string& display_path);

} // namespace rollback::sources
