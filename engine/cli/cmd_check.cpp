// SPDX-License-Identifier: MIT
#include "cli/check_support.hpp"
#include "cli/commands.hpp"
#include "cli/options.hpp"
#include "cli/state_dir.hpp"
#include "monitor/replay.hpp"
#include "monitor/rollbacks.hpp"
#include "util/error.hpp"
#include "util/exit_code.hpp"
#include "util/json_text.hpp"
#include "util/strings.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <chrono>
#include <cstdio>
#include <vector>

namespace rollback::cli {

namespace {

using decision::Action;

bool recommends_rollback(Action a) {
    return a == Action::trigger || a == Action::request_approval;
}

util::SystemTime parse_time_option(const std::string& opt, const std::string& text) {
    std::string why;
    auto t = util::parse_time(text, &why);
    if (!t) {
        throw util::Error("--" + opt + ": cannot read time " + util::quoted(text) + ": " + why,
                          util::ExitCode::invalid,
                          "use RFC 3339 (2026-11-26T14:35:00Z) or \"2026-11-26 14:35:00\" (UTC)");
    }
    return *t;
}

struct ReplayOptions {
    std::string file, from, to, interval, source, format;
    std::vector<std::string> deploys;
    bool samples = false;
};

// --deploy RELEASE@TIME (or the older TIME=RELEASE).
monitor::Deploy parse_deploy_option(const std::string& text) {
    if (auto at = text.rfind('@'); at != std::string::npos && at > 0) {
        if (auto t = util::parse_time(text.substr(at + 1))) {
            return {*t, text.substr(0, at)};
        }
    }
    if (auto eq = text.find('='); eq != std::string::npos && eq + 1 < text.size()) {
        if (auto t = util::parse_time(text.substr(0, eq))) {
            return {*t, text.substr(eq + 1)};
        }
    }
    throw util::Error("--deploy: cannot read " + util::quoted(text) + " as RELEASE@TIME",
                      util::ExitCode::invalid,
                      "e.g. --deploy v2@2026-11-26T14:35:00Z (UTC; the form TIME=RELEASE is read "
                      "too), once per deploy");
}

// Whether the monitor's tick log (decisions/ticks-DAY.jsonl) holds a tick in [from, to): a
// monitor ran while a back-dated marker was not yet recorded.
bool monitor_ticked(const state::Store& store, util::SystemTime from, util::SystemTime to) {
    const auto day = std::chrono::days(1);
    for (auto d = std::chrono::floor<std::chrono::days>(from); d < to; d += day) {
        for (const auto& line : store.ticks_of_day(util::format_time(d).substr(0, 10))) {
            const auto at = line.find("\"time\":\"");
            if (at == std::string::npos) {
                continue;
            }
            const auto end = line.find('"', at + 8);
            const auto t = util::parse_time(line.substr(at + 8, end - at - 8));
            if (t && *t >= from && *t < to) {
                return true;
            }
        }
    }
    return false;
}

// The deploy history of the replay: the --deploy options when given, else the markers
// `rollback deployed` recorded in the state directory. `origin` says which.
std::vector<monitor::Deploy> replay_deploys(const state::Store& store, const config::Config& cfg,
                                            const ReplayOptions& o, std::string& origin) {
    std::vector<monitor::Deploy> out;
    if (!o.deploys.empty()) {
        for (const auto& d : o.deploys) {
            out.push_back(parse_deploy_option(d));
        }
        std::stable_sort(out.begin(), out.end(),
                         [](const auto& a, const auto& b) { return a.time < b.time; });
        origin = "--deploy";
        return out;
    }
    for (auto& m : store.deploy_history(cfg.target)) {
        // A back-dated marker applies where a running monitor read it; recorded while no monitor
        // ran (a history written for an old log), there was no live decision: at its time.
        auto recorded = m.recorded_at;
        if (recorded && *recorded > m.time && !monitor_ticked(store, m.time, *recorded)) {
            recorded.reset();
        }
        out.push_back(monitor::Deploy{m.time, std::move(m.release), recorded});
    }
    origin = store.deploy_history_location();
    return out;
}

int replay(const CommonOptions& common, const ReplayOptions& o) {
    config::Config cfg = load_rollback_config(common);
    monitor::FileReplay r;
    r.file = o.file;
    r.source = monitor::replay_source(cfg, o.source);
    r.format = o.format;
    r.samples_only = o.samples;
    if (!o.interval.empty()) {
        auto d = util::parse_duration(o.interval);
        // Whole seconds, as a source's interval: an access log is bucketed by it too.
        if (!d || d->count() < 1000 || d->count() % 1000 != 0) {
            throw util::Error("--interval: expected a whole number of seconds, at least 1s, got " +
                                  util::quoted(o.interval),
                              util::ExitCode::invalid);
        }
        r.interval = *d;
    }
    if (!o.from.empty()) {
        r.from = parse_time_option("from", o.from);
    }
    if (!o.to.empty()) {
        r.to = parse_time_option("to", o.to);
    }
    std::string deploys_origin, runs_origin;
    uint64_t runs_unreadable = 0;
    if (!o.samples) {
        // The state the monitor kept (the state directory, or the shared PostgreSQL state): its
        // deploy markers, and the rollbacks that ran, fed as the monitor noticed them.
        const auto sd = resolve_state_dir(common, cfg);
        const auto store = open_store(sd, state::SchemaAccess::read);
        r.deploys = replay_deploys(*store, cfg, o, deploys_origin);
        r.rollbacks = monitor::recorded_rollbacks(*store, runs_unreadable);
        runs_origin = sd.shared ? "the shared state" : (sd.dir / "runs").string();
        if (runs_unreadable > 0) {
            std::fprintf(stderr,
                         "rollback: warning: %llu run journals in %s cannot be read: their "
                         "rollbacks are not replayed\n",
                         static_cast<unsigned long long>(runs_unreadable), runs_origin.c_str());
        }
    }
    monitor::FileReplayer replayer(
        cfg, r,
        [&](const decision::DecisionRecord& record) {
            std::printf("%s\n", common.json ? decision::to_json(record).c_str()
                                            : summarize_record(record).c_str());
        },
        [](const std::string& line) { std::printf("%s\n", line.c_str()); });
    const sources::FileStats& in = replayer.read();
    if (in.stats.rejected > 0) {
        std::fprintf(stderr,
                     "rollback: warning: %llu of %llu lines do not match the log format; first at "
                     "line %llu: %s\n",
                     static_cast<unsigned long long>(in.stats.rejected),
                     static_cast<unsigned long long>(in.stats.lines),
                     static_cast<unsigned long long>(in.stats.first_rejected_line),
                     in.stats.first_rejected.c_str());
    }
    if (in.late > 0) {
        std::fprintf(stderr,
                     "rollback: warning: %llu lines came later than max_lateness = %s after newer "
                     "ones and are not counted (each decision record shows those of its window)\n",
                     static_cast<unsigned long long>(in.late),
                     util::format_duration(replayer.lateness()).c_str());
    }
    if (in.implausible > 0) {
        std::fprintf(
            stderr,
            "rollback: warning: %llu lines dated before 2000 or in the future (after this "
            "machine's clock, or far apart from the lines around them and not confirmed by "
            "the lines after them: a clock that runs ahead or behind) are not counted\n",
            static_cast<unsigned long long>(in.implausible));
    }
    if (in.csv.out_of_order > 0) {
        std::fprintf(stderr,
                     "rollback: warning: %s:%llu: %llu row%s dated before an earlier row %s not "
                     "counted; the first: %s\n",
                     o.file.c_str(),
                     static_cast<unsigned long long>(in.csv.first_out_of_order_line),
                     static_cast<unsigned long long>(in.csv.out_of_order),
                     in.csv.out_of_order == 1 ? "" : "s", in.csv.out_of_order == 1 ? "is" : "are",
                     in.csv.first_out_of_order.c_str());
    }
    if (in.csv.bad > 0) {
        std::fprintf(stderr,
                     "rollback: warning: %llu row%s cannot be read and %s not counted; the "
                     "first: %s\n",
                     static_cast<unsigned long long>(in.csv.bad), in.csv.bad == 1 ? "" : "s",
                     in.csv.bad == 1 ? "is" : "are", in.csv.first_bad.c_str());
    }
    if (in.csv.implausible > 0) {
        std::fprintf(stderr,
                     "rollback: warning: %s:%llu: %llu row%s dated far apart from the rows around "
                     "them and not confirmed by the rows after them (a wrong date) %s not "
                     "counted\n",
                     o.file.c_str(), static_cast<unsigned long long>(in.csv.first_implausible_line),
                     static_cast<unsigned long long>(in.csv.implausible),
                     in.csv.implausible == 1 ? "" : "s", in.csv.implausible == 1 ? "is" : "are");
    }
    if (o.samples) {
        return util::to_int(util::ExitCode::ok);
    }
    if (!in.is_csv && in.stats.lines > 0 && in.stats.parsed == 0) {
        // Not one line read: a wrong format or not a log at all, never "nothing to do".
        throw util::Error(
            o.file + ": none of its " + std::to_string(in.stats.lines) +
                " lines matches the log format " + util::quoted(replayer.format()),
            util::ExitCode::invalid,
            "a timestamp,value CSV needs that header; a log needs the source's format "
            "(or --format)");
    }
    if (!replayer.newest() && r.from && in.lines_end && *in.lines_end < *r.from) {
        // A --from after the log's last line and the quiet judged after it: the replay from the
        // file's start has no tick there either (break-it 44/05) — said, never a bare "no
        // samples".
        const auto until = *in.lines_end + replayer.lateness() + replayer.quiet_tail();
        std::fprintf(stderr,
                     "rollback: %s: nothing to judge from --from %s: the log's last line is in "
                     "the interval that ends at %s, and a replay judges the quiet after it up to "
                     "%s (max_lateness + %s, the silence after a breach its conditions need; "
                     "docs/decision.md \"The end of a replay\"), as the replay from the file's "
                     "start does; --to judges the quiet intervals up to a time (the end of a "
                     "recording is not a dead site: a request_count below rule does not judge "
                     "them)\n",
                     o.file.c_str(), util::format_time(*r.from).c_str(),
                     util::format_time(*in.lines_end).c_str(), util::format_time(until).c_str(),
                     util::format_duration(replayer.quiet_tail()).c_str());
        return util::to_int(util::ExitCode::ok);
    }
    if (!replayer.newest()) {
        std::fprintf(stderr, "rollback: no samples in %s%s\n", o.file.c_str(),
                     r.from || r.to ? " between --from and --to" : "");
        return util::to_int(util::ExitCode::ok);
    }
    const monitor::FileReplayResult res = replayer.finish();
    const auto& st = res.stats;
    using ull = unsigned long long;
    if (common.json) {
        // The summary for machines: stdout stays one decision record a line.
        boost::json::object sum{{"version", 1},
                                {"kind", "replay_summary"},
                                {"file", o.file},
                                {"source", r.source},
                                {"samples", st.samples},
                                {"evaluations", st.ticks},
                                {"conditions", res.conditions},
                                {"decisions_shown", res.notable},
                                {"triggers", res.triggers},
                                {"escalations", res.escalations},
                                {"deploy_markers", st.deploys},
                                {"deploy_markers_from", deploys_origin},
                                {"rollback_runs", st.rollbacks},
                                {"rollback_runs_from", runs_origin},
                                {"skipped",
                                 {{"rows_out_of_order", in.csv.out_of_order},
                                  {"rows_duplicate_time", in.csv.duplicates},
                                  {"rows_bad", in.csv.bad},
                                  {"rows_implausible", in.csv.implausible},
                                  {"lines_rejected", in.stats.rejected},
                                  {"lines_late", in.late},
                                  {"lines_implausible", in.implausible}}},
                                {"seconds", res.seconds},
                                {"cpu_seconds", res.cpu_seconds}};
        std::fprintf(stderr, "%s\n", util::json_text(sum).c_str());
    } else {
        auto rows = [](uint64_t n, const char* what) {
            return n == 0 ? std::string()
                          : "; " + std::to_string(n) + (n == 1 ? " row " : " rows ") + what;
        };
        const std::string skipped =
            rows(in.csv.out_of_order, "going back in time skipped") +
            rows(in.csv.duplicates, "with the previous row's time skipped (the first kept)") +
            rows(in.csv.bad, "that cannot be read skipped") +
            rows(in.csv.implausible, "with an unconfirmed wild date skipped");
        std::fprintf(stderr,
                     "replayed %zu samples of source \"%s\" in %llu evaluations of %zu conditions "
                     "(%.3f s, %.3f s CPU): %llu decisions shown, %llu trigger, %llu escalate; "
                     "%llu deploy markers (%s), %llu rollback runs (%s)%s\n",
                     static_cast<size_t>(st.samples), r.source.c_str(), static_cast<ull>(st.ticks),
                     res.conditions, res.seconds, res.cpu_seconds, static_cast<ull>(res.notable),
                     static_cast<ull>(res.triggers), static_cast<ull>(res.escalations),
                     static_cast<ull>(st.deploys), deploys_origin.c_str(),
                     static_cast<ull>(st.rollbacks), runs_origin.c_str(), skipped.c_str());
    }
    return util::to_int(res.triggers > 0 ? util::ExitCode::rollback_recommended
                                         : util::ExitCode::ok);
}

} // namespace

int cmd_check(const Args& args) {
    CommonOptions common;
    ReplayOptions r;
    po::options_description desc("rollback check [--replay FILE [--from T] [--to T]] [--json]");
    add_common_options(desc, common, use_config | use_state_dir | use_json);
    desc.add_options() //
        ("replay", po::value(&r.file)->value_name("FILE"),
         "a recorded access log or timestamp,value CSV")                        //
        ("from", po::value(&r.from)->value_name("TIME"), "replay: start (UTC)") //
        ("to", po::value(&r.to)->value_name("TIME"), "replay: end (UTC)")       //
        ("interval", po::value(&r.interval)->value_name("DURATION"),
         "replay: evaluation interval (default [decision] interval)") //
        ("source", po::value(&r.source)->value_name("NAME"),
         "replay: the source the file stands for") //
        ("format", po::value(&r.format)->value_name("FORMAT"),
         "replay: access-log format (default the source's)") //
        ("deploy", po::value(&r.deploys)->composing()->value_name("RELEASE@TIME"),
         "replay: a deploy marker, once per deploy (default: the markers `rollback deployed` "
         "recorded in the state directory)") //
        ("samples", po::bool_switch(&r.samples),
         "replay: print the samples read, evaluate nothing");
    po::variables_map vm;
    if (!parse_options("check", args, desc, {}, vm)) {
        return util::to_int(util::ExitCode::ok);
    }
    if (!r.file.empty()) {
        return replay(common, r);
    }
    config::Config cfg = load_rollback_config(common);
    const StateDir sd = resolve_state_dir(common, cfg);
    if (!sd.shared) {
        prepare_state_dir(sd, "check", "decision records");
    }
    // The record goes where the rule puts the state: the shared store when there is one (where
    // the monitors, `explain` and `history` look), else the local directory; the alert
    // conditions are judged over the alerts kept there.
    const auto store = open_store(sd, state::SchemaAccess::write);
    auto record = evaluate_now(cfg, *store, std::chrono::system_clock::now());
    auto path = store->put_record(record);
    if (common.json) {
        std::printf("%s\n", decision::to_json(record).c_str());
    } else {
        std::printf("%s\n", summarize_record(record).c_str());
        std::printf("decision record: %s\n", path.c_str());
    }
    return util::to_int(recommends_rollback(record.action) ? util::ExitCode::rollback_recommended
                                                           : util::ExitCode::ok);
}

} // namespace rollback::cli
