// SPDX-License-Identifier: MIT
#pragma once

// The comparison at the heart of reconciliation, without a database: two scans of (key, row hash)
// in the same key order, merged in one pass. Memory is one row per side, whatever the table size.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace rollback::db {

/// How a key column is ordered by the scans' ORDER BY: integer columns (smallint, integer,
/// bigint) by value, every other type by its text under COLLATE "C" (byte order). NULL sorts
/// after every value (PostgreSQL's ascending default).
enum class KeyOrder : std::uint8_t { integer, text };

/// The key order for a column of PostgreSQL type `type` (as format_type() spells it).
KeyOrder key_order_for(std::string_view type);

/// One side's rows, in the scan's key order.
class SortedRows {
  public:
    virtual ~SortedRows() = default;
    /// Moves to the next row; false when there is none (the first call moves to the first row).
    virtual bool next() = 0;
    /// Key column `c` of the current row as text; nullptr for NULL.
    virtual const char* key(std::size_t c) const = 0;
    /// The current row's content as compared: equal content ⇔ equal text (the row's text, or a
    /// hash of it).
    virtual std::string_view hash() const = 0;
};

/// <0, 0 or >0 as `a`'s current key sorts before, with or after `b`'s under `order` (one entry per
/// key column). An integer column whose text is no integer compares by text.
int compare_keys(const std::vector<KeyOrder>& order, const SortedRows& a, const SortedRows& b);

/// The current row's key as one string: columns joined by '\x1f', NULL written as "\x01NULL".
std::string joined_key(const SortedRows& rows, std::size_t key_columns);

struct MergeCounts {
    std::int64_t left_only = 0;
    std::int64_t changed = 0;
    std::int64_t right_only = 0;
};

/// Walks both sides in key order: `on_left_only(key)` for a key only in `left`, `on_changed(key)`
/// for a key in both with different hashes (keys as joined_key()). A key present several times on
/// a side pairs with the other side's occurrences one by one. Both sides must be sorted by `order`.
MergeCounts merge_sorted(const std::vector<KeyOrder>& order, SortedRows& left, SortedRows& right,
                         const std::function<void(std::string)>& on_left_only,
                         const std::function<void(std::string)>& on_changed);

} // namespace rollback::db
