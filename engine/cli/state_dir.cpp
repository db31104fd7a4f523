// SPDX-License-Identifier: MIT
#include "cli/state_dir.hpp"

#include "cli/run_support.hpp"
#include "db/connection.hpp"
#include "exec/runner.hpp"
#include "state/local_lock.hpp"
#include "state/local_store.hpp"
#include "state/pg_store.hpp"
#include "state/state_args.hpp"
#include "util/canonical_path.hpp"
#include "util/error.hpp"
#include "util/files.hpp"
#include "util/secrets.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace rollback::cli {

namespace fs = std::filesystem;

namespace {

fs::path normal(const fs::path& p) {
    return util::canonical_path(p);
}

/// The first two places of the rule, which need no file: --state-dir, $ROLLBACK_STATE_DIR.
std::optional<StateDir> explicit_state_dir(const CommonOptions& common) {
    if (!common.state_dir.empty()) {
        return StateDir{normal(common.state_dir), "--state-dir", std::nullopt, {}};
    }
    if (const char* env = std::getenv("ROLLBACK_STATE_DIR"); env != nullptr && *env != '\0') {
        return StateDir{normal(env), "ROLLBACK_STATE_DIR", std::nullopt, {}};
    }
    return std::nullopt;
}

StateDir from_config(const config::Config& cfg) {
    if (cfg.shared_state) {
        return StateDir{normal(cfg.state_dir), "state of " + cfg.file.string(), cfg.shared_state,
                        normal(cfg.file)};
    }
    return StateDir{normal(cfg.state_dir), "state_dir of " + cfg.file.string(), std::nullopt,
                    normal(cfg.file)};
}

/// $ROLLBACK_STATE_DIR under a configuration that names a shared state: the shared state stays
/// (a dsn in the configuration wins over a directory from the environment: the packaged units
/// set it, and the monitors of two hosts must share one lock), the directory keeps this host's
/// local files. `--state-dir DIR`, typed for this command, still names a local state (`state
/// import --state-dir`, `audit verify --state-dir` of a run moved out).
StateDir with_config(StateDir sd, const config::Config& cfg) {
    if (cfg.shared_state && sd.origin == "ROLLBACK_STATE_DIR") {
        sd.origin = "state of " + cfg.file.string() + " (local files in " + sd.origin + ")";
        sd.shared = cfg.shared_state;
        sd.config = normal(cfg.file);
    }
    return sd;
}

/// A configuration reached through a directory symlink (a release's `current`) whose state is
/// beside it: the state is inside what the link points to now, and moves with the link — then
/// two starters of one target take two locks (break-it 48/F8). Said once per process.
void warn_if_state_follows_link(const StateDir& sd, const config::Config& cfg, bool through_link) {
    static bool said = false;
    if (said || !through_link || !cfg.state_dir_relative || sd.shared) {
        return;
    }
    said = true;
    std::fprintf(stderr,
                 "rollback: warning: %s was reached through a symbolic link and its state_dir "
                 "is relative (or the default): the state %s is inside what the link points to "
                 "now, and moves when the link changes (a release switch), with the run lock\n"
                 "  hint: set an absolute state_dir outside the releases (docs/config.md \"The "
                 "state directory and release links\")\n",
                 cfg.file.c_str(), sd.dir.c_str());
}

fs::path older_layout_dir(const fs::path& playbook) {
    return normal(playbook).parent_path() / ".rollback";
}

/// A live run holding the lock of the older layout's `older` holds the target's lock: exit 4
/// naming it, as the lock of the state itself would (not the exit 2 of a layout to move).
void throw_if_live(const StateDir& chosen, const fs::path& older) {
    if (older == chosen.dir || !fs::exists(older / "lock")) {
        return;
    }
    const auto holder = state::local::live_holder(older);
    if (!holder) {
        return;
    }
    throw util::Error("another run holds the lock of " + older.string() +
                          " (the older layout: state beside the playbook, not the state " +
                          "directory " + chosen.dir.string() + "): " +
                          (holder->pid == 0 && holder->run_id.empty()
                               ? std::string("a run that has not said who it is yet")
                               : describe(*holder)),
                      util::ExitCode::locked,
                      "wait for it to finish, or see: rollback status --state-dir " +
                          older.string() + "; then move its runs (docs/config.md \"Moving from " +
                          "the older layout\")");
}

/// The layout before the one rule: a person's `run -p PLAYBOOK` kept its state in `.rollback/`
/// beside the playbook. When the rule now chooses another directory (the configuration's) and
/// that older one still holds runs or a run lock, it is never silently left behind: an
/// unfinished run there would be started over, and `history` would lose its runs. Refuses
/// (util::Error, exit 2, nothing done) naming it and how to move it.
void refuse_older_layout(const StateDir& chosen, const std::vector<fs::path>& playbooks) {
    for (const auto& playbook : playbooks) {
        if (playbook.empty()) {
            continue;
        }
        const fs::path older = older_layout_dir(playbook);
        std::error_code ec;
        if (older == chosen.dir || !fs::is_directory(older, ec)) {
            continue;
        }
        std::vector<std::string> runs;
        for (const auto& e : fs::directory_iterator(older / "runs", ec)) {
            if (e.path().extension() == ".jsonl") {
                runs.push_back(e.path().stem().string());
            }
        }
        std::sort(runs.begin(), runs.end());
        throw_if_live(chosen, older);
        const bool locked = fs::exists(older / "lock.json", ec);
        if (runs.empty() && !locked) {
            continue;
        }
        std::string what = older.string() +
                           " (the older layout: state beside the playbook) holds " +
                           std::to_string(runs.size()) + " run(s)";
        if (locked) {
            what += " and a run lock (lock.json: a run there is running or did not finish)";
        }
        const std::string there = " --state-dir " + older.string();
        throw util::Error(what + ", but the state directory is now " + chosen.dir.string() + " (" +
                              chosen.origin + "): its runs would be ignored",
                          util::ExitCode::invalid,
                          "finish what is there first (rollback status" + there +
                              (locked ? "; rollback resume RUN_ID" + there : std::string()) +
                              "), then move its runs into the state directory: mkdir -p " +
                              (chosen.dir / "runs").string() + " && mv " +
                              (older / "runs").string() + "/* " + (chosen.dir / "runs").string() +
                              "/ && mv " + older.string() + " " + older.string() +
                              ".moved   (docs/config.md \"The state directory\")");
    }
}

} // namespace

StateDir resolve_state_dir(const CommonOptions& common, const fs::path& playbook) {
    if (auto sd = explicit_state_dir(common)) {
        if (!common.config.empty()) {
            // -c names a file the person meant to be read: a missing or unreadable one is an
            // error (exit 2) even when the state directory is given too, never ignored.
            util::require_regular_file(*find_config(common, playbook));
        }
        if (sd->origin == "ROLLBACK_STATE_DIR") {
            if (auto file = find_config(common, playbook)) {
                return with_config(*sd, config::load(*file));
            }
        }
        return *sd;
    }
    if (auto found = locate_config(common, playbook)) {
        const auto cfg = config::load(found->file);
        StateDir sd = from_config(cfg);
        if (found->how.rfind("above the playbook,", 0) == 0) {
            sd.origin += " (" + found->how + ")";
        }
        warn_if_state_follows_link(sd, cfg, found->through_link);
        refuse_older_layout(sd, {playbook, cfg.playbook});
        return sd;
    }
    if (!playbook.empty()) {
        return StateDir{
            normal(playbook).parent_path() / ".rollback", "beside the playbook", std::nullopt, {}};
    }
    return StateDir{normal(".rollback"), "the current directory", std::nullopt, {}};
}

std::unique_ptr<state::Store> open_store(const StateDir& sd, state::SchemaAccess access) {
    if (!sd.shared) {
        return std::make_unique<state::LocalStore>(sd.dir);
    }
    state::PgStoreOptions options;
    options.schema = sd.shared->schema;
    options.access = access;
    options.stop_waiting = [] { return exec::interrupt_requested() != 0; };
    options.lease_ttl = sd.shared->lease;
    options.heartbeat = sd.shared->lease / 3;
    return std::make_unique<state::PgStore>(db::Dsn::parse(sd.shared->dsn), sd.dir, options);
}

void require_state_owner(const StateDir& sd, const std::string& command, const std::string& files) {
    struct stat st {};
    if (sd.shared || ::stat(sd.dir.c_str(), &st) != 0) {
        return; // a missing directory is created by (and belongs to) this user
    }
    const uid_t me = ::geteuid();
    if (st.st_uid == me) {
        return;
    }
    auto name_of = [](uid_t uid) {
        const struct passwd* pw = ::getpwuid(uid);
        return pw != nullptr ? std::string(pw->pw_name) : "uid " + std::to_string(uid);
    };
    const std::string owner = name_of(st.st_uid);
    throw util::Error(
        command + ": the state directory " + sd.dir.string() + " belongs to " + owner +
            ", and you are " + name_of(me) + ": the files this creates there (" + files +
            ") would belong to " + name_of(me) + ", and " + owner +
            " (the monitor's service user) could no longer write them; nothing was done",
        util::ExitCode::invalid,
        "run it as " + owner + ", with the service's environment (the playbook's env " +
            "variables), e.g. sudo -u " + owner + " sh -c 'set -a; . /etc/default/rollback; " +
            "exec rollback " + command + " ...' (docs/install.md \"Approving\")");
}

void prepare_state_dir(const StateDir& sd, const std::string& command, const std::string& files) {
    const std::string hint = "nothing was done; make " + sd.dir.string() +
                             " writable (free space, permissions, a read-write mount) or choose "
                             "another with --state-dir";
    std::error_code ec;
    fs::create_directories(sd.dir, ec);
    if (ec) {
        throw util::Error("cannot create state directory " + sd.dir.string() + ": " + ec.message(),
                          util::ExitCode::state_unwritable, hint);
    }
    if (::access(sd.dir.c_str(), W_OK) != 0) {
        throw util::Error("cannot write to state directory " + sd.dir.string() + ": " +
                              std::strerror(errno),
                          util::ExitCode::state_unwritable, hint);
    }
    require_state_owner(sd, command, files);
}

std::string state_where(const StateDir& sd) {
    if (!sd.shared) {
        return sd.dir.string();
    }
    return "the shared state " + util::mask_dsn(sd.shared->dsn) + " (schema " + sd.shared->schema +
           ")";
}

std::string state_args(const StateDir& sd) {
    return state::state_args({sd.dir, sd.shared.has_value(), sd.config});
}

StateDir resolve_state_dir(const CommonOptions& common, const config::Config& cfg) {
    if (auto sd = explicit_state_dir(common)) {
        return with_config(*sd, cfg);
    }
    StateDir sd = from_config(cfg);
    warn_if_state_follows_link(sd, cfg, reached_through_link(cfg.file));
    refuse_older_layout(sd, {cfg.playbook});
    return sd;
}

void refuse_older_layout_lock(const StateDir& sd, const fs::path& playbook) {
    if (!playbook.empty()) {
        throw_if_live(sd, older_layout_dir(playbook));
    }
}

} // namespace rollback::cli
