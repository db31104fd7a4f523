// SPDX-License-Identifier: MIT
#include "cli/config_search.hpp"

#include "config/config.hpp"
#include "util/canonical_path.hpp"
#include "util/error.hpp"

#include <cstdio>
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

namespace rollback::cli {

namespace fs = std::filesystem;

namespace {

std::string user_name(uid_t uid) {
    const struct passwd* pw = ::getpwuid(uid);
    return pw != nullptr ? std::string(pw->pw_name) + " (uid " + std::to_string(uid) + ")"
                         : "uid " + std::to_string(uid);
}

/// True when `gid` is the user private group of `uid`: its primary group, naming no other
/// member.
bool private_group(uid_t uid, gid_t gid) {
    const passwd* pw = ::getpwuid(uid);
    if (pw == nullptr || pw->pw_gid != gid) {
        return false;
    }
    const group* gr = ::getgrgid(gid);
    if (gr == nullptr) {
        return false;
    }
    for (char** m = gr->gr_mem; *m != nullptr; ++m) {
        if (pw->pw_name == nullptr || std::string(*m) != pw->pw_name) {
            return false;
        }
    }
    return true;
}

bool world_writable_dir(const fs::path& dir) {
    struct stat st {};
    return ::stat(dir.c_str(), &st) == 0 && (st.st_mode & S_IWOTH) != 0;
}

[[noreturn]] void untrusted(const fs::path& candidate, const std::string& problem) {
    throw util::Error(
        candidate.string() + ": not used as the configuration: " + problem +
            "; a rollback.toml the search finds (not named with -c) chooses the run lock and the "
            "state, so it must be this user's or root's and writable by nobody else",
        util::ExitCode::invalid,
        "to use it deliberately pass -c " + candidate.string() +
            "; or name the state with --state-dir DIR (docs/config.md \"Which configuration a "
            "command reads\")");
}

/// A configuration found by the search: trusted (or an error), then canonical.
FoundConfig found(const fs::path& candidate, std::string how, bool link) {
    require_trusted_config(candidate);
    return FoundConfig{util::canonical_path(candidate), std::move(how), link};
}

/// Says once per process which configuration the wider search chose: the person who typed
/// `run -p` sees whose lock and state the run takes.
void say_found_above(const FoundConfig& f, const fs::path& playbook) {
    static bool said = false;
    if (!said) {
        said = true;
        std::fprintf(stderr, "rollback: note: configuration %s (%s %s)\n", f.file.c_str(),
                     "its [decision] playbook is", playbook.c_str());
    }
}

} // namespace

bool reached_through_link(const fs::path& written) {
    if (written.empty()) {
        return false;
    }
    const fs::path dir = fs::absolute(written).lexically_normal().parent_path();
    return dir != util::canonical_path(dir);
}

void require_trusted_config(const fs::path& candidate) {
    const fs::path dir = util::canonical_path(fs::absolute(candidate).parent_path());
    if (world_writable_dir(dir)) {
        untrusted(candidate, "it is in " + dir.string() +
                                 ", a directory every user can write to (any user can put a "
                                 "rollback.toml there)");
    }
    const fs::path file = util::canonical_path(candidate);
    if (file.parent_path() != dir && world_writable_dir(file.parent_path())) {
        untrusted(candidate, "it is a link to " + file.string() + ", in " +
                                 file.parent_path().string() +
                                 ", a directory every user can write to");
    }
    struct stat st {};
    if (::stat(file.c_str(), &st) != 0) {
        return; // gone since it was found: the loader names the file
    }
    const uid_t me = ::geteuid();
    if (st.st_uid != me && st.st_uid != 0) {
        untrusted(candidate, "it belongs to " + user_name(st.st_uid) + ", not to you (" +
                                 user_name(me) + ") or root");
    }
    // Writable by the owner's own group (a user private group, Debian's umask 002 for users:
    // the group has no member but its user) is writable by nobody else.
    if ((st.st_mode & S_IWOTH) != 0 ||
        ((st.st_mode & S_IWGRP) != 0 && !private_group(st.st_uid, st.st_gid))) {
        untrusted(candidate, std::string("it is writable by ") +
                                 ((st.st_mode & S_IWOTH) != 0 ? "every user" : "its group") +
                                 " (owner " + user_name(st.st_uid) + ")");
    }
}

std::optional<FoundConfig> locate_config(const CommonOptions& common, const fs::path& playbook) {
    if (!common.config.empty()) {
        fs::path file(common.config);
        if (!fs::exists(file)) {
            throw util::Error("no configuration: " + file.string() + " does not exist",
                              util::ExitCode::invalid,
                              "pass -c rollback.toml (see docs/config.md)");
        }
        return FoundConfig{util::canonical_path(file), "-c", reached_through_link(file)};
    }
    std::error_code ec;
    if (!playbook.empty()) {
        // The usual layout keeps playbooks in playbooks/ beside rollback.toml: a person's
        // `rollback run -p /srv/shop/playbooks/x.toml` from anywhere (also from another target's
        // directory, which has its own rollback.toml) finds the monitor's state. The playbook
        // through a symlink is the playbook where it is.
        const fs::path pb = util::canonical_path(playbook);
        const bool link = reached_through_link(playbook);
        const fs::path dir = pb.parent_path();
        if (fs::is_regular_file(dir / "rollback.toml", ec)) {
            return found(dir / "rollback.toml", "beside the playbook", link);
        }
        if (fs::is_regular_file(dir.parent_path() / "rollback.toml", ec)) {
            return found(dir.parent_path() / "rollback.toml", "one directory above the playbook",
                         link);
        }
        // Deeper layouts (ops/playbooks/x.toml): the configuration that names this very file
        // as its [decision] playbook is the monitor's, whose lock a person's run must take
        // (break-it 48/F3). Before ./rollback.toml, which may be another target's.
        for (fs::path up = dir.parent_path(); up != up.parent_path();) {
            up = up.parent_path();
            const fs::path candidate = up / "rollback.toml";
            if (world_writable_dir(up) || !fs::is_regular_file(candidate, ec)) {
                continue; // never read from a directory any user can write to
            }
            if (config::decision_playbook_of(candidate) == pb) {
                FoundConfig f = found(
                    candidate, "above the playbook, naming it as its [decision] playbook", link);
                say_found_above(f, pb);
                return f;
            }
        }
    }
    if (fs::is_regular_file("rollback.toml", ec)) {
        return found(fs::current_path() / "rollback.toml", "the current directory", false);
    }
    return std::nullopt;
}

std::optional<fs::path> find_config(const CommonOptions& common, const fs::path& playbook) {
    if (auto f = locate_config(common, playbook)) {
        return f->file;
    }
    return std::nullopt;
}

} // namespace rollback::cli
