// SPDX-License-Identifier: MIT
#include "db/reconcile.hpp"

#include "db/names.hpp"
#include "db/reconcile_merge.hpp"
#include "util/error.hpp"
#include "util/file_name.hpp"
#include "util/files.hpp"
#include "util/strings.hpp"

#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <fstream>
#include <mutex>
#include <optional>
#include <pqxx/connection_base>
#include <pqxx/result>
#include <pqxx/transaction>
#include <thread>

namespace rollback::db {

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

constexpr long k_fetch = 10000;     // rows per FETCH: memory stays bounded, round trips stay few
constexpr size_t k_queue_depth = 4; // FETCH results read ahead per side
// Rows up to this many bytes of text are compared by their text, longer ones by md5 of it: a batch
// stays under ~1.5 MB whatever the rows hold.
constexpr int k_row_text_max = 128;

// The FETCH results of one side's scan, from its thread to the merge; bounded, so a fast side
// waits for a slow one instead of filling memory.
class ResultQueue {
  public:
    /// False when the merge gave up (the scan stops).
    bool push(pqxx::result r) {
        std::unique_lock lock(m_mutex);
        m_cv.wait(lock, [&] { return m_queue.size() < k_queue_depth || m_cancelled; });
        if (m_cancelled) {
            return false;
        }
        m_queue.push_back(std::move(r));
        m_cv.notify_all();
        return true;
    }
    void finish(std::exception_ptr error) {
        std::lock_guard lock(m_mutex);
        m_done = true;
        m_error = std::move(error);
        m_cv.notify_all();
    }
    void cancel() {
        std::lock_guard lock(m_mutex);
        m_cancelled = true;
        m_cv.notify_all();
    }
    /// The next result; nullopt once the scan ended. Rethrows the scan's error.
    std::optional<pqxx::result> pop() {
        std::unique_lock lock(m_mutex);
        m_cv.wait(lock, [&] { return !m_queue.empty() || m_done; });
        if (!m_queue.empty()) {
            pqxx::result r = std::move(m_queue.front());
            m_queue.pop_front();
            m_cv.notify_all();
            return r;
        }
        if (m_error) {
            std::rethrow_exception(m_error);
        }
        return std::nullopt;
    }

  private:
    std::mutex m_mutex;
    std::condition_variable m_cv;
    std::deque<pqxx::result> m_queue;
    bool m_done = false;
    bool m_cancelled = false;
    std::exception_ptr m_error;
};

// A server-side cursor over `query`, fetched in fixed-size batches into `queue`.
void scan(pqxx::transaction_base& tx, const std::string& query, ResultQueue& queue) {
    std::exception_ptr error;
    try {
        tx.exec("DECLARE rollback_reconcile NO SCROLL CURSOR FOR " + query);
        for (;;) {
            pqxx::result r =
                tx.exec("FETCH FORWARD " + std::to_string(k_fetch) + " FROM rollback_reconcile");
            if (r.empty()) {
                break;
            }
            if (!queue.push(std::move(r))) {
                break; // the merge failed; its exception aborts the transaction
            }
        }
        tx.exec("CLOSE rollback_reconcile");
    } catch (...) {
        error = std::current_exception();
    }
    queue.finish(std::move(error));
}

// One side's rows as the merge reads them: the queued FETCH results, one after the other. The
// current row's fields are looked up once (a pqxx field copies its result handle: too dear for
// every comparison).
class QueuedRows : public SortedRows {
  public:
    QueuedRows(ResultQueue& queue, size_t key_columns) : m_queue(queue), m_key(key_columns) {}
    bool next() override {
        if (m_started) {
            ++m_row;
        }
        m_started = true;
        while (m_row >= m_result.size()) {
            std::optional<pqxx::result> r = m_queue.pop();
            if (!r) {
                return false;
            }
            m_result = std::move(*r);
            m_row = 0;
        }
        const pqxx::row row = m_result[m_row];
        for (size_t c = 0; c < m_key.size(); ++c) {
            const pqxx::field f = row[static_cast<pqxx::row::size_type>(c)];
            m_key[c] = f.is_null() ? nullptr : f.c_str();
        }
        m_hash = row[static_cast<pqxx::row::size_type>(m_key.size())].c_str();
        return true;
    }
    const char* key(size_t c) const override { return m_key[c]; }
    std::string_view hash() const override { return m_hash; }

  private:
    ResultQueue& m_queue;
    pqxx::result m_result; // owns the text m_key and m_hash point into
    pqxx::result::size_type m_row = 0;
    bool m_started = false;
    std::vector<const char*> m_key;
    std::string_view m_hash;
};

// Key columns as text and the row's content: its text when short, else md5 of it (hashing is
// half the server's work for a typical row, and a row text, which starts with '(', never equals
// an md5 in hex). Ordered as `order` says compare_keys() compares. The OFFSET 0 keeps t::text
// computed once.
std::string hash_query(const std::string& table, const std::vector<std::string>& key,
                       const std::vector<KeyOrder>& order) {
    std::string cols;
    std::vector<std::string> by;
    for (size_t c = 0; c < key.size(); ++c) {
        const std::string col = "t." + quote_ident(key[c]);
        cols += col + "::text, ";
        by.push_back(order[c] == KeyOrder::integer ? col : col + "::text COLLATE \"C\"");
    }
    const std::string content = "CASE WHEN octet_length(x.r) <= " + std::to_string(k_row_text_max) +
                                " THEN x.r ELSE md5(x.r) END";
    return "SELECT " + cols + content + " FROM " + quote_table(table) +
           " t, LATERAL (SELECT t::text AS r OFFSET 0) x ORDER BY " + util::join(by, ", ");
}

// Both sides scanned at once (one thread and connection each) and merged as the rows arrive.
MergeCounts diff_tables(pqxx::transaction_base& old_tx, pqxx::transaction_base& new_tx,
                        const std::string& table, const std::vector<std::string>& key,
                        const std::vector<KeyOrder>& order, std::vector<std::string>& missing,
                        std::vector<std::string>& changed) {
    const std::string query = hash_query(table, key, order);
    ResultQueue old_queue;
    ResultQueue new_queue;
    std::thread old_scan(scan, std::ref(old_tx), std::cref(query), std::ref(old_queue));
    std::thread new_scan(scan, std::ref(new_tx), std::cref(query), std::ref(new_queue));
    auto stop = [&] {
        old_queue.cancel();
        new_queue.cancel();
        old_scan.join();
        new_scan.join();
    };
    MergeCounts counts;
    try {
        QueuedRows old_rows(old_queue, key.size());
        QueuedRows new_rows(new_queue, key.size());
        counts = merge_sorted(
            order, old_rows, new_rows, [&](std::string k) { missing.push_back(std::move(k)); },
            [&](std::string k) { changed.push_back(std::move(k)); });
    } catch (...) {
        stop();
        throw;
    }
    stop();
    return counts;
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

std::string reconcile_file_stem(const std::string& table) {
    std::string stem = util::file_name_part(table);
    constexpr size_t k_max = 200;
    if (stem.size() > k_max) {
        std::uint64_t h = 14695981039346656037ULL; // FNV-1a 64 of the whole name
        for (const char c : table) {
            h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
        }
        char tail[18];
        std::snprintf(tail, sizeof tail, "~%016llx", static_cast<unsigned long long>(h));
        stem = stem.substr(0, k_max - 17) + tail;
    }
    return stem;
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
    std::vector<std::string> new_types = key_types(new_tx, table, spec.key);
    // Compared as integers only where both sides hold integers (a release may have changed a
    // key's type); otherwise as text, which any two types can be.
    std::vector<KeyOrder> order;
    for (size_t c = 0; c < types.size(); ++c) {
        order.push_back(key_order_for(types[c]) == KeyOrder::integer &&
                                key_order_for(new_types[c]) == KeyOrder::integer
                            ? KeyOrder::integer
                            : KeyOrder::text);
    }
    // Only the differences are kept: memory grows with them, not with the tables.
    std::vector<std::string> missing;
    std::vector<std::string> changed;
    counts.restored_only =
        diff_tables(old_tx, new_tx, table, spec.key, order, missing, changed).right_only;
    counts.missing = static_cast<std::int64_t>(missing.size());
    counts.changed = static_cast<std::int64_t>(changed.size());

    fs::create_directories(out_dir);
    const std::string stem = reconcile_file_stem(spec.table);
    counts.missing_csv = out_dir / (stem + ".missing.csv");
    counts.changed_csv = out_dir / (stem + ".changed.csv");
    const std::string found = "table " + spec.table + ": " + std::to_string(counts.missing) +
                              " missing, " + std::to_string(counts.changed) +
                              " changed row(s) found, but the export is incomplete";
    {
        std::ofstream out(counts.missing_csv, std::ios::binary | std::ios::trunc);
        out << util::join(column_names(old_tx, table), ",") << "\n";
        fetch_rows(old_tx, table, spec.key, types, missing, [&](const pqxx::result& r) {
            for (const auto& row : r) {
                write_row(out, row, nullptr);
            }
        });
        if (!out.flush()) {
            throw util::Error("cannot write " + counts.missing_csv.string() + " (" + found + ")",
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
            throw util::Error("cannot write " + counts.changed_csv.string() + " (" + found + ")",
                              util::ExitCode::run_failed);
        }
    }
    old_tx.commit();
    new_tx.commit();
    return counts;
}

} // namespace rollback::db
