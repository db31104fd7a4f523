// SPDX-License-Identifier: MIT
#include "cli/check_support.hpp"
#include "cli/commands.hpp"
#include "cli/options.hpp"
#include "cli/state_dir.hpp"
#include "monitor/replay.hpp"
#include "sources/collect.hpp"
#include "state/local_store.hpp"
#include "util/error.hpp"
#include "util/exit_code.hpp"
#include "util/strings.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <set>
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

// The deploy history of the replay: the --deploy options when given, else the markers
// `rollback deployed` recorded in the state directory. `origin` says which.
std::vector<monitor::Deploy> replay_deploys(const CommonOptions& common, const config::Config& cfg,
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
    const state::LocalStore store(resolve_state_dir(common, cfg).dir);
    for (auto& m : store.deploy_history(cfg.target)) {
        out.push_back(monitor::Deploy{m.time, std::move(m.release)});
    }
    origin = store.deploy_history_location();
    return out;
}

int replay(const CommonOptions& common, const ReplayOptions& o) {
    config::Config cfg = load_rollback_config(common);
    // The source the file stands for: --source, else the one source the conditions use.
    std::string source = o.source;
    if (source.empty()) {
        std::set<std::string> used;
        for (const auto& c : cfg.conditions) {
            used.insert(c.source);
        }
        if (used.size() != 1) {
            throw util::Error("--replay: the conditions use " + std::to_string(used.size()) +
                                  " sources; name the one the file stands for with --source",
                              util::ExitCode::invalid);
        }
        source = *used.begin();
    }
    auto src = cfg.sources.find(source);
    if (src == cfg.sources.end()) {
        throw util::Error("--source: no source " + util::quoted(source) + " in " +
                              cfg.file.string(),
                          util::ExitCode::invalid);
    }
    std::vector<decision::ConditionSpec> conds;
    for (const auto& c : cfg.conditions) {
        if (c.source == source) {
            conds.push_back(c);
        }
    }
    util::Millis interval = cfg.interval;
    if (!o.interval.empty()) {
        auto d = util::parse_duration(o.interval);
        // Whole seconds, as a source's interval: an access log is bucketed by it too.
        if (!d || d->count() < 1000 || d->count() % 1000 != 0) {
            throw util::Error("--interval: expected a whole number of seconds, at least 1s, got " +
                                  util::quoted(o.interval),
                              util::ExitCode::invalid);
        }
        interval = *d;
    }
    std::optional<util::SystemTime> from, to;
    if (!o.from.empty()) {
        from = parse_time_option("from", o.from);
    }
    if (!o.to.empty()) {
        to = parse_time_option("to", o.to);
    }
    std::string format = !o.format.empty() ? o.format
                         : src->second.kind == config::SourceKind::access_log
                             ? src->second.format
                             : "combined_request_time";
    // Access logs aggregate into the source's intervals, as the monitor does (--interval: both).
    const bool own_buckets =
        o.interval.empty() && src->second.kind == config::SourceKind::access_log;
    const int64_t interval_s = (own_buckets ? src->second.interval : interval).count() / 1000;
    // --from starts the evaluations, not the data: the windows of the first ticks are filled
    // with what came before, as the live monitor's first read fills them.
    util::Millis warmup{0};
    for (const auto& c : conds) {
        warmup = std::max(warmup, c.window);
    }
    const bool is_log = src->second.kind == config::SourceKind::access_log;
    const util::Millis lateness = is_log ? src->second.max_lateness : util::Millis(0);
    std::optional<util::SystemTime> read_from;
    if (from) {
        read_from = *from - warmup - lateness - interval;
    }
    // The replay streams: each sample goes to the evaluator (or, with --samples, to stdout) as
    // soon as its interval is final, and each tick is evaluated as soon as its samples are in.
    // So a replay holds its windows, not the file's span (docs/decision.md, "Replay").
    decision::Evaluator ev(conds, cfg.decision);
    std::string deploys_origin;
    std::vector<monitor::Deploy> deploys;
    if (!o.samples) {
        deploys = replay_deploys(common, cfg, o, deploys_origin);
    }
    uint64_t triggers = 0, escalations = 0, notable = 0;
    monitor::ReplayLoop loop(
        ev, source, interval, from,
        [&](const decision::Evaluation& e) {
            triggers += recommends_rollback(e.record.action);
            escalations += e.record.action == Action::escalate;
            if (!e.notable) {
                return;
            }
            ++notable;
            std::printf("%s\n", common.json ? decision::to_json(e.record).c_str()
                                            : summarize_record(e.record).c_str());
        },
        std::move(deploys));
    // Virtual time still ticks every interval: a span of centuries is a wrong date, not a replay
    // to run. Checked as the samples come, and for the --to given, before the ticks are run.
    constexpr int64_t k_max_ticks = 20'000'000;
    std::optional<util::SystemTime> oldest, newest;
    auto check_span = [&](util::SystemTime t) {
        const auto span_from = from.value_or(oldest.value_or(t));
        const auto ticks = std::chrono::duration_cast<util::Millis>(t - span_from).count() /
                           std::max<int64_t>(1, interval.count());
        if (ticks > k_max_ticks) {
            throw util::Error(
                o.file + ": the samples span " + util::format_time(span_from) + " .. " +
                    util::format_time(t) + ", " + std::to_string(ticks) + " evaluations at " +
                    util::format_duration(interval) + " (at most " + std::to_string(k_max_ticks) +
                    ")",
                util::ExitCode::invalid,
                "a line with a wrong date? narrow the replay with --from/--to, or a longer "
                "--interval");
        }
    };
    if (from && to) {
        check_span(*to);
    }
    // An access log's samples, at most as many as k_max_ticks evaluations take (bucket interval
    // over evaluation interval): a gap of years is refused before its quiet intervals are made.
    const int64_t per_sample = std::max<int64_t>(1, interval_s * 1000 / interval.count());
    const size_t max_samples = std::min<size_t>(sources::k_max_replay_samples,
                                                static_cast<size_t>(k_max_ticks / per_sample));
    if (o.samples) {
        std::printf("start,end,kind,requests,errors,value\n");
    }
    auto started = std::chrono::steady_clock::now();
    // CPU time beside wall time: on a loaded machine the wall time of the loop says little.
    // Reading the file is in it: reading and evaluating are one stream.
    const std::clock_t cpu_started = std::clock();
    sources::FileStats in = sources::stream_samples(
        o.file, format, interval_s, lateness.count() / 1000, read_from, to, max_samples,
        [&](decision::Sample s) {
            if (!oldest) {
                oldest = s.time;
                if (to) {
                    check_span(*to);
                }
            }
            newest = s.time;
            check_span(s.time);
            if (!o.samples) {
                loop.add(std::move(s));
                return;
            }
            if (from && s.time < *from) {
                return; // read as the windows' warm-up only
            }
            // A CSV's rows are value samples dated at their time; a log's are its intervals.
            const bool row = s.kind == decision::SampleKind::value;
            auto start = row ? s.time : s.time - std::chrono::seconds(interval_s);
            std::printf("%s,%s,%s,%llu,%llu,%s\n", util::format_time(start).c_str(),
                        util::format_time(s.time).c_str(), row ? "value" : "requests",
                        static_cast<unsigned long long>(s.count),
                        static_cast<unsigned long long>(s.errors),
                        decision::format_number(s.value).c_str());
        });
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
                     util::format_duration(lateness).c_str());
    }
    if (in.implausible > 0) {
        std::fprintf(stderr,
                     "rollback: warning: %llu lines dated before 2000 or in the future (after this "
                     "machine's clock, or far ahead of the log and not confirmed by the lines "
                     "after them: a clock that runs ahead) are not counted\n",
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
                     "rollback: warning: %s:%llu: %llu row%s dated far ahead of the rows before "
                     "and not confirmed by the rows after them (a wrong date) %s not counted\n",
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
                " lines matches the log format " + util::quoted(format),
            util::ExitCode::invalid,
            "a timestamp,value CSV needs that header; a log needs the source's format "
            "(or --format)");
    }
    if (!newest) {
        std::fprintf(stderr, "rollback: no samples in %s%s\n", o.file.c_str(),
                     from || to ? " between --from and --to" : "");
        return util::to_int(util::ExitCode::ok);
    }
    // The last lines are judged once they are final, as the live monitor judges them: up to the
    // first tick at or after the last sample + max_lateness.
    const auto last = to.value_or(
        lateness.count() > 0 ? *newest + lateness + interval - util::Millis(1) : *newest);
    check_span(last);
    auto st = loop.finish(last);
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    double cpu_secs = static_cast<double>(std::clock() - cpu_started) / CLOCKS_PER_SEC;
    using ull = unsigned long long;
    if (common.json) {
        // The summary for machines: stdout stays one decision record a line.
        boost::json::object sum{{"version", 1},
                                {"kind", "replay_summary"},
                                {"file", o.file},
                                {"source", source},
                                {"samples", st.samples},
                                {"evaluations", st.ticks},
                                {"conditions", conds.size()},
                                {"decisions_shown", notable},
                                {"triggers", triggers},
                                {"escalations", escalations},
                                {"deploy_markers", st.deploys},
                                {"deploy_markers_from", deploys_origin},
                                {"skipped",
                                 {{"rows_out_of_order", in.csv.out_of_order},
                                  {"rows_duplicate_time", in.csv.duplicates},
                                  {"rows_bad", in.csv.bad},
                                  {"rows_implausible", in.csv.implausible},
                                  {"lines_rejected", in.stats.rejected},
                                  {"lines_late", in.late},
                                  {"lines_implausible", in.implausible}}},
                                {"seconds", secs},
                                {"cpu_seconds", cpu_secs}};
        std::fprintf(stderr, "%s\n", boost::json::serialize(sum).c_str());
    } else {
        auto rows = [](uint64_t n, const char* what) {
            return n == 0 ? std::string()
                          : "; " + std::to_string(n) + (n == 1 ? " row " : " rows ") + what;
        };
        const std::string skipped =
            rows(in.csv.out_of_order, "going back in time skipped") +
            rows(in.csv.duplicates, "with the previous row's time skipped (the first kept)") +
            rows(in.csv.bad, "that cannot be read skipped") +
            rows(in.csv.implausible, "with an unconfirmed date far ahead skipped");
        std::fprintf(stderr,
                     "replayed %zu samples of source \"%s\" in %llu evaluations of %zu conditions "
                     "(%.3f s, %.3f s CPU): %llu decisions shown, %llu trigger, %llu escalate; "
                     "%llu deploy markers (%s)%s\n",
                     static_cast<size_t>(st.samples), source.c_str(), static_cast<ull>(st.ticks),
                     conds.size(), secs, cpu_secs, static_cast<ull>(notable),
                     static_cast<ull>(triggers), static_cast<ull>(escalations),
                     static_cast<ull>(st.deploys), deploys_origin.c_str(), skipped.c_str());
    }
    return util::to_int(triggers > 0 ? util::ExitCode::rollback_recommended : util::ExitCode::ok);
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
    auto state_dir = resolve_state_dir(common, cfg).dir;
    auto record = evaluate_now(cfg, state_dir, std::chrono::system_clock::now());
    auto path = state::LocalStore(state_dir).put_record(record);
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
