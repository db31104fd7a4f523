// SPDX-License-Identifier: MIT
#pragma once

#include "decision/sample.hpp"
#include "util/duration.hpp"

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
    /// Rows that cannot be read (an empty value, not a number, a time that does not exist):
    /// skipped, like an access-log line that does not parse.
    uint64_t bad = 0;
    std::string first_bad; ///< the first one's located diagnostic (file:line:col: problem)
    /// A row dated far ahead of the rows before it that the next row did not confirm (a typo'd
    /// year): not counted, so one wild date does not put every later row behind it.
    uint64_t implausible = 0;
    uint64_t first_implausible_line = 0; ///< 1-based; 0 when none
};

/// A UTF-8 byte order mark: skipped at the start of a CSV (Excel's "CSV UTF-8" writes one).
inline constexpr std::string_view k_utf8_bom = "\xEF\xBB\xBF";

/// The largest CSV read_value_csv reads (1 GiB; the NAB files are under 1 MB).
inline constexpr size_t k_max_csv_bytes = size_t{1} << 30;

/// How far ahead of the newest row a row is a jump that the next row must confirm, unless the
/// caller says (the replay: twice its evaluation interval): twice NAB's 5-minute step.
inline constexpr util::Millis k_default_csv_jump{std::chrono::minutes(10)};

/// Whether `line` (a file's first line, a UTF-8 byte order mark and blanks allowed) is the header
/// `timestamp,value`, its fields plain or in RFC 4180 double quotes.
bool is_value_csv_header(std::string_view line);

/// A `timestamp,value` CSV (the NAB format: header `timestamp,value`, times like
/// `2014-03-07 03:41:00` taken as UTC, or RFC 3339; any field may be in RFC 4180 double quotes)
/// as value samples in time order. A bad header,
/// or rows none of which can be read, throw util::InvalidInput with a located diagnostic for each
/// (at most 20). Otherwise each row that cannot be read (time, number) is skipped and counted in
/// `stats`, as is a row dated before an earlier row (a real export has them), a row with the
/// previous row's time (the first of them is the sample), and a row more than `jump` ahead of the
/// newest row (or the first row) that the next row does not confirm — the next row is more than
/// `jump` earlier than it (docs/decision.md: access logs hold a line that jumped ahead the same
/// way). The last row counts when it is at most a day ahead of the row before it.
std::vector<decision::Sample> read_value_csv(const std::filesystem::path& path,
                                             CsvStats* stats = nullptr,
                                             util::Millis jump = k_default_csv_jump);
std::vector<decision::Sample> parse_value_csv(std::string_view text,
                                              const std::string& display_path,
                                              CsvStats* stats = nullptr,
                                              util::Millis jump = k_default_csv_jump);

} // namespace rollback::sources
