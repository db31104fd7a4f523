// SPDX-License-Identifier: MIT
// action = "service": restart/reload/start/stop a service through systemd, supervisor or the
// step's own commands, then optionally wait until it answers healthy over HTTP.
#include "actions/http_check.hpp"
#include "actions/kind_action.hpp"
#include "actions/process_step.hpp"
#include "exec/runner.hpp"
#include "util/files.hpp"
#include "util/secrets.hpp"
#include "util/strings.hpp"

#include <algorithm>
#include <memory>

namespace rollback::actions {
namespace {

const std::vector<std::string> k_managers{"systemd", "supervisor", "command"};
const std::vector<std::string> k_ops{"restart", "reload", "start", "stop"};
const std::vector<std::string> k_health_keys{"url",           "timeout", "interval",
                                             "expect_status", "ca_file", "insecure"};

struct WaitHealthy {
    std::string url;
    util::Millis timeout{std::chrono::seconds(60)};
    util::Millis interval{std::chrono::seconds(1)};
    HttpExpectation expect{{200}, {}};
    std::string ca_file; ///< https: as written (relative to the playbook's directory)
    bool insecure = false;
};

struct ServiceParams : playbook::ActionParams {
    std::string manager;
    std::string op;
    std::string name;
    std::string supervisor_conf;
    std::map<std::string, std::vector<std::string>> commands; ///< start/stop/restart/reload argv
    std::optional<WaitHealthy> wait;
};

bool contains(const std::vector<std::string>& v, const std::string& s) {
    return std::find(v.begin(), v.end(), s) != v.end();
}

ServiceParams read_params(StepParams& p, const playbook::Playbook& pb) {
    ServiceParams s;
    if (auto m = p.string("manager")) {
        s.manager = *m;
        if (!contains(k_managers, *m)) {
            p.error("manager", "unknown manager " + util::quoted(*m) +
                                   " (use systemd, supervisor or command)");
        }
    } else if (!p.has("manager")) {
        p.error("", "missing key \"manager\"",
                "write manager = \"systemd\", \"supervisor\" or \"command\"");
    }
    if (auto op = p.string("op")) {
        s.op = *op;
        if (!contains(k_ops, *op)) {
            std::string guess = util::closest_match(*op, k_ops);
            p.error("op", "unknown op " + util::quoted(*op) +
                              (guess.empty() ? " (use restart, reload, start or stop)"
                                             : " (did you mean " + util::quoted(guess) + "?)"));
        }
    } else if (!p.has("op")) {
        p.error("", "missing key \"op\"",
                "write op = \"restart\", \"reload\", \"start\" or \"stop\"");
    }
    s.name = p.string("name").value_or("");
    if (s.name.empty() && (s.manager == "systemd" || s.manager == "supervisor")) {
        p.error(p.has("name") ? "name" : "",
                p.has("name") ? "must not be empty" : "missing key \"name\"",
                "the unit or program name, e.g. name = \"gunicorn\"");
    } else if (s.manager == "supervisor" &&
               (s.name.front() == '-' ||
                s.name.find_first_of(" \t\r\n\f\v") != std::string::npos)) {
        // supervisorctl joins its arguments into one command line and splits it again at
        // whitespace, and takes no `--`: such a name would be read as an option or as several
        // programs (systemctl gets `--` before the name instead).
        p.error("name",
                util::quoted(s.name) +
                    (s.name.front() == '-' ? " begins with '-'" : " contains whitespace") +
                    ": supervisorctl would not read it as one program name",
                "a program name as in [program:NAME] of supervisord's config");
    }
    if (auto conf = p.string("supervisor_conf")) {
        if (s.manager != "supervisor") {
            p.error("supervisor_conf", "only for manager = \"supervisor\"");
        }
        s.supervisor_conf = (pb.directory / *conf).lexically_normal().string();
    }
    for (const char* op : {"start", "stop", "restart", "reload"}) {
        if (auto argv = p.strings(op)) {
            if (s.manager != "command") {
                p.error(op, "only for manager = \"command\"");
            } else if (argv->empty()) {
                p.error(op, "must not be empty");
            }
            s.commands[op] = *argv;
        }
    }
    if (s.manager == "command" && contains(k_ops, s.op)) {
        bool have =
            s.commands.count(s.op) != 0 ||
            (s.op == "restart" && s.commands.count("stop") != 0 && s.commands.count("start") != 0);
        if (!have) {
            p.error("", "manager = \"command\" with op = " + util::quoted(s.op) + " needs " +
                            (s.op == "restart" ? "restart = [...], or both stop and start"
                                               : s.op + " = [...]"));
        }
    }
    if (const auto* w = p.raw("wait_healthy")) {
        if (!w->is_object()) {
            p.error("wait_healthy", "expected a table, e.g. { url = "
                                    "\"http://127.0.0.1:8000/health/\", timeout = \"60s\" }");
        } else {
            WaitHealthy wh;
            const auto& o = w->as_object();
            for (const auto& [k, v] : o) {
                if (!contains(k_health_keys, std::string(k))) {
                    std::string guess = util::closest_match(std::string(k), k_health_keys);
                    p.error(
                        "wait_healthy",
                        "unknown key " + util::quoted(k) +
                            (guess.empty() ? "" : " (did you mean " + util::quoted(guess) + "?)"));
                }
            }
            const auto* url = o.if_contains("url");
            std::string why;
            if (url == nullptr || !url->is_string()) {
                p.error("wait_healthy", "needs url = \"http://...\"");
            } else if (!util::parse_http_url(url->as_string(), &why)) {
                p.error("wait_healthy", "url: " + why);
            } else {
                wh.url = std::string(url->as_string());
            }
            for (auto [key, field] :
                 {std::pair{"timeout", &wh.timeout}, std::pair{"interval", &wh.interval}}) {
                if (const auto* d = o.if_contains(key)) {
                    auto parsed =
                        d->is_string() ? util::parse_duration(d->as_string()) : std::nullopt;
                    if (!parsed || parsed->count() == 0) {
                        p.error("wait_healthy",
                                std::string(key) + ": expected a duration such as \"60s\"");
                    } else {
                        *field = *parsed;
                    }
                }
            }
            if (const auto* st = o.if_contains("expect_status")) {
                if (st->is_int64()) {
                    wh.expect.status = {st->as_int64()};
                } else {
                    p.error("wait_healthy", "expect_status: expected an integer");
                }
            }
            if (const auto* ca = o.if_contains("ca_file")) {
                if (!ca->is_string()) {
                    p.error("wait_healthy", "ca_file: expected a path");
                } else {
                    wh.ca_file = std::string(ca->as_string());
                }
            }
            if (const auto* in = o.if_contains("insecure")) {
                if (!in->is_bool()) {
                    p.error("wait_healthy", "insecure: expected true or false");
                } else {
                    wh.insecure = in->as_bool();
                }
            }
            if (auto parsed = util::parse_http_url(wh.url);
                (!wh.ca_file.empty() || wh.insecure) && parsed && !parsed->tls) {
                p.error("wait_healthy", "ca_file and insecure are only for an https:// url");
            }
            if (s.op == "stop") {
                p.error("wait_healthy", "a stopped service cannot become healthy (op = \"stop\")");
            }
            s.wait = wh;
        }
    }
    return s;
}

/// The commands the op runs, in order.
std::vector<std::vector<std::string>> op_commands(const ServiceParams& s) {
    if (s.manager == "systemd") {
        // `--`: a name from a value that begins with '-' ("--help", "-.mount") stays a unit name.
        return {{"systemctl", s.op, "--", s.name}};
    }
    if (s.manager == "supervisor") {
        std::vector<std::string> argv{"supervisorctl"};
        if (!s.supervisor_conf.empty()) {
            argv.insert(argv.end(), {"-c", s.supervisor_conf});
        }
        argv.insert(argv.end(), {s.op, s.name});
        return {argv};
    }
    if (auto it = s.commands.find(s.op); it != s.commands.end()) {
        return {it->second};
    }
    return {s.commands.at("stop"), s.commands.at("start")}; // restart without its own command
}

std::string on(const Context& ctx) {
    return ctx.host.empty() ? "" : " on host " + ctx.host;
}

std::string label(const ServiceParams& s) {
    return s.manager + " " + s.op + (s.name.empty() ? "" : " " + s.name);
}

// supervisorctl's exit status is not reliable across versions for "already started" and friends;
// its one-line answers are. Returns empty when the output says the op worked (or was not needed).
std::string supervisor_problem(const std::string& op, const std::string& output) {
    if (output.find("ERROR") == std::string::npos &&
        output.find("refused connection") == std::string::npos &&
        output.find("no such file") == std::string::npos) {
        return {};
    }
    if ((op == "start" && output.find("already started") != std::string::npos) ||
        (op == "stop" && output.find("not running") != std::string::npos)) {
        return {};
    }
    return std::string(util::trim(output));
}

struct Service {
    static constexpr std::string_view name = "service";
    using Params = ServiceParams;

    static std::vector<std::string> keys() {
        return {"manager", "op",      "name",   "supervisor_conf", "start",
                "stop",    "restart", "reload", "wait_healthy"};
    }
    static std::vector<std::string> required_keys() { return {"manager", "op"}; }
    static std::map<std::string, playbook::Encoding> encodings() {
        return {{"wait_healthy.url", playbook::Encoding::url},
                {"name", playbook::Encoding::service_name},
                {"supervisor_conf", playbook::Encoding::operand},
                {"start", playbook::Encoding::argv},
                {"stop", playbook::Encoding::argv},
                {"restart", playbook::Encoding::argv},
                {"reload", playbook::Encoding::argv}};
    }

    static Params parse(StepParams& p, const playbook::Playbook& pb, const playbook::Step&) {
        return read_params(p, pb);
    }

    static std::string describe(const playbook::Step&, const Params& s) {
        std::string out = label(s);
        if (s.manager == "command" && contains(k_ops, s.op)) {
            std::vector<std::string> cmds;
            try {
                for (const auto& argv : op_commands(s)) {
                    cmds.push_back(describe_command(argv, ""));
                }
            } catch (const std::out_of_range&) {
                cmds.push_back("?");
            }
            out += ": " + util::join(cmds, "; ");
        }
        if (s.wait) {
            out += ", then wait up to " + util::format_duration(s.wait->timeout) + " for " +
                   s.wait->url + " to answer " + describe_statuses(s.wait->expect.status);
        }
        return out;
    }

    static std::vector<Check> preflight(const Context& ctx, const Params& s) {
        std::vector<Check> checks;
        for (const auto& argv : op_commands(s)) {
            auto c = check_command(ctx, argv, "");
            checks.insert(checks.end(), c.begin(), c.end());
        }
        bool programs_ok =
            std::all_of(checks.begin(), checks.end(), [](const Check& c) { return c.ok; });
        if (programs_ok && s.manager == "supervisor") {
            // `status` only reads; a stopped program still answers (exit 3), an unknown one or a
            // supervisord that is not running does not.
            std::vector<std::string> argv{"supervisorctl"};
            if (!s.supervisor_conf.empty()) {
                argv.insert(argv.end(), {"-c", s.supervisor_conf});
            }
            argv.insert(argv.end(), {"status", s.name});
            auto o = ctx.runner.run(make_command(ctx, argv));
            std::string out(util::trim(o.stdout_tail + o.stderr_tail));
            bool known = o.ending == exec::Ending::exited && out.rfind(s.name, 0) == 0 &&
                         out.find("no such process") == std::string::npos;
            if (known) {
                checks.push_back(
                    {true,
                     "supervisor knows " + s.name + ": " + util::split(out, '\n').front(),
                     {},
                     {}});
            } else {
                checks.push_back(
                    {false, "supervisor knows " + s.name,
                     out.empty() ? std::string(to_string(o.ending)) : out,
                     "is supervisord running, and is [program:" + s.name + "] in its config?"});
            }
        } else if (programs_ok && s.manager == "systemd") {
            auto o = ctx.runner.run(make_command(ctx, {"systemctl", "cat", "--", s.name}));
            if (o.ok()) {
                checks.push_back({true, "systemd knows unit " + s.name + on(ctx), {}, {}});
            } else {
                checks.push_back(
                    {false, "systemd knows unit " + s.name + on(ctx),
                     std::string(util::trim(o.stderr_tail.empty() ? o.error : o.stderr_tail)),
                     "systemctl list-units --all | grep " + s.name});
            }
        }
        if (s.wait) {
            auto c = check_url(s.wait->url);
            checks.insert(checks.end(), c.begin(), c.end());
        }
        return checks;
    }

    static Result run(const Context& ctx, const Params& s) {
        Result r;
        auto start = std::chrono::steady_clock::now();
        auto elapsed = [&] {
            return std::chrono::duration_cast<util::Millis>(std::chrono::steady_clock::now() -
                                                            start);
        };
        r.details["manager"] = s.manager;
        r.details["op"] = s.op;
        r.details["name"] = s.name;
        std::string output;
        for (const auto& argv : op_commands(s)) {
            exec::Outcome o = ctx.runner.run(make_command(ctx, argv));
            Result step_result = result_of(o);
            output += step_result.output_tail;
            r.exit_code = o.exit_code;
            std::string problem;
            if (s.manager == "supervisor" && o.ending == exec::Ending::exited) {
                problem = supervisor_problem(s.op, o.stdout_tail + o.stderr_tail);
                if (problem.empty()) {
                    step_result.status = Status::succeeded; // e.g. "already started" for start
                }
            }
            if (step_result.status != Status::succeeded) {
                r.status = step_result.status;
                r.output_tail = util::tail(output, 4096);
                r.summary = label(s) + ": " + describe_command(argv, "") + ": " +
                            (problem.empty() ? step_result.summary : problem);
                return r;
            }
        }
        r.output_tail = util::tail(output, 4096);
        if (!s.wait) {
            r.status = Status::succeeded;
            r.summary = label(s) + ": ok";
            return r;
        }
        // Poll until healthy, within wait_healthy.timeout and what is left of the step's timeout.
        const WaitHealthy& w = *s.wait;
        auto step_left = ctx.step.timeout.count() > 0 ? ctx.step.timeout - elapsed() : w.timeout;
        auto budget = std::min(w.timeout, step_left);
        auto wait_start = std::chrono::steady_clock::now();
        auto waited = [&] {
            return std::chrono::duration_cast<util::Millis>(std::chrono::steady_clock::now() -
                                                            wait_start);
        };
        if (ctx.progress) {
            ctx.progress("waiting up to " + util::format_duration(budget) + " for " + w.url);
        }
        std::string last;
        int polls = 0;
        while (true) {
            if (polls > 0) {
                // Every further look is gated like an attempt: a holder deposed while waiting
                // stops here and says why (break-it 43 F6).
                check_fence(ctx, "poll " + std::to_string(polls + 1) + " of step " +
                                     util::quoted(ctx.step.id) + "'s wait_healthy (" +
                                     util::mask_secrets(w.url) + ")");
            }
            util::HttpRequest req{.url = w.url};
            if (!w.ca_file.empty()) {
                req.tls.ca_file = (ctx.playbook.directory / w.ca_file).lexically_normal().string();
            }
            req.tls.insecure = w.insecure;
            req.timeout = std::clamp(budget - waited(), util::Millis(1),
                                     util::Millis(std::chrono::seconds(10)));
            auto resp = util::http_request(req);
            ++polls;
            last = http_mismatch(req, resp, w.expect);
            if (last.empty()) {
                r.status = Status::succeeded;
                r.details["healthy_after_ms"] = waited().count();
                r.details["polls"] = polls;
                r.summary = label(s) + ": ok, healthy after " + util::format_duration(waited());
                return r;
            }
            if (waited() + w.interval >= budget) {
                break;
            }
            if (!exec::sleep_unless_interrupted(w.interval)) {
                r.status = Status::interrupted;
                r.summary = "interrupted while waiting for " + w.url;
                return r;
            }
        }
        r.details["polls"] = polls;
        r.status = Status::failed;
        r.summary = label(s) + ": not healthy after " + util::format_duration(waited()) +
                    " (last: " + last + ")";
        return r;
    }
};

} // namespace

std::unique_ptr<Action> make_service_action() {
    return std::make_unique<KindAction<Service>>();
}

} // namespace rollback::actions
