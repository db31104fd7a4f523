// SPDX-License-Identifier: MIT
// Values stay values in a connection string (DESIGN.md, trust invariant 5; docs/playbook.md
// "Substitution", the DSN row): a {{variable}} in the `dsn` of sql, sql_assert and pg_restore is
// one parameter value, whatever it holds. The reference model is libpq itself: every generated
// value, substituted into key=value and URI forms, must come back from libpq's parser
// (db::Dsn::parse) as exactly that value of exactly that parameter, and no other parameter may
// appear.
#include "actions/action.hpp"
#include "db/connection.hpp"
#include "playbook/loader.hpp"
#include "playbook/variables.hpp"
#include "support/temp_dir.hpp"
#include "util/secrets.hpp"

#include <doctest/doctest.h>
#include <random>

using namespace rollback;
using playbook::Encoding;

namespace {

struct Form {
    std::string text; ///< with {{v}}
    std::string key;  ///< the parameter {{v}} is in
    std::string pre;  ///< literal text of that parameter's value before {{v}}
    std::string post; ///< and after it
    std::vector<std::pair<std::string, std::string>> others; ///< every other parameter
};

const std::vector<Form> k_forms{
    {"host=/tmp port=5432 dbname={{v}}", "dbname", "", "", {{"host", "/tmp"}, {"port", "5432"}}},
    {"dbname={{v}} host=/tmp", "dbname", "", "", {{"host", "/tmp"}}},
    {"dbname = {{v}}  user=u", "dbname", "", "", {{"user", "u"}}},
    {"user=u dbname={{v}}", "dbname", "", "", {{"user", "u"}}},
    {"dbname='{{v}}' user=u", "dbname", "", "", {{"user", "u"}}},
    {"dbname='shop {{v}} x' user=u", "dbname", "shop ", " x", {{"user", "u"}}},
    {"dbname=shop_{{v}}_x user=u", "dbname", "shop_", "_x", {{"user", "u"}}},
    {"dbname={{v}}_x user=u", "dbname", "", "_x", {{"user", "u"}}},
    {"application_name={{v}}", "application_name", "", "", {}},
    {"password={{v}} user=u", "password", "", "", {{"user", "u"}}},
    {"postgresql://h/{{v}}", "dbname", "", "", {{"host", "h"}}},
    {"postgresql://h:5433/{{v}}?user=u",
     "dbname",
     "",
     "",
     {{"host", "h"}, {"port", "5433"}, {"user", "u"}}},
    {"postgres://{{v}}@h/db", "user", "", "", {{"host", "h"}, {"dbname", "db"}}},
    {"postgresql://u:{{v}}@h/db",
     "password",
     "",
     "",
     {{"user", "u"}, {"host", "h"}, {"dbname", "db"}}},
    {"postgresql:///db?host=/tmp&application_name={{v}}",
     "application_name",
     "",
     "",
     {{"dbname", "db"}, {"host", "/tmp"}}},
    {"postgresql://h/shop_{{v}}", "dbname", "shop_", "", {{"host", "h"}}},
};

// Characters that end, quote, escape or add parameters in one form or the other.
const std::string k_alphabet = "ab= '\\\"?&/@:#%+,;\t\n$x.-";

std::string random_value(std::mt19937& rng) {
    std::uniform_int_distribution<size_t> len(0, 12), pick(0, k_alphabet.size() - 1);
    std::string v;
    for (size_t n = len(rng); n > 0; --n) {
        v += k_alphabet[pick(rng)];
    }
    return v;
}

std::string substitute(const std::string& text, const std::string& value,
                       std::vector<std::string>& problems) {
    playbook::Substituter s({{"v", value}});
    std::vector<std::string> uses;
    return s.apply(text, Encoding::dsn, uses, problems).text;
}

// The value libpq reads for form.key is pre + value + post, and the other parameters are the
// form's own: nothing the value holds added, changed or dropped a parameter.
void check_one_value(const Form& form, const std::string& value) {
    std::vector<std::string> problems;
    const std::string dsn = substitute(form.text, value, problems);
    INFO("form: " << form.text << "  value: [" << value << "]  dsn: " << dsn);
    REQUIRE(problems.empty());
    db::Dsn parsed = db::Dsn::parse(dsn);
    CHECK(parsed.param(form.key) == form.pre + value + form.post);
    for (const auto& [k, v] : form.others) {
        CHECK(parsed.param(k) == v);
    }
    util::clear_secrets(); // the generated passwords: registered by parsing, not kept
    for (const std::string injected : {"hostaddr", "port", "host", "sslmode", "options"}) {
        bool expected = injected == form.key;
        for (const auto& [k, v] : form.others) {
            expected = expected || k == injected;
        }
        if (!expected) {
            CHECK(parsed.param(injected).empty());
        }
    }
}

} // namespace

TEST_SUITE("actions") {
    TEST_CASE("dsn: a value is one parameter value — libpq reads it back exactly") {
        for (const auto& form : k_forms) {
            for (const std::string value :
                 {"shop dbname=other", "shop host=127.0.0.1 port=1", "shop' host='evil",
                  "shop?dbname=other", "shop&host=evil", "a\\", "\\'", "'", "", " ", "x y",
                  "postgresql://evil/db", "u@evil:1/db", "100%", "#x", "a\tb\nc"}) {
                check_one_value(form, value);
            }
        }
    }

    TEST_CASE("dsn: generated values in every form — libpq is the reference") {
        std::mt19937 rng(20261206);
        for (int i = 0; i < 3000; ++i) {
            const Form& form = k_forms[static_cast<size_t>(i) % k_forms.size()];
            check_one_value(form, random_value(rng));
        }
    }

    TEST_CASE("dsn: the base DSN at the start is a DSN — later values stay values") {
        std::vector<std::string> problems;
        playbook::Substituter s({{"base", "host=/tmp user=u"}, {"db", "x host=evil"}});
        std::vector<std::string> uses;
        auto out = s.apply("{{base}} dbname={{db}}", Encoding::dsn, uses, problems);
        REQUIRE(problems.empty());
        db::Dsn d = db::Dsn::parse(out.text);
        CHECK(d.host() == "/tmp");
        CHECK(d.dbname() == "x host=evil");
        out = s.apply("{{db}}", Encoding::dsn, uses, problems);
        CHECK(out.text == "x host=evil"); // the whole DSN from a variable: its own choice
    }

    TEST_CASE("dsn: where no quoting keeps a value one value the reference is refused") {
        struct Case {
            std::string text;
            std::string value;
            std::string problem;
        };
        const std::vector<Case> cases{
            {"host=/tmp {{v}}", "dbname=x",
             "{{v}} where a connection string takes a parameter name: a value can only be a "
             "parameter's value (write name={{...}})"},
            {"host=/tmp d{{v}}=x", "b",
             "{{v}} where a connection string takes a parameter name: a value can only be a "
             "parameter's value (write name={{...}})"},
            {"dbname=a\\{{v}}", "b",
             "{{v}} right after a backslash in the connection string: the backslash would take "
             "the value's first character"},
            {"dbname={{v}}'x'", "b",
             "{{v}} directly before a quote: whether the value is quoted would depend on the "
             "value"},
            {"postgresql://h/db?{{v}}=x", "host",
             "{{v}} in a parameter name of the connection URI: a value can only be a "
             "parameter's value (write ?name={{...}})"},
            {"postgres{{v}}", "ql://h/db", "{{v}} inside the connection URI's scheme"},
            {"host={{v}} dbname=d", "a,b",
             "the value of {{v}} is the value of host, a comma-separated list: the value holds "
             "a comma, which would make it several"},
            {"host=/tmp port='{{v}}'", "5432,1",
             "the value of {{v}} is the value of port, a comma-separated list: the value holds "
             "a comma, which would make it several"},
            {"postgresql://{{v}}/db", "evil,good",
             "the value of {{v}} is the value of host, a comma-separated list: the value holds "
             "a comma, which would make it several"},
            {"host=/tmp options='-c search_path={{v}}'", "x",
             "the value of {{v}} is in options, which the server splits into command-line "
             "options: a value cannot be kept one value there (set the parameter in the "
             "playbook's text)"},
            {"host=/tmp dbname={{v}}", std::string("a\0b", 3),
             "the value of {{v}} contains a NUL byte, which a connection string cannot carry"},
        };
        for (const auto& c : cases) {
            std::vector<std::string> problems;
            substitute(c.text, c.value, problems);
            INFO(c.text);
            REQUIRE(problems.size() == 1);
            CHECK(problems[0] == c.problem);
        }
        // A comma in a host name read from a variable is fine where it is not a list.
        std::vector<std::string> problems;
        CHECK(substitute("host=/tmp application_name={{v}}", "a,b", problems) ==
              "host=/tmp application_name='a,b'");
        CHECK(problems.empty());
    }

    TEST_CASE("dsn: the sql and pg_restore actions write dsn in the DSN encoding — located") {
        test::TempDir dir;
        std::map<std::string, std::string> env;
        playbook::LoadOptions options;
        options.environment = &env;
        for (const auto& name : actions::action_names()) {
            const actions::Action* a = actions::find_action(name);
            options.actions.push_back({name, a->keys(), a->required_keys(), a->encodings()});
        }
        auto pb_path = dir.write("pb.toml", R"(
[vars]
db = "shop dbname=other"
[[step]]
id = "s"
action = "sql"
dsn = "host=/tmp dbname={{db}}"
sql = "SELECT 1"
[[step]]
id = "a"
action = "sql_assert"
dsn = "postgresql://h/{{db}}"
query = "SELECT 1"
expect = "1"
[[step]]
id = "r"
action = "pg_restore"
dsn = "host=/tmp dbname={{db}}"
catalog = "backups"
)");
        auto pb = playbook::load(pb_path, options);
        CHECK(pb.steps[0].params.at("dsn").as_string() == "host=/tmp dbname='shop dbname=other'");
        CHECK(pb.steps[1].params.at("dsn").as_string() == "postgresql://h/shop%20dbname%3Dother");
        CHECK(pb.steps[2].params.at("dsn").as_string() == "host=/tmp dbname='shop dbname=other'");

        dir.write("bad.toml", R"(
[vars]
db = "x"
[[step]]
id = "s"
action = "sql"
dsn = "host=/tmp {{db}}"
sql = "SELECT 1"
)");
        try {
            playbook::load(dir / "bad.toml", options);
            FAIL("a reference in a key position was accepted");
        } catch (const util::InvalidInput& e) {
            REQUIRE(e.diagnostics().size() == 1);
            CHECK(e.diagnostics()[0].where.line == 7);
            CHECK(e.diagnostics()[0].subject == "step \"s\"");
        }
    }
}
