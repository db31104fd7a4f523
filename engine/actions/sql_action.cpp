// SPDX-License-Identifier: MIT
// action = "sql": statements in one transaction (disable logins, stop orders).
// action = "sql_assert": a query and its expected result (a scalar, or a row count).
#include "actions/action.hpp"
#include "actions/pg_conn.hpp"
#include "actions/sql_check.hpp"
#include "actions/step_params.hpp"
#include "util/secrets.hpp"
#include "util/strings.hpp"

#include <memory>
#include <pqxx/connection_base>
#include <pqxx/nontransaction>
#include <pqxx/transaction>

namespace rollback::actions {
namespace {

// The plan shows what a statement does: its beginning ("UPDATE shop_switch SET ..."), not its end.
std::string first_words(const std::string& statement, size_t max_bytes) {
    if (statement.size() <= max_bytes) {
        return statement;
    }
    size_t cut = max_bytes - 3;
    while (cut > 0 && (static_cast<unsigned char>(statement[cut]) & 0xC0U) == 0x80U) {
        --cut; // never split a UTF-8 sequence
    }
    return statement.substr(0, cut) + "...";
}

// One statement and the values bound to its $1, $2, ...
struct Statement {
    std::string sql;
    std::vector<std::string> params;
};

// ` with $1 = "..." and $2 = "..."`: what the plan shows of the bound values (masked by the
// caller where secret).
std::string describe_params(const std::vector<std::string>& params) {
    std::string out;
    for (size_t i = 0; i < params.size(); ++i) {
        out += (i == 0 ? " with $" : " and $") + std::to_string(i + 1) + " = " +
               util::quoted(params[i]);
    }
    return out;
}

Check reachable(const std::string& dsn_text) {
    Check c;
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

void validate_dsn(StepParams& p) {
    if (auto dsn = p.string("dsn")) {
        try {
            Dsn::parse(*dsn);
        } catch (const util::Error& e) {
            p.error("dsn", e.what());
        }
    }
}

class SqlAction final : public Action {
  public:
    std::vector<std::string> keys() const override { return {"dsn", "statements", "sql"}; }
    std::map<std::string, playbook::Encoding> encodings() const override {
        return {{"sql", playbook::Encoding::sql}, {"statements", playbook::Encoding::sql}};
    }
    std::vector<std::string> required_keys() const override { return {"dsn"}; }

    std::vector<util::Diagnostic> validate(const playbook::Playbook&,
                                           const playbook::Step& step) const override {
        StepParams p(step);
        validate_dsn(p);
        statements(p);
        return p.diagnostics();
    }

    std::string describe(const playbook::Step& step) const override {
        StepParams p(step);
        auto st = statements(p);
        std::string dsn = p.string("dsn").value_or("");
        return "sql on " + util::mask_dsn(dsn) + ": " + std::to_string(st.size()) +
               " statement(s) in one transaction" +
               (st.empty()
                    ? ""
                    : ": " + first_words(st.front().sql, 80) + describe_params(st.front().params) +
                          (st.size() > 1 ? "; ..." : ""));
    }

    std::vector<Check> preflight(const Context& ctx) const override {
        StepParams p(ctx.step);
        return {reachable(p.string("dsn").value_or(""))};
    }

    Result run(const Context& ctx) const override {
        Result r;
        StepParams p(ctx.step);
        auto st = statements(p);
        if (!p.ok()) {
            r.summary = p.first_problem();
            return r;
        }
        size_t i = 0;
        try {
            auto conn = connect(Dsn::parse(p.string("dsn").value_or("")));
            pqxx::work tx(*conn);
            std::int64_t affected = 0;
            for (i = 0; i < st.size(); ++i) {
                affected += exec_sql(tx, st[i].sql, st[i].params).affected_rows();
            }
            tx.commit();
            r.status = Status::succeeded;
            r.exit_code = 0;
            r.summary = std::to_string(st.size()) + " statement(s) committed, " +
                        std::to_string(affected) + " row(s) affected";
            r.details["statements"] = st.size();
            r.details["rows_affected"] = affected;
        } catch (const util::Error& e) {
            r.summary = util::mask_secrets(e.what());
        } catch (const std::exception& e) {
            r.summary = "statement " + std::to_string(i + 1) +
                        " failed, transaction rolled back: " + db_error_text(e);
        }
        return r;
    }

  private:
    static std::vector<Statement> statements(StepParams& p) {
        auto list = p.strings("statements");
        auto one = p.string("sql");
        if (p.has("statements") && p.has("sql")) {
            p.error("sql", "give either \"sql\" or \"statements\", not both");
        } else if (!p.has("statements") && !p.has("sql")) {
            p.error("", "missing key \"sql\" or \"statements\"");
        }
        if (list) {
            if (list->empty()) {
                p.error("statements", "must not be empty");
            }
            std::vector<Statement> out;
            for (size_t i = 0; i < list->size(); ++i) {
                out.push_back({(*list)[i], p.sql_params("statements." + std::to_string(i))});
            }
            return out;
        }
        if (one) {
            return {{*one, p.sql_params("sql")}};
        }
        return {};
    }
};

class SqlAssertAction final : public Action {
  public:
    std::vector<std::string> keys() const override {
        return {"dsn", "query", "expect", "expect_rows"};
    }
    std::vector<std::string> required_keys() const override { return {"dsn", "query"}; }
    std::map<std::string, playbook::Encoding> encodings() const override {
        return {{"query", playbook::Encoding::sql}};
    }

    std::vector<util::Diagnostic> validate(const playbook::Playbook&,
                                           const playbook::Step& step) const override {
        StepParams p(step);
        validate_dsn(p);
        p.string("query");
        expectation(p);
        return p.diagnostics();
    }

    std::string describe(const playbook::Step& step) const override {
        StepParams p(step);
        auto e = expectation(p);
        return "assert on " + util::mask_dsn(p.string("dsn").value_or("")) + ": " +
               p.string("query").value_or("") + describe_params(p.sql_params("query")) +
               (e.scalar ? " = " + util::quoted(*e.scalar) : "") +
               (e.rows ? " → " + std::to_string(*e.rows) + " rows" : "");
    }

    std::vector<Check> preflight(const Context& ctx) const override {
        StepParams p(ctx.step);
        return {reachable(p.string("dsn").value_or(""))};
    }

    Result run(const Context& ctx) const override {
        Result r;
        StepParams p(ctx.step);
        auto e = expectation(p);
        std::string query = p.string("query").value_or("");
        if (!p.ok()) {
            r.summary = p.first_problem();
            return r;
        }
        try {
            auto conn = connect(Dsn::parse(p.string("dsn").value_or("")));
            // Read-only: an assertion never changes the database it checks.
            pqxx::read_transaction tx(*conn);
            std::string problem = check_sql(tx, query, p.sql_params("query"), e);
            r.exit_code = 0;
            if (problem.empty()) {
                r.status = Status::succeeded;
                r.summary = "assertion holds";
            } else {
                r.status = Status::verification_failed;
                r.summary = util::mask_secrets(problem);
            }
        } catch (const util::Error& ex) {
            r.summary = util::mask_secrets(ex.what());
        } catch (const std::exception& ex) {
            r.summary = db_error_text(ex);
        }
        return r;
    }

  private:
    static SqlExpectation expectation(StepParams& p) {
        SqlExpectation e;
        if (const auto* v = p.raw("expect")) {
            e.scalar = expectation_text(*v);
            if (!e.scalar) {
                p.error("expect", "expected a string, number or boolean");
            }
        }
        if (p.has("expect_rows")) {
            auto n = p.integer("expect_rows");
            if (n && *n < 0) {
                p.error("expect_rows", "must be 0 or more");
            }
            e.rows = n;
        }
        if (!p.has("expect") && !p.has("expect_rows")) {
            p.error("", "missing key \"expect\" or \"expect_rows\"");
        }
        return e;
    }
};

} // namespace

std::unique_ptr<Action> make_sql_action() {
    return std::make_unique<SqlAction>();
}
std::unique_ptr<Action> make_sql_assert_action() {
    return std::make_unique<SqlAssertAction>();
}

} // namespace rollback::actions
