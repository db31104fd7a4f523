// SPDX-License-Identifier: MIT
// release_switch on a host (`hosts`): the same plan as on the engine's machine, from facts read
// on the host by one fixed sh program, and the switch done there by another. Paths and names are
// the programs' arguments, never part of their text.
#include "actions/action.hpp"
#include "actions/process_step.hpp"
#include "actions/release_switch.hpp"
#include "util/strings.hpp"

#include <algorithm>
#include <memory>

namespace rollback::actions {
namespace {

// Arguments: deploy_root, history ("" = deploys.log when present), complete marker, config files.
// Prints `current TARGET` (or current-missing / current-notlink), `history FILE` and its lines as
// `h LINE` (or history-unreadable FILE), and `r MTIME STATUS NAME` per release directory;
// STATUS is ok, empty, nomarker or nosnap:N (the Nth config file has no snapshot).
constexpr std::string_view k_look = R"SH(set -u
cd -- "$1" 2>/dev/null || { echo noroot; exit 0; }
hist=$2; marker=$3; shift 3
if [ -L current ]; then printf 'current %s\n' "$(readlink current)"
elif [ -e current ]; then echo current-notlink; else echo current-missing; fi
if [ -z "$hist" ] && [ -f deploys.log ]; then hist=deploys.log; fi
if [ -n "$hist" ]; then
  if [ -r "$hist" ]; then printf 'history %s\n' "$hist"; sed 's/^/h /' -- "$hist"
  else printf 'history-unreadable %s\n' "$hist"; fi
fi
[ -d releases ] || exit 0
find releases -mindepth 1 -maxdepth 1 -type d -printf '%T@ %f\n' | while read -r t n; do
  d=releases/$n; s=ok
  if [ -n "$marker" ]; then [ -e "$d/$marker" ] || s=nomarker
  elif [ -z "$(ls -A -- "$d")" ]; then s=empty; fi
  i=0
  for f; do i=$((i+1)); if [ "$s" = ok ] && [ ! -f "$d/.rollback-config/$f" ]; then s=nosnap:$i; fi; done
  printf 'r %s %s %s\n' "$t" "$s" "$n"
done)SH";

// Arguments: deploy_root, release, the new link's target, config files.
constexpr std::string_view k_switch = R"SH(set -u
cd -- "$1" || exit 3
to=$2; target=$3; shift 3
t=.rollback-$$
n=0
undo() {
  i=0
  for f; do
    i=$((i+1)); [ "$i" -le "$n" ] || break
    d=$(readlink -m -- "$f")
    if [ -e "$d.prev$t" ]; then mv -f -- "$d.prev$t" "$d"; fi
  done
}
for f; do
  s=releases/$to/.rollback-config/$f
  d=$(readlink -m -- "$f")
  if ! mkdir -p -- "$(dirname -- "$d")"; then undo "$@"; echo "cannot create the directory of $f" >&2; exit 1; fi
  if [ -e "$d" ] && ! cp -p -- "$d" "$d.prev$t"; then undo "$@"; echo "cannot keep a copy of $f" >&2; exit 1; fi
  if cp -- "$s" "$d.new$t" && { [ ! -e "$d" ] || chmod --reference="$d" -- "$d.new$t"; } && sync -- "$d.new$t" && mv -f -- "$d.new$t" "$d"; then
    n=$((n+1)); printf 'restored %s\n' "$f"
  else
    rm -f -- "$d.new$t"; n=$((n+1)); undo "$@"; echo "cannot restore $f from release $to" >&2; exit 1
  fi
done
if ! { ln -s -- "$target" "current$t" && mv -T -f -- "current$t" current; }; then
  rm -f -- "current$t"; undo "$@"; echo "cannot point current at releases/$to" >&2; exit 1
fi
sync . 2>/dev/null
for f; do d=$(readlink -m -- "$f"); rm -f -- "$d.prev$t"; done
echo switched)SH";

struct Facts {
    std::string problem;
    std::string root_problem;
    std::string current_target; ///< as the link says
    bool current_missing = false;
    bool current_not_link = false;
    std::string history;
    bool history_unreadable = false;
    std::vector<std::string> history_lines;
    struct Release {
        double mtime = 0;
        std::string status;
        std::string name;
    };
    std::vector<Release> releases;
};

exec::Command host_command(const Context& ctx, std::string_view script, const std::string& name,
                           std::vector<std::string> args) {
    std::vector<std::string> argv{"/bin/sh", "-c", std::string(script), name};
    argv.insert(argv.end(), args.begin(), args.end());
    return make_command(ctx, std::move(argv));
}

Facts look(const Context& ctx, const ReleaseLayout& layout) {
    Facts f;
    std::vector<std::string> args{layout.deploy_root.string(), layout.history.string(),
                                  layout.complete_marker};
    args.insert(args.end(), layout.config_files.begin(), layout.config_files.end());
    exec::Outcome o = ctx.runner.run(host_command(ctx, k_look, "rollback-release-look", args));
    if (!o.ok()) {
        Result r = result_of(o);
        f.root_problem = "cannot read the releases of " + layout.deploy_root.string() +
                         " on host " + ctx.host + ": " + r.summary;
        return f;
    }
    for (const auto& line : util::split(o.stdout_tail, '\n')) {
        std::string_view l = line;
        auto after = [&](std::string_view prefix) -> std::optional<std::string> {
            if (l.rfind(prefix, 0) == 0) {
                return std::string(l.substr(prefix.size()));
            }
            return std::nullopt;
        };
        if (l == "noroot") {
            f.root_problem = "deploy_root " + layout.deploy_root.string() +
                             " is not a directory on host " + ctx.host;
        } else if (auto c = after("current ")) {
            f.current_target = *c;
        } else if (l == "current-missing") {
            f.current_missing = true;
        } else if (l == "current-notlink") {
            f.current_not_link = true;
        } else if (auto h = after("history ")) {
            f.history = *h;
        } else if (auto hu = after("history-unreadable ")) {
            f.history = *hu;
            f.history_unreadable = true;
        } else if (auto hl = after("h ")) {
            f.history_lines.push_back(*hl);
        } else if (l == "h") {
            f.history_lines.emplace_back();
        } else if (auto r = after("r ")) {
            auto fields = util::split(*r, ' ');
            if (fields.size() >= 3) {
                Facts::Release rel;
                try {
                    rel.mtime = std::stod(fields[0]);
                } catch (const std::exception&) {
                    rel.mtime = 0;
                }
                rel.status = fields[1];
                const size_t name_at = fields[0].size() + fields[1].size() + 2;
                rel.name = r->substr(std::min(name_at, r->size()));
                f.releases.push_back(std::move(rel));
            }
        }
    }
    return f;
}

[[noreturn]] void fail(std::string what, std::string hint = {}) {
    throw util::Error(std::move(what), util::ExitCode::run_failed, std::move(hint));
}

} // namespace

LayoutReader remote_reader(const Context& ctx, const ReleaseLayout& layout) {
    auto facts = std::make_shared<Facts>(look(ctx, layout));
    const std::string root = layout.deploy_root.string();
    const std::string on = " on host " + ctx.host;
    LayoutReader reader;
    reader.root_problem = [facts] { return facts->root_problem; };
    reader.current = [facts, root, on] {
        const std::string current = root + "/current";
        if (facts->current_missing) {
            fail(current + " does not exist" + on,
                 "the release_switch layout needs a `current` symlink");
        }
        if (facts->current_not_link) {
            fail(current + " is not a symlink" + on,
                 "the release_switch layout needs `current` -> releases/<version>");
        }
        std::string target = facts->current_target;
        while (target.size() > 1 && target.back() == '/') {
            target.pop_back();
        }
        const size_t slash = target.rfind('/');
        const std::string name = slash == std::string::npos ? target : target.substr(slash + 1);
        const std::string parent = slash == std::string::npos ? "" : target.substr(0, slash);
        const bool into_releases =
            parent == "releases" || parent == "./releases" ||
            (parent.size() > 9 && parent.compare(parent.size() - 9, 9, "/releases") == 0);
        if (!into_releases) {
            fail(current + " points to " + facts->current_target + ", not into " + root +
                 "/releases" + on);
        }
        auto it = std::find_if(facts->releases.begin(), facts->releases.end(),
                               [&](const Facts::Release& r) { return r.name == name; });
        if (it == facts->releases.end()) {
            fail(current + " points to " + facts->current_target + ", which does not exist" + on);
        }
        return name;
    };
    reader.order = [facts, on] {
        ReleaseOrder order;
        if (!facts->history.empty()) {
            if (facts->history_unreadable) {
                fail("cannot read " + facts->history + on);
            }
            for (const auto& line : facts->history_lines) {
                auto t = util::trim(line);
                if (t.empty() || t.front() == '#') {
                    continue;
                }
                auto last = t.find_last_of(" \t");
                order.releases.emplace_back(last == std::string_view::npos ? t
                                                                           : t.substr(last + 1));
            }
            order.source = "history " + facts->history + on;
            return order;
        }
        std::vector<Facts::Release> sorted = facts->releases;
        std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) {
            return a.mtime != b.mtime ? a.mtime < b.mtime : a.name < b.name;
        });
        for (const auto& r : sorted) {
            order.releases.push_back(r.name);
        }
        order.source = "directory mtime" + on;
        return order;
    };
    reader.release_problem = [facts, layout, on](const std::string& release) -> std::string {
        const std::string dir = layout.deploy_root.string() + "/releases/" + release;
        auto it = std::find_if(facts->releases.begin(), facts->releases.end(),
                               [&](const Facts::Release& r) { return r.name == release; });
        if (it == facts->releases.end()) {
            return "release " + util::quoted(release) + " does not exist (no directory " + dir +
                   on + ")";
        }
        if (it->status == "nomarker") {
            return "release " + util::quoted(release) + " is not complete: " + dir + "/" +
                   layout.complete_marker + " is missing" + on;
        }
        if (it->status == "empty") {
            return "release " + util::quoted(release) + " is not complete: " + dir + " is empty" +
                   on;
        }
        if (it->status.rfind("nosnap:", 0) == 0) {
            size_t i = 0;
            try {
                i = static_cast<size_t>(std::stoul(it->status.substr(7)));
            } catch (const std::exception&) {
                i = 0;
            }
            const std::string rel =
                i >= 1 && i <= layout.config_files.size() ? layout.config_files[i - 1] : "?";
            return "release " + util::quoted(release) + " has no snapshot of " + rel + " (" + dir +
                   "/.rollback-config/" + rel + " is missing" + on + ")";
        }
        return {};
    };
    return reader;
}

bool remote_switch(const Context& ctx, const ReleaseLayout& layout, const std::string& to,
                   Result& r) {
    // The new link keeps the old one's style: its target with the release's name in place of
    // the last part (relative stays relative, absolute stays absolute).
    Facts facts = look(ctx, layout);
    std::string target = "releases/" + to;
    std::string old = facts.current_target;
    while (old.size() > 1 && old.back() == '/') {
        old.pop_back();
    }
    if (size_t slash = old.rfind('/'); slash != std::string::npos) {
        target = old.substr(0, slash + 1) + to;
    }
    std::vector<std::string> args{layout.deploy_root.string(), to, target};
    args.insert(args.end(), layout.config_files.begin(), layout.config_files.end());
    exec::Outcome o = ctx.runner.run(host_command(ctx, k_switch, "rollback-release-switch", args));
    Result done = result_of(o);
    r.output_tail = done.output_tail;
    boost::json::array restored;
    for (const auto& line : util::split(o.stdout_tail, '\n')) {
        if (line.rfind("restored ", 0) == 0) {
            restored.emplace_back(line.substr(9));
            if (ctx.progress) {
                ctx.progress(line + " from release " + to + " on host " + ctx.host);
            }
        }
    }
    r.details["config_restored"] = std::move(restored);
    if (o.ok() && o.stdout_tail.find("switched") != std::string::npos) {
        return true;
    }
    std::string why(util::trim(o.stderr_tail));
    if (size_t nl = why.rfind('\n'); nl != std::string::npos) {
        why = why.substr(nl + 1);
    }
    r.status = done.status == Status::succeeded ? Status::failed : done.status;
    r.summary = "on host " + ctx.host + ": " + (why.empty() ? done.summary : why);
    return false;
}

} // namespace rollback::actions
