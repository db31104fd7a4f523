// SPDX-License-Identifier: MIT
// A state directory inside what a rollback replaces (break-it 48/F8): the lock would move with
// the release, and a second starter of the same target would take another one.
#include "cli/state_dir.hpp"

#include "util/canonical_path.hpp"
#include "util/error.hpp"
#include "util/strings.hpp"

#include <algorithm>
#include <optional>

namespace rollback::cli {

namespace fs = std::filesystem;

namespace {

bool inside(const fs::path& p, const fs::path& dir) {
    const auto [d, q] = std::mismatch(dir.begin(), dir.end(), p.begin(), p.end());
    return d == dir.end();
}

std::string param(const playbook::Step& s, const char* key) {
    const auto* v = s.params.if_contains(key);
    return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
}

struct Managed {
    fs::path dir;     ///< canonical
    std::string what; ///< for the message
};

/// The directories a step on this machine replaces: a release_switch's releases (and its
/// `current` link, whose target is one of them), a git_checkout's work tree.
std::optional<Managed> managed_by(const playbook::Step& s, const fs::path& base) {
    if (!s.hosts.empty()) {
        return std::nullopt; // another machine's directories: not where this state is
    }
    if (s.action == "release_switch") {
        const std::string root = param(s, "deploy_root");
        if (!root.empty()) {
            const fs::path r = base / root;
            return Managed{util::canonical_path(r / "releases"),
                           "the releases of deploy_root " + r.lexically_normal().string() +
                               " (its `current` link is switched between them)"};
        }
    } else if (s.action == "git_checkout") {
        const std::string repo = param(s, "repo");
        if (!repo.empty()) {
            const fs::path r = base / repo;
            return Managed{util::canonical_path(r), "the work tree " +
                                                        r.lexically_normal().string() +
                                                        " (checked out at another ref)"};
        }
    }
    return std::nullopt;
}

} // namespace

void refuse_state_in_releases(const StateDir& sd, const playbook::Playbook& pb) {
    if (sd.shared) {
        return; // the lock and the runs are in PostgreSQL, wherever this host's files are
    }
    for (const auto* steps : {&pb.steps, &pb.finally}) {
        for (const auto& s : *steps) {
            const auto m = managed_by(s, pb.directory);
            if (!m || !inside(sd.dir, m->dir)) {
                continue;
            }
            throw util::Error(
                s.where.file + ":" + std::to_string(s.where.line) + ":" +
                    std::to_string(s.where.column) + ": step " + util::quoted(s.id) + " (" +
                    s.action + ") replaces " + m->what + ", and the state directory " +
                    sd.dir.string() + " (" + sd.origin +
                    ") is inside it: when the rollback switches, the state and its run lock "
                    "move, and another run of the same target would start beside this one",
                util::ExitCode::invalid,
                "set an absolute state_dir outside the releases in [target] (or pass "
                "--state-dir DIR); docs/config.md \"The state directory and release links\"");
        }
    }
}

} // namespace rollback::cli
