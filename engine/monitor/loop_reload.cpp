// SPDX-License-Identifier: MIT
// SIGHUP: the monitor reads its config again (docs/config.md, `[server]` and reloads); what names
// another state is refused, the rest applies at once.
#include "monitor/loop.hpp"

#include "actions/load.hpp"
#include "util/canonical_path.hpp"
#include "util/error.hpp"
#include "util/files.hpp"
#include "util/log.hpp"
#include "util/strings.hpp"

#include <boost/json.hpp>

namespace rollback::monitor {

namespace fs = std::filesystem;

std::optional<playbook::Playbook> load_hooks_playbook(const config::Config& cfg) {
    if (cfg.hooks.empty()) {
        return std::nullopt;
    }
    auto pb = actions::load_playbook(cfg.playbook);
    for (const auto& h : cfg.hooks) {
        const fs::path p = pb.hooks_dir / h;
        if (!util::is_executable_file(p)) {
            throw util::Error(cfg.file.string() + ": [decision] hooks: " + p.string() +
                                  " is not an executable hook",
                              util::ExitCode::invalid, "chmod +x " + p.string());
        }
    }
    return pb;
}

namespace {

/// A reload refused because the new file names another state (Loop::reload).
class ReloadRefused final : public util::Error {
  public:
    explicit ReloadRefused(const std::string& what) : util::Error(what, util::ExitCode::invalid) {}
};

/// What of where the state is differs between `old` and `now` ("[state] dsn", ...), "" when
/// nothing: a reload cannot apply it (the store and the leadership were opened at the start).
/// Both are resolved states, so two spellings of one directory, or a state_dir that
/// $ROLLBACK_STATE_DIR overrides, are no change.
std::string state_change(const ResolvedState& old, const ResolvedState& now) {
    std::vector<std::string> keys;
    const auto& a = old.shared;
    const auto& b = now.shared;
    if (a.has_value() != b.has_value()) {
        keys.emplace_back("[state]");
    } else if (a) {
        if (a->dsn != b->dsn) {
            keys.emplace_back("[state] dsn");
        }
        if (a->schema != b->schema) {
            keys.emplace_back("[state] schema");
        }
        if (a->lease != b->lease) {
            keys.emplace_back("[state] lease");
        }
    }
    if (old.dir != now.dir) {
        keys.emplace_back("[target] state_dir");
    }
    return util::join(keys, ", ");
}

/// The file's own state: its `[target] state_dir` (canonical) and `[state]`.
ResolvedState own_state(const config::Config& cfg) {
    return {util::canonical_path(cfg.state_dir), cfg.shared_state, {}};
}

} // namespace

std::string Loop::state_args() const {
    return m_state.args.empty() ? " -c " + m_mon->config().file.string() : m_state.args;
}

void Loop::set_state_rule(StateRule rule) {
    m_state_rule = std::move(rule);
    m_state = m_state_rule(m_mon->config());
}

void Loop::reload() {
    const fs::path file = m_mon->config().file;
    try {
        config::Config cfg = config::load(file);
        auto pb = load_hooks_playbook(cfg);
        const ResolvedState now = m_state_rule ? m_state_rule(cfg) : own_state(cfg);
        if (auto changed = state_change(m_state, now); !changed.empty()) {
            // The store and the leadership were opened at the start with the old [state]: kept
            // running on them under a config naming another state, two monitors would lead one
            // target in two places (break-it 32/08). Refused loudly instead.
            throw ReloadRefused(changed + " changed in " + file.string() +
                                ": a reload cannot move the monitor to another state; restart "
                                "the monitor to apply it (systemctl restart); nothing of the new "
                                "file applies until then");
        }
        const auto memory = m_mon->policy_memory();
        const auto& old = m_mon->config().server;
        if (old.has_value() != cfg.server.has_value() ||
            (old && (old->listen != cfg.server->listen || old->token != cfg.server->token ||
                     old->max_body != cfg.server->max_body))) {
            log::warn("monitor: [server] changed in {}: it applies at the next start",
                      file.string());
            m_env.out.problem("[server] changed: restart the monitor to apply it (the other "
                              "changes apply now)");
        }
        m_mon.emplace(std::move(cfg), m_mon->baselines());
        m_mon->resume_policy(memory); // a reload is not a new incident
        if (m_endpoint) {
            m_endpoint->conditions_changed(); // series of removed conditions go
            m_endpoint->set_decision_playbook(m_mon->config().playbook);
        }
        m_hooks_pb = std::move(pb);
        m_marker_seen.reset();
        feed_marker();
        log::info("monitor: reloaded {}", file.string());
        m_env.out.say("reloaded " + file.string());
        event({{"event", "reloaded"}, {"config", file.string()}});
    } catch (const util::Error& e) {
        if (m_endpoint) {
            m_endpoint->reload_rejected(
                dynamic_cast<const ReloadRefused*>(&e) != nullptr ? "state" : "invalid");
        }
        log::error("monitor: rejected the new {}; keeping the running config:\n{}", file.string(),
                   e.what());
        m_env.out.problem(std::string("reload rejected; keeping the running config:\n") + e.what());
        event({{"event", "reload_rejected"}, {"config", file.string()}, {"error", e.what()}});
    }
}

} // namespace rollback::monitor
