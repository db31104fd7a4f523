// SPDX-License-Identifier: MIT
#include "sources/collect.hpp"

#include "sources/csv.hpp"
#include "util/error.hpp"
#include "util/files.hpp"
#include "util/strings.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>

namespace rollback::sources {

namespace {

int64_t ms_of(decision::SystemTime t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

decision::SystemTime time_of_ms(int64_t ms) {
    return decision::SystemTime(std::chrono::milliseconds(ms));
}

} // namespace

FileStats stream_samples(const std::filesystem::path& file, const std::string& format,
                         int64_t interval_s, int64_t lateness_s,
                         std::optional<decision::SystemTime> from,
                         std::optional<decision::SystemTime> to, size_t max_samples,
                         int64_t quiet_tail_s,
                         const std::function<void(decision::Sample)>& on_sample,
                         const std::function<void(decision::SystemTime)>& on_input_end) {
    FileStats out;
    util::require_regular_file(file);
    std::string head;
    {
        std::ifstream in(file);
        if (!in) {
            throw util::Error("cannot read " + file.string());
        }
        std::getline(in, head);
    }
    auto keep = [&](const decision::Sample& s) {
        return (!from || s.time >= *from) && (!to || s.time <= *to);
    };
    if (is_value_csv_header(head)) {
        // A CSV's rows are its samples (no quiet intervals are made): read and checked whole,
        // bounded by the file's size (k_max_csv_bytes).
        out.is_csv = true;
        // A row jumping further ahead than two evaluations (at least NAB's two 5-minute steps)
        // waits for the next row's confirmation.
        const util::Millis jump =
            std::max<util::Millis>(k_default_csv_jump, std::chrono::seconds(2 * interval_s));
        for (auto& s : read_value_csv(file, &out.csv, jump)) {
            if (keep(s)) {
                on_sample(std::move(s));
            }
        }
        return out;
    }
    LogFormat f = LogFormat::compile(format);
    const int64_t interval = std::max<int64_t>(1, interval_s);
    const int64_t step_ms = interval * 1000;
    // The samples kept are contiguous intervals: the (max_samples + 1)-th is dated
    // front + max_samples intervals, whether it comes alone or in a run of quiet ones.
    size_t kept = 0;
    int64_t front_ms = 0;
    // The quiet intervals after the file's last line are not its lines: the bound is on the
    // file's span (a wrong date), not on the replay's end (a long window's silence to judge).
    bool after_input = false;
    bool past_to = false; // a line dated after `to` (and its two intervals) was read
    size_t tail_kept = 0;
    auto refuse = [&](int64_t past_ms) {
        throw util::Error(
            file.string() + ": the lines span " + util::format_time(time_of_ms(front_ms)) + " .. " +
                util::format_time(time_of_ms(past_ms)) + ", more than " +
                std::to_string(max_samples) + " intervals of " + std::to_string(interval) +
                " s (at most " + std::to_string(max_samples) + ")",
            util::ExitCode::invalid,
            "a line with a wrong date? narrow the replay with --from/--to, or a longer "
            "--interval");
    };
    RequestAggregator agg(
        interval,
        [&](decision::Sample s) {
            if (!keep(s)) {
                return;
            }
            if (kept == 0) {
                front_ms = ms_of(s.time);
            }
            if (after_input) {
                // The quiet tail is as long as the conditions' windows make it (4 windows and
                // more), bounded on its own.
                if (++tail_kept > 4 * max_samples) {
                    throw util::Error(file.string() +
                                          ": the quiet intervals after the last line, " +
                                          "to judge the silence after a breach, are more than " +
                                          std::to_string(4 * max_samples) + " intervals of " +
                                          std::to_string(interval) + " s",
                                      util::ExitCode::invalid,
                                      "a longer --interval, or --to to end the replay sooner");
                }
            } else if (kept >= max_samples) {
                refuse(ms_of(s.time));
            }
            ++kept;
            on_sample(std::move(s));
        },
        lateness_s);
    // A gap of years is refused before its quiet intervals are made, not after millions of them
    // were evaluated.
    agg.on_quiet_run([&](int64_t first_s, int64_t last_s) {
        int64_t lo = first_s * 1000;
        int64_t hi = last_s * 1000;
        if (from && lo < ms_of(*from)) {
            lo += (ms_of(*from) - lo + step_ms - 1) / step_ms * step_ms;
        }
        if (to && hi > ms_of(*to)) {
            hi = ms_of(*to);
        }
        if (hi < lo || after_input) {
            return; // none of the run is kept, or none of it is the file's
        }
        const auto n = static_cast<uint64_t>((hi - lo) / step_ms) + 1;
        if (kept + n > max_samples) {
            if (kept == 0) {
                front_ms = lo;
            }
            refuse(front_ms + static_cast<int64_t>(max_samples) * step_ms);
        }
    });
    // The end of the newest interval that holds a line read before the range (skipped).
    int64_t before_end_s = INT64_MIN;
    if (from || to) {
        // Only the lines of the range (and one interval around it) are aggregated: the empty
        // intervals between lines far outside it are never made.
        using std::chrono::duration_cast;
        using std::chrono::seconds;
        const int64_t lo =
            from ? duration_cast<seconds>(from->time_since_epoch()).count() - 2 * interval
                 : INT64_MIN;
        const int64_t hi =
            to ? duration_cast<seconds>(to->time_since_epoch()).count() + 2 * interval : INT64_MAX;
        out.stats = parse_file(file, f, [&](const LogEntry& e) {
            if (e.time_s >= lo && e.time_s <= hi) {
                agg.add(e);
            } else if (e.time_s > hi) {
                past_to = true; // the input goes on past --to: it does not end there
            } else if (e.time_s >= RequestAggregator::k_earliest_plausible_s) {
                // A line before the range: the log was written then, so the quiet intervals
                // from the range's start to its next line are zero requests, as a replay from
                // the file's start makes them (break-it 44/05: `--from` in a dead stretch
                // judged it no_data where the live monitor and the whole replay triggered).
                agg.observed_since(lo);
                before_end_s = std::max(before_end_s, e.time_s - e.time_s % interval + interval);
            }
        });
    } else {
        out.stats = parse_file(file, f, agg);
    }
    agg.flush_all();
    after_input = !to; // with --to, the span asked for is bounded as the file's
    // The end of the last interval that holds a line: of the range's, else of the lines before
    // it (a --from after the file's last line judges the quiet after it, as the whole replay).
    const int64_t input_end_s =
        agg.emitted_until() != INT64_MIN ? agg.emitted_until() : before_end_s;
    if (input_end_s != INT64_MIN) {
        out.lines_end = decision::SystemTime(std::chrono::seconds(input_end_s));
    }
    if (on_input_end && !past_to && input_end_s != INT64_MIN) {
        on_input_end(decision::SystemTime(std::chrono::seconds(input_end_s)));
    }
    // The log's end is not the end of the service: after the last line, the intervals the live
    // monitor would finalize as zero requests up to the replay's last tick (silence after a
    // breach is judged on them).
    if (to) {
        agg.flush_all(
            std::chrono::duration_cast<std::chrono::seconds>(to->time_since_epoch()).count());
    } else if (quiet_tail_s > 0 && input_end_s != INT64_MIN) {
        agg.flush_all(input_end_s + lateness_s + quiet_tail_s);
    }
    out.late = agg.late();
    out.implausible = agg.implausible();
    return out;
}

FileSamples read_samples(const std::filesystem::path& file, const std::string& format,
                         int64_t interval_s, int64_t lateness_s,
                         std::optional<decision::SystemTime> from,
                         std::optional<decision::SystemTime> to, size_t max_samples,
                         int64_t quiet_tail_s) {
    FileSamples out;
    static_cast<FileStats&>(out) = stream_samples(
        file, format, interval_s, lateness_s, from, to, max_samples, quiet_tail_s,
        [&](decision::Sample s) { out.samples.push_back(std::move(s)); },
        [&](decision::SystemTime end) { out.input_end = end; });
    return out;
}

decision::Sample run_command(exec::ProcessRunner& runner, const std::vector<std::string>& argv,
                             util::Millis timeout, decision::SystemTime now) {
    exec::Command cmd;
    cmd.argv = argv;
    cmd.timeout = timeout;
    cmd.grace = std::chrono::seconds(1);
    exec::Outcome o = runner.run(cmd);
    using decision::Sample;
    using decision::SampleKind;
    switch (o.ending) {
    case exec::Ending::failed_to_start:
        return Sample::make_missing(now, SampleKind::unavailable, o.error);
    case exec::Ending::timed_out:
        return Sample::make_missing(now, SampleKind::error,
                                    "timed out after " + util::format_duration(timeout));
    case exec::Ending::signaled:
        return Sample::make_missing(now, SampleKind::error,
                                    "killed by signal " + std::to_string(o.signal));
    case exec::Ending::interrupted:
        return Sample::make_missing(now, SampleKind::unavailable, "interrupted");
    case exec::Ending::exited:
        break;
    }
    if (o.exit_code != 0) {
        std::string err = util::tail(std::string(util::trim(o.stderr_tail)), 200);
        return Sample::make_missing(now, SampleKind::error,
                                    "exit code " + std::to_string(o.exit_code) +
                                        (err.empty() ? "" : ": " + err));
    }
    std::string_view text = util::trim(o.stdout_tail);
    double v = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size() ||
        !std::isfinite(v)) {
        return Sample::make_missing(now, SampleKind::error,
                                    "output is not a number: " + util::quoted(text.substr(0, 80)));
    }
    return Sample::make_value(now, v);
}

} // namespace rollback::sources
