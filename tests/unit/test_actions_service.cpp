// SPDX-License-Identifier: MIT
#include "support/action_harness.hpp"
#include "support/fake_runner.hpp"
#include "support/http_test_server.hpp"
#include "support/temp_dir.hpp"
#include "util/error.hpp"
#include "util/files.hpp"
#include "util/http_client.hpp"

#include <boost/json/serialize.hpp>
#include <doctest/doctest.h>
#include <thread>

using namespace rollback;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

TEST_SUITE("actions") {
    TEST_CASE("service with manager command: restart runs stop then start — then waits healthy") {
        test::TempDir tmp;
        test::HttpTestServer server;
        server.on("/health/", {{.status = 503}, {.status = 503}, {.status = 200, .body = "ok"}});
        std::string log = (tmp / "ops.log").string();
        test::ActionHarness h(tmp.path(), "service",
                              R"({"manager": "command", "op": "restart", "name": "shop",
                                  "stop": ["sh", "-c", "echo stop >> )" +
                                  log + R"("],
                                  "start": ["sh", "-c", "echo start >> )" +
                                  log + R"("],
                                  "wait_healthy": {"url": ")" +
                                  server.url("/health/") +
                                  R"(", "timeout": "10s", "interval": "50ms"}})");
        CHECK(h.validate().empty());
        CHECK(test::first_failed(h.preflight()) == "");
        CHECK(h.action().describe(h.step).find("command restart shop: sh -c ") == 0);
        auto r = h.run();
        CHECK(r.status == actions::Status::succeeded);
        CHECK(r.summary.find("command restart shop: ok, healthy after ") == 0);
        CHECK(r.details.at("polls") == 3);
        CHECK(util::read_file(log) == "stop\nstart\n");
    }

    TEST_CASE("service failures: the command fails — or the service never becomes healthy") {
        test::TempDir tmp;
        test::HttpTestServer server;
        server.on("/health/", {{.status = 503}});
        SUBCASE("command exits non-zero") {
            test::ActionHarness h(tmp.path(), "service",
                                  R"({"manager": "command", "op": "reload",
                                      "reload": ["sh", "-c", "echo no pidfile >&2; exit 3"]})");
            auto r = h.run();
            CHECK(r.status == actions::Status::failed);
            CHECK(r.exit_code == 3);
            CHECK(r.summary == "command reload: sh -c \"echo no pidfile >&2; exit 3\": exit 3");
            CHECK(r.output_tail.find("no pidfile") != std::string::npos);
        }
        SUBCASE("not healthy in time") {
            test::ActionHarness h(tmp.path(), "service",
                                  R"({"manager": "command", "op": "start", "start": ["true"],
                                      "wait_healthy": {"url": ")" +
                                      server.url("/health/") +
                                      R"(", "timeout": "400ms", "interval": "100ms"}})");
            auto t0 = std::chrono::steady_clock::now();
            auto r = h.run();
            CHECK(std::chrono::steady_clock::now() - t0 < 2s);
            CHECK(r.status == actions::Status::failed);
            CHECK(r.summary.find("command start: not healthy after ") == 0);
            CHECK(r.summary.find("(last: GET " + server.url("/health/") +
                                 ": expected 200, got 503)") != std::string::npos);
            CHECK(server.requests().size() >= 3);
        }
    }

    TEST_CASE("service wait_healthy: a holder deposed while waiting polls no more") {
        test::TempDir tmp;
        test::HttpTestServer server;
        server.on("/health/", {{.status = 503}});
        test::ActionHarness h(tmp.path(), "service",
                              R"({"manager": "command", "op": "start", "start": ["true"],
                                  "wait_healthy": {"url": ")" +
                                  server.url("/health/") +
                                  R"(", "timeout": "10s", "interval": "10ms"}})");
        h.parse();
        actions::Context ctx = h.context();
        std::vector<std::string> asked;
        ctx.fence = [&](const std::string& before) {
            asked.push_back(before);
            if (asked.size() == 2) {
                throw util::Error("this process lost the run lock of generation 1",
                                  util::ExitCode::state_unwritable);
            }
        };
        CHECK_THROWS_AS(h.action().run(ctx), util::Error);
        CHECK(server.requests("/health/").size() == 2); // the first poll, then one fenced
        REQUIRE(asked.size() == 2);
        CHECK(asked[1] ==
              "poll 3 of step \"service-step\"'s wait_healthy (" + server.url("/health/") + ")");
    }

    TEST_CASE("service validation") {
        test::TempDir tmp;
        test::ActionHarness h(tmp.path(), "service",
                              R"({"manager": "command", "op": "restrat", "start": ["x"],
                                  "supervisor_conf": "s.conf",
                                  "wait_healthy": {"url": "http://h/", "timout": "5s"}})");
        auto ds = h.validate();
        std::vector<std::string> problems;
        for (const auto& d : ds) {
            problems.push_back(d.problem);
        }
        REQUIRE(problems.size() == 3);
        CHECK(problems[0] == "key \"op\": unknown op \"restrat\" (did you mean \"restart\"?)");
        CHECK(problems[1] == "key \"supervisor_conf\": only for manager = \"supervisor\"");
        CHECK(problems[2] ==
              "key \"wait_healthy\": unknown key \"timout\" (did you mean \"timeout\"?)");

        test::ActionHarness h2(
            tmp.path(), "service",
            R"({"manager": "systemd", "op": "stop", "wait_healthy": {"url": "http://h/"}})");
        auto ds2 = h2.validate();
        REQUIRE(ds2.size() == 2);
        CHECK(ds2[0].problem == "missing key \"name\"");
        CHECK(ds2[1].problem ==
              "key \"wait_healthy\": a stopped service cannot become healthy (op = \"stop\")");

        test::ActionHarness h3(tmp.path(), "service",
                               R"({"manager": "command", "op": "restart", "stop": ["x"]})");
        REQUIRE(h3.validate().size() == 1);
        CHECK(h3.validate()[0].problem == "manager = \"command\" with op = \"restart\" needs "
                                          "restart = [...], or both stop and start");
    }

    TEST_CASE("service systemd: a unit name that begins with - stays one operand after --") {
        // break-it 23/01: `systemctl restart --help` printed help and the step reported success.
        test::TempDir tmp;
        for (std::string unit : {"--help", "--version", "-.mount", "-.slice", "-", "shop", "a b"}) {
            CAPTURE(unit);
            test::ActionHarness h(tmp.path(), "service",
                                  R"({"manager": "systemd", "op": "restart", "name": )" +
                                      boost::json::serialize(boost::json::value(unit)) + "}");
            CHECK(h.validate().empty());
            test::FakeProcessRunner fake;
            h.fake = &fake;
            auto r = h.run();
            REQUIRE(fake.calls.size() == 1);
            CHECK(fake.calls[0].argv ==
                  std::vector<std::string>{"systemctl", "restart", "--", unit});
            CHECK(r.status == actions::Status::succeeded);
            fake.calls.clear();
            h.preflight();
            REQUIRE(!fake.calls.empty());
            CHECK(fake.calls.back().argv ==
                  std::vector<std::string>{"systemctl", "cat", "--", unit});
        }
    }

    TEST_CASE(
        "service supervisor: a program name supervisorctl cannot take as one operand is refused") {
        test::TempDir tmp;
        for (std::string name : {"--help", "-x", "-", "a b", "shop\tweb", "web\n"}) {
            CAPTURE(name);
            test::ActionHarness h(tmp.path(), "service",
                                  R"({"manager": "supervisor", "op": "restart", "name": )" +
                                      boost::json::serialize(boost::json::value(name)) + "}");
            auto ds = h.validate();
            REQUIRE(ds.size() == 1);
            CHECK(ds[0].problem.find("key \"name\": ") == 0);
            CHECK(ds[0].problem.find(": supervisorctl would not read it as one program name") !=
                  std::string::npos);
            test::FakeProcessRunner fake;
            h.fake = &fake;
            h.run();
            CHECK(fake.calls.empty()); // a step that does not parse runs nothing
        }
        for (std::string name : {"shop", "web:web_0", "a-b", "x-"}) {
            CAPTURE(name);
            test::ActionHarness h(tmp.path(), "service",
                                  R"({"manager": "supervisor", "op": "restart", "name": )" +
                                      boost::json::serialize(boost::json::value(name)) + "}");
            CHECK(h.validate().empty());
        }
    }

    TEST_CASE("service with a real supervisord: start — restart — stop a python http.server") {
        if (util::find_program("supervisord").empty()) {
            MESSAGE("supervisord is not installed (apt-get install supervisor): test skipped");
            return;
        }
        test::TempDir tmp;
        auto port = std::to_string(test::free_tcp_port());
        std::string conf = tmp.write("supervisord.conf", R"([unix_http_server]
file=%(here)s/s.sock
[supervisord]
logfile=%(here)s/supervisord.log
pidfile=%(here)s/supervisord.pid
childlogdir=%(here)s
[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface
[supervisorctl]
serverurl=unix://%(here)s/s.sock
[program:web]
command=/usr/bin/python3 -m http.server )" + port + R"( --bind 127.0.0.1
directory=%(here)s
autostart=false
startsecs=0
stopasgroup=true
killasgroup=true
)")
                               .string();
        tmp.write("index.html", "shop v1\n");
        exec::RealProcessRunner runner;
        auto ctl = [&](std::vector<std::string> args) {
            exec::Command cmd;
            cmd.argv = {"supervisorctl", "-c", conf};
            cmd.argv.insert(cmd.argv.end(), args.begin(), args.end());
            cmd.timeout = 10s;
            return runner.run(cmd);
        };
        // supervisord in the foreground (-n) on its own thread: daemonizing would race with the
        // runner's cleanup of leftover processes. `shutdown` ends it, and the thread with it.
        std::thread daemon([conf] {
            exec::RealProcessRunner own;
            exec::Command cmd;
            cmd.argv = {"supervisord", "-n", "-c", conf};
            cmd.timeout = 120s;
            own.run(cmd);
        });
        struct Shutdown {
            std::function<void()> f;
            ~Shutdown() { f(); }
        } shutdown{[&] {
            ctl({"shutdown"});
            daemon.join();
        }};
        bool up = false;
        for (int i = 0; i < 100 && !up; ++i) {
            up = ctl({"status", "web"}).stdout_tail.rfind("web", 0) == 0;
            if (!up) {
                std::this_thread::sleep_for(50ms);
            }
        }
        REQUIRE(up);

        std::string base =
            R"({"manager": "supervisor", "name": "web", "supervisor_conf": ")" + conf + R"(", )";
        std::string wait = R"("wait_healthy": {"url": "http://127.0.0.1:)" + port +
                           R"(/index.html", "timeout": "15s", "interval": "100ms"})";
        test::ActionHarness h(tmp.path(), "service", base + R"("op": "start", )" + wait + "}");
        auto checks = h.preflight();
        CHECK(test::first_failed(checks) == "");
        auto r = h.run();
        INFO(r.output_tail);
        CHECK(r.status == actions::Status::succeeded);
        CHECK(r.summary.find("supervisor start web: ok, healthy after ") == 0);
        CHECK(util::http_request({.url = "http://127.0.0.1:" + port + "/index.html"}).body ==
              "shop v1\n");

        // One supervisord for the whole sequence (subcases would start it once per branch).
        CHECK(h.run().status == actions::Status::succeeded); // start again is not an error
        {
            test::ActionHarness restart(tmp.path(), "service",
                                        base + R"("op": "restart", )" + wait + "}");
            CHECK(restart.run().status == actions::Status::succeeded);
            test::ActionHarness stop(tmp.path(), "service", base + R"("op": "stop"})");
            auto s = stop.run();
            CHECK(s.status == actions::Status::succeeded);
            CHECK(s.summary == "supervisor stop web: ok");
            CHECK_FALSE(util::http_request({.url = "http://127.0.0.1:" + port + "/"}).received());
        }
        {
            test::ActionHarness nope(tmp.path(),
                                     "service", R"({"manager": "supervisor", "name": "nope",
                "supervisor_conf": ")" + conf + R"(", "op": "restart"})");
            CHECK(test::first_failed(nope.preflight()).find("supervisor knows nope: ") == 0);
            auto n = nope.run();
            CHECK(n.status == actions::Status::failed);
            CHECK(n.summary.find("supervisor restart nope: supervisorctl -c ") == 0);
            CHECK(n.summary.find("no such process") != std::string::npos);
        }
    }
}
