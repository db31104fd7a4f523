// SPDX-License-Identifier: MIT
// Values stay values (DESIGN.md, trust invariant 5): each encoding, with the values an attacker
// or an unlucky operator would give. The shell cases are run by the real /bin/sh.
#include "playbook/variables.hpp"

#include "playbook/loader.hpp"
#include "support/temp_dir.hpp"
#include "util/error.hpp"
#include "util/files.hpp"
#include "util/strings.hpp"

#include <boost/json/parse.hpp>
#include <cstdlib>
#include <doctest/doctest.h>
#include <sys/wait.h>

using namespace rollback;
using playbook::Encoding;
using playbook::Substituter;
namespace fs = std::filesystem;

namespace {

// Values that break text that splices them: quotes, separators, substitutions, line breaks,
// a reference, a backslash, a trailing backslash.
const std::vector<std::string> k_evil{
    "x'); DROP TABLE victim; --",
    "v1; touch PWNED; echo $(id -un)",
    "a\"b'c",
    "`touch PWNED`",
    "$(touch PWNED)",
    "line1\r\nX-Injected: yes",
    "{{other}}",
    "back\\slash\\",
    "'",
    "",
    " spaced  out ",
    "\"$HOME\" '$HOME' \\$HOME",
};

playbook::Substitution apply(const std::string& text, Encoding e, const std::string& value,
                             std::vector<std::string>* problems_out = nullptr) {
    Substituter s({{"v", value}, {"other", "OTHER"}, {"w", "second"}});
    std::vector<std::string> uses, problems;
    auto out = s.apply(text, e, uses, problems);
    if (problems_out != nullptr) {
        *problems_out = problems;
    } else {
        INFO("problems: " << (problems.empty() ? "" : problems.front()));
        CHECK(problems.empty());
    }
    return out;
}

// Runs `command` with /bin/sh in `dir` and returns what it printed.
std::string run_sh(const test::TempDir& dir, const std::string& command) {
    fs::path script = dir.write("script.sh", command);
    fs::path out = dir / "out.txt";
    std::string line = "cd '" + dir.path().string() + "' && /bin/sh '" + script.string() + "' > '" +
                       out.string() + "' 2>&1";
    int rc = std::system(line.c_str());
    REQUIRE(WIFEXITED(rc));
    return util::read_file(out);
}

} // namespace

TEST_SUITE("playbook") {
    TEST_CASE("shell text: a reference is refused in every quoting for every value") {
        // Round 23 found values run through quoted words (backquotes, here-strings, $'...',
        // ${...}, test -v, trap): no value is written into shell text any more.
        const std::vector<std::string> forms{
            "printf '[%s]' {{v}}",
            "printf '[%s]' \"pre {{v}} post\"",
            "printf '[%s]' 'pre {{v}} post'",
            "printf '[%s]' \"$(printf '%s' {{v}})\"",
            "echo `echo {{v}}`",
            "cat <<< \"a {{v}}\"",
            "echo $'{{v}}'",
            "echo \"${x:-\"{{v}}\"}\"",
            "trap {{v}} EXIT",
            "test -v {{v}}",
            "echo $[ 1 + {{v}} ]",
            "x={{v}}; $x",
        };
        for (const auto& value : k_evil) {
            for (const auto& f : forms) {
                CAPTURE(f);
                CAPTURE(value);
                std::vector<std::string> problems;
                auto out = apply(f, Encoding::shell, value, &problems);
                REQUIRE(problems.size() == 1);
                CHECK(problems[0].find("{{v}} in shell text") == 0);
                CHECK(problems[0].find("env = { V = \"{{v}}\" } and \"$V\"") != std::string::npos);
                CHECK(out.text == util::replace_all(f, "{{v}}", "")); // the value is not written
            }
        }
        // Each reference is one problem; text without a reference is untouched.
        std::vector<std::string> problems;
        apply("echo {{v}} {{w}}", Encoding::shell, "x", &problems);
        CHECK(problems.size() == 2);
        CHECK(apply("echo \"$V\" {{ open", Encoding::shell, "x").text == "echo \"$V\" {{ open");
    }

    TEST_CASE("shell text: the environment route keeps every value data — run by /bin/sh") {
        test::TempDir dir;
        for (const auto& value : k_evil) {
            if (value.find('\0') != std::string::npos) {
                continue;
            }
            CAPTURE(value);
            REQUIRE(::setenv("V", value.c_str(), 1) == 0);
            CHECK(run_sh(dir, "printf '[%s]' \"$V\"") == "[" + value + "]");
            CHECK(run_sh(dir, "sh -c 'printf \"[%s]\" \"$1\"' sh \"$V\"") == "[" + value + "]");
            CHECK_FALSE(fs::exists(dir / "PWNED"));
        }
        ::unsetenv("V");
    }

    TEST_CASE("shell: the argv of sh -c is recognised") {
        using playbook::shell_command_index;
        CHECK(shell_command_index({"sh", "-c", "echo", "sh", "x"}) == 2);
        CHECK(shell_command_index({"/bin/bash", "-euc", "echo"}) == 2);
        CHECK(shell_command_index({"bash", "-e", "-c", "echo"}) == 3);
        CHECK(shell_command_index({"sh", "script.sh", "-c"}) == 0);
        CHECK(shell_command_index({"echo", "-c", "x"}) == 0);
        CHECK(shell_command_index({"sh", "-c"}) == 0);
        CHECK(shell_command_index({"bash", "--norc", "-c", "x"}) == 3);
        // Round 23/15: after -c the command string is the first operand, whatever options
        // stand between; -o at the end of a letter group takes the next element.
        CHECK(shell_command_index({"bash", "-c", "-x", "echo"}) == 3);
        CHECK(shell_command_index({"bash", "-ce", "-o", "pipefail", "echo"}) == 4);
        CHECK(shell_command_index({"sh", "-eo", "errexit", "-c", "echo"}) == 4);
        CHECK(shell_command_index({"bash", "-c", "-o", "errexit", "+x", "--", "echo"}) == 6);
        CHECK(shell_command_index({"sh", "-x", "script.sh", "-c"}) == 0);
    }

    TEST_CASE(
        "shell: the command string is found behind wrappers and options — other code refused") {
        using playbook::script_argument;
        using playbook::shell_command_index;
        // The break-it review's forms: each ran $(...) from a value before.
        CHECK(shell_command_index({"env", "sh", "-c", "echo"}) == 3);
        CHECK(shell_command_index({"/usr/bin/env", "bash", "-c", "echo"}) == 3);
        CHECK(shell_command_index({"timeout", "5", "sh", "-c", "echo"}) == 4);
        CHECK(shell_command_index({"nice", "-n", "5", "sh", "-c", "echo"}) == 5);
        CHECK(shell_command_index({"setsid", "sh", "-c", "echo"}) == 3);
        CHECK(shell_command_index({"runuser", "-u", "root", "--", "sh", "-c", "echo"}) == 6);
        CHECK(shell_command_index({"su", "root", "-c", "echo"}) == 3);
        CHECK(shell_command_index({"sudo", "-u", "app", "bash", "-lc", "echo"}) == 5);
        CHECK(shell_command_index({"sh", "-o", "errexit", "-c", "echo"}) == 4);
        CHECK(shell_command_index({"sh", "-c", "--", "echo"}) == 3);
        CHECK(shell_command_index({"busybox", "sh", "-c", "echo"}) == 3);
        CHECK(shell_command_index({"sh", "--", "script.sh"}) == 0);
        // The arguments after the command string are data.
        CHECK(shell_command_index({"sh", "-c", "echo \"$1\"", "sh", "bash -c x"}) == 2);
        // Another language's code: found, not shell.
        for (auto argv : std::vector<std::vector<std::string>>{{"python3", "-c", "print(1)"},
                                                               {"perl", "-e", "print 1"},
                                                               {"env", "node", "-e", "x"},
                                                               {"ruby", "-e", "x"}}) {
            auto s = script_argument(argv);
            CHECK(s.index == argv.size() - 1);
            CHECK_FALSE(s.shell);
        }
        CHECK(script_argument({"python3", "tool.py", "-c", "x"}).index == 0);
    }

    TEST_CASE("sql: a value is a bound parameter — never SQL text") {
        auto s = apply("UPDATE accounts SET note = '{{v}}' WHERE id = {{w}} AND n <> {{v}}",
                       Encoding::sql, k_evil[0]);
        CHECK(s.text == "UPDATE accounts SET note = $1 WHERE id = $2 AND n <> $1");
        CHECK(s.params == std::vector<std::string>{k_evil[0], "second"});
        for (const auto& value : k_evil) {
            auto t = apply("SELECT {{v}}::text, '{{v}}'", Encoding::sql, value);
            CHECK(t.text == "SELECT $1::text, $1");
            CHECK(t.params == std::vector<std::string>{value});
        }
        // Quotes, identifiers, dollar quotes and comments written around the reference.
        CHECK(apply("SELECT 'it''s', \"col\"\"x\", $$a'b$$, $t$'$t$ -- '\n, {{v}} /* ' */",
                    Encoding::sql, "x")
                  .text == "SELECT 'it''s', \"col\"\"x\", $$a'b$$, $t$'$t$ -- '\n, $1 /* ' */");
        CHECK(apply("SELECT 'a'''", Encoding::sql, "x").params.empty());
    }

    TEST_CASE("sql: a reference where SQL cannot take a value is refused") {
        for (const char* tmpl :
             {"SELECT 'pre {{v}}'", "SELECT '{{v}} post'", "SELECT 'a''{{v}}'", "SELECT \"{{v}}\"",
              "SELECT $$ {{v}} $$", "SELECT 1 -- {{v}}", "SELECT /* {{v}} */ 1"}) {
            std::vector<std::string> problems;
            apply(tmpl, Encoding::sql, "x", &problems);
            INFO(tmpl);
            REQUIRE(problems.size() == 1);
            CHECK(problems[0].find("{{v}} inside a ") == 0);
        }
        std::vector<std::string> problems;
        apply("SELECT 'pre {{v}}'", Encoding::sql, "x", &problems);
        CHECK(problems[0] == "{{v}} inside a SQL string literal: a value is a bound parameter, "
                             "never text in a literal; write {{v}} alone (or '{{v}}'), and build "
                             "text with || ('prefix-' || {{v}})");
        apply("SELECT {{v}}", Encoding::sql, std::string("a\0b", 3), &problems);
        CHECK(problems == std::vector<std::string>{
                              "the value of {{v}} contains a NUL byte, which a SQL parameter "
                              "cannot carry"});
    }

    TEST_CASE("url: the base URL whole — every other value one percent-encoded component") {
        CHECK(apply("{{v}}/health/?q={{w}}", Encoding::url, "http://127.0.0.1:8000").text ==
              "http://127.0.0.1:8000/health/?q=second");
        CHECK(apply("http://h/api/{{v}}?q={{v}}#{{v}}", Encoding::url, "a/b?c=d&e#f g\r\n").text ==
              "http://h/api/a%2Fb%3Fc%3Dd%26e%23f%20g%0D%0A?q=a%2Fb%3Fc%3Dd%"
              "26e%23f%20g%0D%0A#a%2Fb%3Fc%3Dd%26e%23f%20g%0D%0A");
        // Dot segments only matter in the path: a query value or fragment may be "..".
        CHECK(apply("http://h/api/x?q={{v}}#{{v}}", Encoding::url, "..").text ==
              "http://h/api/x?q=..#..");
        std::vector<std::string> problems;
        apply("{{v}}/x", Encoding::url, "http://h/\r\nX-Injected: yes", &problems);
        CHECK(problems == std::vector<std::string>{
                              "the value of {{v}} begins the URL and contains whitespace, a line "
                              "break or NUL; a base URL cannot"});
    }

    TEST_CASE("header: CR — LF and NUL are refused — other values are kept") {
        for (const auto& value : k_evil) {
            std::vector<std::string> problems;
            auto h = apply("Bearer {{v}}", Encoding::header, value, &problems);
            bool breaks = value.find_first_of("\r\n") != std::string::npos;
            INFO(value);
            CHECK(problems.size() == (breaks ? 1U : 0U));
            if (!breaks) {
                CHECK(h.text == "Bearer " + value);
            }
        }
        std::vector<std::string> problems;
        apply("{{v}}", Encoding::header, std::string("a\0b", 3), &problems);
        CHECK(problems.size() == 1);
    }

    TEST_CASE("json: inside a string escaped — elsewhere a string or a number") {
        for (const auto& value : k_evil) {
            std::string text =
                apply("{\"a\": \"<{{v}}>\", \"b\": {{v}}, \"c\": [{{v}}]}", Encoding::json, value)
                    .text;
            INFO(text);
            auto doc = boost::json::parse(text).as_object();
            CHECK(doc["a"].as_string() == "<" + value + ">");
            CHECK(doc["b"].as_string() == value);
            CHECK(doc["c"].as_array()[0].as_string() == value);
        }
        CHECK(apply("{\"n\": {{v}}}", Encoding::json, "-12.5e3").text == "{\"n\": -12.5e3}");
        CHECK(apply("{\"n\": {{v}}}", Encoding::json, "12abc").text == "{\"n\": \"12abc\"}");
    }

    TEST_CASE("form and plain: percent-encoded — as it is — never scanned again") {
        CHECK(apply("user={{v}}&password=x", Encoding::form, "a&password=b c").text ==
              "user=a%26password%3Db%20c&password=x");
        for (const auto& value : k_evil) {
            CHECK(apply("<{{v}}>", Encoding::plain, value).text == "<" + value + ">");
        }
        std::vector<std::string> problems;
        apply("{{v}}", Encoding::plain, std::string("a\0b", 3), &problems);
        CHECK(problems.size() == 1);
    }

    TEST_CASE("the loader writes each key in its action's encoding — located") {
        test::TempDir dir;
        std::map<std::string, std::string> env{{"EVIL", k_evil[1]}};
        playbook::LoadOptions options;
        options.environment = &env;
        options.actions.push_back({"sql",
                                   {"dsn", "sql", "statements"},
                                   {},
                                   {{"sql", Encoding::sql}, {"statements", Encoding::sql}}});
        options.actions.push_back(
            {"http",
             {"url", "headers", "body"},
             {},
             {{"url", Encoding::url}, {"headers.*", Encoding::header}, {"body", Encoding::plain}}});
        fs::path pb = dir.write("pb.toml", R"(
[vars]
evil = { env = "EVIL" }
nl = "a\r\nX-Injected: yes"

[[step]]
id = "shell"
action = "exec"
shell = true
argv = "echo \"$EVIL\" > out"
env = { EVIL = "{{evil}}" }

[[step]]
id = "sh-c"
action = "exec"
argv = ["sh", "-c", "echo \"$1\"", "sh", "{{evil}}"]
probe = "test -s out"

[[step]]
id = "db"
action = "sql"
dsn = "host=/tmp"
statements = ["UPDATE t SET note = '{{evil}}'", "SELECT 1"]

[[step]]
id = "api"
action = "http"
url = "http://127.0.0.1/x/{{evil}}"
headers = { Content-Type = "application/json" }
body = '{"note": "{{evil}}"}'
)");
        auto loaded = playbook::load(pb, options);
        const auto* shell = loaded.find_step("shell");
        CHECK(shell->argv == std::vector<std::string>{"echo \"$EVIL\" > out"});
        CHECK(shell->env.at("EVIL") == k_evil[1]);
        const auto* shc = loaded.find_step("sh-c");
        CHECK(shc->argv == std::vector<std::string>{"sh", "-c", "echo \"$1\"", "sh", k_evil[1]});
        const auto* db = loaded.find_step("db");
        CHECK(db->params.at("statements").as_array()[0].as_string() == "UPDATE t SET note = $1");
        CHECK(db->sql_params.at("statements.0") == std::vector<std::string>{k_evil[1]});
        CHECK(db->sql_params.count("statements.1") == 0);
        const auto* api = loaded.find_step("api");
        CHECK(api->params.at("url").as_string() ==
              "http://127.0.0.1/x/v1%3B%20touch%20PWNED%3B%20echo%20%24%28id%20-un%29");
        CHECK(boost::json::parse(api->params.at("body").as_string()).at("note").as_string() ==
              k_evil[1]);

        fs::path bad = dir.write("bad.toml", R"([vars]
nl = "a\r\nX-Injected: yes"

[[step]]
id = "api"
action = "http"
url = "http://127.0.0.1/"
headers = { X-Note = "{{nl}}" }

[[step]]
id = "db"
action = "sql"
dsn = "host=/tmp"
sql = "UPDATE t SET note = 'why: {{nl}}'"
)");
        try {
            playbook::load(bad, options);
            FAIL("expected the header and the literal to be refused");
        } catch (const util::InvalidInput& e) {
            REQUIRE(e.diagnostics().size() == 2);
            CHECK(e.diagnostics()[0].where.line == 8);
            CHECK(e.diagnostics()[0].problem ==
                  "the value of {{nl}} contains a line break (CR or LF) or NUL, which would end "
                  "the header; a header value cannot carry it");
            CHECK(e.diagnostics()[1].where.line == 14);
            CHECK(e.diagnostics()[1].problem.find("{{nl}} inside a SQL string literal") == 0);
        }
    }

    TEST_CASE("url: a value that makes a path segment empty or a dot segment is refused") {
        // break-it 23/02: /users/{{user}}/admin-reset with user = ".." reached /admin-reset.
        // Reference model: the segments of the substituted path, percent-decoded, split again
        // at '/' and '\\'; a segment that holds a value is refused when it is empty or one of
        // its pieces is "." or "..".
        const std::vector<std::string> parts{"",   ".",    "..", "a",   "%2e", "/",
                                             "./", "..\\", ".a", "...", " .",  "a/../b"};
        auto model_refuses = [](const std::string& segment) {
            if (segment.empty()) {
                return true;
            }
            std::string piece;
            for (size_t i = 0; i <= segment.size(); ++i) {
                if (i == segment.size() || segment[i] == '/' || segment[i] == '\\') {
                    if (piece == "." || piece == "..") {
                        return true;
                    }
                    piece.clear();
                } else {
                    piece += segment[i];
                }
            }
            return false;
        };
        for (const std::string& template_text : {std::string("http://h/users/{{a}}{{b}}/reset"),
                                                 std::string("http://h/users/{{a}}{{b}}"),
                                                 std::string("http://h/users/{{a}}{{b}}?x=1"),
                                                 std::string("{{base}}/u/{{a}}{{b}}/r")}) {
            for (const auto& a : parts) {
                for (const auto& b : parts) {
                    CAPTURE(template_text);
                    CAPTURE(a);
                    CAPTURE(b);
                    Substituter s({{"a", a}, {"b", b}, {"base", "http://h:8/api"}});
                    std::vector<std::string> uses, problems;
                    auto out = s.apply(template_text, Encoding::url, uses, problems);
                    // The value as it arrives: its own text ("%2e" is a literal %, encoded as
                    // %25 and so never a dot).
                    const bool refused = model_refuses(a + b);
                    CHECK(problems.size() == (refused ? 1U : 0U));
                    if (refused && !problems.empty()) {
                        CHECK(problems[0].find("the value of {{a}} and {{b}} makes ") == 0);
                        CHECK(problems[0].find("the request would address another resource") !=
                              std::string::npos);
                    }
                }
            }
        }
        // The literal text counts with the value: %2E written in the URL and a value "." make "..".
        std::vector<std::string> problems;
        apply("http://h/users/%2E{{v}}/reset", Encoding::url, ".", &problems);
        CHECK(problems == std::vector<std::string>{
                              "the value of {{v}} makes the URL path segment \"..\", which URL "
                              "resolvers and proxies remove with the segment before it (RFC "
                              "3986 §5.2.4): the request would address another resource"});
        // A value that holds more than the dot segment is never quoted (it may be a secret).
        apply("http://h/users/{{v}}/reset", Encoding::url, "Zq8Secret/../x", &problems);
        REQUIRE(problems.size() == 1);
        CHECK(problems[0].find("Zq8Secret") == std::string::npos);
        CHECK(problems[0].find("makes a URL path segment holding \"..\" between slashes") !=
              std::string::npos);
        apply("http://h/users/{{v}}/reset", Encoding::url, "", &problems);
        CHECK(problems == std::vector<std::string>{
                              "the value of {{v}} makes an empty URL path segment (//), which URL "
                              "resolvers and proxies merge with its neighbour (RFC 3986 §5.2.4): "
                              "the request would address another resource"});
        // A segment without a value is the author's: /a/../b is written, not substituted.
        apply("http://h/a/../b/{{v}}", Encoding::url, "x", &problems);
        CHECK(problems.empty());

        // At validate an unset variable's value is unknown (empty): its segment is not judged.
        test::TempDir dir;
        std::map<std::string, std::string> env;
        playbook::LoadOptions options;
        options.environment = &env;
        options.unset_env_is_warning = true;
        options.actions.push_back({"http", {"url"}, {}, {{"url", Encoding::url}}});
        fs::path pb = dir.write("u.toml", "[vars]\nuser = { env = \"U_UNSET_Q\" }\n[[step]]\nid = "
                                          "\"r\"\naction = \"http\"\nurl = "
                                          "\"http://h/users/{{user}}/reset\"\n");
        auto loaded = playbook::load(pb, options);
        CHECK(loaded.warnings.size() == 1);
        env["U_UNSET_Q"] = "";
        options.unset_env_is_warning = false;
        CHECK_THROWS_AS(playbook::load(pb, options), util::InvalidInput);
    }

    TEST_CASE("http body: JSON by its shape whatever the Content-Type — raw bodies reported") {
        // break-it 23/17: a JSON body sent as application/x-ndjson or text/plain got values raw.
        test::TempDir dir;
        std::map<std::string, std::string> env;
        playbook::LoadOptions options;
        options.environment = &env;
        options.actions.push_back(
            {"http",
             {"url", "headers", "body"},
             {},
             {{"url", Encoding::url}, {"headers.*", Encoding::header}, {"body", Encoding::plain}}});
        const std::string evil = "x\", \"admin\": true, \"y\": \"\nline2";
        env["EVIL"] = evil;
        auto step = [](const std::string& id, const std::string& type, const std::string& body) {
            return "[[step]]\nid = \"" + id + "\"\naction = \"http\"\nurl = \"http://h/\"\n" +
                   (type.empty() ? "" : "headers = { Content-Type = \"" + type + "\" }\n") +
                   "body = '" + body + "'\n";
        };
        std::string text = "[vars]\nv = { env = \"EVIL\" }\n";
        const std::vector<std::string> json_types{"application/x-ndjson",
                                                  "text/plain; charset=utf-8",
                                                  "application/jsonl",
                                                  "application/json-seq",
                                                  "application/xml",
                                                  "",
                                                  "application/x-www-form-urlencoded"};
        for (size_t i = 0; i < json_types.size(); ++i) {
            text += step("j" + std::to_string(i), json_types[i],
                         "{\"release\": \"{{v}}\", \"admin\": false}");
        }
        text += step("nd", "application/x-ndjson", "  [{{v}}]");
        text += step("xml", "application/xml", "<r>{{v}}</r>");
        text += step("plain", "", "release={{v}}");
        text += step("literal", "text/plain", "no reference here");
        auto loaded = playbook::load(dir.write("pb.toml", text), options);
        for (size_t i = 0; i < json_types.size(); ++i) {
            CAPTURE(json_types[i]);
            const auto* s = loaded.find_step("j" + std::to_string(i));
            auto doc = boost::json::parse(s->params.at("body").as_string()).as_object();
            CHECK(doc.size() == 2);
            CHECK(doc.at("release").as_string() == evil);
            CHECK(doc.at("admin").as_bool() == false);
            CHECK(std::string(s->params.at("body").as_string()).find('\n') == std::string::npos);
        }
        CHECK(boost::json::parse(loaded.find_step("nd")->params.at("body").as_string())
                  .as_array()[0]
                  .as_string() == evil);
        // Raw: a warning each, located at the body; none for a body without a reference.
        REQUIRE(loaded.step_warnings.size() == 2);
        CHECK(loaded.step_warnings[0].subject == "step \"xml\"");
        CHECK(loaded.step_warnings[0].problem.find(
                  "key \"body\": a reference in a application/xml body goes in raw") == 0);
        CHECK(loaded.step_warnings[0].where.line > 0);
        CHECK(loaded.step_warnings[1].problem.find(
                  "key \"body\": a reference in a body without a Content-Type goes in raw") == 0);

        // multipart: an error (a value holding the boundary would add a part).
        fs::path bad = dir.write("mp.toml", "[vars]\nv = \"x\"\n" +
                                                step("mp", "multipart/form-data; boundary=B",
                                                     "--B Content-Disposition: form-data; "
                                                     "name=a {{v}} --B--"));
        try {
            playbook::load(bad, options);
            FAIL("a reference in a multipart body was accepted");
        } catch (const util::InvalidInput& e) {
            REQUIRE(e.diagnostics().size() == 1);
            CHECK(e.diagnostics()[0].problem.find(
                      "key \"body\": a reference in a multipart/form-data body: a value holding "
                      "the boundary would add a part") == 0);
        }
    }

    TEST_CASE("env names: empty — with = — with NUL are located errors at the key") {
        // break-it 23/07: "PATH=/tmp/evil:/usr/bin" = "" replaced the child's PATH.
        test::TempDir dir;
        std::map<std::string, std::string> env;
        playbook::LoadOptions options;
        options.environment = &env;
        for (const std::string& key :
             {std::string("\"A=B\""), std::string("\"PATH=/tmp/evil:/bin\""), std::string("\"\""),
              std::string("\"C\\u0000D\""), std::string("\"=\"")}) {
            CAPTURE(key);
            fs::path pb = dir.write("env.toml", "[[step]]\nid = \"e\"\naction = \"exec\"\n"
                                                "argv = [\"true\"]\nenv = { OK = \"1\", " +
                                                    key + " = \"x\" }\n");
            try {
                playbook::load(pb, options);
                FAIL("accepted");
            } catch (const util::InvalidInput& e) {
                REQUIRE(e.diagnostics().size() == 1);
                CHECK(e.diagnostics()[0].where.line == 5);
                CHECK(e.diagnostics()[0].where.column == 19);
                CHECK(e.diagnostics()[0].problem.find("key \"env\": ") == 0);
                CHECK(e.diagnostics()[0].problem.find(" is not an environment variable name") !=
                      std::string::npos);
            }
        }
        fs::path ok =
            dir.write("ok.toml", "[[step]]\nid = \"e\"\naction = \"exec\"\n"
                                 "argv = [\"true\"]\nenv = { OK = \"1\", a-b = \"2\" }\n");
        CHECK(playbook::load(ok, options).find_step("e")->env.size() == 2);
        // A variable's env name too: getenv("A=B") would read variable A.
        fs::path var = dir.write("var.toml", "[vars]\nt = { env = \"A=B\" }\n[[step]]\nid = "
                                             "\"e\"\naction = \"exec\"\nargv = [\"true\"]\n");
        try {
            playbook::load(var, options);
            FAIL("accepted");
        } catch (const util::InvalidInput& e) {
            REQUIRE(e.diagnostics().size() == 1);
            CHECK(e.diagnostics()[0].where.line == 2);
            CHECK(e.diagnostics()[0].problem ==
                  "key \"env\": \"A=B\" is not an environment variable name");
        }
    }
}
