// SPDX-License-Identifier: MIT
// A step on hosts: batches in order, the hosts of a batch in parallel (at most `[remote]
// parallel` at once), each through its own ssh runner and journaled as step@host; past
// `max_failures` failed hosts no new host starts.
#include "orchestrator/hosts.hpp"

#include "actions/process_step.hpp"
#include "orchestrator/execution.hpp"
#include "orchestrator/host_survivors.hpp"
#include "orchestrator/probe.hpp"
#include "orchestrator/step_runner.hpp"
#include "playbook/hosts.hpp"
#include "util/strings.hpp"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <optional>
#include <thread>

namespace rollback::orchestrator {

remote::SshSettings ssh_settings(const playbook::RemoteSettings& r) {
    remote::SshSettings s;
    s.known_hosts = r.known_hosts.string();
    s.identity = r.identity.string();
    s.config = r.ssh_config.string();
    s.user = r.user;
    s.connect_timeout =
        std::max(std::chrono::seconds(1),
                 std::chrono::duration_cast<std::chrono::seconds>(r.connect_timeout));
    return s;
}

HostPreflight::HostPreflight(const playbook::Playbook& pb, exec::ProcessRunner& local,
                             std::filesystem::path state_dir, state::BadReleases& bad,
                             const actions::Trigger& trigger,
                             std::shared_ptr<remote::Connections> connections)
    : m_pb(pb), m_local(local), m_state_dir(std::move(state_dir)), m_bad(bad), m_trigger(trigger),
      m_connections(std::move(connections)) {}

HostPreflight::~HostPreflight() = default;

std::vector<actions::Check> HostPreflight::host_checks(const playbook::Step& step,
                                                       const remote::Host& h) {
    const actions::Action* action = actions::find_action(step.action);
    // http runs on the engine's machine once per host (its URL names the host): no ssh.
    const bool over_ssh = step.action != "http";
    std::vector<actions::Check> checks;
    if (over_ssh) {
        std::string what =
            "host " + h.name + " (" + remote::endpoint(h) + ") is reachable and its key is known";
        std::string problem = m_connections->open(h); // once per host for the whole plan
        checks.push_back({problem.empty(), what, problem, {}});
        if (!problem.empty()) {
            return checks; // nothing more can be checked there
        }
    }
    if (action == nullptr || step.action == "wait") {
        return checks;
    }
    // The action's own read-only checks, where it will run: the release directory, the unit,
    // the program, the URL of this host.
    const playbook::Step bound = playbook::bind_host(step, h);
    std::string key; // an exec step's program is looked up once per host and directory
    if (step.action == "exec") {
        const auto argv = actions::command_argv(bound);
        key = h.name + '\n' + (argv.empty() ? "" : argv.front()) + '\n' + bound.cwd;
        std::lock_guard lock(m_mutex);
        if (auto it = m_programs.find(key); it != m_programs.end()) {
            checks.insert(checks.end(), it->second.begin(), it->second.end());
            return checks;
        }
    }
    std::optional<remote::SshRunner> ssh;
    if (over_ssh) {
        ssh.emplace(*m_connections, h);
    }
    exec::ProcessRunner& runner = ssh ? static_cast<exec::ProcessRunner&>(*ssh) : m_local;
    const actions::Context ctx{m_pb,      bound, runner, "plan",  m_state_dir, {},      m_bad,
                               m_trigger, false, {},     nullptr, nullptr,     nullptr, h.name};
    std::vector<actions::Check> own = action->preflight(ctx);
    for (auto& c : own) {
        if (!c.ok && c.problem.find("host " + h.name) == std::string::npos &&
            c.what.find("host " + h.name) == std::string::npos) {
            c.what = "host " + h.name + ": " + c.what;
        }
    }
    if (!key.empty()) {
        std::lock_guard lock(m_mutex);
        m_programs[key] = own;
    }
    checks.insert(checks.end(), own.begin(), own.end());
    return checks;
}

std::vector<actions::Check> HostPreflight::step(const playbook::Step& step) {
    if (!m_connections && step.action != "http") {
        m_connections = std::make_shared<remote::Connections>(m_local, ssh_settings(m_pb.remote));
    }
    const std::vector<const remote::Host*> hosts = m_pb.inventory.select(step.hosts);
    std::vector<std::vector<actions::Check>> per_host(hosts.size());
    std::atomic<size_t> next{0};
    auto worker = [&] {
        for (size_t i; (i = next++) < hosts.size();) {
            try {
                per_host[i] = host_checks(step, *hosts[i]);
            } catch (const std::exception& e) {
                per_host[i] = {{false, "host " + hosts[i]->name, e.what(), {}}};
            }
        }
    };
    const size_t workers =
        std::min(hosts.size(), static_cast<size_t>(std::max(1, m_pb.remote.parallel)));
    std::vector<std::thread> threads;
    for (size_t w = 1; w < workers; ++w) {
        threads.emplace_back(worker);
    }
    worker();
    for (auto& t : threads) {
        t.join();
    }
    std::vector<actions::Check> checks;
    for (auto& c : per_host) {
        checks.insert(checks.end(), c.begin(), c.end());
    }
    return checks;
}

namespace {

// The hosts of a batch run in parallel threads; a release marked bad on two hosts at once must
// not lose one record (the store reads, adds and rewrites).
class LockedBadReleases final : public state::BadReleases {
  public:
    explicit LockedBadReleases(state::BadReleases& inner) : m_inner(inner) {}
    std::vector<state::BadRelease> bad_releases() const override {
        std::lock_guard lock(m_mutex);
        return m_inner.bad_releases();
    }
    void record_bad_release(const state::BadRelease& bad) override {
        std::lock_guard lock(m_mutex);
        m_inner.record_bad_release(bad);
    }

  private:
    state::BadReleases& m_inner;
    mutable std::mutex m_mutex;
};

/// The runner of a step's attempt on one host: every program it runs there carries a token of
/// that attempt and host in its environment (host_attempt), so a resume after the engine died
/// finds on the host what the attempt still runs (survivors_hosts.cpp).
class HostAttemptRunner final : public exec::ProcessRunner {
  public:
    HostAttemptRunner(exec::ProcessRunner& inner, std::string attempt)
        : m_inner(inner), m_attempt(std::move(attempt)) {}
    exec::Outcome run(const exec::Command& cmd) override {
        exec::Command with = cmd;
        if (with.attempt_token.empty()) {
            with.attempt_token = StepRunner::make_token(m_attempt);
        }
        return m_inner.run(with);
    }

  private:
    exec::ProcessRunner& m_inner;
    std::string m_attempt;
};

} // namespace

HostProbes Execution::probe_on_hosts(const playbook::Step& step,
                                     const journal::StepState& recorded) {
    if (!m_connections) {
        m_connections = std::make_shared<remote::Connections>(m_runner, ssh_settings(m_pb.remote));
    }
    HostProbes out;
    std::set<std::string>& done = m_done_hosts[step.id];
    const std::vector<const remote::Host*> hosts = m_pb.inventory.select(step.hosts);
    for (const remote::Host* h : hosts) {
        auto it = recorded.hosts.find(h->name);
        if (it == recorded.hosts.end() || it->second != "running" || done.count(h->name) != 0) {
            continue; // never started there, or its end is recorded: nothing to ask
        }
        const auto start = std::chrono::steady_clock::now();
        const playbook::Step bound = playbook::bind_host(step, *h);
        remote::SshRunner ssh(*m_connections, *h);
        std::string why;
        const ProbeVerdict v = run_probe(*this, bound, ssh, h->name, &why);
        if (v == ProbeVerdict::done) {
            journal::StepHostFinished fin;
            fin.step = step.id;
            fin.attempt = recorded.attempts;
            fin.host = h->name;
            fin.status = "marked_done";
            fin.duration_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                  std::chrono::steady_clock::now() - start)
                                  .count();
            fin.summary = "done by its probe"; // no remote_groups: the probe's are not the step's
            record(fin);
            done.insert(h->name);
            out.done.push_back(h->name);
        } else if (v == ProbeVerdict::not_done) {
            out.not_done.push_back(h->name);
        } else {
            out.unknown.push_back(h->name + " (" + why + ")");
        }
    }
    out.every_host_done = std::all_of(hosts.begin(), hosts.end(), [&](const remote::Host* h) {
        return done.count(h->name) != 0;
    });
    return out;
}

actions::Result Execution::run_on_hosts(const playbook::Step& step, int attempt) {
    const actions::Action* action = actions::find_action(step.action);
    if (!m_connections) {
        m_connections = std::make_shared<remote::Connections>(m_runner, ssh_settings(m_pb.remote));
    }
    std::vector<const remote::Host*> all = m_pb.inventory.select(step.hosts);
    std::set<std::string>& done = m_done_hosts[step.id];
    std::vector<const remote::Host*> hosts_to_run;
    for (const remote::Host* h : all) {
        if (done.count(h->name) == 0) {
            hosts_to_run.push_back(h);
        }
    }
    const int total = static_cast<int>(all.size());
    const int batch = step.batch ? std::max(1, step.batch->of(total)) : std::max(1, total);
    // A percentage of failed hosts is a ceiling: rounded down ("30%" of 4 hosts tolerates 1), as
    // Ansible's max_fail_percentage (`batch`, a size, rounds up).
    const int tolerated =
        step.max_failures.percent ? total * step.max_failures.value / 100 : step.max_failures.value;
    std::mutex mutex;
    LockedBadReleases bad(m_store);
    std::vector<std::string> failed, not_started;
    bool only_verification = true; // every failed host failed a verification (exit 3)
    std::string tails;
    bool interrupted = false;
    std::atomic<bool> stop{false};

    auto run_host = [&](const remote::Host& host, int batch_no) {
        record(journal::StepHostStarted{step.id, attempt, host.name, batch_no});
        const auto start = std::chrono::steady_clock::now();
        playbook::Step bound = playbook::bind_host(step, host);
        remote::SshRunner ssh(*m_connections, host);
        HostAttemptRunner tokened(ssh, host_attempt(m_run_id, step.id, attempt, host.name));
        actions::Result r;
        try {
            const actions::Context base = context(bound, tokened);
            report::Observer* obs = &m_observer;
            auto progress = [obs, id = step.id, name = host.name](const std::string& line) {
                obs->on_host_progress(id, name, line);
            };
            actions::Context ctx{base.playbook,  base.step,    base.runner, base.run_id,
                                 base.state_dir, base.run_dir, bad,         base.trigger,
                                 base.verbose,   progress,     base.stage,  base.notify,
                                 base.gates,     host.name};
            ctx.fence = base.fence;
            r = action->run(ctx);
        } catch (const util::Error& e) {
            r.summary = e.what();
        }
        journal::StepHostFinished fin;
        fin.step = step.id;
        fin.attempt = attempt;
        fin.host = host.name;
        fin.status = std::string(actions::to_string(r.status));
        if (r.exit_code >= 0) {
            fin.exit_code = r.exit_code;
        }
        fin.duration_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                              std::chrono::steady_clock::now() - start)
                              .count();
        fin.summary = r.summary;
        fin.output_tail = util::tail(r.output_tail, 2048);
        fin.remote_groups = ssh.remote_groups();
        record(fin);
        std::lock_guard lock(mutex);
        if (r.status == actions::Status::succeeded) {
            done.insert(host.name);
            return;
        }
        interrupted = interrupted || r.status == actions::Status::interrupted;
        only_verification = only_verification && r.status == actions::Status::verification_failed;
        failed.push_back(host.name + " (" + r.summary + ")");
        tails += "--- " + host.name + "\n" + util::tail(r.output_tail, 600) + "\n";
        if (static_cast<int>(failed.size()) > tolerated || interrupted) {
            stop = true;
        }
    };

    int batch_no = 0;
    for (size_t first = 0; first < hosts_to_run.size(); first += static_cast<size_t>(batch)) {
        ++batch_no;
        const size_t last = std::min(hosts_to_run.size(), first + static_cast<size_t>(batch));
        if (stop || exec::interrupt_requested() != 0) {
            for (size_t i = first; i < hosts_to_run.size(); ++i) {
                not_started.push_back(hosts_to_run[i]->name);
            }
            break;
        }
        std::atomic<size_t> next{first};
        auto worker = [&, batch_no] {
            for (size_t i; (i = next++) < last;) {
                if (stop || exec::interrupt_requested() != 0) {
                    std::lock_guard lock(mutex);
                    not_started.push_back(hosts_to_run[i]->name);
                    continue;
                }
                run_host(*hosts_to_run[i], batch_no);
            }
        };
        const size_t workers =
            std::min(last - first, static_cast<size_t>(std::max(1, m_pb.remote.parallel)));
        std::vector<std::thread> threads;
        for (size_t w = 1; w < workers; ++w) {
            threads.emplace_back(worker);
        }
        worker();
        for (auto& t : threads) {
            t.join();
        }
    }

    actions::Result out;
    const int ok = static_cast<int>(done.size());
    const std::string of = " of " + std::to_string(total) + " hosts";
    if (interrupted || exec::interrupt_requested() != 0) {
        out.status = actions::Status::interrupted;
        out.summary = "interrupted; succeeded on " + std::to_string(ok) + of;
    } else if (static_cast<int>(failed.size()) > tolerated ||
               (!failed.empty() && ok == 0 && !hosts_to_run.empty())) {
        // Failed on every host it ran on (and none done before): whatever max_failures says.
        out.status =
            only_verification ? actions::Status::verification_failed : actions::Status::failed;
        out.summary = "failed on " + std::to_string(failed.size()) + of + " (max_failures " +
                      std::to_string(tolerated) + "): " + util::join(failed, ", ");
    } else {
        out.status = actions::Status::succeeded;
        out.summary = "succeeded on " + std::to_string(ok) + of;
        if (!failed.empty()) {
            out.summary += "; failed on " + util::join(failed, ", ") +
                           " (tolerated: max_failures " + std::to_string(tolerated) + ")";
        }
    }
    if (!not_started.empty()) {
        std::sort(not_started.begin(), not_started.end());
        out.summary += "; not started: " + util::join(not_started, ", ");
    }
    out.output_tail = util::tail(tails, 4096);
    return out;
}

} // namespace rollback::orchestrator
