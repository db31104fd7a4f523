// SPDX-License-Identifier: MIT
// action = "sql": statements in one transaction (disable logins, stop orders).
// action = "sql_assert": a query and its expected result (a scalar, or a row count).
#include "actions/action.hpp"
#include "actions/step_params.hpp"
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
        StatementsOutcome o = run_statements(p.string("dsn").value_or(""), st);
        r.summary = std::move(o.summary);
        if (o.ok) {
            r.status = Status::succeeded;
            r.exit_code = 0;
            r.details["statements"] = st.size();
            r.details["rows_affected"] = o.rows_affected;
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
        AssertionOutcome o =
            check_assertion(p.string("dsn").value_or(""), query, p.sql_params("query"), e);
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
