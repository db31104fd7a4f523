// SPDX-License-Identifier: MIT
#pragma once

// Reconciliation after a side-swap restore: what the rolled-back database holds that the restored
// one does not, exported to CSV for a person (orders placed after the backup are not lost).

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace pqxx {
class connection_base;
}

namespace rollback::db {

struct ReconcileSpec {
    std::string table;            ///< as written in the playbook ("orders" = "public.orders")
    std::vector<std::string> key; ///< key columns (usually the primary key)
};

struct ReconcileCounts {
    std::string table;
    std::int64_t missing = 0; ///< keys only in the rolled-back database → <table>.missing.csv
    std::int64_t changed = 0; ///< same key, different content → <table>.changed.csv
    std::int64_t restored_only =
        0; ///< keys only in the restored database (deleted after the backup)
    std::filesystem::path missing_csv;
    std::filesystem::path changed_csv;
};

/// Compares `spec.table` in both databases by key and row text (md5 of it past 128 bytes): both
/// sides are scanned at once in key order (a cursor each, fetched in fixed-size batches) and
/// merged, so memory grows with the number of differences, not with the table. Then exports the
/// full rows of the differences:
/// `<out_dir>/<stem>.missing.csv` (stem = reconcile_file_stem(table); rows of the rolled-back
/// database, header = column names) and
/// `<out_dir>/<stem>.changed.csv` (first column `_side` = rolled_back | restored, both versions
/// next to each other). Both files are written even when empty. Rows are ordered by key (within
/// each batch of 5000 differences; across batches too for integer keys).
/// Throws pqxx/util errors when a table or key column does not exist; when an export cannot be
/// written, util::Error naming the file and the counts found (the export is incomplete).
ReconcileCounts reconcile_table(pqxx::connection_base& rolled_back, pqxx::connection_base& restored,
                                const ReconcileSpec& spec, const std::filesystem::path& out_dir);

/// The file name stem of `table`'s exports (`<stem>.missing.csv`, `<stem>.changed.csv`): the
/// table name as written, every byte but `A-Z a-z 0-9 . _ -` (and a leading `.`) written as `%XX`,
/// so a name PostgreSQL allows ("orders/2026", "..", "t<b>x</b>") is always one file in the
/// export directory, and two tables never share a file. A stem longer than 200 bytes is cut to
/// 183 and ends in `~` and 16 hex digits of a hash of the whole name (a file name stays under
/// NAME_MAX).
std::string reconcile_file_stem(const std::string& table);

/// One CSV field (RFC 4180; NULL = empty unquoted, empty string = "").
std::string csv_field(const char* value, bool is_null);

} // namespace rollback::db
