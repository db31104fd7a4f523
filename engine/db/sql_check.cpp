// SPDX-License-Identifier: MIT
#include "db/sql_check.hpp"

#include "db/names.hpp"
#include "util/json_text.hpp"
#include "util/strings.hpp"

#include <boost/json/serialize.hpp>
#include <pqxx/except>
#include <pqxx/prepared_statement>
#include <pqxx/result>
#include <pqxx/subtransaction>
#include <pqxx/transaction_base>

namespace rollback::db {

std::optional<std::string> expectation_text(const boost::json::value& v) {
    if (v.is_string()) {
        return std::string(v.as_string());
    }
    if (v.is_int64()) {
        return std::to_string(v.as_int64());
    }
    if (v.is_uint64()) {
        return std::to_string(v.as_uint64());
    }
    if (v.is_bool()) {
        return v.as_bool() ? "t" : "f";
    }
    if (v.is_double()) {
        return util::json_text(v);
    }
    return std::nullopt;
}

pqxx::result exec_sql(pqxx::transaction_base& tx, const std::string& sql,
                      const std::vector<std::string>& params) {
    if (params.empty()) {
        return tx.exec(sql);
    }
    return tx.exec_params(sql, pqxx::prepare::make_dynamic_params(params));
}

std::string check_sql(pqxx::transaction_base& tx, const std::string& sql,
                      const std::vector<std::string>& params, const SqlExpectation& expect) {
    pqxx::result r;
    try {
        // A subtransaction: a failing assertion must not abort the checks that follow it.
        pqxx::subtransaction sub(dynamic_cast<pqxx::dbtransaction&>(tx), "assert");
        r = exec_sql(sub, sql, params);
        sub.commit();
    } catch (const std::exception& e) {
        return "query failed: " + db_error_text(e);
    }
    if (expect.rows && static_cast<std::int64_t>(r.size()) != *expect.rows) {
        return "returned " + std::to_string(r.size()) + " rows, expected " +
               std::to_string(*expect.rows);
    }
    if (expect.scalar) {
        if (r.size() != 1 || r.columns() < 1) {
            return "returned " + std::to_string(r.size()) + " rows, expected one value " +
                   util::quoted(*expect.scalar);
        }
        std::string got = r[0][0].is_null() ? "NULL" : r[0][0].c_str();
        if (r[0][0].is_null() || got != *expect.scalar) {
            return "returned " + util::quoted(got) + ", expected " + util::quoted(*expect.scalar);
        }
    }
    return {};
}

std::vector<std::string> run_asserts(pqxx::transaction_base& tx,
                                     const std::vector<SqlAssert>& asserts) {
    std::vector<std::string> failures;
    for (const auto& a : asserts) {
        if (std::string problem = check_sql(tx, a.sql, a.params, a.expect); !problem.empty()) {
            failures.push_back("assert " + util::quoted(util::tail(a.sql, 80)) + ": " + problem);
        }
    }
    return failures;
}

} // namespace rollback::db
