// SPDX-License-Identifier: MIT
#include "config/config.hpp"

#include "support/temp_dir.hpp"
#include "util/error.hpp"
#include "util/files.hpp"

#include <doctest/doctest.h>
#include <sys/stat.h>
#include <vector>

using namespace rollback;

namespace {

const char* k_design_example = R"TOML([target]
name = "shop"
state_dir = ".rollback"

[source.web]
kind = "access_log"
path = "/var/log/nginx/access.log"
format = "combined_request_time"

[source.health]
kind = "http"
url = "http://127.0.0.1:8000/health/"
interval = "10s"
timeout = "2s"

[[condition]]
name = "error-rate"
signal = "web.error_rate"
window = "5m"
above = 0.05
min_requests = 200
for = "2m"
severity = "critical"

[[condition]]
name = "latency-degradation"
signal = "web.latency_p95"
window = "5m"
above_baseline = 1.5
baseline = "previous_release"
for = "5m"

[[condition]]
name = "downtime"
signal = "health.downtime"
above = "15m"
on_no_data = "escalate"

[decision]
mode = "auto"
playbook = "playbooks/ecommerce.toml"
cooldown = "1h"
)TOML";

std::string diagnostics_of(const std::string& text) {
    try {
        config::parse(text, "rollback.toml", "/etc/rb");
    } catch (const util::InvalidInput& e) {
        std::string out;
        for (const auto& d : e.diagnostics()) {
            out += std::to_string(d.where.line) + ":" + std::to_string(d.where.column) + ": " +
                   d.subject + ": " + d.problem + "\n";
        }
        return out;
    }
    return "";
}

} // namespace

TEST_SUITE("config") {
    TEST_CASE("DESIGN.md's example loads with every value resolved") {
        auto c = config::parse(k_design_example, "rollback.toml", "/etc/rb");
        CHECK(c.target == "shop");
        CHECK(c.state_dir == "/etc/rb/.rollback");
        REQUIRE(c.sources.size() == 2);
        CHECK(c.sources["web"].kind == config::SourceKind::access_log);
        CHECK(c.sources["health"].timeout == std::chrono::seconds(2));
        REQUIRE(c.conditions.size() == 3);
        const auto& er = c.conditions[0];
        CHECK(er.source == "web");
        CHECK(er.signal == decision::Signal::error_rate);
        CHECK(er.above == 0.05);
        CHECK(er.min_requests == 200);
        CHECK(er.counting == decision::Counting::for_duration);
        CHECK(er.for_duration == std::chrono::minutes(2));
        CHECK(er.severity == decision::Severity::critical);
        CHECK_FALSE(er.on_no_data_explicit);
        const auto& lat = c.conditions[1];
        CHECK(lat.above_baseline == 1.5);
        CHECK(lat.baseline == decision::BaselineKind::previous_release);
        const auto& down = c.conditions[2];
        CHECK(down.above == 900.0); // "15m" in seconds
        CHECK(down.on_no_data == decision::Policy::escalate);
        CHECK(down.on_no_data_explicit);
        CHECK(c.decision.mode == decision::Mode::auto_);
        CHECK(c.decision.cooldown == std::chrono::hours(1));
        CHECK(c.decision.target == "shop");
        CHECK(c.playbook == "/etc/rb/playbooks/ecommerce.toml");
    }

    TEST_CASE("every error of a file — located — with did-you-mean") {
        std::string text = R"TOML([target]
name = "shop"
[source.web]
kind = "access_logs"
[source.cmd]
kind = "command"
argv = ["check-orders"]
timout = "5s"
[[condition]]
name = "a"
signal = "cmd.error_rate"
above = 1
[[condition]]
name = "b"
signal = "wbe.value"
[[condition]]
name = "c"
signal = "cmd.value"
above = 1
for = "1m"
consecutive = 3
on_insufficient_sample = "trigger"
m_of_n = [5, 3]
[decision]
mode = "yolo"
)TOML";
        std::string d = diagnostics_of(text);
        CHECK(d ==
              "8:1: source \"cmd\": unknown key \"timout\" (did you mean \"timeout\"?)\n"
              "4:8: source \"web\": unknown kind \"access_logs\" (did you mean \"access_log\"?)\n"
              "11:10: condition \"a\": a command source has no signal \"error_rate\"\n"
              "15:10: condition \"b\": unknown source \"wbe\"\n"
              "13:1: condition \"b\": no threshold: set one of \"above\", \"below\", "
              "\"above_baseline\"\n"
              "23:10: condition \"c\": key \"m_of_n\": expected [M, N] with 1 <= M <= N, e.g. [4, "
              "5]\n"
              "16:1: condition \"c\": choose one counting mode: \"for\", \"consecutive\" or "
              "\"m_of_n\"\n"
              "22:26: condition \"c\": key \"on_insufficient_sample\": \"trigger\" is not one of "
              "\"ignore\", \"escalate\"\n"
              "25:8: decision: key \"mode\": \"yolo\" is not one of \"auto\", \"confirm\", "
              "\"observe\"\n");
    }

    TEST_CASE("a syntax error is one located diagnostic") {
        CHECK(diagnostics_of("[target\nname = 1\n").find("1:") == 0);
    }

    TEST_CASE("thresholds: durations for latency and downtime only — baselines") {
        std::string base =
            "[source.web]\nkind = \"access_log\"\npath = \"a.log\"\n[[condition]]\nname = \"x\"\n";
        auto c = config::parse(base + "signal = \"web.latency_p95\"\nabove = \"750ms\"\n", "r.toml",
                               "/d");
        CHECK(c.conditions[0].above == 750.0);
        CHECK(c.sources["web"].path == "/d/a.log");
        CHECK(diagnostics_of(base + "signal = \"web.error_rate\"\nabove = \"5m\"\n") ==
              "7:9: condition \"x\": key \"above\": \"5m\" is not a number (durations are for "
              "downtime and latency signals)\n");
        CHECK(diagnostics_of(base + "signal = \"web.error_rate\"\nabove_baseline = 2\n") ==
              "7:1: condition \"x\": \"above_baseline\" needs \"baseline\"\n");
        c = config::parse(
            base +
                "signal = \"web.error_rate\"\nabove_baseline = 2\nbaseline = 0.01\nabove = 0.02\n",
            "r.toml", "/d");
        CHECK(c.conditions[0].baseline == decision::BaselineKind::fixed);
        CHECK(c.conditions[0].baseline_value == 0.01);
        CHECK(c.conditions[0].above == 0.02);
    }
}

TEST_SUITE("config") {
    TEST_CASE("an http source's URL is checked when the file loads") {
        CHECK(diagnostics_of(R"TOML([source.site]
kind = "http"
url = "ftp://shop.example/health/"
)TOML")
                  .find("3:7: source \"site\": key \"url\": expected a URL starting with http:// "
                        "or https://") == 0);
        // A ca_file there is loaded as the probe will load it (brk28 08): one without a
        // certificate is an error; one not there yet is the deployment's.
        CHECK(diagnostics_of("[source.site]\nkind = \"http\"\nurl = \"https://shop.example/\"\n"
                             "ca_file = \"no-such-ca.pem\"\n")
                  .empty());
        const auto dir = std::filesystem::temp_directory_path() / "rb-test-ca-file";
        std::filesystem::create_directories(dir);
        util::write_file_atomic(dir / "key.pem", "-----BEGIN PRIVATE KEY-----\nAAAA\n", {});
        CHECK(diagnostics_of("[source.site]\nkind = \"http\"\nurl = \"https://shop.example/\"\n"
                             "ca_file = \"" +
                             (dir / "key.pem").string() + "\"\n")
                  .find("4:1: source \"site\": key \"ca_file\": ") == 0);
        std::filesystem::remove_all(dir);
        CHECK(diagnostics_of("[source.site]\nkind = \"http\"\nurl = \"http://shop.example/\"\n"
                             "insecure = true\n")
                  .find("4:1: source \"site\": only for an https:// url") == 0);
    }

    TEST_CASE("source intervals default to the evaluation interval — hooks need a playbook") {
        auto cfg = config::parse(R"TOML([target]
name = "t"
[source.c]
kind = "command"
argv = ["true"]
[source.slow]
kind = "command"
argv = ["true"]
interval = "1m"
[decision]
interval = "5s"
approval_timeout = "20m"
)TOML",
                                 "rollback.toml", "/tmp");
        CHECK(cfg.sources.at("c").interval == std::chrono::seconds(5));
        CHECK(cfg.sources.at("slow").interval == std::chrono::minutes(1));
        CHECK(cfg.approval_timeout == std::chrono::minutes(20));

        CHECK(diagnostics_of(R"TOML([source.c]
kind = "command"
argv = ["true"]
interval = "1500ms"
[decision]
hooks = ["notify", "../x"]
)TOML") == "4:1: source \"c\": key \"interval\": a whole number of seconds, at least 1s\n"
           "6:1: decision: key \"hooks\": \"../x\" is not a hook name (a file name in the "
           "playbook's hooks directory)\n"
           "6:1: decision: key \"hooks\" needs key \"playbook\": hooks are found in its hooks "
           "directory\n");
    }
}

TEST_SUITE("config") {
    TEST_CASE("a latency condition needs a request-time field in the access log's format") {
        auto with_format = [](const std::string& format) {
            return "[source.web]\nkind = \"access_log\"\npath = \"a.log\"\n" + format +
                   "[[condition]]\nname = \"slow\"\nsignal = \"web.latency_p50\"\nabove = "
                   "\"1.5s\"\n";
        };
        CHECK(diagnostics_of(with_format("format = \"combined\"\n")) ==
              "7:10: condition \"slow\": signal \"web.latency_p50\": the format of source \"web\" "
              "(\"combined\") has no request-time field\n");
        CHECK(diagnostics_of(with_format("format = \"$remote_addr [$time_local] $status\"\n"))
                  .find("7:10: condition \"slow\": signal \"web.latency_p50\": the format of "
                        "source \"web\"") == 0);
        // The error rate needs no request time; the default format and an upstream time have one.
        CHECK(diagnostics_of("[source.web]\nkind = \"access_log\"\npath = \"a.log\"\nformat = "
                             "\"combined\"\n[[condition]]\nname = \"e\"\nsignal = "
                             "\"web.error_rate\"\nabove = 0.1\n") == "");
        CHECK(diagnostics_of(with_format("")) == "");
        CHECK(diagnostics_of(with_format(
                  "format = \"[$time_local] $status $upstream_response_time\"\n")) == "");
        // The hint says what to log.
        try {
            config::parse(with_format("format = \"combined\"\n"), "rollback.toml", "/etc/rb");
            FAIL("expected InvalidInput");
        } catch (const util::InvalidInput& e) {
            REQUIRE(e.diagnostics().size() == 1);
            CHECK(e.diagnostics()[0].hint.find("$request_time") != std::string::npos);
            // Apache's %D is microseconds: the hint names the format that reads it so.
            CHECK(e.diagnostics()[0].hint.find("%D is microseconds") != std::string::npos);
            CHECK(e.diagnostics()[0].hint.find("combined_request_time_us") != std::string::npos);
        }
        CHECK(diagnostics_of(with_format("format = \"combined_request_time_us\"\n")) == "");
        CHECK(diagnostics_of(
                  with_format("format = \"[$time_local] $status $request_time_us\"\n")) == "");
    }

    TEST_CASE("validate warns of a source coarser than the decision interval") {
        const std::string src = "[source.h]\nkind = \"http\"\nurl = \"http://127.0.0.1:1/\"\n";
        const std::string cond =
            "[[condition]]\nname = \"err\"\nsignal = \"h.error_rate\"\nabove = "
            "0.5\nconsecutive = 3\n";
        // The reviewer's /tmp/brk10/http: probes every 10 s, evaluations every second.
        auto c = config::parse(src + "interval = \"10s\"\ntimeout = \"900ms\"\n" + cond +
                                   "window = \"10s\"\n" + "[decision]\ninterval = \"1s\"\n",
                               "r.toml", "/d");
        REQUIRE(c.warnings.size() == 1);
        CHECK(c.warnings[0].where.line == 4);
        CHECK(c.warnings[0].problem.find("interval 10s is coarser than the decision interval 1s") !=
              std::string::npos);
        // A window shorter than the source's interval: most evaluations would see no sample.
        c = config::parse(src + "interval = \"10s\"\n" + cond + "window = \"5s\"\n" +
                              "[decision]\ninterval = \"10s\"\n",
                          "r.toml", "/d");
        REQUIRE(c.warnings.size() == 1);
        CHECK(c.warnings[0].where.line == 10);
        CHECK(c.warnings[0].problem.find("window 5s is shorter than the interval 10s") !=
              std::string::npos);
        // Equal or finer intervals (the default is the decision interval): no warning.
        CHECK(config::parse(src + cond + "window = \"10s\"\n", "r.toml", "/d").warnings.empty());
        CHECK(
            config::parse(src + "interval = \"5s\"\n" + cond + "window = \"10s\"\n", "r.toml", "/d")
                .warnings.empty());
    }

    TEST_CASE("validate warns of a source timeout not shorter than the decision interval") {
        // Break-it 25/07: a probe that hangs for its timeout makes the tick skip the boundaries
        // passed meanwhile, for every condition.
        const std::string src = "[source.h]\nkind = \"http\"\nurl = \"http://127.0.0.1:1/\"\n";
        const std::string cond = "[[condition]]\nname = \"down\"\nsignal = \"h.error_rate\"\n"
                                 "above = 0.5\nwindow = \"10s\"\n";
        auto c = config::parse(src + "interval = \"1s\"\ntimeout = \"5s\"\n" + cond +
                                   "[decision]\ninterval = \"1s\"\n",
                               "r.toml", "/d");
        REQUIRE(c.warnings.size() == 1);
        CHECK(c.warnings[0].where.line == 5); // the timeout key
        CHECK(c.warnings[0].subject == "source \"h\"");
        CHECK(c.warnings[0].problem.find("timeout 5s is not shorter than the decision interval 1s: "
                                         "while a read hangs until its timeout, the evaluations "
                                         "of the interval boundaries passed meanwhile are "
                                         "skipped") == 0);
        // The default timeout (5s) with an interval of 5s: at the source's table.
        c = config::parse(src + cond + "[decision]\ninterval = \"5s\"\n", "r.toml", "/d");
        REQUIRE(c.warnings.size() == 1);
        CHECK(c.warnings[0].where.line == 1);
        // Shorter than the interval (the default 10s), or an access log (no read to wait for).
        CHECK(config::parse(src + cond, "r.toml", "/d").warnings.empty());
        CHECK(config::parse(src + "timeout = \"9s\"\n" + cond, "r.toml", "/d").warnings.empty());
        CHECK(config::parse("[source.web]\nkind = \"access_log\"\npath = \"a.log\"\n"
                            "timeout = \"30s\"\n[decision]\ninterval = \"1s\"\n",
                            "r.toml", "/d")
                  .warnings.empty());
    }

    TEST_CASE("a log format the reader cannot use is an error at its key") {
        CHECK(diagnostics_of("[source.web]\nkind = \"access_log\"\npath = \"a.log\"\nformat = "
                             "\"$remote_addr $status\"\n") ==
              "4:10: source \"web\": key \"format\": log format $remote_addr $status: no time "
              "variable ($time_local, $time_iso8601 or $msec)\n");
    }

    TEST_CASE("config: state_dir is canonical — two spellings of one directory are equal") {
        test::TempDir dir;
        std::filesystem::create_directories(dir / "real");
        std::filesystem::create_directory_symlink(dir / "real", dir / "linked");
        std::vector<std::filesystem::path> got;
        for (const char* spelling : {"st", "st/", "./st/../st"}) {
            CAPTURE(spelling);
            dir.write("real/rollback.toml",
                      std::string("[target]\nname = \"t\"\nstate_dir = \"") + spelling + "\"\n");
            got.push_back(config::load(dir / "real/rollback.toml").state_dir);
            // Beside the file itself, not beside a symlink to its directory.
            CHECK(config::load(dir / "linked/rollback.toml").state_dir == got.back());
        }
        const auto want = std::filesystem::weakly_canonical(dir / "real") / "st";
        CHECK(got == std::vector<std::filesystem::path>{want, want, want});
    }

    TEST_CASE("a config is told from a playbook by its tables") {
        rollback::test::TempDir dir;
        dir.write("rollback.toml", k_design_example);
        dir.write("pb.toml", "[playbook]\nname = \"x\"\n[[step]]\nid = \"a\"\naction = \"wait\"\n");
        dir.write("broken.toml", "[target\n");
        dir.write("mixed.toml", "[target]\nname = \"t\"\n[[step]]\nid = \"a\"\n");
        CHECK(config::looks_like_config(dir / "rollback.toml"));
        CHECK_FALSE(config::looks_like_config(dir / "pb.toml"));
        CHECK_FALSE(config::looks_like_config(dir / "broken.toml"));
        CHECK_FALSE(config::looks_like_config(dir / "mixed.toml"));
        CHECK_FALSE(config::looks_like_config(dir / "absent.toml"));
    }

    TEST_CASE("config: an empty file — a directory or a FIFO is an error — not a config") {
        for (const char* text : {"", "\n# nothing here\n\n"}) {
            try {
                config::parse(text, "rollback.toml", "/srv");
                FAIL("expected InvalidInput");
            } catch (const util::InvalidInput& e) {
                REQUIRE(e.diagnostics().size() == 1);
                CHECK(util::format_diagnostic(e.diagnostics()[0]) ==
                      "rollback.toml:1:1: error: rollback.toml: empty configuration\n"
                      "  hint: a config has at least [[condition]] and its [source.NAME] "
                      "(docs/config.md)\n");
            }
        }
        test::TempDir dir;
        const auto fifo = dir / "fifo.toml";
        REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
        for (const auto& p : {dir.path(), fifo, std::filesystem::path("/dev/zero")}) {
            CAPTURE(p);
            try {
                config::load(p);
                FAIL("expected util::Error");
            } catch (const util::Error& e) {
                CHECK(e.code() == util::ExitCode::invalid);
                CHECK(std::string(e.what()).rfind("cannot read " + p.string() + ": ", 0) == 0);
            }
        }
    }
}

TEST_SUITE("config") {
    TEST_CASE("thresholds that cannot mean what was written are errors") {
        std::string base = "[source.web]\nkind = \"access_log\"\npath = \"a.log\"\nformat = "
                           "\"combined_request_time\"\n[[condition]]\nname = \"x\"\n";
        // An error rate is a ratio: 5 (meant as 5 %) would never breach, below 2 always would.
        CHECK(diagnostics_of(base + "signal = \"web.error_rate\"\nabove = 5\n") ==
              "8:9: condition \"x\": key \"above\": error_rate lies in [0, 1]; 5 would never "
              "breach (a rule that never fires)\n");
        CHECK(diagnostics_of(base + "signal = \"web.error_rate\"\nbelow = 2.5\n")
                  .find("2.5 would always breach") != std::string::npos);
        CHECK(diagnostics_of(base + "signal = \"web.error_rate\"\nabove = -0.1\n")
                  .find("-0.1 would always breach") != std::string::npos);
        for (const char* ok : {"0", "0.99", "0.05"}) {
            CHECK(
                diagnostics_of(base + "signal = \"web.error_rate\"\nabove = " + ok + "\n").empty());
        }
        // A latency carries its unit: 0.5 could be half a second or half a millisecond.
        for (const char* bare : {"500", "0.5"}) {
            CHECK(diagnostics_of(base + "signal = \"web.latency_p95\"\nabove = " + bare + "\n")
                      .find("a latency threshold is a duration with its unit") !=
                  std::string::npos);
        }
        // A name is shown on terminals and in file names: no control characters.
        CHECK(diagnostics_of("[source.web]\nkind = \"access_log\"\npath = \"a.log\"\n"
                             "[[condition]]\nname = \"a\\u001b[2Jb\"\nsignal = "
                             "\"web.error_rate\"\nabove = 0.1\n")
                  .find("a condition name has no control characters") != std::string::npos);
    }

    TEST_CASE("an above_baseline rule without an above floor is a warning") {
        std::string base = "[source.web]\nkind = \"access_log\"\npath = \"a.log\"\n[[condition]]\n"
                           "name = \"x\"\nsignal = \"web.error_rate\"\nabove_baseline = 2\n"
                           "min_requests = 10\n";
        auto c = config::parse(base + "baseline = \"previous_release\"\n", "r.toml", "/d");
        REQUIRE(c.warnings.size() == 1);
        CHECK(c.warnings[0].where.line == 7);
        CHECK(c.warnings[0].problem.find("without an \"above\" floor") != std::string::npos);
        CHECK(config::parse(base + "baseline = \"before_deploy\"\nabove = 0.05\n", "r.toml", "/d")
                  .warnings.empty());
        CHECK(config::parse(base + "baseline = 0.01\n", "r.toml", "/d").warnings.empty());
    }
}
