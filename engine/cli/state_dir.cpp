// SPDX-License-Identifier: MIT
#include "cli/state_dir.hpp"

#include "util/error.hpp"

#include <cstdlib>

namespace rollback::cli {

namespace fs = std::filesystem;

namespace {

fs::path normal(const fs::path& p) {
    return fs::absolute(p).lexically_normal();
}

/// The first two places of the rule, which need no file: --state-dir, $ROLLBACK_STATE_DIR.
std::optional<StateDir> explicit_state_dir(const CommonOptions& common) {
    if (!common.state_dir.empty()) {
        return StateDir{normal(common.state_dir), "--state-dir"};
    }
    if (const char* env = std::getenv("ROLLBACK_STATE_DIR"); env != nullptr && *env != '\0') {
        return StateDir{normal(env), "ROLLBACK_STATE_DIR"};
    }
    return std::nullopt;
}

StateDir from_config(const config::Config& cfg) {
    return StateDir{normal(cfg.state_dir), "state_dir of " + cfg.file.string()};
}

} // namespace

std::optional<fs::path> find_config(const CommonOptions& common, const fs::path& playbook) {
    if (!common.config.empty()) {
        fs::path file(common.config);
        if (!fs::exists(file)) {
            throw util::Error("no configuration: " + file.string() + " does not exist",
                              util::ExitCode::invalid,
                              "pass -c rollback.toml (see docs/config.md)");
        }
        return file;
    }
    std::error_code ec;
    if (fs::is_regular_file("rollback.toml", ec)) {
        return fs::path("rollback.toml");
    }
    if (!playbook.empty()) {
        // The usual layout keeps playbooks in playbooks/ beside rollback.toml: a person's
        // `rollback run -p /srv/shop/playbooks/x.toml` from anywhere finds the monitor's state.
        const fs::path dir = normal(playbook).parent_path();
        for (const fs::path& candidate :
             {dir / "rollback.toml", dir.parent_path() / "rollback.toml"}) {
            if (fs::is_regular_file(candidate, ec)) {
                return candidate;
            }
        }
    }
    return std::nullopt;
}

StateDir resolve_state_dir(const CommonOptions& common, const fs::path& playbook) {
    if (auto sd = explicit_state_dir(common)) {
        return *sd;
    }
    if (auto file = find_config(common, playbook)) {
        return from_config(config::load(*file));
    }
    if (!playbook.empty()) {
        return StateDir{normal(playbook).parent_path() / ".rollback", "beside the playbook"};
    }
    return StateDir{normal(".rollback"), "the current directory"};
}

StateDir resolve_state_dir(const CommonOptions& common, const config::Config& cfg) {
    if (auto sd = explicit_state_dir(common)) {
        return *sd;
    }
    return from_config(cfg);
}

} // namespace rollback::cli
