// SPDX-License-Identifier: MIT
// action = "release_switch": point `current` at another release and restore its config.
#include "actions/release_switch.hpp"

#include "actions/kind_action.hpp"
#include "actions/revert.hpp"
#include "util/error.hpp"
#include "util/files.hpp"
#include "util/strings.hpp"
#include "util/time.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

namespace rollback::actions {

namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

[[noreturn]] void fail(std::string what, std::string hint = {}) {
    throw util::Error(std::move(what), util::ExitCode::run_failed, std::move(hint));
}

std::string errno_text() {
    return std::strerror(errno);
}

bool safe_relative(const std::string& p) {
    if (p.empty() || fs::path(p).is_absolute()) {
        return false;
    }
    for (const auto& part : fs::path(p)) {
        if (part == "..") {
            return false;
        }
    }
    return true;
}

// Copies `from` over `to` atomically, keeping `to`'s mode and owner when it exists (config files
// often hold secrets: never widen their permissions, not even for the moment of the copy).
void copy_file_atomic(const fs::path& from, const fs::path& to) {
    std::string content = util::read_file(from);
    struct stat source {};
    mode_t mode = ::stat(from.c_str(), &source) == 0 ? source.st_mode : 0600;
    fs::create_directories(to.parent_path());
    util::write_file_atomic(to, content, {mode & 07777, true});
}

} // namespace

// --- layout ------------------------------------------------------------------------------------

std::string current_release(const fs::path& deploy_root) {
    fs::path current = deploy_root / "current";
    std::error_code ec;
    auto st = fs::symlink_status(current, ec);
    if (ec || st.type() == fs::file_type::not_found) {
        fail(current.string() + " does not exist",
             "the release_switch layout needs a `current` symlink");
    }
    if (st.type() != fs::file_type::symlink) {
        fail(current.string() + " is not a symlink",
             "the release_switch layout needs `current` -> releases/<version>");
    }
    fs::path target = fs::read_symlink(current, ec);
    fs::path resolved = target.is_absolute() ? target : deploy_root / target;
    if (!fs::is_directory(resolved, ec)) {
        fail(current.string() + " points to " + target.string() + ", which does not exist");
    }
    fs::path releases = fs::weakly_canonical(deploy_root / "releases", ec);
    fs::path real = fs::weakly_canonical(resolved, ec);
    if (real.parent_path() != releases) {
        fail(current.string() + " points to " + target.string() + ", not into " +
             (deploy_root / "releases").string());
    }
    return real.filename().string();
}

bool is_release_name(std::string_view name) {
    return !name.empty() && name != "." && name != ".." &&
           std::none_of(name.begin(), name.end(), [](char c) {
               return c == '/' || static_cast<unsigned char>(c) < 0x20 || c == 0x7F;
           });
}

ReleaseOrder release_order(const ReleaseLayout& layout) {
    ReleaseOrder order;
    fs::path history = layout.history;
    std::error_code ec;
    if (history.empty() && fs::exists(layout.deploy_root / "deploys.log", ec)) {
        history = layout.deploy_root / "deploys.log";
    }
    if (!history.empty()) {
        std::istringstream in(util::read_file(history));
        std::string line;
        int line_no = 0;
        while (std::getline(in, line)) {
            ++line_no;
            auto t = util::trim(line);
            if (t.empty() || t.front() == '#') {
                continue;
            }
            auto last = t.find_last_of(" \t");
            std::string_view name = last == std::string_view::npos ? t : t.substr(last + 1);
            // The history is input like the playbook: a name from it passes the check `to`
            // gets, or nothing is switched (a `../x` would point current outside releases/).
            if (!is_release_name(name)) {
                fail("history " + history.string() + ":" + std::to_string(line_no) + ": " +
                     util::quoted(name) +
                     " is not a release name (a directory in releases/: no '/', not . or ..)");
            }
            order.releases.emplace_back(name);
        }
        order.source = "history " + history.string();
        return order;
    }
    struct Entry {
        fs::file_time_type mtime;
        std::string name;
    };
    std::vector<Entry> entries;
    // Only the listing itself can fail it: an entry that cannot be looked at (a dangling link,
    // one this user may not stat) is no release, never a reason for no previous one (break-it
    // 42/01: its error once outlived the loop when it came last).
    fs::directory_iterator it(layout.deploy_root / "releases", ec);
    for (; !ec && it != fs::directory_iterator(); it.increment(ec)) {
        std::error_code eec;
        if (it->is_directory(eec)) {
            const auto mtime = it->last_write_time(eec);
            if (!eec) {
                entries.push_back({mtime, it->path().filename().string()});
            }
        }
    }
    if (ec) {
        fail("cannot list " + (layout.deploy_root / "releases").string() + ": " + ec.message());
    }
    std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
        return a.mtime != b.mtime ? a.mtime < b.mtime : a.name < b.name;
    });
    for (auto& e : entries) {
        order.releases.push_back(std::move(e.name));
    }
    order.source = "directory mtime";
    return order;
}

fs::path config_snapshot(const ReleaseLayout& layout, const std::string& release,
                         const std::string& relative) {
    return layout.deploy_root / "releases" / release / ".rollback-config" / relative;
}

std::string release_problem(const ReleaseLayout& layout, const std::string& release) {
    fs::path dir = layout.deploy_root / "releases" / release;
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) {
        return "release " + util::quoted(release) + " does not exist (no directory " +
               dir.string() + ")";
    }
    if (!layout.complete_marker.empty()) {
        if (!fs::exists(dir / layout.complete_marker, ec)) {
            return "release " + util::quoted(release) +
                   " is not complete: " + (dir / layout.complete_marker).string() + " is missing";
        }
    } else if (fs::is_empty(dir, ec)) {
        return "release " + util::quoted(release) + " is not complete: " + dir.string() +
               " is empty";
    }
    for (const auto& rel : layout.config_files) {
        fs::path snap = config_snapshot(layout, release, rel);
        if (!fs::is_regular_file(snap, ec)) {
            return "release " + util::quoted(release) + " has no snapshot of " + rel + " (" +
                   snap.string() + " is missing)";
        }
    }
    return {};
}

void switch_current(const fs::path& deploy_root, const std::string& release) {
    fs::path current = deploy_root / "current";
    std::error_code ec;
    fs::path old = fs::read_symlink(current, ec);
    fs::path target = fs::path("releases") / release;
    if (!ec && old.is_absolute()) {
        target = deploy_root / "releases" / release;
    }
    fs::path tmp = deploy_root / (".current.rollback-tmp." + util::temp_suffix());
    if (::symlink(target.c_str(), tmp.c_str()) != 0) {
        fail("cannot create symlink " + tmp.string() + ": " + errno_text());
    }
    // rename(2) replaces the `current` link itself (it does not follow it) in one step: a reader
    // resolves either the old or the new release, never nothing.
    if (::rename(tmp.c_str(), current.c_str()) != 0) {
        std::string why = errno_text();
        ::unlink(tmp.c_str());
        fail("cannot rename " + tmp.string() + " onto " + current.string() + ": " + why);
    }
    util::fsync_directory(deploy_root);
}

LayoutReader local_reader(const ReleaseLayout& layout) {
    LayoutReader r;
    r.root_problem = [layout]() -> std::string {
        std::error_code ec;
        if (!fs::is_directory(layout.deploy_root, ec)) {
            return "deploy_root " + layout.deploy_root.string() + " is not a directory";
        }
        return {};
    };
    r.current = [layout] { return current_release(layout.deploy_root); };
    r.order = [layout] { return release_order(layout); };
    r.release_problem = [layout](const std::string& release) {
        return release_problem(layout, release);
    };
    return r;
}

// --- the action --------------------------------------------------------------------------------

namespace {

struct SwitchParams : playbook::ActionParams {
    ReleaseLayout layout;
    std::string to;
    std::string shown_root = "?"; ///< deploy_root and to as written, for the plan
    std::string shown_to = "?";
    std::vector<std::string> shown_files;
};

// On hosts (`on_hosts`) deploy_root is the host's path as written (relative: to the login
// directory), not the engine's.
SwitchParams read_params(StepParams& p, const playbook::Playbook& pb, bool on_hosts) {
    SwitchParams s;
    auto root = p.string("deploy_root");
    s.shown_root = root.value_or("?");
    if (root && root->empty()) {
        p.error("deploy_root", "must not be empty");
    } else if (root) {
        s.layout.deploy_root =
            on_hosts ? fs::path(*root) : (pb.directory / *root).lexically_normal();
    } else if (!p.has("deploy_root")) {
        p.error("", "missing key \"deploy_root\"");
    }
    if (auto to = p.string("to")) {
        s.to = *to;
        s.shown_to = *to;
        if (!is_release_name(s.to)) {
            p.error("to", "expected \"previous\" or a release name (a directory in releases/)");
        }
    } else if (!p.has("to")) {
        p.error("", "missing key \"to\"", "write to = \"previous\" or to = \"<version>\"");
    }
    if (auto h = p.string("history")) {
        if (h->empty()) {
            p.error("history", "must not be empty");
        } else {
            s.layout.history = s.layout.deploy_root / *h; // absolute stays absolute
        }
    }
    if (auto m = p.string("complete_marker")) {
        if (!safe_relative(*m)) {
            p.error("complete_marker",
                    "expected a file name inside the release (no '..', not absolute)");
        }
        s.layout.complete_marker = *m;
    }
    if (auto files = p.strings("config_files")) {
        for (const auto& f : *files) {
            if (!safe_relative(f)) {
                p.error("config_files",
                        util::quoted(f) + " must be relative to deploy_root, without '..'");
            }
        }
        s.layout.config_files = *files;
        s.shown_files = *files;
    }
    return s;
}

LayoutReader reader_for(const Context& ctx, const ReleaseLayout& layout) {
    return ctx.host.empty() ? local_reader(layout) : remote_reader(ctx, layout);
}

RevertPlan plan_switch(const SwitchParams& s, const Context& ctx, const LayoutReader& reader) {
    RevertPlan plan;
    const auto& layout = s.layout;
    if (plan.problem = reader.root_problem(); !plan.problem.empty()) {
        return plan;
    }
    try {
        plan.from = reader.current();
        std::string location = location_of(ctx, layout.deploy_root.string());
        auto bad = ctx.bad_releases.bad_releases();
        // A retried or resumed step of the same run must not go one release further back.
        for (const auto& b : bad) {
            if (b.location == location && b.run_id == ctx.run_id && !ctx.run_id.empty()) {
                plan.to = b.switched_to;
                plan.chosen_by = "switched to earlier in this run";
                plan.already_done = plan.from == plan.to;
                if (plan.already_done) {
                    return plan;
                }
                plan.from = b.release;
            }
        }
        if (plan.to.empty() && s.to != "previous") {
            plan.to = s.to;
            plan.chosen_by = "named";
            plan.already_done = plan.from == plan.to;
        } else if (plan.to.empty()) {
            auto order = reader.order();
            auto it = std::find(order.releases.rbegin(), order.releases.rend(), plan.from);
            if (it == order.releases.rend()) {
                plan.problem = "the current release " + util::quoted(plan.from) +
                               " is not in the " + order.source;
                plan.hint = "name the release to switch to: to = \"<version>\"";
                return plan;
            }
            std::vector<std::string> older;
            for (++it; it != order.releases.rend(); ++it) {
                if (*it != plan.from) {
                    older.push_back(*it);
                }
            }
            plan.to = pick_previous(older, bad, location, plan);
            plan.chosen_by = "previous by " + order.source;
            if (plan.to.empty()) {
                plan.problem = "no release before " + util::quoted(plan.from) + " in the " +
                               order.source + skipped_note(plan);
                return plan;
            }
        }
    } catch (const util::Error& e) {
        plan.problem = e.what();
        plan.hint = e.hint();
        return plan;
    }
    if (!plan.already_done && !is_release_name(plan.to)) {
        // Read back from the state (a release this run switched to): checked like `to`.
        plan.problem = "release " + util::quoted(plan.to) + " (" + plan.chosen_by +
                       ") is not a release name (a directory in releases/: no '/', not . or ..)";
        return plan;
    }
    if (!plan.already_done) {
        plan.problem = reader.release_problem(plan.to);
        if (!plan.problem.empty() && s.to == "previous") {
            plan.hint = "name another release: to = \"<version>\"";
        }
    }
    return plan;
}

// Restores the config files from release `to`, then points `current` at it. On a failure the
// config files are put back as they were, so code and config stay a matching pair.
bool switch_release(const Context& ctx, const ReleaseLayout& layout, const std::string& to,
                    Result& r) {
    auto progress = [&](const std::string& line) {
        if (ctx.progress) {
            ctx.progress(line);
        }
    };
    std::map<fs::path, std::optional<std::string>> previous_config;
    try {
        json::array restored;
        for (const auto& rel : layout.config_files) {
            fs::path dest = layout.deploy_root / rel;
            std::error_code ec;
            previous_config[dest] =
                fs::exists(dest, ec) ? std::optional(util::read_file(dest)) : std::nullopt;
            copy_file_atomic(config_snapshot(layout, to, rel), dest);
            progress("restored " + rel + " from release " + to);
            restored.emplace_back(rel);
        }
        r.details["config_restored"] = std::move(restored);
        switch_current(layout.deploy_root, to);
    } catch (const util::Error& e) {
        for (const auto& [dest, content] : previous_config) {
            try {
                if (content) {
                    util::write_file_atomic(dest, *content, {0600, true});
                }
            } catch (const util::Error&) {
                progress("could not put back " + dest.string());
            }
        }
        r.summary = e.what();
        return false;
    }
    return true;
}

struct ReleaseSwitch {
    static constexpr std::string_view name = "release_switch";
    using Params = SwitchParams;

    static std::vector<std::string> keys() {
        return {"deploy_root", "to", "history", "config_files", "complete_marker"};
    }
    static std::vector<std::string> required_keys() { return {"deploy_root", "to"}; }
    static std::map<std::string, playbook::Encoding> encodings() {
        return {{"deploy_root", playbook::Encoding::operand}, {"to", playbook::Encoding::operand}};
    }

    static Params parse(StepParams& p, const playbook::Playbook& pb, const playbook::Step& step) {
        return read_params(p, pb, !step.hosts.empty());
    }

    static std::string describe(const playbook::Step&, const Params& s) {
        std::string out = s.shown_root + "/current -> " + s.shown_to;
        if (!s.shown_files.empty()) {
            out += ", restore " + util::join(s.shown_files, ", ");
        }
        return out;
    }

    static std::vector<Check> preflight(const Context& ctx, const Params& s) {
        std::vector<Check> checks;
        RevertPlan plan = plan_switch(s, ctx, reader_for(ctx, s.layout));
        if (!plan.from.empty()) {
            checks.push_back({true,
                              s.layout.deploy_root.string() + "/current -> releases/" + plan.from,
                              {},
                              {}});
        }
        std::string what = "target release " + (plan.to.empty() ? s.to : plan.to) +
                           (plan.chosen_by.empty() ? "" : " (" + plan.chosen_by + ")");
        if (!plan.problem.empty()) {
            checks.push_back({false, what, plan.problem, plan.hint});
            return checks;
        }
        if (plan.already_done) {
            checks.push_back({true, what + ": already current", {}, {}});
            return checks;
        }
        checks.push_back({true, what + " exists and is complete", {}, {}});
        for (const auto& rel : s.layout.config_files) {
            checks.push_back({true,
                              "config snapshot " + config_snapshot(s.layout, plan.to, rel).string(),
                              {},
                              {}});
        }
        return checks;
    }

    static Result run(const Context& ctx, const Params& s) {
        RevertPlan plan = plan_switch(s, ctx, reader_for(ctx, s.layout));
        RevertWork work{"deploy_root",
                        location_of(ctx, s.layout.deploy_root.string()),
                        false,
                        "already on",
                        "current -> releases/" + plan.to,
                        "switched " + plan.from + " -> " + plan.to,
                        [&](Result& r) {
                            return ctx.host.empty() ? switch_release(ctx, s.layout, plan.to, r)
                                                    : remote_switch(ctx, s.layout, plan.to, r);
                        }};
        return carry_out(ctx, plan, work);
    }
};

} // namespace

std::unique_ptr<Action> make_release_switch_action() {
    return std::make_unique<KindAction<ReleaseSwitch>>();
}

} // namespace rollback::actions
