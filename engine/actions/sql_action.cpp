// SPDX-License-Identifier: MIT
// action = "sql": statements in one transaction (disable logins, stop orders).
// action = "sql_assert": a query and its expected result (a scalar, or a row count).
#include "actions/db_sessions.hpp"
#include "actions/kind_action.hpp"
#include "actions/sql_text.hpp"
#include "db/connection.hpp"
#include "db/sql_run.hpp"
#include "util/secrets.hpp"
#include "util/strings.hpp"

#include <memory>

namespace rollback::actions {

using namespace db; // the database work is db/'s: this file adapts it to a step
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

Check reachable(const std::string& dsn) {
    PreflightLine c = check_reachable(dsn);
    return {c.ok, std::move(c.what), std::move(c.problem), std::move(c.hint), c.notice};
}

std::string read_dsn(StepParams& p) {
    auto dsn = p.string("dsn");
    if (dsn) {
        try {
            Dsn::parse(*dsn);
        } catch (const util::Error& e) {
            p.error("dsn", e.what());
        }
    }
    return dsn.value_or("");
}

struct Sql {
    static constexpr std::string_view name = "sql";
    struct Params : playbook::ActionParams {
        std::string dsn;
        std::vector<Statement> statements;
    };

    static std::vector<std::string> keys() { return {"dsn", "statements", "sql"}; }
    static std::map<std::string, playbook::Encoding> encodings() {
        return {{"dsn", playbook::Encoding::dsn},
                {"sql", playbook::Encoding::sql},
                {"statements", playbook::Encoding::sql}};
    }
    static std::vector<std::string> required_keys() { return {"dsn"}; }

    static Params parse(StepParams& p, const playbook::Playbook&, const playbook::Step&) {
        Params out;
        out.dsn = read_dsn(p);
        out.statements = statements(p);
        return out;
    }

    static std::string describe(const playbook::Step&, const Params& s) {
        const auto& st = s.statements;
        return "sql on " + util::mask_dsn(s.dsn) + ": " + std::to_string(st.size()) +
               " statement(s) in one transaction" +
               (st.empty()
                    ? ""
                    : ": " + first_words(st.front().sql, 80) + describe_params(st.front().params) +
                          (st.size() > 1 ? "; ..." : ""));
    }

    static std::vector<Check> preflight(const Context&, const Params& s) {
        return {reachable(s.dsn)};
    }

    static Result run(const Context& ctx, const Params& s) {
        Result r;
        StatementsOutcome o = fenced_work([&] {
            return run_statements(
                s.dsn, s.statements,
                step_session(ctx, "the commit of step " + util::quoted(ctx.step.id)));
        });
        r.summary = std::move(o.summary);
        if (o.ok) {
            r.status = Status::succeeded;
            r.exit_code = 0;
            r.details["statements"] = s.statements.size();
            r.details["rows_affected"] = o.rows_affected;
        }
        return r;
    }

    static SessionSweep end_sessions(const Params& s, const std::vector<std::string>& names,
                                     util::Millis wait) {
        return end_db_sessions(s.dsn, false, names, wait);
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
                refuse_transaction_control(p, "statements", (*list)[i],
                                           "\"statements\" entry " + std::to_string(i + 1), false);
                out.push_back({(*list)[i], p.sql_params("statements." + std::to_string(i))});
            }
            return out;
        }
        if (one) {
            refuse_transaction_control(p, "sql", *one, "", false);
            return {{*one, p.sql_params("sql")}};
        }
        return {};
    }
};

struct SqlAssert {
    static constexpr std::string_view name = "sql_assert";
    struct Params : playbook::ActionParams {
        std::string dsn;
        std::string query;
        std::vector<std::string> query_params; ///< the bound values of its {{variables}}
        SqlExpectation expect;
    };

    static std::vector<std::string> keys() { return {"dsn", "query", "expect", "expect_rows"}; }
    static std::vector<std::string> required_keys() { return {"dsn", "query"}; }
    static std::map<std::string, playbook::Encoding> encodings() {
        return {{"dsn", playbook::Encoding::dsn}, {"query", playbook::Encoding::sql}};
    }

    static Params parse(StepParams& p, const playbook::Playbook&, const playbook::Step&) {
        Params out;
        out.dsn = read_dsn(p);
        out.query = p.string("query").value_or("");
        refuse_transaction_control(p, "query", out.query, "", true);
        out.query_params = p.sql_params("query");
        out.expect = expectation(p);
        return out;
    }

    static std::string describe(const playbook::Step&, const Params& a) {
        const auto& e = a.expect;
        return "assert on " + util::mask_dsn(a.dsn) + ": " + a.query +
               describe_params(a.query_params) + (e.scalar ? " = " + util::quoted(*e.scalar) : "") +
               (e.rows ? " → " + std::to_string(*e.rows) + " rows" : "");
    }

    static std::vector<Check> preflight(const Context&, const Params& a) {
        return {reachable(a.dsn)};
    }

    static Result run(const Context& ctx, const Params& a) {
        Result r;
        // Read-only: nothing to fence; named, so that a resume ends a query still running.
        AssertionOutcome o =
            check_assertion(a.dsn, a.query, a.query_params, a.expect, ctx.session_name);
        switch (o.verdict) {
        case AssertionOutcome::Verdict::holds:
            r.status = Status::succeeded;
            r.exit_code = 0;
            r.summary = "assertion holds";
            break;
        case AssertionOutcome::Verdict::fails:
            r.status = Status::verification_failed;
            r.exit_code = 0;
            r.summary = std::move(o.text);
            break;
        case AssertionOutcome::Verdict::error:
            r.summary = std::move(o.text);
            break;
        }
        return r;
    }

    static SessionSweep end_sessions(const Params& a, const std::vector<std::string>& names,
                                     util::Millis wait) {
        return end_db_sessions(a.dsn, false, names, wait);
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
    return std::make_unique<KindAction<Sql>>();
}
std::unique_ptr<Action> make_sql_assert_action() {
    return std::make_unique<KindAction<SqlAssert>>();
}

} // namespace rollback::actions
