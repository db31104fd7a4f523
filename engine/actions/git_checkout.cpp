// SPDX-License-Identifier: MIT
// action = "git_checkout": for git-based deploys, check out the previous tag (or a named ref) in
// a work tree. Refuses a dirty tree. git runs through ctx.runner, never a shell.
#include "actions/action.hpp"
#include "actions/release_switch.hpp"
#include "actions/step_params.hpp"
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

struct CheckoutParams {
    fs::path repo;
    std::string ref;
};

CheckoutParams read_params(StepParams& p, const playbook::Playbook& pb) {
    CheckoutParams c;
    if (auto repo = p.string("repo")) {
        if (repo->empty()) {
            p.error("repo", "must not be empty");
        }
        c.repo = (pb.directory / *repo).lexically_normal();
    } else if (!p.has("repo")) {
        p.error("", "missing key \"repo\"");
    }
    if (auto ref = p.string("ref")) {
        c.ref = *ref;
        if (c.ref.empty() || c.ref.front() == '-') {
            p.error("ref", "expected \"previous\" or a tag, branch or commit");
        }
    } else if (!p.has("ref")) {
        p.error("", "missing key \"ref\"", "write ref = \"previous\" or ref = \"<tag>\"");
    }
    return c;
}

struct CheckoutPlan {
    std::string from; ///< the tag HEAD is at, else its short commit
    std::string from_commit;
    std::string to; ///< tag or ref
    std::string to_commit;
    std::string chosen_by;
    std::vector<std::string> skipped;
    bool already_done = false;
    std::string problem;
    std::string hint;
};

CheckoutPlan plan_checkout(const Git& git, const CheckoutParams& c, const Context& ctx) {
    CheckoutPlan plan;
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

    std::vector<BadRelease> bad;
    try {
        bad = ctx.bad_releases.bad_releases();
    } catch (const util::Error& e) {
        plan.problem = e.what();
        return plan;
    }
    const std::string location = c.repo.string();
    for (const auto& b : bad) {
        if (b.location == location && b.run_id == ctx.run_id && !ctx.run_id.empty()) {
            plan.to = b.switched_to;
            plan.chosen_by = "checked out earlier in this run";
        }
    }
    auto is_bad = [&](const std::string& name) {
        return std::any_of(bad.begin(), bad.end(), [&](const BadRelease& b) {
            return b.location == location && b.release == name;
        });
    };
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
        for (std::ptrdiff_t i = first; i >= 0; --i) {
            const Tag& t = tags[static_cast<size_t>(i)];
            if (t.commit == *head) {
                continue;
            }
            if (is_bad(t.name)) {
                plan.skipped.push_back(t.name);
                continue;
            }
            plan.to = t.name;
            break;
        }
        plan.chosen_by = "previous tag by creation date";
        if (plan.to.empty()) {
            plan.problem =
                "no tag before " + plan.from + " in " + c.repo.string() +
                (plan.skipped.empty() ? ""
                                      : " (skipped bad: " + util::join(plan.skipped, ", ") + ")");
            plan.hint = "name the ref to check out: ref = \"<tag>\"";
            return plan;
        }
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

class GitCheckoutAction final : public Action {
  public:
    std::vector<std::string> keys() const override { return {"repo", "ref"}; }
    std::vector<std::string> required_keys() const override { return {"repo", "ref"}; }

    std::vector<util::Diagnostic> validate(const playbook::Playbook& pb,
                                           const playbook::Step& step) const override {
        StepParams p(step);
        read_params(p, pb);
        return p.diagnostics();
    }

    std::string describe(const playbook::Step& step) const override {
        StepParams p(step);
        return "git checkout " + p.string("ref").value_or("?") + " in " +
               p.string("repo").value_or("?");
    }

    std::vector<Check> preflight(const Context& ctx) const override {
        StepParams p(ctx.step);
        CheckoutParams c = read_params(p, ctx.playbook);
        if (!p.ok()) {
            return {{false, "git_checkout keys", p.first_problem(), {}}};
        }
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
        CheckoutPlan plan = plan_checkout(git, c, ctx);
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

    Result run(const Context& ctx) const override {
        Result r;
        StepParams p(ctx.step);
        CheckoutParams c = read_params(p, ctx.playbook);
        if (!p.ok()) {
            r.summary = p.first_problem();
            return r;
        }
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
        CheckoutPlan plan = plan_checkout(git, c, ctx);
        r.details["repo"] = c.repo.string();
        r.details["from"] = plan.from;
        r.details["from_commit"] = plan.from_commit;
        r.details["to"] = plan.to;
        r.details["to_commit"] = plan.to_commit;
        r.details["chosen_by"] = plan.chosen_by;
        if (!plan.skipped.empty()) {
            boost::json::array skipped;
            for (const auto& s : plan.skipped) {
                skipped.emplace_back(s);
            }
            r.details["skipped_bad"] = std::move(skipped);
        }
        if (!plan.problem.empty()) {
            r.summary = plan.problem;
            r.output_tail = plan.hint.empty() ? "" : "hint: " + plan.hint + "\n";
            return r;
        }
        if (plan.already_done) {
            r.status = Status::succeeded;
            r.summary = "already at " + plan.to;
            return r;
        }
        try {
            // Before the checkout, so a retry in this run finds it and does not go further back.
            ctx.bad_releases.record_bad_release(
                {plan.from, c.repo.string(), util::format_time(std::chrono::system_clock::now()),
                 ctx.run_id, plan.to});
        } catch (const util::Error& e) {
            r.summary = e.what();
            return r;
        }
        auto o = git.run({"checkout", "--quiet", plan.to});
        r.exit_code = o.exit_code;
        r.output_tail = util::tail(o.stdout_tail + o.stderr_tail, 4096);
        if (!o.ok()) {
            std::string err(util::trim(o.stderr_tail));
            r.status = o.ending == exec::Ending::timed_out     ? Status::timed_out
                       : o.ending == exec::Ending::interrupted ? Status::interrupted
                                                               : Status::failed;
            r.summary = "git checkout " + plan.to + " failed: " +
                        (!o.error.empty() ? o.error
                         : err.empty()    ? "exit " + std::to_string(o.exit_code)
                                          : err);
            return r;
        }
        if (ctx.progress) {
            ctx.progress("checked out " + plan.to + " (was " + plan.from + ", now marked bad)");
        }
        r.details["marked_bad"] = plan.from;
        r.status = Status::succeeded;
        r.summary = "checked out " + plan.to + " (was " + plan.from + ")";
        return r;
    }
};

} // namespace

std::unique_ptr<Action> make_git_checkout_action() {
    return std::make_unique<GitCheckoutAction>();
}

} // namespace rollback::actions
