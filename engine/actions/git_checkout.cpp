// SPDX-License-Identifier: MIT
// action = "git_checkout": for git-based deploys, check out the previous tag (or a named ref) in
// a work tree. Refuses a dirty tree. git runs through ctx.runner, never a shell.
#include "actions/kind_action.hpp"
#include "actions/revert.hpp"
#include "util/files.hpp"
#include "util/strings.hpp"
#include "util/time.hpp"

#include <algorithm>
#include <memory>

namespace rollback::actions {
namespace {

namespace fs = std::filesystem;

struct Tag {
    std::string name;
    std::string commit;
};

class Git {
  public:
    Git(const Context& ctx, fs::path repo) : m_ctx(ctx), m_repo(std::move(repo)) {}

    exec::Outcome run(std::vector<std::string> args) const {
        exec::Command cmd;
        cmd.argv = {"git", "-C", m_repo.string()};
        cmd.argv.insert(cmd.argv.end(), args.begin(), args.end());
        // Plain English, parseable messages; never wait for a credential prompt.
        cmd.env = {{"LC_ALL", "C"}, {"GIT_TERMINAL_PROMPT", "0"}};
        cmd.timeout = m_ctx.step.timeout;
        return m_ctx.runner.run(cmd);
    }
    /// stdout of a successful command, trimmed; nullopt (and `why`) otherwise.
    std::optional<std::string> text(std::vector<std::string> args,
                                    std::string* why = nullptr) const {
        auto o = run(std::move(args));
        if (!o.ok()) {
            if (why != nullptr) {
                std::string err(util::trim(o.stderr_tail));
                *why = !o.error.empty() ? o.error
                       : !err.empty()   ? err
                                        : "git exited with " + std::to_string(o.exit_code);
            }
            return std::nullopt;
        }
        return std::string(util::trim(o.stdout_tail));
    }

    /// Empty when `repo` is a git work tree, else why not.
    std::string work_tree_problem() const {
        std::string why;
        auto t = text({"rev-parse", "--is-inside-work-tree"}, &why);
        if (!t || *t != "true") {
            return m_repo.string() + " is not a git work tree" + (why.empty() ? "" : ": " + why);
        }
        return {};
    }

    /// Empty when the tracked files have no changes, else "work tree X has uncommitted changes:
    /// M a.py, D b.py". Untracked files do not count: git itself refuses a checkout that would
    /// overwrite one.
    std::string dirty_problem() const {
        std::string why;
        auto t = text({"status", "--porcelain", "--untracked-files=no"}, &why);
        if (!t) {
            return "cannot read the status of " + m_repo.string() + ": " + why;
        }
        if (t->empty()) {
            return {};
        }
        auto lines = util::split(*t, '\n');
        std::vector<std::string> shown;
        for (size_t i = 0; i < lines.size() && i < 5; ++i) {
            shown.emplace_back(util::trim(lines[i]));
        }
        std::string more =
            lines.size() > 5 ? " and " + std::to_string(lines.size() - 5) + " more" : "";
        return "work tree " + m_repo.string() +
               " has uncommitted changes: " + util::join(shown, ", ") + more;
    }

    std::optional<std::string> commit_of(const std::string& ref, std::string* why = nullptr) const {
        return text({"rev-parse", "--verify", "--quiet", ref + "^{commit}"}, why);
    }

    /// Tags, oldest first by creation date (tagger date for annotated tags, commit date else),
    /// each with the commit it points to.
    std::vector<Tag> tags() const {
        auto t = text({"for-each-ref", "--sort=creatordate",
                       "--format=%(refname:short)%09%(objectname)%09%(*objectname)", "refs/tags"});
        std::vector<Tag> out;
        if (!t) {
            return out;
        }
        for (const auto& line : util::split(*t, '\n')) {
            auto f = util::split(line, '\t');
            if (f.size() >= 2) {
                out.push_back({f[0], f.size() >= 3 && !f[2].empty() ? f[2] : f[1]});
            }
        }
        return out;
    }

    const fs::path& repo() const { return m_repo; }

  private:
    const Context& m_ctx;
    fs::path m_repo;
};

struct CheckoutParams : playbook::ActionParams {
    fs::path repo;
    std::string ref;
    std::string shown_repo = "?"; ///< repo and ref as written, for the plan
    std::string shown_ref = "?";
};

// On hosts (`on_hosts`) the repo is the host's path as written: relative to the login directory.
CheckoutParams read_params(StepParams& p, const playbook::Playbook& pb, bool on_hosts) {
    CheckoutParams c;
    if (auto repo = p.string("repo")) {
        c.shown_repo = *repo;
        if (repo->empty()) {
            p.error("repo", "must not be empty");
        }
        c.repo = on_hosts ? fs::path(*repo) : (pb.directory / *repo).lexically_normal();
    } else if (!p.has("repo")) {
        p.error("", "missing key \"repo\"");
    }
    if (auto ref = p.string("ref")) {
        c.ref = *ref;
        c.shown_ref = *ref;
        if (c.ref.empty() || c.ref.front() == '-') {
            p.error("ref", "expected \"previous\" or a tag, branch or commit");
        }
    } else if (!p.has("ref")) {
        p.error("", "missing key \"ref\"", "write ref = \"previous\" or ref = \"<tag>\"");
    }
    return c;
}

RevertPlan plan_checkout(const Git& git, const CheckoutParams& c, const Context& ctx) {
    RevertPlan plan;
    std::string why;
    auto head = git.commit_of("HEAD", &why);
    if (!head) {
        plan.problem = "cannot resolve HEAD in " + c.repo.string() + ": " + why;
        return plan;
    }
    plan.from_commit = *head;
    auto tags = git.tags();
    auto at_head =
        std::find_if(tags.rbegin(), tags.rend(), [&](const Tag& t) { return t.commit == *head; });
    plan.from = at_head != tags.rend() ? at_head->name : head->substr(0, 12);

    std::vector<state::BadRelease> bad;
    try {
        bad = ctx.bad_releases.bad_releases();
    } catch (const util::Error& e) {
        plan.problem = e.what();
        return plan;
    }
    const std::string location = location_of(ctx, c.repo.string());
    for (const auto& b : bad) {
        if (b.location == location && b.run_id == ctx.run_id && !ctx.run_id.empty()) {
            plan.to = b.switched_to;
            plan.chosen_by = "checked out earlier in this run";
        }
    }
    if (plan.to.empty() && c.ref != "previous") {
        plan.to = c.ref;
        plan.chosen_by = "named";
    } else if (plan.to.empty()) {
        // Walk back in creation order from the newest tag at HEAD; when HEAD carries no tag,
        // from the nearest tag reachable from it (describe): that is the last tagged release.
        std::ptrdiff_t first = -1; // index (oldest first) of the first candidate, walking back
        if (at_head != tags.rend()) {
            first = (tags.rend() - at_head) - 2;
        } else if (auto nearest = git.text({"describe", "--tags", "--abbrev=0", "HEAD"})) {
            auto it = std::find_if(tags.begin(), tags.end(),
                                   [&](const Tag& t) { return t.name == *nearest; });
            first = it == tags.end() ? -1 : it - tags.begin();
        }
        std::vector<std::string> older;
        for (std::ptrdiff_t i = first; i >= 0; --i) {
            const Tag& t = tags[static_cast<size_t>(i)];
            if (t.commit != *head) {
                older.push_back(t.name);
            }
        }
        plan.to = pick_previous(older, bad, location, plan);
        plan.chosen_by = "previous tag by creation date";
        if (plan.to.empty()) {
            plan.problem =
                "no tag before " + plan.from + " in " + c.repo.string() + skipped_note(plan);
            plan.hint = "name the ref to check out: ref = \"<tag>\"";
            return plan;
        }
    }
    if (!plan.to.empty() && plan.to.front() == '-') {
        // A tag or recorded release read back from the repository or the state: git would take
        // it for an option (`git checkout -f`), and its rev-parse has no `--end-of-options`.
        plan.problem = "ref " + util::quoted(plan.to) +
                       " begins with '-': git would read it as an option, not a ref";
        plan.hint = "rename the tag (git tag NEW " + plan.to + " && git tag -d -- " + plan.to + ")";
        return plan;
    }
    auto target = git.commit_of(plan.to, &why);
    if (!target) {
        plan.problem =
            "ref " + util::quoted(plan.to) + " does not resolve to a commit in " + c.repo.string();
        plan.hint = "list the tags: git -C " + c.repo.string() + " tag --sort=creatordate";
        return plan;
    }
    plan.to_commit = *target;
    plan.already_done = plan.to_commit == plan.from_commit;
    return plan;
}

// `git checkout` of `to`; its output and, on a failure, why, into r.
bool checkout(const Git& git, const std::string& to, Result& r) {
    auto o = git.run({"checkout", "--quiet", to});
    r.exit_code = o.exit_code;
    r.output_tail = util::tail(o.stdout_tail + o.stderr_tail, 4096);
    if (o.ok()) {
        return true;
    }
    std::string err(util::trim(o.stderr_tail));
    r.status = o.ending == exec::Ending::timed_out     ? Status::timed_out
               : o.ending == exec::Ending::interrupted ? Status::interrupted
                                                       : Status::failed;
    r.summary = "git checkout " + to + " failed: " +
                (!o.error.empty() ? o.error
                 : err.empty()    ? "exit " + std::to_string(o.exit_code)
                                  : err);
    return false;
}

struct GitCheckout {
    static constexpr std::string_view name = "git_checkout";
    using Params = CheckoutParams;

    static std::vector<std::string> keys() { return {"repo", "ref"}; }
    static std::vector<std::string> required_keys() { return {"repo", "ref"}; }
    static std::map<std::string, playbook::Encoding> encodings() {
        return {{"repo", playbook::Encoding::operand}, {"ref", playbook::Encoding::operand}};
    }

    static Params parse(StepParams& p, const playbook::Playbook& pb, const playbook::Step& step) {
        return read_params(p, pb, !step.hosts.empty());
    }

    static std::string describe(const playbook::Step&, const Params& c) {
        return "git checkout " + c.shown_ref + " in " + c.shown_repo;
    }

    static std::vector<Check> preflight(const Context& ctx, const Params& c) {
        std::vector<Check> checks;
        auto git_path = util::find_program("git");
        if (git_path.empty()) {
            checks.push_back({false, "program git", "not found in PATH", "apt-get install git"});
            return checks;
        }
        Git git(ctx, c.repo);
        if (auto problem = git.work_tree_problem(); !problem.empty()) {
            checks.push_back({false, "git work tree " + c.repo.string(), problem, {}});
            return checks;
        }
        checks.push_back({true, "git work tree " + c.repo.string(), {}, {}});
        if (auto problem = git.dirty_problem(); !problem.empty()) {
            checks.push_back(
                {false, "work tree is clean", problem,
                 "commit or stash the changes (git -C " + c.repo.string() + " status)"});
        } else {
            checks.push_back({true, "work tree is clean", {}, {}});
        }
        RevertPlan plan = plan_checkout(git, c, ctx);
        std::string what = "ref " + (plan.to.empty() ? c.ref : plan.to) +
                           (plan.chosen_by.empty() ? "" : " (" + plan.chosen_by + ")");
        if (!plan.problem.empty()) {
            checks.push_back({false, what, plan.problem, plan.hint});
        } else {
            checks.push_back({true,
                              what + " resolves to " + plan.to_commit.substr(0, 12) +
                                  (plan.already_done ? ", already checked out" : ""),
                              {},
                              {}});
        }
        return checks;
    }

    static Result run(const Context& ctx, const Params& c) {
        Result r;
        Git git(ctx, c.repo);
        if (auto problem = git.work_tree_problem(); !problem.empty()) {
            r.summary = problem;
            return r;
        }
        if (auto problem = git.dirty_problem(); !problem.empty()) {
            r.summary = problem;
            r.output_tail =
                "hint: commit or stash the changes (git -C " + c.repo.string() + " status)\n";
            return r;
        }
        RevertPlan plan = plan_checkout(git, c, ctx);
        RevertWork work{"repo",
                        location_of(ctx, c.repo.string()),
                        true,
                        "already at",
                        "checked out " + plan.to,
                        "checked out " + plan.to + " (was " + plan.from + ")",
                        [&](Result& out) { return checkout(git, plan.to, out); }};
        return carry_out(ctx, plan, work);
    }
};

} // namespace

std::unique_ptr<Action> make_git_checkout_action() {
    return std::make_unique<KindAction<GitCheckout>>();
}

} // namespace rollback::actions
