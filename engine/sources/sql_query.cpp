// SPDX-License-Identifier: MIT
#include "sources/sql_query.hpp"

#include "db/connection.hpp"
#include "util/error.hpp"
#include "util/secrets.hpp"
#include "util/strings.hpp"

#include <charconv>
#include <cmath>
#include <pqxx/connection_base>
#include <pqxx/except>
#include <pqxx/result>
#include <pqxx/transaction>

namespace rollback::sources {

using decision::Sample;
using decision::SampleKind;

namespace {

constexpr std::string_view k_shape = "expected one row with one number";

Sample value_of(const pqxx::result& r, decision::SystemTime now) {
    auto broken = [&](const std::string& why) {
        return Sample::make_missing(now, SampleKind::error,
                                    "query " + why + "; " + std::string(k_shape));
    };
    if (r.empty()) {
        return broken("returned no rows (use coalesce(...) or count(*) when none means 0)");
    }
    if (r.size() > 1) {
        return broken("returned " + std::to_string(r.size()) + " rows (aggregate them, e.g. " +
                      "count(*) or max(...))");
    }
    if (r.columns() != 1) {
        return broken("returned " + std::to_string(r.columns()) + " columns");
    }
    if (r[0][0].is_null()) {
        return broken("returned NULL (coalesce(...) when NULL means 0)");
    }
    std::string_view text = r[0][0].c_str();
    double v = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size() ||
        !std::isfinite(v)) {
        return broken("returned " + util::quoted(text.substr(0, 80)) + ", not a finite number");
    }
    return Sample::make_value(now, v);
}

} // namespace

decision::Sample run_sql_query(const std::string& dsn, const std::string& query,
                               util::Millis timeout, decision::SystemTime now) {
    db::Dsn target;
    try {
        target = db::Dsn::parse(dsn);
    } catch (const util::Error& e) {
        return Sample::make_missing(now, SampleKind::error, e.what());
    }
    // libpq's connect_timeout is whole seconds (and at least 2); a DSN's own value wins.
    const auto connect_s = std::max<int64_t>(2, (timeout.count() + 999) / 1000);
    target = target.with_default("connect_timeout", std::to_string(connect_s));
    db::Connection conn;
    try {
        conn = db::connect(target);
    } catch (const std::exception& e) {
        // Cannot reach or log in: the monitor cannot see, which says nothing of the target.
        return Sample::make_missing(now, SampleKind::unavailable, util::mask_secrets(e.what()));
    }
    try {
        pqxx::read_transaction tx(*conn);
        tx.exec("SET LOCAL statement_timeout = " + std::to_string(timeout.count()));
        pqxx::result r = tx.exec(query);
        tx.commit();
        return value_of(r, now);
    } catch (const pqxx::broken_connection& e) {
        return Sample::make_missing(now, SampleKind::unavailable,
                                    "connection lost: " + db::db_error_text(e));
    } catch (const pqxx::sql_error& e) {
        const std::string text = db::db_error_text(e);
        if (e.sqlstate() == "57014" && text.find("statement timeout") != std::string::npos) {
            return Sample::make_missing(now, SampleKind::error,
                                        "query timed out after " + util::format_duration(timeout) +
                                            " (statement_timeout)");
        }
        return Sample::make_missing(now, SampleKind::error, "query failed: " + text);
    } catch (const std::exception& e) {
        return Sample::make_missing(now, SampleKind::error,
                                    "query failed: " + db::db_error_text(e));
    }
}

} // namespace rollback::sources
