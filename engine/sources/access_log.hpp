// SPDX-License-Identifier: MIT
#pragma once

// nginx / gunicorn access logs: a log_format compiled into a field extractor (no regex, no
// allocation per line), an aggregator into per-interval request samples, and whole-file ingestion
// in blocks of whole lines. Built for ≥ 1 GB/s on one core (docs/benchmarks.md).

#include "decision/histogram.hpp"
#include "decision/sample.hpp"
#include "sources/jump_hold.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rollback::sources {

/// What the engine takes from one log line.
struct LogEntry {
    int64_t time_s = 0; ///< seconds since the epoch (UTC)
    int status = 0;
    /// $request_time (or $request_time_us), else $upstream_response_time (the sum over the
    /// request's upstream attempts); -1 when absent
    double latency_ms = -1;
};

/// Caches the epoch of the last "dd/Mon/yyyy:HH:MM" + zone seen: lines of one minute share it.
struct TimeCache {
    char prefix[17] = {};
    char zone[5] = {};
    int64_t minute_epoch = 0;
    bool valid = false;
};

class LogFormat {
  public:
    /// "combined", "combined_request_time" (combined + ` $request_time`, seconds),
    /// "combined_request_time_us" (combined + ` $request_time_us`: Apache's %D, microseconds), or
    /// an nginx log_format string such as `$remote_addr [$time_local] "$request" $status
    /// $request_time` (`$request_time_us`, not an nginx variable, reads microseconds). Throws
    /// util::Error naming the problem (no time variable, no $status, adjacent variables).
    static LogFormat compile(std::string_view spec);

    /// Parses one line (no trailing newline). False when the line does not match the format, is
    /// longer than LogTailer::k_max_line (64 KiB, which live never delivers) or holds a NUL
    /// byte (the zeros a crash leaves in a log): one rule for the monitor and the replay.
    bool parse(std::string_view line, LogEntry& out, TimeCache& cache) const;

    bool has_latency() const { return m_latency_var >= 0; }
    const std::string& spec() const { return m_spec; }

    enum class Var : uint8_t {
        other,
        time_local,
        time_iso8601,
        msec,
        status,
        request_time,
        request_time_us, ///< whole microseconds (Apache %D)
        upstream_response_time
    };

  private:
    /// Literal text of the format; up to 8 bytes also as a word and a mask of its bytes, for a
    /// comparison in one instruction (mask 0: longer or empty, compared byte by byte).
    struct Literal {
        std::string text;
        uint64_t word = 0, mask = 0;
        static Literal of(std::string text);
    };
    struct Field {
        Literal before; ///< literal text preceding the variable
        Var var = Var::other;
        bool quoted = false; ///< preceded by '"': `\"` inside does not end it
        bool multi = false;  ///< an nginx multi-value variable (sources/multi_value.hpp)
    };
    std::string m_spec;
    std::vector<Field> m_fields;
    Literal m_trailer;   ///< literal after the last variable
    int m_forward = 0;   ///< fields parsed left to right: [0, m_forward)
    bool m_tail = false; ///< the last field is read backwards from the end of the line
    int m_latency_var = -1;
};

/// Per-interval request counts, 5xx counts and latency histograms by event time, emitted in time
/// order as decision::Sample (time = end of the interval) once the interval is final: when the
/// watermark — the newest line's time, or the clock given to flush_until — has passed its end by
/// `lateness_s` (docs/decision.md, "Event time and lateness"). Empty intervals between two lines
/// are emitted with count 0: a quiet log is no traffic, not no data. A line whose interval is
/// already final is too late: not counted, counted in `late()` and in the `late` of the next
/// sample emitted.
class RequestAggregator {
  public:
    using Sink = std::function<void(decision::Sample)>;
    /// Whose clock is the watermark: the log's (a replay: the newest line's time) or the caller's
    /// (the live monitor: flush_until's; a line dated ahead of the machine's clock then cannot
    /// make the rest of the log too late).
    enum class Clock { log, caller };
    RequestAggregator(int64_t interval_s, Sink sink, int64_t lateness_s = 0,
                      Clock clock = Clock::log);
    void add(const LogEntry& e);
    /// Emits every interval final at the clock `now_s` (live mode): ended at or before
    /// `now_s - lateness`, quiet ones as zero requests ...
    void flush_until(int64_t now_s);
    /// ... or everything (end of a replay), then the quiet intervals final at the clock
    /// `until_s` (INT64_MIN: none): the end of a replay's ticks, where the live monitor would have
    /// made them as zero requests (docs/decision.md, "The end of a replay").
    void flush_all(int64_t until_s = INT64_MIN);
    /// The end of the newest interval emitted (INT64_MIN before any).
    int64_t emitted_until() const { return m_emitted ? m_next_emit : INT64_MIN; }
    /// A replay that reads a range (`--from`) and skips lines dated before `s`: the log was
    /// observed before `s`, so the intervals from the one holding `s` on are emitted — a quiet
    /// one as zero requests — as if the skipped lines had been read (the replay from the file's
    /// start makes them: docs/decision.md, "Replay from a time"). No effect once an interval
    /// was emitted.
    void observed_since(int64_t s);
    /// Lines dated before 2000 are not counted (implausible()).
    static constexpr int64_t k_earliest_plausible_s = 946684800; // 2000-01-01T00:00:00Z
    uint64_t late() const { return m_late; }
    /// The start of the interval of the first line counted (or skipped by count_from):
    /// INT64_MAX before any. The intervals before it are not observations — the file may have
    /// just been created or rotated — so a caller filling quiet intervals with zero requests
    /// starts there (docs/decision.md, "Event time and lateness": an empty log is no_data).
    int64_t observed_from() const { return m_observed_from; }
    /// Lines dated before `s` are not counted, but still take part in judging the log's clock
    /// (a skewed worker's lines are told apart by the lines around them): the live monitor's
    /// first read of a file covers only what its windows need.
    void count_from(int64_t s) { m_count_from = s; }
    /// Called before a run of quiet intervals is emitted, with the times (s since the epoch) of
    /// its first and last sample: a reader that bounds the samples it takes refuses a gap of
    /// years before one sample of it is made (sources::stream_samples). It may throw.
    using QuietRun = std::function<void(int64_t first_end_s, int64_t last_end_s)>;
    void on_quiet_run(QuietRun f) { m_on_quiet_run = std::move(f); }
    /// Live: the lines added next are read at `now_s` (the tick's time, before the tailer is
    /// polled). A line dated more than jump_s() after it comes from a clock that runs ahead:
    /// never counted (implausible()), whatever the lines around it.
    void reading_at(int64_t now_s) {
        m_read_at = std::max(m_read_at, now_s);
        m_ahead_max_s = 0;
    }
    /// Lines dated before 2000 or more than a day after this machine's clock (a broken clock, a
    /// mangled line): not counted. Zero-filling the gap to such a date would take years of
    /// intervals. Also the lines of a run that jumped more than jump_s() ahead of the log's clock
    /// (the newest counted line's time) and was refuted: a later line came back more than
    /// jump_s() before the run's first line (sources/jump_hold.hpp) — a run of lines from a worker
    /// whose clock runs ahead, of any length, moves neither the log's clock nor the watermark;
    /// live, also the lines from the future (reading_at). Live and replay judge the same lines
    /// alike (docs/decision.md, "Event time and lateness").
    uint64_t implausible() const { return m_implausible; }
    /// Live: of those, the lines dated more than jump_s() after the reading clock (reading_at),
    /// and the most any of them read since the last reading_at was ahead (s). With lines() (every
    /// line add()ed), the monitor tells a clock behind the web server's — every line it reads is
    /// from its future — from a worker ahead among right ones (docs/decision.md, "A clock behind
    /// the web server's").
    uint64_t ahead() const { return m_ahead; }
    int64_t ahead_max_s() const { return m_ahead_max_s; }
    uint64_t lines() const { return m_lines; }
    /// How far ahead of the log's clock a line is a jump that later lines must confirm:
    /// max_lateness + 2 intervals. A line at most max_lateness late never refutes a jump.
    int64_t jump_s() const { return m_lateness + 2 * m_interval; }
    /// A run of lines still held when a replayed log ends, which nothing can confirm, counts
    /// when its first line is at most this far ahead of the log's clock.
    static constexpr int64_t k_last_line_gap_s = 86400;
    /// A replay's watermark (the log's clock, Clock::log) is what most recent lines agree on,
    /// not the newest line: the newest time that at least k_recent - k_agree_below + 1 (17) of
    /// the last k_recent (32) counted lines are dated at or after, never moving back. A worker
    /// whose clock runs ahead by less than a jump (counted: within the jump) moves it only when
    /// it writes most of the lines (docs/decision.md, "Event time and lateness"); the monitor's
    /// watermark is its own clock.
    static constexpr size_t k_recent = 32;
    static constexpr size_t k_agree_below = 16;

  private:
    struct Bucket {
        uint64_t count = 0, errors = 0;
        std::vector<uint32_t> hist;   // dense, allocated once per bucket
        size_t lo = SIZE_MAX, hi = 0; // hist is zero outside [lo, hi)
    };
    /// The bucket most lines go to, so that they skip the division and the map lookup. A copy
    /// starts without it: the pointer is into this object's own map.
    struct Current {
        Bucket* bucket = nullptr;
        int64_t start = 0;
        Current() = default;
        Current(const Current&) noexcept {}
        Current& operator=(const Current&) noexcept {
            bucket = nullptr;
            return *this;
        }
    };
    void emit(int64_t start, Bucket& b);
    void add_slow(const LogEntry& e);
    void apply(const LogEntry& e);
    /// Counts or refutes the held run by the lines' own evidence (see implausible()).
    void judge(const LogEntry& e);
    /// Emits the intervals final at watermark `w`, quiet ones as zero requests.
    void finalize(int64_t w);
    void update_final_at();
    /// A replay's watermark: see k_recent.
    int64_t watermark() const;
    int64_t m_interval;
    int64_t m_lateness;
    Clock m_clock_kind;
    Sink m_sink;
    QuietRun m_on_quiet_run;
    std::map<int64_t, Bucket> m_open;
    Current m_current;
    int64_t m_next_emit = INT64_MIN;  ///< start of the next interval to emit
    bool m_emitted = false;           ///< an interval was emitted (m_next_emit is its end)
    int64_t m_clock = INT64_MIN;      ///< the newest line's time (the log's own clock)
    int64_t m_caller_now = INT64_MIN; ///< the last flush_until's clock (live mode)
    int64_t m_count_from = INT64_MIN; ///< see count_from()
    int64_t m_final_at = INT64_MAX;   ///< watermark at which the oldest open interval is final
    uint64_t m_late = 0;
    uint64_t m_ahead = 0, m_lines = 0;
    int64_t m_ahead_max_s = 0;
    uint64_t m_pending_late = 0; ///< too-late lines not yet reported in an emitted sample
    uint64_t m_implausible = 0;
    int64_t m_latest_plausible_s;        ///< now + 1 day, at construction
    int64_t m_observed_from = INT64_MAX; ///< see observed_from()
    int64_t m_read_at = INT64_MIN; ///< live: when the lines being added were read (reading_at)
    /// Log clock: a run of lines that jumped ahead (or the first lines), held until a later line
    /// confirms or refutes it.
    JumpHold<LogEntry> m_hold;
    int64_t m_watermark = INT64_MIN; ///< a replay's watermark (Clock::log)
    std::array<int64_t, k_recent> m_recent;
    uint64_t m_recent_next = 0;
};

struct ParseStats {
    uint64_t lines = 0, parsed = 0, rejected = 0, bytes = 0;
    uint64_t first_rejected_line = 0; ///< 1-based; 0 when none
    std::string first_rejected;       ///< its text (truncated to 200 bytes)
};

/// Parses every line of `text` (a whole file or a chunk ending in a newline) with `format`,
/// calling `on_entry` for each parsed one. `line_base` is the number of lines before `text`.
ParseStats parse_lines(std::string_view text, const LogFormat& format,
                       const std::function<void(const LogEntry&)>& on_entry,
                       uint64_t line_base = 0);

/// Reads `path` and parses it (see parse_lines). Throws util::Error when it cannot be read.
ParseStats parse_file(const std::filesystem::path& path, const LogFormat& format,
                      const std::function<void(const LogEntry&)>& on_entry);
/// The same, adding every parsed entry to `into` (replay: no call through std::function per line).
ParseStats parse_file(const std::filesystem::path& path, const LogFormat& format,
                      RequestAggregator& into);

/// Days since 1970-01-01 of a civil date (proleptic Gregorian).
int64_t days_from_civil(int64_t y, unsigned m, unsigned d);

} // namespace rollback::sources
