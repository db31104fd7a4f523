// SPDX-License-Identifier: MIT
#include "actions/pg_reconcile.hpp"

#include "actions/pg_conn.hpp"
#include "util/error.hpp"
#include "util/files.hpp"
#include "util/strings.hpp"

#include <fstream>
#include <pqxx/connection_base>
#include <pqxx/result>
#include <pqxx/transaction>
#include <unordered_map>

namespace rollback::actions {

namespace fs = std::filesystem;

namespace {

constexpr char k_sep = '\x1f'; // between key columns in the in-memory key
constexpr size_t k_batch = 5000;

std::string key_list(const std::vector<std::string>& key) {
    std::vector<std::string> q;
    for (const auto& k : key) {
        q.push_back(quote_ident(k));
    }
    return util::join(q, ", ");
}

// key text → md5(row::text)
std::unordered_map<std::string, std::string> fetch_hashes(pqxx::transaction_base& tx,
                                                          const std::string& table,
                                                          const std::vector<std::string>& key) {
    std::string cols;
    for (const auto& k : key) {
        cols += "t." + quote_ident(k) + "::text, ";
    }
    pqxx::result r = tx.exec("SELECT " + cols + "md5(t::text) FROM " + quote_table(table) + " t");
    std::unordered_map<std::string, std::string> out;
    out.reserve(r.size());
    const auto n = static_cast<pqxx::row::size_type>(key.size());
    for (const auto& row : r) {
        std::string k;
        for (pqxx::row::size_type i = 0; i < n; ++i) {
            if (i > 0) {
                k += k_sep;
            }
            k += row[i].is_null() ? std::string("\x01NULL") : std::string(row[i].c_str());
        }
        out.emplace(std::move(k), row[n].c_str());
    }
    return out;
}

std::string array_element(std::string_view v) {
    std::string out = "\"";
    for (char c : v) {
        if (c == '"' || c == '\\') {
            out += '\\';
        }
        out += c;
    }
    return out + "\"";
}

std::vector<std::string> key_types(pqxx::transaction_base& tx, const std::string& table,
                                   const std::vector<std::string>& key) {
    std::vector<std::string> types;
    for (const auto& k : key) {
        pqxx::result r =
            tx.exec("SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = " +
                    quote_literal(quote_table(table)) +
                    "::regclass AND attname = " + quote_literal(k) + " AND NOT attisdropped");
        if (r.empty()) {
            throw util::Error("reconcile: table " + table + " has no column " + util::quoted(k),
                              util::ExitCode::invalid);
        }
        types.push_back(r[0][0].c_str());
    }
    return types;
}

// Full rows of `keys` (in-memory key texts), ordered by key, in batches.
template <typename RowFn>
void fetch_rows(pqxx::transaction_base& tx, const std::string& table,
                const std::vector<std::string>& key, const std::vector<std::string>& types,
                const std::vector<std::string>& keys, RowFn&& on_result) {
    for (size_t start = 0; start < keys.size(); start += k_batch) {
        size_t end = std::min(keys.size(), start + k_batch);
        std::vector<std::string> arrays(key.size(), "{");
        for (size_t i = start; i < end; ++i) {
            std::vector<std::string> parts = util::split(keys[i], k_sep);
            for (size_t c = 0; c < key.size(); ++c) {
                if (i > start) {
                    arrays[c] += ',';
                }
                arrays[c] += parts[c] == "\x01NULL" ? std::string("NULL") : array_element(parts[c]);
            }
        }
        std::string unnest;
        for (size_t c = 0; c < key.size(); ++c) {
            unnest += (c > 0 ? ", " : "") + quote_literal(arrays[c] + "}") + "::" + types[c] + "[]";
        }
        on_result(tx.exec("SELECT t.* FROM " + quote_table(table) + " t WHERE (" + key_list(key) +
                          ") IN (SELECT * FROM unnest(" + unnest + ")) ORDER BY " + key_list(key)));
    }
}

void write_row(std::ofstream& out, const pqxx::row& row, const char* side) {
    std::string line = side != nullptr ? std::string(side) + "," : std::string();
    for (pqxx::row::size_type c = 0; c < row.size(); ++c) {
        line += (c > 0 ? "," : "") + csv_field(row[c].c_str(), row[c].is_null());
    }
    out << line << "\n";
}

std::vector<std::string> column_names(pqxx::transaction_base& tx, const std::string& table) {
    pqxx::result r = tx.exec("SELECT * FROM " + quote_table(table) + " LIMIT 0");
    std::vector<std::string> names;
    for (pqxx::row::size_type c = 0; c < r.columns(); ++c) {
        names.push_back(csv_field(r.column_name(c), false));
    }
    return names;
}

} // namespace

std::string csv_field(const char* value, bool is_null) {
    if (is_null) {
        return {};
    }
    std::string_view v(value);
    if (!v.empty() && v.find_first_of(",\"\r\n") == std::string_view::npos && v.front() != ' ' &&
        v.back() != ' ') {
        return std::string(v);
    }
    return "\"" + util::replace_all(std::string(v), "\"", "\"\"") + "\"";
}

ReconcileCounts reconcile_table(pqxx::connection_base& rolled_back, pqxx::connection_base& restored,
                                const ReconcileSpec& spec, const fs::path& out_dir) {
    const std::string table = qualify_table(spec.table);
    ReconcileCounts counts;
    counts.table = spec.table;
    // Both read in one snapshot each; nothing writes to the rolled-back database any more and the
    // restored one is only as new as the backup plus what clients wrote since the swap.
    pqxx::transaction<pqxx::isolation_level::repeatable_read, pqxx::readwrite_policy::read_only>
        old_tx(rolled_back);
    pqxx::transaction<pqxx::isolation_level::repeatable_read, pqxx::readwrite_policy::read_only>
        new_tx(restored);
    std::vector<std::string> types = key_types(old_tx, table, spec.key);
    key_types(new_tx, table, spec.key);
    auto old_rows = fetch_hashes(old_tx, table, spec.key);
    auto new_rows = fetch_hashes(new_tx, table, spec.key);

    std::vector<std::string> missing;
    std::vector<std::string> changed;
    for (const auto& [k, h] : old_rows) {
        auto it = new_rows.find(k);
        if (it == new_rows.end()) {
            missing.push_back(k);
        } else if (it->second != h) {
            changed.push_back(k);
        }
    }
    for (const auto& [k, h] : new_rows) {
        if (old_rows.find(k) == old_rows.end()) {
            ++counts.restored_only;
        }
    }
    counts.missing = static_cast<std::int64_t>(missing.size());
    counts.changed = static_cast<std::int64_t>(changed.size());

    fs::create_directories(out_dir);
    counts.missing_csv = out_dir / (spec.table + ".missing.csv");
    counts.changed_csv = out_dir / (spec.table + ".changed.csv");
    {
        std::ofstream out(counts.missing_csv, std::ios::binary | std::ios::trunc);
        out << util::join(column_names(old_tx, table), ",") << "\n";
        fetch_rows(old_tx, table, spec.key, types, missing, [&](const pqxx::result& r) {
            for (const auto& row : r) {
                write_row(out, row, nullptr);
            }
        });
        if (!out.flush()) {
            throw util::Error("cannot write " + counts.missing_csv.string(),
                              util::ExitCode::run_failed);
        }
    }
    {
        std::ofstream out(counts.changed_csv, std::ios::binary | std::ios::trunc);
        out << "_side," << util::join(column_names(old_tx, table), ",") << "\n";
        // Batch by batch, both versions of each key next to each other (both results are
        // key-ordered).
        for (size_t start = 0; start < changed.size(); start += k_batch) {
            std::vector<std::string> batch(changed.begin() + static_cast<std::ptrdiff_t>(start),
                                           changed.begin() + static_cast<std::ptrdiff_t>(std::min(
                                                                 changed.size(), start + k_batch)));
            pqxx::result a;
            pqxx::result b;
            fetch_rows(old_tx, table, spec.key, types, batch,
                       [&](const pqxx::result& r) { a = r; });
            fetch_rows(new_tx, table, spec.key, types, batch,
                       [&](const pqxx::result& r) { b = r; });
            for (pqxx::result::size_type i = 0; i < a.size(); ++i) {
                write_row(out, a[i], "rolled_back");
                if (i < b.size()) {
                    write_row(out, b[i], "restored");
                }
            }
        }
        if (!out.flush()) {
            throw util::Error("cannot write " + counts.changed_csv.string(),
                              util::ExitCode::run_failed);
        }
    }
    old_tx.commit();
    new_tx.commit();
    return counts;
}

} // namespace rollback::actions
