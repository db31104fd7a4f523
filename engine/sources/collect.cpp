// SPDX-License-Identifier: MIT
#include "sources/collect.hpp"

#include "sources/csv.hpp"
#include "util/error.hpp"
#include "util/strings.hpp"

#include <charconv>
#include <cmath>
#include <fstream>

namespace rollback::sources {

FileSamples read_samples(const std::filesystem::path& file, const std::string& format,
                         int64_t interval_s, int64_t lateness_s,
                         std::optional<decision::SystemTime> from,
                         std::optional<decision::SystemTime> to) {
    FileSamples out;
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
        out.samples = read_value_csv(file);
        std::erase_if(out.samples, [&](const decision::Sample& s) { return !keep(s); });
        return out;
    }
    LogFormat f = LogFormat::compile(format);
    RequestAggregator agg(
        interval_s,
        [&](decision::Sample s) {
            if (keep(s)) {
                out.samples.push_back(std::move(s));
            }
        },
        lateness_s);
    out.stats = parse_file(file, f, agg);
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
