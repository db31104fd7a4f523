// SPDX-License-Identifier: MIT
#include "sources/access_log.hpp"

#include "util/error.hpp"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace rollback::sources {

namespace {

constexpr std::string_view k_combined =
    "$remote_addr - $remote_user [$time_local] \"$request\" $status $body_bytes_sent "
    "\"$http_referer\" \"$http_user_agent\"";

inline bool digit(char c) {
    return c >= '0' && c <= '9';
}
inline int d2(const char* p) {
    return (p[0] - '0') * 10 + (p[1] - '0');
}

int month_of(const char* p) {
    // Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec
    static constexpr char k_names[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    for (int i = 0; i < 12; ++i) {
        if (std::memcmp(k_names + 3 * i, p, 3) == 0) {
            return i + 1;
        }
    }
    return 0;
}

// "17/May/2015:10:05:03 +0000" (26 bytes).
bool parse_time_local(std::string_view v, int64_t& out, TimeCache& cache) {
    if (v.size() != 26 || v[2] != '/' || v[6] != '/' || v[11] != ':' || v[14] != ':' ||
        v[17] != ':' || v[20] != ' ') {
        return false;
    }
    const char* p = v.data();
    if (!cache.valid || std::memcmp(cache.prefix, p, 17) != 0 ||
        std::memcmp(cache.zone, p + 21, 5) != 0) {
        for (int i : {0, 1, 7, 8, 9, 10, 12, 13, 15, 16, 22, 23, 24, 25}) {
            if (!digit(p[i])) {
                return false;
            }
        }
        int month = month_of(p + 3);
        int day = d2(p);
        int year = d2(p + 7) * 100 + d2(p + 9);
        int hour = d2(p + 12), minute = d2(p + 15);
        if (month == 0 || day < 1 || day > 31 || hour > 23 || minute > 59 ||
            (p[21] != '+' && p[21] != '-')) {
            return false;
        }
        int64_t offset = (d2(p + 22) * 3600 + d2(p + 24) * 60) * (p[21] == '+' ? 1 : -1);
        cache.minute_epoch =
            days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day)) *
                86400 +
            hour * 3600 + minute * 60 - offset;
        std::memcpy(cache.prefix, p, 17);
        std::memcpy(cache.zone, p + 21, 5);
        cache.valid = true;
    }
    if (!digit(p[18]) || !digit(p[19])) {
        return false;
    }
    out = cache.minute_epoch + d2(p + 18);
    return true;
}

// "2026-11-26T14:35:00+00:00"
bool parse_time_iso(std::string_view v, int64_t& out) {
    if (v.size() < 20 || v[4] != '-' || v[7] != '-' || v[10] != 'T' || v[13] != ':' ||
        v[16] != ':') {
        return false;
    }
    const char* p = v.data();
    for (int i : {0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18}) {
        if (!digit(p[i])) {
            return false;
        }
    }
    int64_t offset = 0;
    std::string_view z = v.substr(19);
    if (z.size() == 6 && (z[0] == '+' || z[0] == '-') && z[3] == ':') {
        offset = (d2(z.data() + 1) * 3600 + d2(z.data() + 4) * 60) * (z[0] == '+' ? 1 : -1);
    } else if (z != "Z") {
        return false;
    }
    int year = d2(p) * 100 + d2(p + 2);
    out =
        days_from_civil(year, static_cast<unsigned>(d2(p + 5)), static_cast<unsigned>(d2(p + 8))) *
            86400 +
        d2(p + 11) * 3600 + d2(p + 14) * 60 + d2(p + 17) - offset;
    return true;
}

// Seconds with a fraction ("0.123", "12", "1.5") to milliseconds; "-" or junk → false.
bool parse_seconds_ms(std::string_view v, double& ms) {
    size_t i = 0;
    int64_t whole = 0;
    while (i < v.size() && digit(v[i])) {
        whole = whole * 10 + (v[i] - '0');
        ++i;
    }
    if (i == 0) {
        return false;
    }
    int64_t frac = 0, scale = 1;
    if (i < v.size() && v[i] == '.') {
        ++i;
        while (i < v.size() && digit(v[i]) && scale < 1'000'000) {
            frac = frac * 10 + (v[i] - '0');
            scale *= 10;
            ++i;
        }
        while (i < v.size() && digit(v[i])) {
            ++i;
        }
    }
    // $upstream_response_time may list several upstreams ("0.1, 0.2"): the first is kept.
    if (i < v.size() && v[i] != ',' && v[i] != ' ') {
        return false;
    }
    ms = static_cast<double>(whole) * 1000.0 +
         static_cast<double>(frac) * 1000.0 / static_cast<double>(scale);
    return true;
}

bool store(LogFormat::Var var, std::string_view v, LogEntry& e, TimeCache& cache, bool& have_time,
           bool& have_status) {
    using V = LogFormat::Var;
    switch (var) {
    case V::other:
        return true;
    case V::time_local:
        have_time = parse_time_local(v, e.time_s, cache);
        return have_time;
    case V::time_iso8601:
        have_time = parse_time_iso(v, e.time_s);
        return have_time;
    case V::msec: {
        double ms;
        have_time = parse_seconds_ms(v, ms);
        e.time_s = static_cast<int64_t>(ms / 1000.0);
        return have_time;
    }
    case V::status:
        if (v.size() != 3 || !digit(v[0]) || !digit(v[1]) || !digit(v[2])) {
            return false;
        }
        e.status = (v[0] - '0') * 100 + d2(v.data() + 1);
        have_status = true;
        return true;
    case V::request_time:
        if (!parse_seconds_ms(v, e.latency_ms)) {
            e.latency_ms = -1;
        }
        return true;
    case V::upstream_response_time:
        if (e.latency_ms < 0 && !parse_seconds_ms(v, e.latency_ms)) {
            e.latency_ms = -1;
        }
        return true;
    }
    return true;
}

// End of a field that starts at `from` and ends where the literal `delim` begins; in a quoted
// field a backslash-escaped quote does not count. npos when absent.
size_t field_end(std::string_view line, size_t from, std::string_view delim, bool quoted) {
    const char* base = line.data();
    const char first = delim[0];
    size_t pos = from;
    while (pos < line.size()) {
        const void* hit = std::memchr(base + pos, first, line.size() - pos);
        if (!hit) {
            return std::string_view::npos;
        }
        size_t at = static_cast<size_t>(static_cast<const char*>(hit) - base);
        const bool escaped = quoted && at > from && base[at - 1] == '\\';
        if (!escaped && line.size() - at >= delim.size() &&
            std::memcmp(base + at + 1, delim.data() + 1, delim.size() - 1) == 0) {
            return at;
        }
        pos = at + 1;
    }
    return std::string_view::npos;
}

} // namespace

int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const auto yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

LogFormat LogFormat::compile(std::string_view spec) {
    LogFormat f;
    f.m_spec = std::string(spec);
    std::string text;
    if (spec == "combined") {
        text = std::string(k_combined);
    } else if (spec == "combined_request_time") {
        text = std::string(k_combined) + " $request_time";
    } else {
        text = std::string(spec);
    }
    std::string literal;
    size_t i = 0;
    bool have_time = false, have_status = false;
    while (i < text.size()) {
        if (text[i] != '$') {
            literal += text[i++];
            continue;
        }
        size_t j = i + 1;
        bool braced = j < text.size() && text[j] == '{';
        if (braced) {
            ++j;
        }
        size_t start = j;
        while (j < text.size() &&
               (std::isalnum(static_cast<unsigned char>(text[j])) || text[j] == '_')) {
            ++j;
        }
        std::string name = text.substr(start, j - start);
        if (braced) {
            if (j >= text.size() || text[j] != '}') {
                throw util::Error("log format: unterminated ${ at offset " + std::to_string(i));
            }
            ++j;
        }
        if (name.empty()) {
            throw util::Error("log format: '$' without a variable name at offset " +
                              std::to_string(i));
        }
        if (!f.m_fields.empty() && literal.empty()) {
            throw util::Error("log format: $" + name +
                              " directly follows another variable; fields need a separator");
        }
        Field fld;
        fld.before = literal;
        fld.quoted = !literal.empty() && literal.back() == '"';
        literal.clear();
        if (name == "time_local") {
            fld.var = Var::time_local;
        } else if (name == "time_iso8601") {
            fld.var = Var::time_iso8601;
        } else if (name == "msec") {
            fld.var = Var::msec;
        } else if (name == "status") {
            fld.var = Var::status;
        } else if (name == "request_time") {
            fld.var = Var::request_time;
        } else if (name == "upstream_response_time") {
            fld.var = Var::upstream_response_time;
        }
        have_time = have_time || fld.var == Var::time_local || fld.var == Var::time_iso8601 ||
                    fld.var == Var::msec;
        have_status = have_status || fld.var == Var::status;
        if (fld.var == Var::request_time ||
            (fld.var == Var::upstream_response_time && f.m_latency_var < 0)) {
            f.m_latency_var = static_cast<int>(f.m_fields.size());
        }
        f.m_fields.push_back(std::move(fld));
        i = j;
    }
    f.m_trailer = literal;
    if (!have_time) {
        throw util::Error("log format " + std::string(spec) +
                          ": no time variable ($time_local, $time_iso8601 or $msec)");
    }
    if (!have_status) {
        throw util::Error("log format " + std::string(spec) + ": no $status variable");
    }
    // Parse left to right up to the last needed field; a needed last field separated by one
    // character is read backwards from the end of the line, skipping long fields (user agent).
    const int n = static_cast<int>(f.m_fields.size());
    int last_needed = -1;
    for (int k = 0; k < n; ++k) {
        if (f.m_fields[static_cast<size_t>(k)].var != Var::other) {
            last_needed = k;
        }
    }
    const Field& last = f.m_fields.back();
    f.m_tail = last_needed == n - 1 && n >= 2 && f.m_trailer.empty() && last.before.size() == 1 &&
               !last.quoted;
    int forward_to = -1;
    for (int k = 0; k < (f.m_tail ? n - 1 : n); ++k) {
        if (f.m_fields[static_cast<size_t>(k)].var != Var::other) {
            forward_to = k;
        }
    }
    // Fields after the last one the engine uses are not read at all: faster, and a truncated
    // user agent (seen in real logs) does not cost the line.
    f.m_forward = f.m_tail ? forward_to + 1 : last_needed + 1;
    return f;
}

bool LogFormat::parse(std::string_view line, LogEntry& out, TimeCache& cache) const {
    out.latency_ms = -1;
    bool have_time = false, have_status = false;
    size_t pos = 0;
    const int n = static_cast<int>(m_fields.size());
    size_t limit = line.size();
    if (m_tail) {
        const Field& last = m_fields.back();
        const char sep = last.before[0];
        const void* hit = memrchr(line.data(), sep, line.size());
        if (!hit) {
            return false;
        }
        size_t at = static_cast<size_t>(static_cast<const char*>(hit) - line.data());
        if (!store(last.var, line.substr(at + 1), out, cache, have_time, have_status)) {
            return false;
        }
        limit = at;
    }
    for (int k = 0; k < m_forward; ++k) {
        const Field& f = m_fields[static_cast<size_t>(k)];
        if (line.size() - pos < f.before.size() ||
            std::memcmp(line.data() + pos, f.before.data(), f.before.size()) != 0) {
            return false;
        }
        pos += f.before.size();
        size_t end;
        if (m_tail && k + 1 == n - 1) {
            end = limit; // the separator found backwards ends this field
        } else if (k + 1 < n) {
            end = field_end(line.substr(0, limit), pos, m_fields[static_cast<size_t>(k + 1)].before,
                            f.quoted);
        } else if (!m_trailer.empty()) {
            end = field_end(line, pos, m_trailer, f.quoted);
        } else {
            end = line.size();
        }
        if (end == std::string_view::npos) {
            return false;
        }
        if (!store(f.var, line.substr(pos, end - pos), out, cache, have_time, have_status)) {
            return false;
        }
        pos = end;
    }
    return have_time && have_status;
}

// -------------------------------------------------------------------------------------------

RequestAggregator::RequestAggregator(int64_t interval_s, Sink sink)
    : m_interval(std::max<int64_t>(1, interval_s)), m_sink(std::move(sink)) {}

void RequestAggregator::add(const LogEntry& e) {
    int64_t start = e.time_s - ((e.time_s % m_interval) + m_interval) % m_interval;
    if (m_next_emit != INT64_MIN && start < m_next_emit) {
        ++m_late;
        return;
    }
    Bucket& b = m_open[start];
    ++b.count;
    if (e.status >= 500 && e.status <= 599) {
        ++b.errors;
    }
    if (e.latency_ms >= 0) {
        if (b.hist.empty()) {
            b.hist.assign(decision::LatencyHistogram::k_buckets, 0);
        }
        ++b.hist[static_cast<size_t>(decision::LatencyHistogram::bucket_of(e.latency_ms))];
    }
    // Keep one interval of lateness: everything older than the newest bucket's predecessor is
    // final.
    while (m_open.size() > 2) {
        auto it = m_open.begin();
        emit(it->first, it->second);
        m_open.erase(it);
    }
}

void RequestAggregator::emit(int64_t start, Bucket& b) {
    if (m_next_emit != INT64_MIN) {
        for (int64_t gap = m_next_emit; gap < start; gap += m_interval) {
            m_sink(decision::Sample::make_requests(
                decision::SystemTime(std::chrono::seconds(gap + m_interval)), 0, 0));
        }
    }
    decision::SparseHistogram sparse;
    for (size_t i = 0; i < b.hist.size(); ++i) {
        if (b.hist[i] != 0) {
            sparse.emplace_back(static_cast<uint16_t>(i), b.hist[i]);
        }
    }
    m_sink(decision::Sample::make_requests(
        decision::SystemTime(std::chrono::seconds(start + m_interval)), b.count, b.errors,
        std::move(sparse)));
    m_next_emit = start + m_interval;
}

void RequestAggregator::flush_until(int64_t now_s) {
    while (!m_open.empty() && m_open.begin()->first + m_interval <= now_s) {
        auto it = m_open.begin();
        emit(it->first, it->second);
        m_open.erase(it);
    }
    // A quiet log still says "no traffic" up to now.
    if (m_next_emit != INT64_MIN && m_open.empty()) {
        Bucket empty;
        while (m_next_emit + m_interval <= now_s) {
            emit(m_next_emit, empty);
        }
    }
}

void RequestAggregator::flush_all() {
    for (auto& [start, b] : m_open) {
        emit(start, b);
    }
    m_open.clear();
}

// -------------------------------------------------------------------------------------------

ParseStats parse_lines(std::string_view text, const LogFormat& format,
                       const std::function<void(const LogEntry&)>& on_entry, uint64_t line_base) {
    ParseStats st;
    st.bytes = text.size();
    TimeCache cache;
    LogEntry e;
    const char* p = text.data();
    const char* end = p + text.size();
    while (p < end) {
        const char* nl =
            static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(end - p)));
        const char* eol = nl ? nl : end;
        std::string_view line(p, static_cast<size_t>(eol - p));
        if (!line.empty() && line.back() == '\r') {
            line.remove_suffix(1);
        }
        ++st.lines;
        if (!line.empty()) {
            if (format.parse(line, e, cache)) {
                ++st.parsed;
                on_entry(e);
            } else {
                ++st.rejected;
                if (st.first_rejected_line == 0) {
                    st.first_rejected_line = line_base + st.lines;
                    st.first_rejected = std::string(line.substr(0, 200));
                }
            }
        }
        p = eol + 1;
    }
    return st;
}

ParseStats parse_file(const std::filesystem::path& path, const LogFormat& format,
                      const std::function<void(const LogEntry&)>& on_entry) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        throw util::Error("cannot open " + path.string() + ": " + std::strerror(errno));
    }
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
        int err = errno;
        ::close(fd);
        throw util::Error("cannot stat " + path.string() + ": " + std::strerror(err));
    }
    if (st.st_size == 0) {
        ::close(fd);
        return {};
    }
    auto size = static_cast<size_t>(st.st_size);
    void* map = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
    ::close(fd);
    if (map == MAP_FAILED) {
        throw util::Error("cannot map " + path.string() + ": " + std::strerror(errno));
    }
    ::madvise(map, size, MADV_SEQUENTIAL | MADV_WILLNEED);
    ParseStats result;
    try {
        result =
            parse_lines(std::string_view(static_cast<const char*>(map), size), format, on_entry);
    } catch (...) {
        ::munmap(map, size);
        throw;
    }
    ::munmap(map, size);
    return result;
}

} // namespace rollback::sources
