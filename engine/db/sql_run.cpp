// SPDX-License-Identifier: MIT
#include "db/sql_run.hpp"

#include "db/connection.hpp"
#include "util/secrets.hpp"

#include <pqxx/connection_base>
#include <pqxx/result>
#include <pqxx/transaction>

namespace rollback::db {

StatementsOutcome run_statements(const std::string& dsn, const std::vector<Statement>& statements,
                                 const StepSession& session) {
    StatementsOutcome out;
    size_t i = 0;
    try {
        auto conn = connect(session.named(Dsn::parse(dsn)));
        pqxx::work tx(*conn);
        std::int64_t affected = 0;
        for (i = 0; i < statements.size(); ++i) {
            affected += exec_sql(tx, statements[i].sql, statements[i].params).affected_rows();
        }
        // Session open, fence, effect: a holder deposed while the statements ran (paused past
        // its lease) does not commit; one deposed after this check finds its session ended by
        // the new holder before it looks at the step (docs/actions.md "Step sessions").
        session.fence(); // db::Fenced passes the handlers below: rolled back, no outcome
        tx.commit();
        out.ok = true;
        out.rows_affected = affected;
        out.summary = std::to_string(statements.size()) + " statement(s) committed, " +
                      std::to_string(affected) + " row(s) affected";
    } catch (const util::Error& e) {
        out.summary = util::mask_secrets(e.what());
    } catch (const std::exception& e) {
        out.summary = (i < statements.size() ? "statement " + std::to_string(i + 1) + " failed"
                                             : std::string("the commit failed")) +
                      ", transaction rolled back: " + db_error_text(e);
    }
    return out;
}

AssertionOutcome check_assertion(const std::string& dsn, const std::string& query,
                                 const std::vector<std::string>& params,
                                 const SqlExpectation& expect, const std::string& session_name) {
    AssertionOutcome out;
    try {
        auto conn = connect(StepSession{session_name}.named(Dsn::parse(dsn)));
        pqxx::read_transaction tx(*conn);
        std::string problem = check_sql(tx, query, params, expect);
        if (problem.empty()) {
            out.verdict = AssertionOutcome::Verdict::holds;
        } else {
            out.verdict = AssertionOutcome::Verdict::fails;
            out.text = util::mask_secrets(problem);
        }
    } catch (const util::Error& ex) {
        out.text = util::mask_secrets(ex.what());
    } catch (const std::exception& ex) {
        out.text = db_error_text(ex);
    }
    return out;
}

PreflightLine check_reachable(const std::string& dsn_text) {
    PreflightLine c;
    try {
        Dsn dsn = Dsn::parse(dsn_text);
        c.what = "database reachable (" + dsn.masked() + ")";
        auto conn = connect(dsn);
        pqxx::read_transaction tx(*conn);
        tx.exec("SELECT 1");
    } catch (const util::Error& e) {
        c.ok = false;
        c.what = c.what.empty() ? "database reachable" : c.what;
        c.problem = util::mask_secrets(e.what());
        c.hint = e.hint();
    } catch (const std::exception& e) {
        c.ok = false;
        c.problem = db_error_text(e);
    }
    return c;
}

} // namespace rollback::db
