// SPDX-License-Identifier: MIT
#include "journal/reader.hpp"
#include "journal/writer.hpp"
#include "support/temp_dir.hpp"
#include "util/error.hpp"
#include "util/files.hpp"
#include "util/secrets.hpp"
#include "util/strings.hpp"

#include <boost/json/serialize.hpp>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <doctest/doctest.h>
#include <fstream>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace rollback;
using namespace rollback::journal;
namespace json = boost::json;

namespace {

class FixedClock final : public util::Clock {
  public:
    util::SystemTime now() const override {
        return util::SystemTime(std::chrono::milliseconds(1'795'000'000'123LL));
    }
};

json::object header(const std::string& run_id = "20261126T143500Z-3fa9c1") {
    return {{"run_id", run_id}, {"created", "2026-11-26T14:35:00.000Z"}};
}

std::string error_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const util::Error& e) {
        return e.what();
    }
    return "(no error)";
}

void append_bytes(const std::filesystem::path& p, const std::string& bytes) {
    std::ofstream(p, std::ios::binary | std::ios::app) << bytes;
}

} // namespace

TEST_SUITE("journal") {
    TEST_CASE("a journal is written as JSON lines with seq — time — prev and hash") {
        test::TempDir tmp;
        FixedClock clock;
        auto file = tmp / "runs/20261126T143500Z-3fa9c1.jsonl";
        {
            auto w = Writer::create(file, header(), &clock);
            CHECK(w.next_seq() == 1);
            CHECK(w.append({{"type", "step_started"}, {"step", "notify"}, {"attempt", 1}}) == 1);
            CHECK(w.append({{"type", "note"}, {"text", "hello"}}) == 2);
        }
        std::string content = util::read_file(file);
        auto lines = util::split(content, '\n');
        REQUIRE(lines.size() == 4); // 3 lines + "" after the final newline
        CHECK(lines[3].empty());
        // Keys in insertion order: seq, time, type, fields..., prev, hash.
        CHECK(lines[0].rfind(
                  "{\"seq\":0,\"time\":\"2026-11-18T11:06:40.123Z\",\"type\":\"header\","
                  "\"format\":\"rollback-journal\",\"version\":1,\"run_id\":"
                  "\"20261126T143500Z-3fa9c1\",\"created\":\"2026-11-26T14:35:00.000Z\","
                  "\"prev\":\"0000000000000000000000000000000000000000000000000000000000000000\","
                  "\"hash\":\"",
                  0) == 0);
        CHECK(lines[1].rfind("{\"seq\":1,\"time\":\"2026-11-18T11:06:40.123Z\",\"type\":"
                             "\"step_started\",\"step\":\"notify\",\"attempt\":1,\"prev\":\"",
                             0) == 0);

        auto j = read(file);
        CHECK(j.run_id() == "20261126T143500Z-3fa9c1");
        CHECK(j.warnings.empty());
        REQUIRE(j.records.size() == 2);
        CHECK(j.object(2).at("text").as_string() == "hello");
        CHECK(j.object(2).at("seq").as_int64() == 2);
        CHECK(j.valid_bytes == content.size());
        CHECK(verify(file).ok);
    }

    TEST_CASE("a with_next record is written at once and synced by the next durable one") {
        test::TempDir tmp;
        auto file = tmp / "runs" / "a.jsonl";
        auto w = Writer::create(file, {{"run_id", "a"}});
        w.append({{"type", "step_finished"}, {"step", "s1"}}, Durability::with_next);
        // Written with one write(2): a crash of the process (not of the machine) keeps it.
        auto j = read(file);
        REQUIRE(j.records.size() == 1);
        CHECK(j.object(1).at("step").as_string() == "s1");
        w.append({{"type", "step_started"}, {"step", "s2"}});
        w.sync();
        CHECK(read(file).records.size() == 2);
        CHECK(verify(file).ok);
    }

    TEST_CASE("create refuses to overwrite an existing journal") {
        test::TempDir tmp;
        auto file = tmp / "j.jsonl";
        { auto w = Writer::create(file, header()); }
        CHECK(error_of([&] { Writer::create(file, header()); }).find("cannot create journal") !=
              std::string::npos);
    }

    TEST_CASE("secrets are masked in every string before hashing") {
        test::TempDir tmp;
        util::register_secret("hunter2-secret");
        auto file = tmp / "j.jsonl";
        {
            auto w = Writer::create(file, header());
            w.append(
                {{"type", "step_finished"},
                 {"output_tail", "password is hunter2-secret\n"},
                 {"details", json::object{{"argv", json::array{"x", "--pw=hunter2-secret"}}}}});
        }
        util::clear_secrets();
        std::string content = util::read_file(file);
        CHECK(content.find("hunter2") == std::string::npos);
        CHECK(content.find("password is ***") != std::string::npos);
        CHECK(content.find("--pw=***") != std::string::npos);
        CHECK(verify(file).ok);
    }

    TEST_CASE("a torn last line is cut off with a warning — never a crash") {
        test::TempDir tmp;
        auto file = tmp / "20261126T143500Z-3fa9c1.jsonl";
        {
            auto w = Writer::create(file, header());
            w.append({{"type", "note"}, {"text", "one"}});
        }
        std::string intact = util::read_file(file);
        SUBCASE("no newline at the end") {
            append_bytes(file, "{\"seq\":2,\"time\":\"2026-11-2");
        }
        SUBCASE("a complete but unparseable last line") {
            append_bytes(file, "{\"seq\":2,\"ti\n");
        }
        auto j = read(file);
        REQUIRE(j.warnings.size() == 1);
        CHECK(j.warnings[0] == "journal " + file.string() +
                                   ": last record is incomplete (crash while writing?); ignored");
        CHECK(j.records.size() == 1);
        CHECK(j.valid_bytes == intact.size());

        // Resuming cuts the tail and continues the chain.
        std::vector<std::string> warnings;
        {
            auto w = Writer::open_existing(file, &warnings);
            CHECK(w.next_seq() == 2);
            CHECK(w.append({{"type", "note"}, {"text", "two"}}) == 2);
        }
        CHECK(warnings.size() == 1);
        auto again = read(file);
        CHECK(again.warnings.empty());
        REQUIRE(again.records.size() == 2);
        CHECK(again.object(2).at("text").as_string() == "two");
        CHECK(util::read_file(file).rfind(intact, 0) == 0);
        auto v = verify(file);
        CHECK(v.ok);
        CHECK(v.lines == 3);
    }

    TEST_CASE("open_existing continues seq and chain of an intact journal") {
        test::TempDir tmp;
        auto file = tmp / "j.jsonl";
        {
            auto w = Writer::create(file, header());
            w.append({{"type", "note"}, {"text", "a"}});
        }
        {
            auto w = Writer::open_existing(file);
            CHECK(w.next_seq() == 2);
            w.append({{"type", "note"}, {"text", "b"}});
            w.append({{"type", "note"}, {"text", "c"}});
        }
        CHECK(read(file).records.size() == 3);
        CHECK(verify(file).ok);
    }

    TEST_CASE("reading a bad journal fails with a clear error") {
        test::TempDir tmp;
        SUBCASE("empty file") {
            auto file = tmp.write("e.jsonl", "");
            CHECK(error_of([&] { read(file); }) == "journal " + file.string() + " is empty");
            CHECK_THROWS_AS(Writer::open_existing(file), util::Error);
        }
        SUBCASE("missing file") {
            auto file = tmp / "missing.jsonl";
            CHECK(error_of([&] { read(file); }) == "journal " + file.string() + " does not exist");
        }
        SUBCASE("unknown future version") {
            auto file = tmp / "v7.jsonl";
            std::ofstream(file) << make_line({{"seq", 0},
                                              {"time", "2026-11-26T14:35:00.000Z"},
                                              {"type", "header"},
                                              {"format", "rollback-journal"},
                                              {"version", 7},
                                              {"run_id", "20261126T143500Z-3fa9c1"}},
                                             k_zero_hash)
                                << "\n{\"seq\":1,\"some\":\"future record\"}\n";
            CHECK(
                error_of([&] { read(file); }) ==
                "journal " + file.string() +
                    " has format version 7; this rollback reads version 1 — use a newer rollback");
            CHECK_THROWS_AS(Writer::open_existing(file), util::Error);
        }
        SUBCASE("not a journal") {
            auto file = tmp.write("x.jsonl", "{\"hello\":1}\n");
            CHECK(error_of([&] { read(file); }) ==
                  "journal " + file.string() +
                      " is not a rollback journal (line 1 is not its header)");
        }
        SUBCASE("a torn header") {
            auto file = tmp.write("t.jsonl", "{\"seq\":0,\"ti");
            CHECK(error_of([&] { read(file); }) ==
                  "journal " + file.string() +
                      " has no complete header (crash while creating it?)");
        }
        SUBCASE("a bad line in the middle") {
            auto file = tmp / "m.jsonl";
            {
                auto w = Writer::create(file, header());
                w.append({{"type", "note"}, {"text", "a"}});
            }
            append_bytes(file, "garbage\n");
            { std::ofstream(file, std::ios::app) << "{\"seq\":3}\n"; }
            CHECK(error_of([&] {
                      read(file);
                  }).rfind("journal " + file.string() + ":3: not valid JSON", 0) == 0);
        }
    }

    TEST_CASE("ROLLBACK_TEST_KILL_AT_RECORD kills the process right after that record is durable") {
        test::TempDir tmp;
        auto file = tmp / "k.jsonl";
        pid_t pid = ::fork();
        REQUIRE(pid >= 0);
        if (pid == 0) {
            ::setenv("ROLLBACK_TEST_KILL_AT_RECORD", "3", 1);
            try {
                auto w = Writer::create(file, header());
                for (int i = 0; i < 10; ++i) {
                    w.append({{"type", "note"}, {"text", std::to_string(i)}});
                }
            } catch (...) {
            }
            ::_exit(0);
        }
        int status = 0;
        REQUIRE(::waitpid(pid, &status, 0) == pid);
        CHECK(WIFSIGNALED(status));
        CHECK(WTERMSIG(status) == SIGKILL);
        auto j = read(file);
        CHECK(j.warnings.empty());
        REQUIRE(j.records.size() == 3);
        CHECK(j.object(j.records.size()).at("seq").as_int64() == 3);
        CHECK(verify(file).ok);
    }

    TEST_CASE("appending is cheap (measured — printed)") {
        test::TempDir tmp;
        auto file = tmp / "perf.jsonl";
        auto w = Writer::create(file, header());
        constexpr int n = 200;
        auto t0 = std::chrono::steady_clock::now();
        for (int i = 0; i < n; ++i) {
            w.append({{"type", "step_finished"},
                      {"step", "restart-gunicorn"},
                      {"attempt", 1},
                      {"status", "succeeded"},
                      {"exit_code", 0},
                      {"duration_ms", 1234},
                      {"summary", "exit 0 after 1.2s"},
                      {"output_tail", std::string(400, 'x')}});
        }
        double per_ms =
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
                .count() /
            n;
        MESSAGE("journal append (with fdatasync): " << per_ms << " ms per record");
        // Generous bound: this only catches a pathological regression (e.g. fsync of the
        // directory per record), not a slow shared disk.
        CHECK(per_ms < 20.0);
        CHECK(read(file).records.size() == n);
    }
}

TEST_SUITE("journal") {
    TEST_CASE("an append the file system refuses leaves no torn record and exits 7") {
        test::TempDir tmp;
        auto file = tmp / "runs/20261126T143500Z-3fa9c1.jsonl";
        auto w = Writer::create(file, header());
        w.append({{"type", "note"}, {"text", "before"}});
        CHECK(std::filesystem::exists(Writer::reserve_path(file)));
        const auto size = std::filesystem::file_size(file);

        // RLIMIT_FSIZE lets the next record be written in part (100 bytes), then refuses the rest
        // with EFBIG: the partial record must be cut off again.
        struct sigaction ignore {
        }, old_action{};
        ignore.sa_handler = SIG_IGN;
        ::sigaction(SIGXFSZ, &ignore, &old_action);
        rlimit old_limit{};
        ::getrlimit(RLIMIT_FSIZE, &old_limit);
        rlimit limit = old_limit;
        limit.rlim_cur = size + 100;
        ::setrlimit(RLIMIT_FSIZE, &limit);
        std::string error = "(no error)";
        util::ExitCode code = util::ExitCode::ok;
        try {
            w.append({{"type", "note"}, {"text", std::string(500, 'x')}});
        } catch (const util::Error& e) {
            error = e.what();
            code = e.code();
        }
        ::setrlimit(RLIMIT_FSIZE, &old_limit);
        ::sigaction(SIGXFSZ, &old_action, nullptr);

        CHECK(error == "cannot write journal " + file.string() + ": File too large");
        CHECK(code == util::ExitCode::state_unwritable);
        CHECK(std::filesystem::file_size(file) == size);
        CHECK(verify(file).ok);
        CHECK_FALSE(w.broken());
        // The same writer continues the chain once the file system takes records again.
        CHECK(w.append({{"type", "note"}, {"text", "after"}}) == 2);
        auto v = verify(file);
        CHECK(v.ok);
        CHECK(v.lines == 3);
        CHECK(read(file).records.size() == 2);
    }

    TEST_CASE("the space reserve lives as long as the writer") {
        test::TempDir tmp;
        auto file = tmp / "runs/20261126T143500Z-3fa9c1.jsonl";
        {
            auto w = Writer::create(file, header());
            CHECK(std::filesystem::file_size(Writer::reserve_path(file)) == k_reserve_bytes);
            auto moved = std::move(w);
            CHECK(std::filesystem::exists(Writer::reserve_path(file)));
        }
        CHECK_FALSE(std::filesystem::exists(Writer::reserve_path(file)));
        {
            auto w = Writer::open_existing(file);
            CHECK(std::filesystem::exists(Writer::reserve_path(file)));
        }
        CHECK_FALSE(std::filesystem::exists(Writer::reserve_path(file)));
    }
}
