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

FileSamples read_samples(const std::filesystem::path& file, const std::string& format,
                         int64_t interval_s, int64_t lateness_s,
                         std::optional<decision::SystemTime> from,
                         std::optional<decision::SystemTime> to, size_t max_samples) {
    FileSamples out;
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
    if (util::trim(head) == "timestamp,value") {
        out.is_csv = true;
        // A row jumping further ahead than two evaluations (at least NAB's two 5-minute steps)
        // waits for the next row's confirmation.
        const util::Millis jump =
            std::max<util::Millis>(k_default_csv_jump, std::chrono::seconds(2 * interval_s));
        out.samples = read_value_csv(file, &out.csv, jump);
        std::erase_if(out.samples, [&](const decision::Sample& s) { return !keep(s); });
        return out;
    }
    LogFormat f = LogFormat::compile(format);
    const int64_t interval = std::max<int64_t>(1, interval_s);
    RequestAggregator agg(
        interval,
        [&](decision::Sample s) {
            if (!keep(s)) {
                return;
            }
            // Empty intervals between two lines are samples too: two lines years apart would fill
            // memory. Refused before the sample is held.
            if (out.samples.size() >= max_samples) {
                throw util::Error(
                    file.string() + ": the lines span " +
                        util::format_time(out.samples.front().time) + " .. " +
                        util::format_time(s.time) + ", more than " + std::to_string(max_samples) +
                        " intervals of " + std::to_string(interval) + " s (at most " +
                        std::to_string(max_samples) + ")",
                    util::ExitCode::invalid,
                    "a line with a wrong date? narrow the replay with --from/--to, or a longer "
                    "--interval");
            }
            out.samples.push_back(std::move(s));
        },
        lateness_s);
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
            }
        });
    } else {
        out.stats = parse_file(file, f, agg);
    }
    agg.flush_all();
    out.late = agg.late();
    out.implausible = agg.implausible();
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
