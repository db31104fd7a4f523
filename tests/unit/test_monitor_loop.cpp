// SPDX-License-Identifier: MIT
// The monitor's loop driven tick by tick in virtual time: a fake clock, the fake process runner
// (the source's command, the hooks and the playbook's steps), a MemoryStore, and the
// orchestrator starting the playbook — what `rollback monitor` does between its signals.
#include "monitor/loop.hpp"
#include "orchestrator/preflight.hpp"

#include "actions/load.hpp"
#include "journal/paths.hpp"
#include "journal/state.hpp"
#include "orchestrator/execute.hpp"
#include "orchestrator/plan.hpp"
#include "report/observer.hpp"
#include "state/leadership.hpp"
#include "state/local_store.hpp"
#include "state/memory_store.hpp"
#include "util/error.hpp"
#include "util/files.hpp"

#include "support/fake_runner.hpp"
#include "support/temp_dir.hpp"

#include <algorithm>
#include <doctest/doctest.h>
#include <filesystem>
#include <stdexcept>
#include <unistd.h>
#include <utility>

using namespace rollback;
using decision::Action;

namespace {

namespace fs = std::filesystem;

class FakeClock final : public util::Clock {
  public:
    util::SystemTime now() const override { return t; }
    util::SystemTime t;
};

/// What the loop said, kept for the assertions.
class CapturedOutput final : public monitor::LoopOutput {
  public:
    void decision(const decision::DecisionRecord& r) override { records.push_back(r); }
    void say(const std::string& line) override { said.push_back(line); }
    void problem(const std::string& line) override { problems.push_back(line); }
    bool said_line(const std::string& line) const {
        return std::find(said.begin(), said.end(), line) != said.end();
    }
    bool problem_with(const std::string& line) const {
        return std::find(problems.begin(), problems.end(), line) != problems.end();
    }
    std::vector<decision::DecisionRecord> records;
    std::vector<std::string> said, problems;
};

/// Runs `pb` through the orchestrator under the store's lock, as `rollback run --yes` does;
/// returns the run's id and exit code.
std::pair<std::string, int> run_playbook(state::Store& store, exec::ProcessRunner& runner,
                                         const fs::path& state_dir, const playbook::Playbook& pb,
                                         const actions::Trigger& trigger) {
    const std::string run_id = journal::new_run_id();
    auto attempt = store.acquire_lease(state::this_process_holder(run_id, trigger.reason));
    if (!attempt.lease) {
        throw util::Error("the lock is held", util::ExitCode::locked);
    }
    orchestrator::RunOptions ro{state_dir, trigger, {}, false, "test"};
    report::NullObserver quiet;
    auto outcome = orchestrator::run(orchestrator::make_plan(pb, {}, trigger), ro, store,
                                     *attempt.lease, run_id, runner, quiet);
    attempt.lease->release();
    return {run_id, util::to_int(outcome.code)};
}

/// The starter of the tests: the orchestrator over the fake runner, every trigger kept.
class OrchestratorStarter final : public monitor::RunStarter {
  public:
    OrchestratorStarter(state::Store& store, exec::ProcessRunner& runner, fs::path state_dir)
        : m_store(store), m_runner(runner), m_state_dir(std::move(state_dir)) {}
    int start(const playbook::Playbook& pb, const actions::Trigger& trigger,
              const state::RunFence& fence) override {
        triggers.push_back(trigger);
        fences.push_back(fence);
        if (!store_errors.empty()) {
            // The store refuses before the run starts: the engine's error (a state directory
            // that cannot be written) or the driver's own (a connection that broke).
            const bool driver = store_errors.front();
            store_errors.erase(store_errors.begin());
            if (driver) {
                throw std::runtime_error("server closed the connection unexpectedly");
            }
            throw util::Error("cannot take the run lock: permission denied",
                              util::ExitCode::state_unwritable);
        }
        if (preflight_errors > 0) {
            --preflight_errors;
            throw orchestrator::PreflightFailed(
                {"restore-db: backup last_good intact: archive shop-1.dump is missing"});
        }
        if (die_in_step) {
            die_in_step = false;
            return die_in_run(pb, trigger);
        }
        return run_playbook(m_store, m_runner, m_state_dir, pb, trigger).second;
    }
    int resume(const std::string& run_id, const state::RunFence& fence) override {
        resumed.push_back(run_id);
        fences.push_back(fence);
        if (!resume_errors.empty()) {
            const auto code = resume_errors.front();
            resume_errors.erase(resume_errors.begin());
            throw util::Error("the playbook changed since the run started", code);
        }
        auto jr = m_store.read_journal(run_id);
        auto st = journal::fold(jr, false);
        auto attempt = m_store.acquire_lease(state::this_process_holder(run_id, st.reason));
        if (!attempt.lease) {
            throw util::Error("the lock is held", util::ExitCode::locked);
        }
        orchestrator::ResumeOptions ro{m_state_dir, {}, {}, "test", "", false};
        report::NullObserver quiet;
        auto outcome = orchestrator::resume(actions::load_playbook(st.playbook), jr, ro, m_store,
                                            *attempt.lease, m_runner, quiet);
        attempt.lease->release();
        return util::to_int(outcome.code);
    }
    std::vector<actions::Trigger> triggers;
    std::vector<std::string> resumed;
    std::vector<state::RunFence> fences; ///< of every start and resume
    /// The next starts fail with a store error before any run: true the driver's, false ours.
    std::vector<bool> store_errors;
    /// The next starts find problems in their preflight: nothing runs.
    int preflight_errors = 0;
    /// The next start's run is interrupted in its step and its holder dies holding the lock
    /// (a leader killed mid-run, as another process on this host).
    bool die_in_step = false;
    /// The next resumes fail with these exit codes before resuming anything.
    std::vector<util::ExitCode> resume_errors;

  private:
    int die_in_run(const playbook::Playbook& pb, const actions::Trigger& trigger) {
        const std::string run_id = journal::new_run_id();
        auto holder = state::this_process_holder(run_id, trigger.reason);
        auto attempt = m_store.acquire_lease(holder);
        REQUIRE(attempt.lease);
        // The engine dies in the step: nothing after its step_started is recorded.
        struct Killed {};
        test::FakeProcessRunner dying;
        dying.responder = [](const exec::Command&) -> exec::Outcome { throw Killed{}; };
        orchestrator::RunOptions ro{m_state_dir, trigger, {}, false, "test"};
        report::NullObserver quiet;
        try {
            orchestrator::run(orchestrator::make_plan(pb, {}, trigger), ro, m_store, *attempt.lease,
                              run_id, dying, quiet);
            FAIL("the run was to die in its step");
        } catch (const Killed&) {
        }
        // The lock keeps naming the run's holder, another process on this host, now dead.
        attempt.lease.reset();
        holder.pid += 100000;
        auto dead = m_store.acquire_lease(holder);
        REQUIRE(dead.lease);
        dead.lease->release_leaving(holder);
        return util::to_int(util::ExitCode::interrupted);
    }

    state::Store& m_store;
    exec::ProcessRunner& m_runner;
    fs::path m_state_dir;
};

/// Leadership as the test says: leads or not, under a generation.
class FakeLeadership final : public state::Leadership {
  public:
    bool may_act() override { return leads; }
    std::uint64_t generation() const override { return generation_; }
    bool leads_now() const override { return leads && !deposed; }
    std::optional<state::Leader> leader() const override {
        state::Holder h;
        h.host = "leader-host";
        h.pid = 4242;
        return state::Leader{h, generation_, ""};
    }
    void step_down() noexcept override {}
    bool leads = false;
    /// Set: the leadership was taken over since the tick's may_act() (a pause past the lease).
    bool deposed = false;
    std::uint64_t generation_ = 3;
};

/// `Base` (a store) where a person answers the approval request right before the monitor's
/// write of it: between the monitor's read (pending) and its write.
template <class Base>
class AnsweredBeforeWrite final : public Base {
  public:
    using Base::Base;
    void put_approval(const state::ApprovalRequest& a) override {
        answer_first(a);
        Base::put_approval(a);
    }
    bool answer_pending_approval(const state::ApprovalRequest& next) override {
        answer_first(next);
        return Base::answer_pending_approval(next);
    }
    /// The person's answer, given once before the next write of a request that is not it.
    std::optional<state::ApprovalRequest> person;

  private:
    void answer_first(const state::ApprovalRequest& a) {
        if (person && a.decision_id == person->decision_id && a.state != person->state) {
            auto answer = *std::exchange(person, std::nullopt);
            REQUIRE(Base::answer_pending_approval(answer));
        }
    }
};

/// A config with one condition on a command source (`probe`, answered by the fake runner), its
/// [decision] table given, and the playbook pb.toml (one step: `restore`) with a `notify` hook.
std::string config_text(const std::string& decision, const std::string& threshold = "5") {
    return R"([target]
name = "shop"
[source.c]
kind = "command"
argv = ["probe"]
interval = "10s"
[[condition]]
name = "corruption"
signal = "c.value"
above = )" +
           threshold +
           R"(
severity = "critical"
[decision]
playbook = "pb.toml"
interval = "10s"
)" + decision;
}

/// `Base` (a store) whose monitor is paused right after an approval request it filed
/// committed, past its lease: another monitor leads when it continues (`deposed` is set).
template <class Base>
class PausedAfterFiling final : public Base {
  public:
    using Base::Base;
    void request_approval(const state::ApprovalRequest& a, std::uint64_t generation) override {
        Base::request_approval(a, generation);
        if (deposed != nullptr) {
            *std::exchange(deposed, nullptr) = true;
        }
    }
    bool* deposed = nullptr;
};

/// The monitor process died (kill -9) where this is thrown: nothing after it ran.
struct Killed {};

struct World {
    explicit World(const std::string& decision) {
        dir.write("pb.toml", R"([playbook]
name = "restore-shop"
[[step]]
id = "restore"
action = "exec"
argv = ["restore"]
)");
        const auto hook = dir.write("hooks/notify", "#!/bin/sh\nexit 0\n");
        fs::permissions(hook, fs::perms::owner_all);
        config_file = dir.write("rollback.toml", config_text(decision));
        // Virtual time starts at the real time: the journals the orchestrator writes are dated by
        // the real clock.
        clock.t = std::chrono::time_point_cast<util::Millis>(std::chrono::system_clock::now());
        value("1");
    }

    /// What the source's command prints from now on.
    void value(const std::string& v) {
        runner.outcomes["probe"] = test::FakeProcessRunner::exited(0, v + "\n");
    }

    std::unique_ptr<monitor::Loop> make_loop(bool once = false) {
        return std::make_unique<monitor::Loop>(
            monitor::LoopEnv{clock, runner, store, starter, out, dir.path()},
            config::load(config_file), once);
    }

    /// The next tick: the clock moves to when the loop reads its sources, and the loop runs.
    void tick(monitor::Loop& loop) {
        clock.t = loop.schedule_next(true);
        loop.iterate(true);
    }

    /// The run of a person (`rollback run`, `rollback approve`) in the same state.
    std::string person_runs(const actions::Trigger& trigger) {
        auto pb = actions::load_playbook(dir / "pb.toml");
        auto run = run_playbook(store, runner, dir.path(), pb, trigger);
        REQUIRE(run.second == 0);
        return run.first;
    }

    /// The lines of monitor.jsonl (what the monitor did besides deciding).
    std::string events() const { return util::read_file(dir / "monitor.jsonl"); }

    long calls_of(const std::string& program) const {
        auto p = runner.programs();
        return std::count(p.begin(), p.end(), program);
    }

    test::TempDir dir;
    fs::path config_file;
    FakeClock clock;
    test::FakeProcessRunner runner;
    state::MemoryStore store;
    OrchestratorStarter starter{store, runner, dir.path()};
    CapturedOutput out;
};

/// Another monitor of the same config and store (a host of its own: its own output and
/// monitor.jsonl), with its leadership.
struct Peer {
    Peer(World& w, state::Store& store, const std::string& name, std::uint64_t generation)
        : dir(w.dir / name) {
        fs::create_directories(dir);
        lead.generation_ = generation;
        loop = std::make_unique<monitor::Loop>(
            monitor::LoopEnv{w.clock, w.runner, store, w.starter, out, dir},
            config::load(w.config_file), false);
        loop->set_leadership(lead);
    }
    std::string events() const { return util::read_file(dir / "monitor.jsonl"); }
    fs::path dir;
    CapturedOutput out;
    FakeLeadership lead;
    std::unique_ptr<monitor::Loop> loop;
};

/// The hooks as the fake runner answers them: `probe` prints `value`; `die_in` (when set)
/// kills the monitor calling it, once.
struct Hooks {
    explicit Hooks(World& w) {
        w.runner.responder = [this](const exec::Command& cmd) {
            if (!die_in.empty() && cmd.argv[0] == die_in) {
                die_in.clear();
                throw Killed{};
            }
            return cmd.argv[0] == "probe" ? test::FakeProcessRunner::exited(0, value + "\n")
                                          : test::FakeProcessRunner::exited(0);
        };
    }
    std::string value = "9";
    std::string die_in;
};

} // namespace

TEST_SUITE("monitor") {
    TEST_CASE("loop: a trigger starts exactly one run") {
        World w("mode = \"auto\"\ncooldown = \"1h\"\n");
        w.value("9");
        auto loop = w.make_loop();
        loop->iterate(true);

        REQUIRE(w.out.records.size() == 1);
        const auto& r = w.out.records[0];
        CHECK(r.action == Action::trigger);
        CHECK(r.executed);
        REQUIRE(w.starter.triggers.size() == 1);
        const auto& t = w.starter.triggers[0];
        CHECK(t.kind == "monitor");
        CHECK(t.condition == "corruption");
        CHECK(t.severity == "critical");
        CHECK(t.decision_id == decision::record_id(r));
        // The record is kept under its id before the run; the run is journaled in the store.
        CHECK(w.store.record(t.decision_id).action == Action::trigger);
        auto runs = w.store.list_runs();
        REQUIRE(runs.size() == 1);
        auto st = journal::fold(w.store.read_journal(runs[0]), false);
        CHECK(st.status == journal::RunStatus::succeeded);
        CHECK(w.calls_of("restore") == 1);
        CHECK(loop->once_exit_code() == 0);
        CHECK(w.events().find("\"event\":\"run_finished\"") != std::string::npos);
        CHECK(loop->monitor().policy_memory().cooldown_until.has_value());

        // The condition keeps firing: the cooldown holds, no second run.
        for (int i = 0; i < 5; ++i) {
            w.tick(*loop);
        }
        CHECK(w.starter.triggers.size() == 1);
        CHECK(w.store.list_runs().size() == 1);
        CHECK(w.calls_of("restore") == 1);
        CHECK(w.calls_of("probe") == 6); // one read per tick
        size_t ticks = 0;
        for (const auto& [day, lines] : w.store.ticks()) {
            ticks += lines.size();
        }
        CHECK(ticks == 6);
    }

    TEST_CASE("loop: a follower records the trigger as a follower's and starts nothing") {
        World w("mode = \"auto\"\ncooldown = \"1h\"\n");
        w.value("9");
        auto loop = w.make_loop();
        FakeLeadership lead;
        loop->set_leadership(lead);
        loop->iterate(true);

        CHECK_FALSE(loop->leading());
        REQUIRE(w.out.records.size() == 1);
        const auto& r = w.out.records[0];
        CHECK(r.action == Action::trigger);
        CHECK_FALSE(r.executed);
        REQUIRE(r.leadership.has_value());
        CHECK(r.leadership->role == "follower");
        CHECK(r.leadership->generation == 3);
        CHECK(r.leadership->pid == ::getpid());
        CHECK(w.starter.triggers.empty());
        CHECK(w.store.list_runs().empty());
        CHECK(w.calls_of("restore") == 0);
        // Kept as recorded (the leadership survives the JSON), and said.
        CHECK(w.store.record(decision::record_id(r)).leadership == r.leadership);
        CHECK(decision::from_json(decision::to_json(r)).leadership == r.leadership);
        CHECK(decision::explain(r).find("this monitor followed") != std::string::npos);
        CHECK(w.out.said_line("following leader-host pid 4242 (generation 3)"));
        CHECK(w.events().find("\"event\":\"following\"") != std::string::npos);
        // The leader keeps the shared policy memory; a follower writes none.
        CHECK_FALSE(w.store.policy_memory_document().has_value());
        CHECK(loop->once_exit_code() == 5);
    }

    TEST_CASE("loop: the leader starts the run and its record says it led") {
        World w("mode = \"auto\"\ncooldown = \"1h\"\n");
        w.value("9");
        auto loop = w.make_loop();
        FakeLeadership lead;
        lead.leads = true;
        loop->set_leadership(lead);
        loop->iterate(true);

        CHECK(loop->leading());
        REQUIRE(w.out.records.size() == 1);
        const auto& r = w.out.records[0];
        CHECK(r.executed);
        REQUIRE(r.leadership.has_value());
        CHECK(r.leadership->role == "leader");
        CHECK(w.starter.triggers.size() == 1);
        CHECK(w.store.list_runs().size() == 1);
        CHECK(w.calls_of("restore") == 1);
        CHECK(w.store.policy_memory_document().has_value());
        CHECK(w.out.said_line("leading (generation 3)"));

        // Deposed: the next ticks record as a follower; the cooldown holds either way.
        lead.leads = false;
        lead.generation_ = 4;
        w.tick(*loop);
        CHECK_FALSE(loop->leading());
        CHECK(w.out.said_line("following leader-host pid 4242 (generation 4)"));
        CHECK(w.starter.triggers.size() == 1);
    }

    TEST_CASE("loop: a monitor alone on its state records no leadership") {
        World w("mode = \"auto\"\ncooldown = \"1h\"\n");
        w.value("9");
        auto loop = w.make_loop();
        loop->iterate(true);
        REQUIRE(w.out.records.size() == 1);
        CHECK_FALSE(w.out.records[0].leadership.has_value());
        CHECK(decision::to_json(w.out.records[0]).find("leadership") == std::string::npos);
    }

    TEST_CASE("loop: the cooldown survives a reload and a restart") {
        World w("mode = \"auto\"\ncooldown = \"1h\"\n");
        w.value("9");
        auto loop = w.make_loop();
        loop->iterate(true);
        REQUIRE(w.starter.triggers.size() == 1);
        const auto memory = loop->monitor().policy_memory();
        REQUIRE(memory.cooldown_until.has_value());

        // A new config (a lower threshold): the counting starts again, the cooldown carries over.
        util::write_file_atomic(w.config_file,
                                config_text("mode = \"auto\"\ncooldown = \"1h\"\n", "4"));
        loop->reload();
        CHECK(w.out.said_line("reloaded " + w.config_file.string()));
        CHECK(w.out.problems.empty());
        CHECK(loop->monitor().policy_memory() == memory);
        for (int i = 0; i < 3; ++i) {
            w.tick(*loop);
        }
        CHECK(w.starter.triggers.size() == 1);
        CHECK(w.events().find("\"event\":\"reloaded\"") != std::string::npos);

        // A restarted monitor is the same monitor: the memory kept in the state holds.
        loop->save();
        loop.reset();
        auto again = w.make_loop();
        auto kept = again->monitor().policy_memory();
        CHECK(kept.evaluated_until > memory.evaluated_until); // the ticks after the reload
        kept.evaluated_until = memory.evaluated_until;
        for (auto& [name, cm] : kept.conditions) { // the windows judged after the reload
            cm.judged_until = memory.conditions.at(name).judged_until;
            // and the open incident's last breach: those ticks breached the lower threshold
            CHECK(cm.breached_at > memory.conditions.at(name).breached_at);
            cm.breached_at = memory.conditions.at(name).breached_at;
        }
        CHECK(kept == memory);
        again->iterate(true);
        w.tick(*again);
        CHECK(w.starter.triggers.size() == 1);
        CHECK(w.store.list_runs().size() == 1);
    }

    TEST_CASE("loop: a bad config on reload is rejected and the running one kept") {
        World w("mode = \"auto\"\n");
        auto loop = w.make_loop();
        loop->iterate(true);
        util::write_file_atomic(w.config_file, "[decision]\nmode = \"sometimes\"\n");
        loop->reload();
        REQUIRE(w.out.problems.size() == 1);
        CHECK(w.out.problems[0].rfind("reload rejected; keeping the running config:\n", 0) == 0);
        CHECK(w.events().find("\"event\":\"reload_rejected\"") != std::string::npos);
        // The running config still decides: the condition fires and the playbook runs.
        w.value("9");
        w.tick(*loop);
        CHECK(w.starter.triggers.size() == 1);
    }

    TEST_CASE("loop: a reload naming another state is rejected loudly (break-it 32/08)") {
        World w("mode = \"auto\"\n");
        const std::string text = util::read_file(w.config_file);
        const std::string with_state =
            "[state]\ndsn = \"host=/run/pg dbname=rb password=Pw-08-sekrit\"\nschema = \"hupa\"\n" +
            text;
        util::write_file_atomic(w.config_file, with_state);
        auto loop = w.make_loop();
        loop->iterate(true);
        SUBCASE("schema and lease changed") {
            std::string moved = with_state;
            moved.replace(moved.find("\"hupa\""), 6, "\"hupb\"\nlease = \"10s\"");
            util::write_file_atomic(w.config_file, moved);
            loop->reload();
            REQUIRE(w.out.problems.size() == 1);
            CHECK(w.out.problems[0] ==
                  "reload rejected; keeping the running config:\n[state] schema, [state] lease "
                  "changed in " +
                      w.config_file.string() +
                      ": a reload cannot move the monitor to another state; restart the monitor "
                      "to apply it (systemctl restart); nothing of the new file applies until "
                      "then");
        }
        SUBCASE("the shared state dropped") {
            util::write_file_atomic(w.config_file, text);
            loop->reload();
            REQUIRE(w.out.problems.size() == 1);
            CHECK(w.out.problems[0].find("[state] changed in ") != std::string::npos);
        }
        CHECK_FALSE(w.out.said_line("reloaded " + w.config_file.string()));
        CHECK(w.events().find("\"event\":\"reload_rejected\"") != std::string::npos);
        REQUIRE(loop->monitor().config().shared_state);
        CHECK(loop->monitor().config().shared_state->schema == "hupa"); // the running one kept
    }

    TEST_CASE("loop: a reload compares the state the rule resolves and not the file's state_dir") {
        World w("mode = \"auto\"\n");
        const std::string text = util::read_file(w.config_file);
        auto loop = w.make_loop();
        // As `rollback monitor` under $ROLLBACK_STATE_DIR (the packaged unit): the environment
        // decides the directory whatever the file says.
        const fs::path env_dir = w.dir / "env-state";
        fs::path rule_dir = env_dir;
        loop->set_state_rule([&](const config::Config& c) {
            return monitor::ResolvedState{rule_dir, c.shared_state, {}};
        });
        loop->iterate(true);
        SUBCASE("the file's state_dir changed, the environment's kept: reloaded") {
            util::write_file_atomic(w.config_file, "[target]\nstate_dir = \"elsewhere\"\n" +
                                                       text.substr(text.find('\n') + 1));
            loop->reload();
            CHECK(w.out.problems.empty());
            CHECK(w.out.said_line("reloaded " + w.config_file.string()));
        }
        SUBCASE("the rule resolves another directory: refused") {
            rule_dir = w.dir / "other-state";
            loop->reload();
            REQUIRE(w.out.problems.size() == 1);
            CHECK(w.out.problems[0].find("[target] state_dir changed in ") != std::string::npos);
            CHECK_FALSE(w.out.said_line("reloaded " + w.config_file.string()));
        }
    }

    TEST_CASE("loop: the approve command it prints names the state the rule chose") {
        World w("mode = \"confirm\"\napproval_timeout = \"30m\"\n");
        w.value("9");
        auto loop = w.make_loop(true);
        // As `rollback monitor --state-dir DIR`: `-c FILE` alone would find the file's own state.
        const std::string args =
            " -c " + w.config_file.string() + " --state-dir " + (w.dir / "chosen").string();
        loop->set_state_rule([&](const config::Config&) {
            return monitor::ResolvedState{w.dir / "chosen", std::nullopt, args};
        });
        loop->iterate(true);
        REQUIRE(w.out.records.size() == 1);
        const std::string id = decision::record_id(w.out.records[0]);
        const auto request = w.store.approval(id);
        REQUIRE(request);
        CHECK(w.out.said_line("approval requested: rollback approve " + id + args + " (until " +
                              util::format_time(request->expires_at) + ")"));
    }

    TEST_CASE("loop: a finished run is noticed — a recurrence is reported not triggered") {
        World w("mode = \"auto\"\nwatch_after = \"1h\"\n");
        auto loop = w.make_loop();
        loop->iterate(true);
        REQUIRE(w.out.records.size() == 1); // the first verdict is notable
        CHECK(w.out.records[0].action == Action::none);
        CHECK_FALSE(loop->monitor().policy_memory().watch_until.has_value());

        // A person rolls back by hand between two ticks.
        actions::Trigger manual;
        manual.reason = "checkout errors";
        const std::string run_id = w.person_runs(manual);
        w.value("9");
        w.tick(*loop);

        CHECK(w.events().find("\"event\":\"run_noticed\",\"run_id\":\"" + run_id + "\"") !=
              std::string::npos);
        CHECK(loop->monitor().policy_memory().watch_until.has_value());
        REQUIRE(w.out.records.size() == 2);
        CHECK(w.out.records[1].action == Action::notify);
        CHECK(w.starter.triggers.empty());
        CHECK(w.calls_of("restore") == 1); // the person's run only
    }

    TEST_CASE("loop: a run is noticed once its last record says it finished") {
        World w("mode = \"observe\"\nwatch_after = \"1h\"\n");
        auto loop = w.make_loop();
        loop->iterate(true);
        const std::string run_id = journal::new_run_id();
        auto lease = w.store.acquire_lease(state::this_process_holder(run_id, "by hand")).lease;
        REQUIRE(lease);
        auto j = w.store.create_journal(run_id, {{"run_id", run_id}}, *lease);
        journal::RunStarted started;
        started.run_id = run_id;
        started.playbook = (w.dir / "pb.toml").string();
        j->append(journal::to_json(started));
        j->append(journal::to_json(journal::StepStarted{"restore", 1}));
        const auto noticed = [&] {
            return fs::exists(w.dir / "monitor.jsonl") &&
                   w.events().find("\"event\":\"run_noticed\",\"run_id\":\"" + run_id + "\"") !=
                       std::string::npos;
        };
        w.tick(*loop);
        CHECK_FALSE(noticed()); // still running
        j->append(journal::to_json(journal::Note{"still going"}));
        w.tick(*loop);
        CHECK_FALSE(noticed());
        j->append(journal::to_json(journal::RunFinished{"succeeded", 0, 5, std::nullopt}));
        w.tick(*loop);
        CHECK(noticed());
        CHECK(loop->monitor().policy_memory().watch_until.has_value());
    }

    TEST_CASE("loop: a deploy marker is fed once and the baselines are saved after it") {
        World w("mode = \"auto\"\n");
        auto loop = w.make_loop();
        loop->iterate(true);
        CHECK_FALSE(w.store.baselines().has_value()); // saved every 60 ticks, or when changed
        w.store.put_deploy_marker({"v2", w.clock.t, "shop"});
        w.tick(*loop);
        CHECK(w.store.baselines().has_value());
    }

    TEST_CASE("loop: an approval flows — requested and told then the approved run noticed") {
        World w("mode = \"confirm\"\nwatch_after = \"1h\"\napproval_timeout = \"30m\"\n"
                "hooks = [\"notify\"]\n");
        w.value("9");
        auto loop = w.make_loop(true);
        loop->iterate(true);

        REQUIRE(w.out.records.size() == 1);
        const auto r = w.out.records[0];
        CHECK(r.action == Action::request_approval);
        CHECK(r.executed);                  // the request was made
        CHECK(loop->once_exit_code() == 5); // recommended, not run
        CHECK(w.starter.triggers.empty());
        const std::string id = decision::record_id(r);
        auto request = w.store.approval(id);
        REQUIRE(request);
        CHECK(request->state == "pending");
        CHECK(request->condition == "corruption");
        CHECK(request->severity == "critical");
        CHECK(request->expires_at == r.time + std::chrono::minutes(30));
        CHECK(w.out.said_line("approval requested: rollback approve " + id + " -c " +
                              w.config_file.string() + " (until " +
                              util::format_time(request->expires_at) + ")"));
        // The [decision] hook was told, through the injected runner.
        CHECK(w.calls_of((w.dir / "hooks" / "notify").string()) == 1);

        // A person approves (`rollback approve`): the playbook runs naming the decision.
        actions::Trigger approved;
        approved.kind = "approved";
        approved.decision_id = id;
        const std::string run_id = w.person_runs(approved);
        request->state = "approved";
        request->approved_by = "alice";
        request->run_id = run_id;
        w.store.put_approval(*request);

        w.tick(*loop);
        CHECK(w.events().find("\"event\":\"run_noticed\",\"run_id\":\"" + run_id + "\"") !=
              std::string::npos);
        CHECK(loop->monitor().policy_memory().watch_until.has_value());
        // Still firing after the rollback, the same incident: no second request, no run.
        for (int i = 0; i < 3; ++i) {
            w.tick(*loop);
        }
        for (size_t i = 1; i < w.out.records.size(); ++i) {
            CHECK(w.out.records[i].action != Action::request_approval);
        }
        CHECK(w.store.approvals().size() == 1);
        CHECK(w.starter.triggers.empty());
    }

    TEST_CASE("loop: a leader deposed during its tick files no request and calls no hook") {
        World w("mode = \"confirm\"\napproval_timeout = \"30m\"\nhooks = [\"notify\"]\n");
        w.value("9");
        auto loop = w.make_loop();
        FakeLeadership lead;
        lead.leads = true;
        lead.deposed = true; // paused past its lease after may_act(): another monitor leads now
        loop->set_leadership(lead);
        loop->iterate(true);

        REQUIRE(w.out.records.size() == 1);
        CHECK(w.out.records[0].action == Action::request_approval);
        CHECK(w.store.approvals().empty());
        CHECK(w.calls_of((w.dir / "hooks" / "notify").string()) == 0);
        CHECK_FALSE(loop->leading());
        const std::string id = decision::record_id(w.out.records[0]);
        CHECK(w.out.problem_with("no approval request filed for " + id +
                                 ": this monitor no longer leads (its leadership of generation 3 "
                                 "was taken over or expired); it acts on nothing more"));
        CHECK(w.events().find("\"event\":\"fenced\"") != std::string::npos);
    }

    TEST_CASE("loop: a leader deposed while a [decision] hook runs calls none of the next") {
        World w("mode = \"confirm\"\napproval_timeout = \"30m\"\n"
                "hooks = [\"notify\", \"page\", \"ticket\"]\n");
        for (const char* name : {"hooks/page", "hooks/ticket"}) {
            fs::permissions(w.dir.write(name, "#!/bin/sh\nexit 0\n"), fs::perms::owner_all);
        }
        w.value("9");
        auto loop = w.make_loop();
        FakeLeadership lead;
        lead.leads = true;
        loop->set_leadership(lead);
        const std::string notify = (w.dir / "hooks" / "notify").string();
        // The first hook runs long (or its monitor is paused meanwhile) past the lease: another
        // monitor takes the leadership over before it returns (break-it 38/01).
        w.runner.responder = [&](const exec::Command& cmd) {
            if (cmd.argv[0] == notify) {
                lead.deposed = true;
            }
            return cmd.argv[0] == "probe" ? test::FakeProcessRunner::exited(0, "9\n")
                                          : test::FakeProcessRunner::exited(0);
        };
        loop->iterate(true);

        REQUIRE(w.out.records.size() == 1);
        const std::string id = decision::record_id(w.out.records[0]);
        CHECK(w.store.approval(id).has_value()); // filed while it led
        CHECK(w.calls_of(notify) == 1);
        CHECK(w.calls_of((w.dir / "hooks" / "page").string()) == 0);
        CHECK(w.calls_of((w.dir / "hooks" / "ticket").string()) == 0);
        CHECK_FALSE(loop->leading());
        CHECK(w.out.problem_with("the [decision] hooks page, ticket were not called for " + id +
                                 ": this monitor no longer leads (its leadership of generation 3 "
                                 "was taken over or expired); it acts on nothing more"));
        CHECK(w.events().find("\"event\":\"fenced\",\"what\":\"the [decision] hooks page, "
                              "ticket were not called for " +
                              id + "\",\"decision_id\":\"" + id +
                              "\",\"not_called\":[\"page\",\"ticket\"]") != std::string::npos);
    }

    TEST_CASE("loop: a leader deposed between the fence check and a [decision] hook's start never "
              "runs it") {
        World w("mode = \"confirm\"\napproval_timeout = \"30m\"\n"
                "hooks = [\"notify\", \"page\"]\n");
        fs::permissions(w.dir.write("hooks/page", "#!/bin/sh\nexit 0\n"), fs::perms::owner_all);
        w.value("9");
        auto loop = w.make_loop();
        FakeLeadership lead;
        lead.leads = true;
        loop->set_leadership(lead);
        const std::string notify = (w.dir / "hooks" / "notify").string();
        bool notify_ran = false;
        // The monitor passes the check for `notify`, then pauses past its lease before the
        // hook's program starts: the leadership is taken over after the fork (the runner's
        // on_started), before the program would run (issue 14).
        w.runner.responder = [&](const exec::Command& cmd) {
            if (cmd.argv[0] == notify) {
                lead.deposed = true;
                if (cmd.on_started) {
                    cmd.on_started(exec::GroupToken{});
                }
                notify_ran = true;
            }
            return cmd.argv[0] == "probe" ? test::FakeProcessRunner::exited(0, "9\n")
                                          : test::FakeProcessRunner::exited(0);
        };
        loop->iterate(true);

        REQUIRE(w.out.records.size() == 1);
        const std::string id = decision::record_id(w.out.records[0]);
        CHECK_FALSE(notify_ran);
        CHECK(w.calls_of((w.dir / "hooks" / "page").string()) == 0);
        CHECK_FALSE(loop->leading());
        CHECK(w.out.problem_with("the [decision] hooks notify, page were not called for " + id +
                                 ": this monitor no longer leads (its leadership of generation 3 "
                                 "was taken over or expired); it acts on nothing more"));
        CHECK_FALSE(w.store.approval(id)->told.size() > 0); // nothing was told
    }

    TEST_CASE("loop: a second request for one incident is not filed") {
        World w("mode = \"confirm\"\napproval_timeout = \"30m\"\nhooks = [\"notify\"]\n");
        w.value("9");
        // Another monitor (the leader before a takeover) asked for this incident already.
        state::ApprovalRequest other;
        other.decision_id = "20200101T000000.000Z-0000abcd";
        other.requested_at = w.clock.t - std::chrono::minutes(1);
        other.expires_at = w.clock.t + std::chrono::minutes(29);
        other.condition = "corruption";
        other.told = {"notify"};
        other.announced = true; // its leader told the hooks
        w.store.put_approval(other);
        auto loop = w.make_loop();
        FakeLeadership lead;
        lead.leads = true;
        loop->set_leadership(lead);
        loop->iterate(true);

        REQUIRE(w.out.records.size() == 1);
        const std::string id = decision::record_id(w.out.records[0]);
        CHECK_FALSE(w.store.approval(id).has_value());
        CHECK(w.store.approvals().size() == 1);
        CHECK(w.calls_of((w.dir / "hooks" / "notify").string()) == 0);
        CHECK(w.out.problem_with("no approval request filed for " + id + ": request " +
                                 other.decision_id +
                                 " of condition corruption is pending (one incident, one "
                                 "request)"));

        SUBCASE("the twin unanswered past its expiry pages as this monitor's own would") {
            w.clock.t = other.expires_at + std::chrono::minutes(1);
            w.tick(*loop);
            CHECK(w.events().find("\"event\":\"approval_expired\",\"decision_id\":\"" +
                                  other.decision_id) != std::string::npos);
            w.tick(*loop); // the incident still breaches: a person is paged, once
            const auto escalated =
                std::count_if(w.out.records.begin(), w.out.records.end(),
                              [](const auto& r) { return r.action == Action::escalate; });
            CHECK(escalated == 1);
            CHECK(w.calls_of((w.dir / "hooks" / "notify").string()) == 1);
        }
        SUBCASE("the twin is withdrawn when the incident resolves") {
            w.value("1");
            w.tick(*loop);
            CHECK(w.store.approval(other.decision_id)->state == "withdrawn");
        }
    }

    TEST_CASE("loop: a leader deposed during its tick withdraws no request") {
        World w("mode = \"confirm\"\napproval_timeout = \"30m\"\ncooldown = \"1s\"\n");
        w.value("9");
        auto loop = w.make_loop();
        FakeLeadership lead;
        lead.leads = true;
        loop->set_leadership(lead);
        loop->iterate(true);
        REQUIRE(w.out.records.size() == 1);
        const std::string id = decision::record_id(w.out.records[0]);
        REQUIRE(w.store.approval(id));
        w.value("1");
        lead.deposed = true; // paused past its lease: the monitor that leads now decides
        w.tick(*loop);
        CHECK(w.store.approval(id)->state == "pending");
        CHECK(w.events().find("approval_withdrawn") == std::string::npos);
        CHECK_FALSE(loop->leading());
        CHECK(w.out.problem_with("approval request " + id +
                                 " not withdrawn: this monitor no longer leads (its leadership of "
                                 "generation 3 was taken over or expired); it acts on nothing "
                                 "more"));
    }

    TEST_CASE("loop: a person's approval between the withdrawal's read and write is kept") {
        World w("mode = \"confirm\"\napproval_timeout = \"30m\"\ncooldown = \"1s\"\n");
        AnsweredBeforeWrite<state::MemoryStore> memory;
        AnsweredBeforeWrite<state::LocalStore> local(w.dir / "state");
        auto check_with = [&](auto& store) {
            w.value("9");
            monitor::Loop loop(
                monitor::LoopEnv{w.clock, w.runner, store, w.starter, w.out, w.dir.path()},
                config::load(w.config_file), false);
            loop.iterate(true);
            REQUIRE(w.out.records.size() >= 1);
            const std::string id = decision::record_id(w.out.records.back());
            REQUIRE(store.approval(id));
            auto answer = *store.approval(id);
            answer.state = "approved";
            answer.approved_by = "ann";
            answer.approved_at = w.clock.t;
            answer.run_id = "20261126T100500Z-aaaaaa";
            store.person = answer;
            w.value("1");
            w.tick(loop); // the incident resolves: the monitor withdraws, the person came first
            CHECK_FALSE(store.person);
            const auto a = store.approval(id);
            REQUIRE(a);
            CHECK(a->state == "approved");
            CHECK(a->approved_by == "ann");
            CHECK(a->run_id == "20261126T100500Z-aaaaaa");
            CHECK_FALSE(a->withdrawn_at);
            CHECK(w.out.said_line("approval request " + id +
                                  " not withdrawn: it was approved by ann at " +
                                  util::format_time(answer.approved_at.value()) +
                                  " (its run: 20261126T100500Z-aaaaaa) first"));
        };
        SUBCASE("MemoryStore") {
            check_with(memory);
        }
        SUBCASE("LocalStore") {
            check_with(local);
        }
    }

    TEST_CASE("loop: a person's approval between the expiry's read and write is kept") {
        World w("mode = \"confirm\"\napproval_timeout = \"30m\"\ncooldown = \"1s\"\n");
        AnsweredBeforeWrite<state::MemoryStore> memory;
        AnsweredBeforeWrite<state::LocalStore> local(w.dir / "state");
        auto check_with = [&](auto& store, bool person) {
            w.value("9");
            monitor::Loop loop(
                monitor::LoopEnv{w.clock, w.runner, store, w.starter, w.out, w.dir.path()},
                config::load(w.config_file), false);
            loop.iterate(true);
            REQUIRE(w.out.records.size() == 1);
            const std::string id = decision::record_id(w.out.records.back());
            REQUIRE(store.approval(id));
            auto answer = *store.approval(id);
            answer.state = "approved";
            answer.approved_by = "ann";
            answer.approved_at = answer.expires_at;
            answer.run_id = "20261126T100500Z-aaaaaa";
            if (person) {
                store.person = answer;
            }
            w.clock.t = answer.expires_at + std::chrono::seconds(5);
            w.tick(loop); // still breaching, past the request's expiry
            w.tick(loop); // an unanswered request's incident escalates by now
            const auto a = store.approval(id);
            REQUIRE(a);
            const bool escalated =
                std::any_of(w.out.records.begin(), w.out.records.end(),
                            [](const auto& r) { return r.action == Action::escalate; });
            if (person) { // the approval came first: not expired, nobody paged
                CHECK_FALSE(store.person);
                CHECK(a->state == "approved");
                CHECK(a->run_id == "20261126T100500Z-aaaaaa");
                CHECK(w.events().find("approval_expired") == std::string::npos);
                CHECK_FALSE(escalated);
            } else { // kept as expired: no approval is accepted after it
                CHECK(a->state == "withdrawn");
                CHECK(a->withdrawn_reason == "it expired unanswered at " +
                                                 util::format_time(a->expires_at) +
                                                 " ([decision] approval_timeout)");
                CHECK_FALSE(store.answer_pending_approval(answer));
                CHECK(w.events().find("\"event\":\"approval_expired\",\"decision_id\":\"" + id) !=
                      std::string::npos);
                CHECK(escalated);
            }
        };
        SUBCASE("MemoryStore, a person first") {
            check_with(memory, true);
        }
        SUBCASE("LocalStore, a person first") {
            check_with(local, true);
        }
        SUBCASE("MemoryStore, nobody") {
            check_with(memory, false);
        }
        SUBCASE("LocalStore, nobody") {
            check_with(local, false);
        }
    }

    TEST_CASE("approvals: a request open beside an approved one of its condition is its twin") {
        state::ApprovalRequest a, b;
        const auto t = util::SystemTime(std::chrono::hours(1000));
        a.decision_id = "a";
        a.condition = "corruption";
        a.requested_at = t;
        a.expires_at = t + std::chrono::minutes(30);
        b = a;
        b.decision_id = "b";
        b.requested_at = t + std::chrono::seconds(4);
        b.expires_at = b.requested_at + std::chrono::minutes(30);
        a.state = "approved";
        CHECK(state::approved_twin({a, b}, b).has_value());
        CHECK(state::pending_twin({a, b}, b).empty()); // a is answered, not pending
        SUBCASE("another condition, or a request closed before it opened, is none") {
            auto c = b;
            c.condition = "latency";
            CHECK_FALSE(state::approved_twin({a, c}, c).has_value());
            auto d = b;
            d.requested_at = a.expires_at + std::chrono::seconds(1);
            d.expires_at = d.requested_at + std::chrono::minutes(30);
            CHECK_FALSE(state::approved_twin({a, d}, d).has_value());
        }
    }

    TEST_CASE("loop: a pending request is withdrawn when its incident resolves") {
        World w("mode = \"confirm\"\napproval_timeout = \"30m\"\ncooldown = \"1s\"\n");
        w.value("9");
        auto loop = w.make_loop();
        loop->iterate(true);
        REQUIRE(w.out.records.size() == 1);
        const std::string id = decision::record_id(w.out.records[0]);
        REQUIRE(w.store.approval(id));
        w.tick(*loop); // still breaching: the request stands
        CHECK(w.store.approval(id)->state == "pending");

        SUBCASE("the incident resolves: withdrawn, said and recorded") {
            w.value("1");
            w.tick(*loop); // resolve_after 0s: resolved at the first ok tick
            const auto a = w.store.approval(id);
            REQUIRE(a);
            CHECK(a->state == "withdrawn");
            REQUIRE(a->withdrawn_at);
            CHECK(*a->withdrawn_at == w.out.records.back().time);
            CHECK(a->withdrawn_reason.find("the incident of condition \"corruption\" since " +
                                           util::format_time(w.out.records[0].time) +
                                           " resolved at ") == 0);
            CHECK(w.out.said_line("approval request " + id + " withdrawn: " + a->withdrawn_reason));
            CHECK(w.events().find("\"event\":\"approval_withdrawn\",\"decision_id\":\"" + id) !=
                  std::string::npos);
            // A new incident asks again, with a new request.
            w.value("9");
            w.tick(*loop);
            CHECK(w.out.records.back().action == Action::request_approval);
            CHECK(w.store.approvals().size() == 2);
            CHECK(w.store.approval(id)->state == "withdrawn");
        }
        SUBCASE("an approved request is not withdrawn") {
            auto a = *w.store.approval(id);
            a.state = "approved";
            a.approved_by = "alice";
            w.store.put_approval(a);
            w.value("1");
            w.tick(*loop);
            CHECK(w.store.approval(id)->state == "approved");
            CHECK(w.events().find("approval_withdrawn") == std::string::npos);
        }
        SUBCASE("the incident resolved while no monitor ran: withdrawn at the next first tick") {
            loop->save();
            loop.reset();
            w.value("1");
            auto next = w.make_loop();
            w.tick(*next);
            CHECK(w.store.approval(id)->state == "withdrawn");
        }
    }

    TEST_CASE("loop: a run the store kept from starting pages and is retried while it fires") {
        World w("mode = \"auto\"\ncooldown = \"1h\"\nhooks = [\"notify\"]\n");
        w.value("9");
        w.starter.store_errors = {false, true};
        auto loop = w.make_loop();
        const std::string hook = (w.dir / "hooks" / "notify").string();
        loop->iterate(true);

        REQUIRE(w.out.records.size() == 1);
        const std::string first = decision::record_id(w.out.records[0]);
        CHECK(w.starter.triggers.size() == 1);
        CHECK(w.store.list_runs().empty());
        CHECK(loop->once_exit_code() == 7);
        REQUIRE(w.out.problems.size() == 1);
        CHECK(w.out.problems[0] ==
              "decision " + first +
                  ": no run: the state store failed (cannot take the run lock: permission "
                  "denied); retrying at every tick while \"corruption\" fires (failed starts: 1)");
        // Paged once through the [decision] hooks, as an escalation naming the decision.
        CHECK(w.calls_of(hook) == 1);
        CHECK(w.events().find("\"event\":\"escalated\",\"decision_id\":\"" + first + "\"") !=
              std::string::npos);
        CHECK(w.events().find("\"retry\":true") != std::string::npos);

        // Still firing: retried at the next tick; the driver's error counts as the store's.
        w.tick(*loop);
        CHECK(w.starter.triggers.size() == 2);
        CHECK(w.store.list_runs().empty());
        REQUIRE(w.out.problems.size() == 2);
        CHECK(w.out.problems[1].find("server closed the connection unexpectedly") !=
              std::string::npos);
        CHECK(w.out.problems[1].find("(failed starts: 2)") != std::string::npos);
        CHECK(w.calls_of(hook) == 1); // paged once, not at every tick

        // The store answers: the run starts once, on a trigger of this tick's own evidence.
        w.tick(*loop);
        REQUIRE(w.starter.triggers.size() == 3);
        const auto& retry = w.out.records.back();
        CHECK(retry.action == Action::trigger);
        CHECK(retry.executed);
        CHECK(retry.cause == "corruption");
        CHECK(retry.time > w.out.records[0].time); // this tick's, not the first decision's
        CHECK(retry.reason.find("retry of decision " + first) != std::string::npos);
        CHECK(retry.conditions[0].verdict == decision::Verdict::firing);
        CHECK(w.starter.triggers[2].decision_id == decision::record_id(retry));
        CHECK(w.store.record(decision::record_id(retry)).action == Action::trigger);
        CHECK(w.store.list_runs().size() == 1);
        CHECK(w.calls_of("restore") == 1);
        CHECK(w.events().find("\"event\":\"trigger_retried\",\"decision_id\":\"" + first) !=
              std::string::npos);
        CHECK(loop->once_exit_code() == 0);

        // Once started, the cooldown holds: no second run.
        for (int i = 0; i < 3; ++i) {
            w.tick(*loop);
        }
        CHECK(w.starter.triggers.size() == 3);
        CHECK(w.store.list_runs().size() == 1);
    }

    TEST_CASE("loop: a run whose preflight found problems pages and is retried while it fires") {
        // break-it 42/01: a rollback the preflight refused was one stderr line — no page, no
        // count, no retry, the incident counted as acted on.
        World w("mode = \"auto\"\ncooldown = \"1h\"\nhooks = [\"notify\"]\n");
        w.value("9");
        w.starter.preflight_errors = 2;
        auto loop = w.make_loop();
        const std::string hook = (w.dir / "hooks" / "notify").string();
        loop->iterate(true);

        REQUIRE(w.out.records.size() == 1);
        const std::string first = decision::record_id(w.out.records[0]);
        CHECK(w.store.list_runs().empty());
        CHECK(loop->once_exit_code() == 2);
        REQUIRE(w.out.problems.size() == 1);
        const std::string said = w.out.problems[0];
        const std::string head =
            "decision " + first +
            ": no run: its preflight found problems (preflight found problems; nothing was "
            "run: restore-db: backup last_good intact: archive shop-1.dump is missing); "
            "retrying from ";
        const std::string tail = " (the delay doubling from one interval, at most 5m) while "
                                 "\"corruption\" fires (failed starts: 1)";
        CHECK(said.rfind(head, 0) == 0);
        CHECK(said.size() == head.size() + 24 + tail.size()); // an RFC 3339 time of ms
        CHECK(said.substr(said.size() - tail.size()) == tail);
        CHECK(w.calls_of(hook) == 1); // paged, as an escalation naming the decision
        CHECK(w.events().find("\"event\":\"escalated\",\"decision_id\":\"" + first + "\"") !=
              std::string::npos);

        w.tick(*loop); // one interval later, still refused: said, not paged again
        CHECK(w.starter.triggers.size() == 2);
        CHECK(w.calls_of(hook) == 1);
        // A preflight may checksum a backup of gigabytes: after the second failure the next
        // try waits two intervals, not one.
        w.tick(*loop);
        CHECK(w.starter.triggers.size() == 2);
        w.tick(*loop); // the problem fixed: the run starts on this tick's own evidence
        CHECK(w.starter.triggers.size() == 3);
        CHECK(w.store.list_runs().size() == 1);
        CHECK(w.calls_of("restore") == 1);
    }

    TEST_CASE("loop: a trigger kept for a retry is dropped when its condition resolves") {
        World w("mode = \"auto\"\ncooldown = \"1h\"\n");
        w.value("9");
        w.starter.store_errors = {false, false, false, false};
        auto loop = w.make_loop();
        loop->iterate(true);
        const std::string first = decision::record_id(w.out.records[0]);
        CHECK(w.starter.triggers.size() == 1);

        // Healthy again before the store answers: no run on a healthy value.
        w.value("1");
        w.tick(*loop);
        CHECK(w.out.said_line("decision " + first + ": no retry: \"corruption\" resolved"));
        CHECK(w.events().find("\"event\":\"retry_dropped\"") != std::string::npos);
        for (int i = 0; i < 3; ++i) {
            w.tick(*loop);
        }
        CHECK(w.starter.triggers.size() == 1);
        CHECK(w.store.list_runs().empty());
    }

    TEST_CASE("loop: a retry dropped when its incident resolves gives its cooldown back") {
        // break-it 47/N3: the preflight refused the run, the incident flapped (retry dropped),
        // the condition fired again — and the cooldown of the run that never started
        // suppressed the new incident for the whole hour: no rollback at all.
        World w("mode = \"auto\"\ncooldown = \"1h\"\n");
        w.value("9");
        w.starter.preflight_errors = 1;
        auto loop = w.make_loop();
        loop->iterate(true);
        REQUIRE(w.starter.triggers.size() == 1);
        CHECK(w.store.list_runs().empty());

        w.value("1"); // the flap: healthy for one tick, the retry is dropped
        w.tick(*loop);
        CHECK(w.events().find("\"event\":\"retry_dropped\"") != std::string::npos);
        w.value("9"); // the outage again: a new incident, acted on (no cooldown of its own)
        w.tick(*loop);
        CHECK(w.starter.triggers.size() == 2);
        CHECK(w.store.list_runs().size() == 1);
        CHECK(w.calls_of("restore") == 1);
        REQUIRE_FALSE(w.out.records.empty());
        CHECK(w.out.records.back().action == decision::Action::trigger);
        CHECK(w.out.records.back().reason.find("suppressed") == std::string::npos);
    }

    TEST_CASE("loop: a run kept from starting by the lock held is not retried") {
        World w("mode = \"auto\"\ncooldown = \"1h\"\n");
        w.value("9");
        auto loop = w.make_loop();
        auto held = w.store.acquire_lease(state::this_process_holder("", "a person's run"));
        REQUIRE(held.lease);
        loop->iterate(true);
        CHECK(w.starter.triggers.size() == 1);
        CHECK(loop->once_exit_code() == 4);
        held.lease->release();
        for (int i = 0; i < 3; ++i) {
            w.tick(*loop);
        }
        // The other run is the intended exclusion: the incident was acted on.
        CHECK(w.starter.triggers.size() == 1);
        CHECK(w.events().find("\"retry\":true") == std::string::npos);
    }

    TEST_CASE("loop: a follower keeps the retry but starts nothing") {
        World w("mode = \"auto\"\ncooldown = \"1h\"\n");
        w.value("9");
        w.starter.store_errors = {true};
        auto loop = w.make_loop();
        FakeLeadership lead;
        lead.leads = true;
        loop->set_leadership(lead);
        loop->iterate(true);
        CHECK(w.starter.triggers.size() == 1);
        lead.leads = false;
        w.tick(*loop);
        CHECK(w.starter.triggers.size() == 1); // a follower acts on nothing
        lead.leads = true;
        w.tick(*loop);
        CHECK(w.starter.triggers.size() == 2);
        CHECK(w.store.list_runs().size() == 1);
    }

    TEST_CASE("loop: a left run whose resume fails pages once and is tried again later") {
        World w("mode = \"auto\"\ncooldown = \"1h\"\nhooks = [\"notify\"]\n");
        w.value("9");
        w.starter.die_in_step = true;
        w.starter.resume_errors = {util::ExitCode::invalid, util::ExitCode::invalid};
        auto loop = w.make_loop();
        FakeLeadership lead;
        lead.leads = true;
        loop->set_leadership(lead);
        const std::string hook = (w.dir / "hooks" / "notify").string();

        // The trigger's run dies in its step; the same tick finds it left unfinished and its
        // resume fails: said, paged once.
        loop->iterate(true);
        const auto first = loop->tick_time();
        REQUIRE(w.starter.triggers.size() == 1);
        REQUIRE(w.starter.resumed.size() == 1);
        const std::string run = w.starter.resumed[0];
        REQUIRE(!w.out.problems.empty());
        CHECK(w.out.problems.back() ==
              "run " + run +
                  " not resumed (exit 2): the playbook changed since the run started; tried "
                  "again in 10s (failed tries: 1); `rollback resume " +
                  run + " -c " + w.config_file.string() +
                  "` continues it now"); // from any directory (break-it 43/F2)
        const long told = w.calls_of(hook);
        CHECK(told == 1); // the page
        CHECK(w.events().find("\"event\":\"run_not_resumed\"") != std::string::npos);
        CHECK(w.events().find("\"event\":\"escalated\"") != std::string::npos);

        // Ticks until the n-th resume; the tick time of that try.
        const auto try_number = [&](std::size_t n) {
            for (int i = 0; i < 10 && w.starter.resumed.size() < n; ++i) {
                w.tick(*loop);
            }
            REQUIRE(w.starter.resumed.size() == n);
            return loop->tick_time();
        };
        // Tried again at the first tick 10 s on, then 20 s after that: not at every tick.
        const auto second = try_number(2);
        CHECK(second - first >= std::chrono::seconds(10));
        CHECK(second - first < std::chrono::seconds(20));
        CHECK(w.out.problems.back().find("tried again in 20s (failed tries: 2)") !=
              std::string::npos);
        const auto third = try_number(3);
        CHECK(third - second >= std::chrono::seconds(20));
        CHECK(third - second < std::chrono::seconds(30));
        CHECK(w.calls_of(hook) == told); // paged once
        CHECK(w.out.said_line("run " + run + " resumed after 2 failed tries"));

        // Nothing more is tried once it ended.
        for (int i = 0; i < 4; ++i) {
            w.tick(*loop);
        }
        CHECK(w.starter.resumed.size() == 3);
        CHECK(w.starter.triggers.size() == 1);
    }
    TEST_CASE("loop: the leader after one killed in its hooks withdraws the request of an ended "
              "incident") {
        World w("mode = \"confirm\"\napproval_timeout = \"30m\"\ncooldown = \"1s\"\n"
                "hooks = [\"notify\"]\n");
        Hooks hooks(w);
        const std::string notify = (w.dir / "hooks" / "notify").string();
        Peer a(w, w.store, "a", 3);
        Peer b(w, w.store, "b", 4);
        a.lead.leads = true;
        // Break-it 05: the leader files the request and is killed while its hook runs.
        hooks.die_in = notify;
        CHECK_THROWS_AS(a.loop->iterate(true), Killed);
        a.loop.reset();
        REQUIRE(w.store.approvals().size() == 1);
        const auto filed = w.store.approvals()[0];
        CHECK(filed.state == "pending");
        CHECK_FALSE(filed.announced);
        CHECK(filed.told.empty());
        b.loop->iterate(true); // the follower saw the incident too
        // The incident ends while the dead leader's lease runs out; then the follower leads.
        hooks.value = "1";
        w.tick(*b.loop);
        b.lead.leads = true;
        w.tick(*b.loop);

        const auto after = w.store.approval(filed.decision_id);
        REQUIRE(after);
        CHECK(after->state == "withdrawn");
        CHECK(after->withdrawn_reason ==
              "the incident of condition \"corruption\" is not open at the evaluation of the "
              "monitor that leads now (its last verdict: ok): the evidence it asked about is "
              "stale");
        CHECK(b.out.said_line("approval request " + filed.decision_id +
                              " withdrawn: " + after->withdrawn_reason));
        CHECK(b.events().find("\"event\":\"approval_withdrawn\",\"decision_id\":\"" +
                              filed.decision_id) != std::string::npos);
        // `rollback approve` of it starts nothing: its answer is refused.
        auto approved = *after;
        approved.state = "approved";
        approved.run_id = "20261126T100500Z-aaaaaa";
        CHECK_FALSE(w.store.answer_pending_approval(approved));
        CHECK(w.calls_of(notify) == 1); // the dead leader's, cut short; nothing told of a stale one
        for (int i = 0; i < 3; ++i) {
            w.tick(*b.loop);
        }
        CHECK(w.store.approvals().size() == 1);
    }

    TEST_CASE("loop: the leader after one killed in its hooks adopts and tells an open incident's "
              "request") {
        World w("mode = \"confirm\"\napproval_timeout = \"30m\"\ncooldown = \"1s\"\n"
                "hooks = [\"notify\", \"page\", \"ticket\"]\n");
        for (const char* name : {"hooks/page", "hooks/ticket"}) {
            fs::permissions(w.dir.write(name, "#!/bin/sh\nexit 0\n"), fs::perms::owner_all);
        }
        Hooks hooks(w);
        const auto hook = [&](const char* name) { return (w.dir / "hooks" / name).string(); };
        Peer a(w, w.store, "a", 3);
        Peer b(w, w.store, "b", 4);
        a.lead.leads = true;
        SUBCASE("killed in its first hook") {
            hooks.die_in = hook("notify");
        }
        SUBCASE("killed in its second hook: the first is not told again") {
            hooks.die_in = hook("page");
        }
        const bool first_told = hooks.die_in == hook("page");
        CHECK_THROWS_AS(a.loop->iterate(true), Killed);
        a.loop.reset();
        const auto filed = w.store.approvals().at(0);
        CHECK(filed.told ==
              (first_told ? std::vector<std::string>{"notify"} : std::vector<std::string>{}));
        b.loop->iterate(true);
        w.tick(*b.loop);
        b.lead.leads = true;
        w.tick(*b.loop); // still breaching: the request stands, told by the new leader

        const auto after = w.store.approval(filed.decision_id);
        REQUIRE(after);
        CHECK(after->state == "pending");
        CHECK(after->announced);
        CHECK(after->told == std::vector<std::string>{"notify", "page", "ticket"});
        CHECK(w.calls_of(hook("notify")) == 1 + (first_told ? 0 : 1));
        CHECK(w.calls_of(hook("page")) == 1 + (first_told ? 1 : 0));
        CHECK(w.calls_of(hook("ticket")) == 1);
        CHECK(w.store.approvals().size() == 1); // one incident, one request
        CHECK(b.out.problems.empty());
        CHECK(b.out.said_line(
            "approval request " + filed.decision_id + " of condition \"corruption\", filed by " +
            state::this_host() + " pid " + std::to_string(::getpid()) +
            " (generation 3), taken over: its incident is open here too; rollback approve " +
            filed.decision_id + " -c " + w.config_file.string() + " (until " +
            util::format_time(filed.expires_at) + ")"));
        CHECK(b.events().find("\"event\":\"approval_taken_over\",\"decision_id\":\"" +
                              filed.decision_id) != std::string::npos);
        CHECK(b.loop->monitor().policy_memory().conditions.at("corruption").approval_id ==
              filed.decision_id);
        // Told once: later ticks tell nobody again and ask nothing new.
        for (int i = 0; i < 3; ++i) {
            w.tick(*b.loop);
        }
        CHECK(w.calls_of(hook("ticket")) == 1);
        CHECK(w.store.approvals().size() == 1);
        // Its incident ends: the adopted request is withdrawn as the leader's own.
        hooks.value = "1";
        w.tick(*b.loop);
        CHECK(w.store.approval(filed.decision_id)->state == "withdrawn");
        CHECK(w.store.approval(filed.decision_id)
                  ->withdrawn_reason.find("the incident of condition \"corruption\" since ") == 0);
    }

    TEST_CASE(
        "loop: a request filed by a leader paused before its hooks is told once by the next") {
        World w("mode = \"confirm\"\napproval_timeout = \"30m\"\ncooldown = \"1s\"\n"
                "hooks = [\"notify\"]\n");
        Hooks hooks(w);
        const std::string notify = (w.dir / "hooks" / "notify").string();
        PausedAfterFiling<state::MemoryStore> store;
        Peer a(w, store, "a", 3);
        Peer b(w, store, "b", 4);
        a.lead.leads = true;
        store.deposed = &a.lead.deposed; // break-it 02: paused right after the request committed
        bool b_evaluated = false;
        SUBCASE("the next leader followed and evaluated before") {
            b.loop->iterate(true);
            b_evaluated = true;
        }
        SUBCASE("the next leader starts then") {}
        a.loop->iterate(true); // continued: it is fenced before its hook
        CHECK(w.calls_of(notify) == 0);
        CHECK_FALSE(a.loop->leading());
        const auto filed = store.approvals().at(0);
        CHECK_FALSE(filed.announced);
        CHECK(a.out.problem_with("the [decision] hooks notify were not called for " +
                                 filed.decision_id +
                                 ": this monitor no longer leads (its leadership of generation 3 "
                                 "was taken over or expired); it acts on nothing more"));
        b.lead.leads = true;
        w.tick(*b.loop);
        if (!b_evaluated) {
            w.tick(*b.loop); // judged by its own evaluation, not before it
        }
        CHECK(w.calls_of(notify) == 1);
        CHECK(store.approval(filed.decision_id)->announced);
        CHECK(store.approval(filed.decision_id)->told == std::vector<std::string>{"notify"});
        CHECK(store.approvals().size() == 1);
        // The paused one follows; nobody tells it again.
        a.lead.leads = false;
        for (int i = 0; i < 3; ++i) {
            w.tick(*a.loop);
            w.tick(*b.loop);
        }
        CHECK(w.calls_of(notify) == 1);
    }

    TEST_CASE("loop: a monitor restarted after a kill in its hooks judges the request it left") {
        World w("mode = \"confirm\"\napproval_timeout = \"30m\"\ncooldown = \"1s\"\n"
                "hooks = [\"notify\"]\n");
        Hooks hooks(w);
        const std::string notify = (w.dir / "hooks" / "notify").string();
        auto loop = w.make_loop();
        hooks.die_in = notify;
        CHECK_THROWS_AS(loop->iterate(true), Killed);
        loop.reset();
        const auto filed = w.store.approvals().at(0);
        auto again = w.make_loop(); // alone on its state: it always leads
        SUBCASE("the incident ended meanwhile: withdrawn") {
            hooks.value = "1";
            w.tick(*again);
            w.tick(*again);
            CHECK(w.store.approval(filed.decision_id)->state == "withdrawn");
            CHECK(w.calls_of(notify) == 1);
        }
        SUBCASE("the incident goes on: told") {
            w.tick(*again);
            w.tick(*again);
            CHECK(w.store.approval(filed.decision_id)->state == "pending");
            CHECK(w.store.approval(filed.decision_id)->announced);
            CHECK(w.calls_of(notify) == 2);
            CHECK(w.store.approvals().size() == 1);
        }
    }

    TEST_CASE("loop: a request whose condition left the config or that expired is withdrawn at a "
              "takeover") {
        World w("mode = \"confirm\"\napproval_timeout = \"30m\"\ncooldown = \"1s\"\n");
        state::ApprovalRequest other;
        other.decision_id = "20200101T000000.000Z-0000abcd";
        other.requested_at = w.clock.t - std::chrono::minutes(40);
        other.expires_at = w.clock.t - std::chrono::minutes(10);
        other.condition = "corruption";
        std::string reason;
        SUBCASE("expired while nobody led") {
            reason = "it expired unanswered at " + util::format_time(other.expires_at) +
                     " ([decision] approval_timeout)";
        }
        SUBCASE("its condition is gone") {
            other.condition = "latency";
            other.expires_at = w.clock.t + std::chrono::minutes(10);
            reason = "condition \"latency\" is no longer in " + w.config_file.string();
        }
        w.store.put_approval(other);
        w.value("1");
        auto loop = w.make_loop();
        w.tick(*loop);
        w.tick(*loop);
        CHECK(w.store.approval(other.decision_id)->state == "withdrawn");
        CHECK(w.store.approval(other.decision_id)->withdrawn_reason == reason);
    }

    TEST_CASE("approvals: a request kept before announcements were recorded reads as announced") {
        state::ApprovalRequest a;
        a.decision_id = "20200101T000000.000Z-0000abcd";
        a.condition = "corruption";
        const auto now = state::parse_approval(state::approval_json(a), "x");
        CHECK_FALSE(now.announced);
        std::string old = state::approval_json(a);
        old = old.substr(0, old.find(",\"told\"")) + "}";
        CHECK(state::parse_approval(old, "x").announced);
        // What an announcement adds: the hooks not told yet, and nothing else.
        a.told = {"notify"};
        state::ApprovalRequest next = a;
        next.told = {"page", "notify"};
        next.reason = "not written";
        next.announced = true;
        const auto merged = state::with_told(a, next);
        CHECK(merged.told == std::vector<std::string>{"notify", "page"});
        CHECK(merged.announced);
        CHECK(merged.reason.empty());
    }
    TEST_CASE(
        "loop: a pending twin its filer did not tell is told by the leader it was refused for") {
        World w("mode = \"confirm\"\napproval_timeout = \"30m\"\nhooks = [\"notify\"]\n");
        w.value("9");
        // The leader before a takeover filed it and died before its hook returned.
        state::ApprovalRequest other;
        other.requested_at = w.clock.t - std::chrono::minutes(1);
        other.expires_at = w.clock.t + std::chrono::minutes(29);
        other.condition = "corruption";
        decision::DecisionRecord filed;
        filed.time = other.requested_at;
        filed.action = Action::request_approval;
        filed.executed = true;
        filed.cause = "corruption";
        filed.reason = "condition \"corruption\": firing";
        other.decision_id = decision::record_id(filed);
        w.store.put_record(filed);
        w.store.put_approval(other);
        auto loop = w.make_loop();
        FakeLeadership lead;
        lead.leads = true;
        loop->set_leadership(lead);
        loop->iterate(true);
        const std::string notify = (w.dir / "hooks" / "notify").string();
        CHECK(w.calls_of(notify) == 1);
        const auto told = w.store.approval(other.decision_id);
        CHECK(told->announced);
        CHECK(told->told == std::vector<std::string>{"notify"});
        CHECK(w.store.approvals().size() == 1);
        for (int i = 0; i < 3; ++i) {
            w.tick(*loop);
        }
        CHECK(w.calls_of(notify) == 1);
    }
}
