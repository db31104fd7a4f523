// SPDX-License-Identifier: MIT
// Values stay values in HTTP requests (DESIGN.md, trust invariant 5), against a real server on
// 127.0.0.1: a {{variable}} is one percent-encoded URL component, a JSON string, a form field; a
// header value that would break the header is refused before anything runs.
#include "actions/action.hpp"
#include "playbook/loader.hpp"
#include "support/action_harness.hpp"
#include "support/http_test_server.hpp"
#include "support/temp_dir.hpp"
#include "util/error.hpp"
#include "util/secrets.hpp"

#include <boost/json/parse.hpp>
#include <doctest/doctest.h>
#include <random>

using namespace rollback;
namespace fs = std::filesystem;

namespace {

// (A value that makes its path segment empty or a dot segment is refused: see below.)
const std::vector<std::string> k_evil{
    "a/b?c=d&e#f", "x'); DROP TABLE victim; --",
    "a\"b'c\\",    "$(touch PWNED) `id`;",
    "{{other}}",   "50% off+more",
    "...",
};

std::string percent_decode(std::string_view s, bool plus_is_space) {
    std::string out;
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '%' && i + 2 < s.size()) {
            out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
            i += 2;
        } else if (plus_is_space && s[i] == '+') {
            out += ' ';
        } else {
            out += s[i];
        }
    }
    return out;
}

playbook::LoadOptions options_with(const std::map<std::string, std::string>& env) {
    playbook::LoadOptions options;
    options.environment = &env;
    for (const auto& name : actions::action_names()) {
        const actions::Action* a = actions::find_action(name);
        options.actions.push_back({name, a->keys(), a->required_keys(), a->encodings()});
    }
    options.validate_step = [](const playbook::Playbook& pb, const playbook::Step& step) {
        return actions::find_action(step.action)->validate(pb, step);
    };
    return options;
}

// Loads a playbook whose variable `v` comes from the environment as `value`; runs step "call".
actions::Result run_call(const test::TempDir& tmp, const std::string& step,
                         const std::string& value) {
    std::map<std::string, std::string> env{{"V", value}};
    fs::path file = tmp.write("pb.toml", "[vars]\nv = { env = \"V\" }\n" + step);
    test::ActionHarness h(tmp.path(), "http", "{}");
    h.playbook = playbook::load(file, options_with(env));
    h.step = *h.playbook.find_step("call");
    return h.run();
}

} // namespace

TEST_SUITE("actions") {
    TEST_CASE("http: a value is one URL component — a JSON string — a form field — a header") {
        test::TempDir tmp;
        test::HttpTestServer server;
        server.on("/items/", {{.status = 200, .body = "ok"}});
        for (const auto& value : k_evil) {
            INFO("value: " << value);
            size_t before = server.requests().size();
            auto r = run_call(tmp, R"(
[[step]]
id = "call"
action = "http"
method = "POST"
url = ")" + server.url("/items/") + R"({{v}}?q={{v}}&r=1"
headers = { Content-Type = "application/json", X-Note = "<{{v}}>" }
body = '{"note": "{{v}}", "raw": {{v}}}'
)",
                              value);
            auto log = server.requests();
            REQUIRE(log.size() == before + 1);
            const auto& got = log.back();
            CHECK(percent_decode(got.path, false) == "/items/" + value);
            CHECK(got.path.find_first_of("?#") == std::string::npos);
            std::string query = got.target.substr(got.target.find('?') + 1);
            CHECK(query.substr(query.size() - 4) == "&r=1");
            CHECK(percent_decode(query.substr(2, query.size() - 6), false) == value);
            CHECK(got.header("X-Note") == "<" + value + ">");
            auto body = boost::json::parse(got.body).as_object();
            CHECK(body.at("note").as_string() == value);
            CHECK(body.at("raw").as_string() == value);
            CHECK(body.size() == 2);
            // /items/ answers; /items/<value> is another path (404).
            CHECK(r.status == actions::Status::verification_failed);
        }
        // break-it 23/02: a value that makes the path segment "..", "." or empty (or holds ".."
        // between slashes, sent as %2F) would address another resource: refused, nothing sent.
        const size_t sent = server.requests().size();
        for (const std::string value : {"..", ".", "", "a/../b?c=d&e#f", "../admin"}) {
            INFO("value: " << value);
            try {
                run_call(tmp,
                         R"(
[[step]]
id = "call"
action = "http"
method = "POST"
url = ")" + server.url("/items/") +
                             R"({{v}}?q={{v}}&r=1"
)",
                         value);
                FAIL("accepted");
            } catch (const util::InvalidInput& e) {
                CHECK(std::string(e.what()).find("the value of {{v}} makes ") != std::string::npos);
            }
        }
        CHECK(server.requests().size() == sent);
        server.on("/form/", {{.status = 200}});
        auto r = run_call(tmp, R"(
[[step]]
id = "call"
action = "http"
method = "POST"
url = ")" + server.url("/form/") + R"("
headers = { Content-Type = "application/x-www-form-urlencoded" }
body = "username={{v}}&password=wrong"
)",
                          "admin&password=guess");
        CHECK(r.status == actions::Status::succeeded);
        CHECK(server.requests("/form/").back().body ==
              "username=admin%26password%3Dguess&password=wrong");
    }

    TEST_CASE("http: CR/LF in a header value is refused at validation — located") {
        test::TempDir tmp;
        test::HttpTestServer server;
        for (const std::string value : {"x\r\nX-Injected: yes", "x\nX-Injected: yes", "x\ry"}) {
            try {
                run_call(tmp,
                         "\n[[step]]\nid = \"call\"\naction = \"http\"\nurl = \"" +
                             server.url("/") + "\"\nheaders = { X-Note = \"{{v}}\" }\n",
                         value);
                FAIL("expected a validation error");
            } catch (const util::InvalidInput& e) {
                REQUIRE(e.diagnostics().size() == 1);
                CHECK(e.diagnostics()[0].where.line == 8);
                CHECK(e.diagnostics()[0].problem.find("{{v}} contains a line break") !=
                      std::string::npos);
            }
        }
        // Written in the playbook itself, without a variable: the action refuses it too.
        try {
            run_call(tmp,
                     "\n[[step]]\nid = \"call\"\naction = \"http\"\nurl = \"" + server.url("/") +
                         "\"\nheaders = { X-Note = \"a\\r\\nX-Injected: yes\" }\n",
                     "");
            FAIL("expected a validation error");
        } catch (const util::InvalidInput& e) {
            REQUIRE(e.diagnostics().size() == 1);
            CHECK(e.diagnostics()[0].problem ==
                  "key \"headers\": header \"X-Note\": the value contains a line break (CR or LF) "
                  "or NUL");
        }
        CHECK(server.requests().empty());
    }

    TEST_CASE("http: a secret in the response body is masked before the tail is cut") {
        test::TempDir tmp;
        test::HttpTestServer server;
        const std::string secret = "cnrySecretQ7x9zAbCdEfGh12345";
        util::register_secret(secret);
        for (size_t back = 1; back < secret.size(); back += 3) {
            server.on("/leak/",
                      {{.status = 500,
                        .body = std::string(100, 'a') + secret + std::string(2048 - back, 'z')}});
            test::ActionHarness h(tmp.path(), "http",
                                  R"({"url": ")" + server.url("/leak/") + R"("})");
            auto r = h.run();
            INFO("tail begins " << back << " bytes before the secret's end");
            CHECK(r.output_tail.find(secret.substr(secret.size() - back)) == std::string::npos);
            CHECK(r.output_tail.size() <= 2048);
        }
        util::clear_secrets();
    }

    TEST_CASE("http: media types are case-insensitive — with parameters and whitespace") {
        // RFC 9110 §8.3.1: type, subtype and parameter names are case-insensitive; a field name
        // too (§5.1). Every spelling of a form or JSON type encodes the value the same way.
        test::TempDir tmp;
        test::HttpTestServer server;
        server.on("/in", {{.status = 200}});
        const std::vector<std::string> names{"Content-Type", "content-type", "CONTENT-TYPE",
                                             "cOnTeNt-TyPe"};
        std::mt19937 rng(9110);
        auto spell = [&](const std::string& type) {
            std::string out;
            for (char c : type) {
                out +=
                    rng() % 2 ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c;
            }
            const std::vector<std::string> tails{"", ";charset=utf-8", " ; Charset=UTF-8",
                                                 "\t;\tcharset=utf-8", " "};
            return (rng() % 2 ? " " : "") + out + tails[rng() % tails.size()];
        };
        for (int i = 0; i < 24; ++i) {
            const std::string name = names[static_cast<size_t>(i) % names.size()];
            const std::string form = spell("application/x-www-form-urlencoded");
            INFO(name << ": " << form);
            run_call(tmp,
                     "\n[[step]]\nid = \"call\"\naction = \"http\"\nmethod = \"POST\"\nurl = \"" +
                         server.url("/in") + "\"\nheaders = { \"" + name + "\" = \"" + form +
                         "\" }\nbody = 'a={{v}}'\n",
                     "zz&admin=1");
            CHECK(server.requests("/in").back().body == "a=zz%26admin%3D1");
            for (const std::string& json : {spell("application/json"), spell("text/json"),
                                            spell("application/problem+json")}) {
                INFO(name << ": " << json);
                run_call(tmp,
                         "\n[[step]]\nid = \"call\"\naction = \"http\"\nmethod = \"POST\"\nurl = "
                         "\"" +
                             server.url("/in") + "\"\nheaders = { \"" + name + "\" = \"" + json +
                             "\" }\nbody = '{\"x\": \"{{v}}\"}'\n",
                         "zz\", \"admin\": true, \"q\": \"");
                auto body = boost::json::parse(server.requests("/in").back().body).as_object();
                CHECK(body.size() == 1);
                CHECK(body.at("x").as_string() == "zz\", \"admin\": true, \"q\": \"");
            }
        }
        // Outside a JSON text, in a JSON body: a JSON string (the finding's `x={{v}}`).
        run_call(tmp,
                 "\n[[step]]\nid = \"call\"\naction = \"http\"\nmethod = \"POST\"\nurl = \"" +
                     server.url("/in") +
                     "\"\nheaders = { Content-Type = \"Application/JSON\" }\nbody = 'x={{v}}'\n",
                 "zz\", \"admin\": true, \"q\": \"");
        CHECK(server.requests("/in").back().body == R"(x="zz\", \"admin\": true, \"q\": \"")");
    }

    TEST_CASE("http: one header twice by case — a Content-Type that is not a media type") {
        test::TempDir tmp;
        test::HttpTestServer server;
        for (const auto& [headers, problem] : std::vector<std::pair<std::string, std::string>>{
                 {R"({ Content-Type = "application/json", content-type = "text/plain" })",
                  "key \"headers\": header \"content-type\": given twice (also as "
                  "\"Content-Type\"; header names are case-insensitive)"},
                 {R"({ Content-Type = "json" })",
                  "key \"headers\": header \"Content-Type\": not a media type (type/subtype, "
                  "e.g. application/json; charset=utf-8)"}}) {
            try {
                run_call(tmp,
                         "\n[[step]]\nid = \"call\"\naction = \"http\"\nurl = \"" +
                             server.url("/") + "\"\nheaders = " + headers + "\n",
                         "");
                FAIL("expected a validation error");
            } catch (const util::InvalidInput& e) {
                REQUIRE(e.diagnostics().size() == 1);
                CHECK(e.diagnostics()[0].problem == problem);
            }
        }
    }
}
