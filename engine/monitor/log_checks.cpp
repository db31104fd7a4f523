// SPDX-License-Identifier: MIT
// Whether the lines a tick read from an access log can be counted: lines that do not match the
// format, lines that come later than max_lateness (docs/decision.md, "Event time and lateness").
#include "monitor/log_state.hpp"

#include "util/log.hpp"
#include "util/strings.hpp"
#include "util/time.hpp"

#include <algorithm>
#include <chrono>

namespace rollback::monitor {

using decision::Sample;

void Monitor::reject_lines(const config::SourceConfig& src, LogState& st, SystemTime now,
                           int64_t final_ms, uint64_t read, uint64_t rejected,
                           const std::string& first_bad) {
    // Lines the monitor cannot read are its own failure, never "no requests" (break-it 25/04:
    // a release that changes the log format while it fails). A tick whose lines mostly do not
    // match the format (at least half) begins or continues a run; a tick whose lines mostly
    // match ends it. While it lasts, the source is unavailable (no_data, on_no_data: escalate
    // by default): the sample is dated just after the final window's end, as a skewed clock's.
    if (read == 0) {
        if (!st.rejecting_since) {
            return;
        }
    } else if (rejected * 2 < read) {
        if (st.rejecting_since) {
            log::info("source \"{}\": its lines match the format again ({} of {} did not, "
                      "since {})",
                      src.name, st.run_rejected, st.run_lines,
                      util::format_time(*st.rejecting_since));
        }
        st.rejecting_since.reset();
        st.run_lines = st.run_rejected = 0;
        if (rejected > 0) {
            log::warn("source \"{}\": {} of {} lines read do not match the format; not counted",
                      src.name, rejected, read);
        }
        return;
    } else if (!st.rejecting_since) {
        st.rejecting_since = now;
        st.first_rejected = first_bad;
    }
    st.run_lines += read;
    st.run_rejected += rejected;
    const std::string what =
        std::to_string(st.run_rejected) + " of " + std::to_string(st.run_lines) +
        " lines do not match the format since " + util::format_time(*st.rejecting_since);
    if (!st.rejected_logged_at || now - *st.rejected_logged_at >= std::chrono::minutes(1)) {
        log::warn("source \"{}\": {} (first: {})", src.name, what, util::quoted(st.first_rejected));
        st.rejected_logged_at = now;
    }
    ++m_read_errors[src.name];
    m_eval.add_sample(
        src.name,
        Sample::make_missing(SystemTime(util::Millis(std::max(final_ms, st.fed_until_ms) + 1)),
                             decision::SampleKind::unavailable,
                             what + " (first: " + util::quoted(st.first_rejected) +
                                 "): a changed log_format? the requests are not counted"));
}

void Monitor::lagging_lines(const config::SourceConfig& src, LogState& st, SystemTime now,
                            int64_t final_ms, uint64_t counted, uint64_t late, int64_t age_s) {
    // Lines that come later than max_lateness are not counted where they belong: their
    // intervals were fed as quiet already. A log whose lines mostly come that late (nginx's
    // `access_log ... buffer=`, Apache's BufferedLogs, a shipper, the web server's clock
    // behind this machine's) would read as a dead site — a rollback of a healthy release on a
    // record of 0 requests, 180 late (break-it 44/04) — and hide an outage's errors. A tick
    // whose lines were at least half too late begins or continues a run; a tick whose lines
    // were mostly in time ends it; a tick without lines changes nothing. While it lasts, the
    // source is unavailable (no_data, on_no_data: escalate by default), as with a clock ahead.
    if (counted > 0) {
        if (late * 2 >= counted) {
            if (!st.lagging_since) {
                st.lagging_since = now;
                st.lag_lines = st.lag_late = 0;
                st.lag_age_s = 0;
            }
            st.lag_lines += counted;
            st.lag_late += late;
            st.lag_age_s = std::max(st.lag_age_s, age_s);
        } else if (st.lagging_since) {
            log::info("source \"{}\": its lines come within max_lateness again ({} of {} were "
                      "too late since {})",
                      src.name, st.lag_late, st.lag_lines, util::format_time(*st.lagging_since));
            st.lagging_since.reset();
            st.lag_logged_at.reset();
        }
    }
    if (!st.lagging_since) {
        return;
    }
    std::string why =
        "lines come later than max_lateness = " + util::format_duration(src.max_lateness) + ": " +
        std::to_string(st.lag_late) + " of " + std::to_string(st.lag_lines) + " lines read since " +
        util::format_time(*st.lagging_since) + " were too late to be counted (read up to " +
        std::to_string(st.lag_age_s) +
        " s after their time) — raise max_lateness above that, or write the log "
        "unbuffered, or fix the web server's clock";
    if (!st.lag_logged_at || now - *st.lag_logged_at >= std::chrono::minutes(1)) {
        log::warn("source \"{}\": {}", src.name, why);
        st.lag_logged_at = now;
    }
    m_eval.add_sample(
        src.name,
        Sample::make_missing(SystemTime(util::Millis(std::max(final_ms, st.fed_until_ms) + 1)),
                             decision::SampleKind::unavailable, std::move(why)));
}

} // namespace rollback::monitor
