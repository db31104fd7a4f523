// SPDX-License-Identifier: MIT
#include "db/tables.hpp"

#include "db/names.hpp"
#include "util/error.hpp"

#include <algorithm>
#include <pqxx/result>
#include <pqxx/transaction_base>

namespace rollback::db {

std::vector<std::string> list_user_tables(pqxx::transaction_base& tx) {
    pqxx::result r =
        tx.exec("SELECT n.nspname || '.' || c.relname FROM pg_class c"
                " JOIN pg_namespace n ON n.oid = c.relnamespace"
                " WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema')"
                " AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%'"
                " ORDER BY 1");
    std::vector<std::string> out;
    for (const auto& row : r) {
        out.push_back(row[0].c_str());
    }
    return out;
}

TableStat table_stat(pqxx::transaction_base& tx, const std::string& table, bool with_checksum) {
    TableStat s;
    s.table = qualify_table(table);
    std::string q = quote_table(s.table);
    if (!with_checksum) {
        s.rows = tx.exec1("SELECT count(*) FROM " + q)[0].as<std::int64_t>();
        return s;
    }
    // Sums of bigint are numeric: no overflow however many rows.
    pqxx::row r = tx.exec1("SELECT count(*), md5(coalesce(sum(('x' || substr(h, 1, "
                           "16))::bit(64)::bigint), 0)::text || ':' ||"
                           " coalesce(sum(('x' || substr(h, 17, 16))::bit(64)::bigint), 0)::text)"
                           " FROM (SELECT md5(t::text) AS h FROM " +
                           q + " t) s");
    s.rows = r[0].as<std::int64_t>();
    s.checksum = r[1].c_str();
    return s;
}

std::vector<TableStat> collect_stats(pqxx::transaction_base& tx,
                                     const std::vector<std::string>& key_tables) {
    std::vector<std::string> tables = list_user_tables(tx);
    std::vector<std::string> keys;
    for (const auto& k : key_tables) {
        std::string q = qualify_table(k);
        if (std::find(tables.begin(), tables.end(), q) == tables.end()) {
            throw util::Error("key table " + q + " does not exist in the database",
                              util::ExitCode::invalid);
        }
        keys.push_back(q);
    }
    std::vector<TableStat> out;
    for (const auto& t : tables) {
        bool key = std::find(keys.begin(), keys.end(), t) != keys.end();
        out.push_back(table_stat(tx, t, key));
    }
    return out;
}

std::vector<std::string> compare_stats(pqxx::transaction_base& tx,
                                       const std::vector<TableStat>& expected) {
    std::vector<std::string> present = list_user_tables(tx);
    std::vector<std::string> diffs;
    for (const auto& e : expected) {
        if (std::find(present.begin(), present.end(), e.table) == present.end()) {
            diffs.push_back("table " + e.table + " missing");
            continue;
        }
        TableStat a = table_stat(tx, e.table, !e.checksum.empty());
        if (a.rows != e.rows) {
            diffs.push_back(e.table + ": " + std::to_string(a.rows) + " rows, the backup has " +
                            std::to_string(e.rows));
        } else if (a.checksum != e.checksum) {
            diffs.push_back(e.table + ": checksum differs from the backup's");
        }
    }
    return diffs;
}

} // namespace rollback::db
