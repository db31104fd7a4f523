// SPDX-License-Identifier: MIT
#pragma once

// Row counts and content checksums of tables: what a backup manifest records and what a restored
// database is compared against.
//
// Checksum of a table: md5 of the row-order-independent sums of the 2×64-bit halves of
// md5(row::text) over every row (one sequential scan, no sort, no giant string), computed in a
// session pinned to UTC/ISO output (see connect()). Equal content ⇒ equal checksum on any server
// of the same major version; a changed, added or removed row changes it.

#include <cstdint>
#include <string>
#include <vector>

namespace pqxx {
class transaction_base;
}

namespace rollback::db {

struct TableStat {
    std::string table; ///< "schema.name"
    std::int64_t rows = 0;
    std::string checksum; ///< empty when not computed (not a key table)
};

/// Every ordinary table outside the system schemas, as "schema.name", sorted.
std::vector<std::string> list_user_tables(pqxx::transaction_base& tx);

/// Exact row count of `table`, and its checksum when `with_checksum`.
TableStat table_stat(pqxx::transaction_base& tx, const std::string& table, bool with_checksum);

/// Row counts of every user table; checksums of `key_tables` ("orders" = "public.orders").
/// Throws util::Error when a key table does not exist.
std::vector<TableStat> collect_stats(pqxx::transaction_base& tx,
                                     const std::vector<std::string>& key_tables);

/// One line per difference between `expected` (a manifest) and the database behind `tx`:
/// "public.orders: 120 rows, the backup has 118", "public.orders: checksum differs", "table
/// public.x missing". Empty = identical in everything the manifest recorded.
std::vector<std::string> compare_stats(pqxx::transaction_base& tx,
                                       const std::vector<TableStat>& expected);

} // namespace rollback::db
