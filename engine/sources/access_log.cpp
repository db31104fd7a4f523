// SPDX-License-Identifier: MIT
#include "sources/access_log.hpp"

#include "sources/multi_value.hpp"
#include "sources/tailer.hpp"
#include "util/error.hpp"

#include <algorithm>
#include <bit>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#include <cctype>
#include <cstring>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace rollback::sources {

namespace {

inline bool digit(char c) {
    return c >= '0' && c <= '9';
}
inline int d2(const char* p) {
    return (p[0] - '0') * 10 + (p[1] - '0');
}

// The first `c` in [p, end), or `end`. Fields are short (an address, a status: a few bytes) to
// long (a user agent: a hundred): 16 bytes per step where SSE2 is there, 8 otherwise, no call.
inline const char* find_char(const char* p, const char* end, char c) {
#if defined(__SSE2__)
    const __m128i needle = _mm_set1_epi8(c);
    while (end - p >= 16) {
        const __m128i block = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
        const auto bits = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(block, needle)));
        if (bits != 0) {
            return p + std::countr_zero(bits);
        }
        p += 16;
    }
#endif
    if constexpr (std::endian::native == std::endian::little) {
        const uint64_t pattern = 0x0101010101010101ULL * static_cast<unsigned char>(c);
        for (; end - p >= 8; p += 8) {
            uint64_t w;
            std::memcpy(&w, p, 8);
            w ^= pattern;
            // A byte of w is zero where p holds c; the lowest flagged byte is exact.
            const uint64_t hit = (w - 0x0101010101010101ULL) & ~w & 0x8080808080808080ULL;
            if (hit != 0) {
                return p + (std::countr_zero(hit) >> 3);
            }
        }
    }
    for (; p < end; ++p) {
        if (*p == c) {
            return p;
        }
    }
    return end;
}

// `n` bytes at `a` equal those at `b`.
inline bool same_bytes(const char* a, const char* b, size_t n) {
    for (size_t i = 0; i < n; ++i) {
        if (a[i] != b[i]) {
            return false;
        }
    }
    return true;
}

inline uint64_t load8(const char* p) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    return w;
}
inline uint32_t load4(const char* p) {
    uint32_t w;
    std::memcpy(&w, p, 4);
    return w;
}

template <class Literal>
inline bool literal_at(const char* p, const char* end, const Literal& lit) {
    if (lit.mask != 0 && end - p >= 8) {
        return (load8(p) & lit.mask) == lit.word;
    }
    return static_cast<size_t>(end - p) >= lit.text.size() &&
           same_bytes(p, lit.text.data(), lit.text.size());
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

// The days of month `m` (1-12) of year `y` (proleptic Gregorian): 31/Nov is not a date.
int days_in_month(int y, int m) {
    static constexpr int k_days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : k_days[m - 1];
}

// "17/May/2015:10:05:03 +0000" (26 bytes).
bool parse_time_local(std::string_view v, int64_t& out, TimeCache& cache) {
    if (v.size() != 26 || v[2] != '/' || v[6] != '/' || v[11] != ':' || v[14] != ':' ||
        v[17] != ':' || v[20] != ' ') {
        return false;
    }
    const char* p = v.data();
    const bool same_minute = cache.valid && load8(cache.prefix) == load8(p) &&
                             load8(cache.prefix + 8) == load8(p + 8) && cache.prefix[16] == p[16] &&
                             load4(cache.zone) == load4(p + 21) && cache.zone[4] == p[25];
    if (!same_minute) {
        for (int i : {0, 1, 7, 8, 9, 10, 12, 13, 15, 16, 22, 23, 24, 25}) {
            if (!digit(p[i])) {
                return false;
            }
        }
        int month = month_of(p + 3);
        int day = d2(p);
        int year = d2(p + 7) * 100 + d2(p + 9);
        int hour = d2(p + 12), minute = d2(p + 15);
        if (month == 0 || day < 1 || day > days_in_month(year, month) || hour > 23 || minute > 59 ||
            d2(p + 22) > 23 || d2(p + 24) > 59 || (p[21] != '+' && p[21] != '-')) {
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
    if (!digit(p[18]) || !digit(p[19]) || d2(p + 18) > 59) {
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
    if (z.size() == 6 && (z[0] == '+' || z[0] == '-') && z[3] == ':' && digit(z[1]) &&
        digit(z[2]) && digit(z[4]) && digit(z[5])) {
        offset = (d2(z.data() + 1) * 3600 + d2(z.data() + 4) * 60) * (z[0] == '+' ? 1 : -1);
    } else if (z != "Z") {
        return false;
    }
    int year = d2(p) * 100 + d2(p + 2);
    const int month = d2(p + 5), day = d2(p + 8);
    if (month < 1 || month > 12 || day < 1 || day > days_in_month(year, month) || d2(p + 11) > 23 ||
        d2(p + 14) > 59 || d2(p + 17) > 59) {
        return false; // 2026-02-30, 24:00 or a leap second is not a time of this engine
    }
    out =
        days_from_civil(year, static_cast<unsigned>(d2(p + 5)), static_cast<unsigned>(d2(p + 8))) *
            86400 +
        d2(p + 11) * 3600 + d2(p + 14) * 60 + d2(p + 17) - offset;
    return true;
}

// Seconds with a fraction ("0.123", "12", "1.5") to milliseconds; "-" or junk → false.
bool parse_seconds_ms(std::string_view v, double& ms) {
    // Most request times look like "0.123": the same arithmetic as the general form below.
    if (v.size() == 5 && v[1] == '.' && digit(v[0]) && digit(v[2]) && digit(v[3]) && digit(v[4])) {
        const int64_t whole = v[0] - '0';
        const int64_t frac = (v[2] - '0') * 100 + (v[3] - '0') * 10 + (v[4] - '0');
        ms = static_cast<double>(whole) * 1000.0 + static_cast<double>(frac) * 1000.0 / 1000.0;
        return true;
    }
    // At most 15 digits of whole seconds (a $msec epoch has 10): more would overflow `whole`
    // (and the milliseconds of a time): such a field is not a time.
    constexpr size_t k_max_whole_digits = 15;
    size_t i = 0;
    int64_t whole = 0;
    while (i < v.size() && digit(v[i])) {
        if (i == k_max_whole_digits) {
            return false;
        }
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
    if (i < v.size()) {
        return false;
    }
    ms = static_cast<double>(whole) * 1000.0 +
         static_cast<double>(frac) * 1000.0 / static_cast<double>(scale);
    return true;
}

// Whole microseconds (Apache's %D: "5230") to milliseconds; "-" or junk → false. At most 15
// digits, as for seconds: more is not a request time.
bool parse_micros_ms(std::string_view v, double& ms) {
    if (v.empty() || v.size() > 15) {
        return false;
    }
    int64_t us = 0;
    for (char c : v) {
        if (!digit(c)) {
            return false;
        }
        us = us * 10 + (c - '0');
    }
    ms = static_cast<double>(us) / 1000.0;
    return true;
}

// $upstream_response_time: the time of every upstream attempt of the request, summed (the
// request waited for each in turn); "-" (no answer) adds nothing. -1 when no attempt has a
// number, or the text is not a time list.
double upstream_time_ms(std::string_view v) {
    double sum = 0;
    bool any = false;
    const bool ok = for_each_value(v, [&](std::string_view one) {
        double ms = 0;
        if (one == "-") {
            return true;
        }
        if (!parse_seconds_ms(one, ms)) {
            return false;
        }
        sum += ms;
        any = true;
        return true;
    });
    return ok && any ? sum : -1;
}

// A request that took more than a day is a broken field (99999999999999 s was clamped into the
// histogram's last bucket, 4.5 hours): the line is unreadable, counted with the lines that do
// not parse, never a latency.
constexpr double k_max_request_ms = 86'400'000;

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
        double ms = 0;
        have_time = parse_seconds_ms(v, ms);
        if (have_time) {
            e.time_s = static_cast<int64_t>(ms / 1000.0);
        }
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
        return e.latency_ms <= k_max_request_ms;
    case V::request_time_us:
        if (!parse_micros_ms(v, e.latency_ms)) {
            e.latency_ms = -1;
        }
        return e.latency_ms <= k_max_request_ms;
    case V::upstream_response_time:
        if (e.latency_ms < 0) {
            e.latency_ms = upstream_time_ms(v);
            return e.latency_ms <= k_max_request_ms;
        }
        return true;
    }
    return true;
}

// End of a field that starts at `from` and ends where the literal `delim` begins, looking no
// further than `limit`; in a quoted field a backslash-escaped quote does not count. nullptr when
// absent.
template <class Literal>
inline const char* field_end(const char* from, const char* limit, const Literal& delim,
                             bool quoted) {
    const char first = delim.text[0];
    const char* pos = from;
    while (pos < limit) {
        const char* at = find_char(pos, limit, first);
        if (at == limit) {
            return nullptr;
        }
        const bool escaped = quoted && at > from && at[-1] == '\\';
        if (!escaped && literal_at(at, limit, delim)) {
            return at;
        }
        pos = at + 1;
    }
    return nullptr;
}

// field_end for a multi-value variable: a delimiter inside a ", " or " : " separator between
// its values does not end it.
template <class Literal>
inline const char* multi_field_end(const char* line, const char* from, const char* limit,
                                   const Literal& delim, bool quoted) {
    const char* at = field_end(from, limit, delim, quoted);
    while (at != nullptr && at_multi_value_separator(line, limit, at)) {
        at = field_end(at + 1, limit, delim, quoted);
    }
    return at;
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

bool LogFormat::parse(std::string_view line, LogEntry& out, TimeCache& cache) const {
    // What the tailer skips (a line too long to be one), and what is no request: a run of NUL
    // bytes (blocks a crash allocated but never wrote) before or inside the text of a line.
    if (line.size() > LogTailer::k_max_line || std::memchr(line.data(), '\0', line.size())) {
        return false;
    }
    out.latency_ms = -1;
    bool have_time = false, have_status = false;
    const int n = static_cast<int>(m_fields.size());
    const char* const begin = line.data();
    const char* const end = begin + line.size();
    const char* limit = end;
    if (m_tail) {
        const Field& last = m_fields.back();
        const char sep = last.before.text[0];
        const void* hit = memrchr(begin, sep, line.size());
        // A multi-value last field ("... 200 0.900, 0.800"): the separator before its first value.
        while (last.multi && hit &&
               at_multi_value_separator(begin, end, static_cast<const char*>(hit))) {
            hit = memrchr(begin, sep, static_cast<size_t>(static_cast<const char*>(hit) - begin));
        }
        if (!hit) {
            return false;
        }
        const char* at = static_cast<const char*>(hit);
        if (!store(last.var, std::string_view(at + 1, static_cast<size_t>(end - at - 1)), out,
                   cache, have_time, have_status)) {
            return false;
        }
        limit = at;
    }
    const char* pos = begin;
    for (int k = 0; k < m_forward; ++k) {
        const Field& f = m_fields[static_cast<size_t>(k)];
        if (!literal_at(pos, end, f.before)) {
            return false;
        }
        pos += f.before.text.size();
        const char* field_stop;
        if (m_tail && k + 1 == n - 1) {
            field_stop = limit; // the separator found backwards ends this field
        } else if (k + 1 < n) {
            const Literal& next = m_fields[static_cast<size_t>(k + 1)].before;
            field_stop = f.multi ? multi_field_end(begin, pos, limit, next, f.quoted)
                                 : field_end(pos, limit, next, f.quoted);
        } else if (!m_trailer.text.empty()) {
            field_stop = f.multi ? multi_field_end(begin, pos, end, m_trailer, f.quoted)
                                 : field_end(pos, end, m_trailer, f.quoted);
        } else {
            field_stop = end;
        }
        if (field_stop == nullptr) {
            return false;
        }
        // A separator found backwards can lie inside this field's own literal (format
        // "t $msec $status", line "t 200"): the field is then the rest of the line, as it always
        // was.
        const auto len = static_cast<size_t>(field_stop >= pos ? field_stop - pos : end - pos);
        if (f.var != Var::other &&
            !store(f.var, std::string_view(pos, len), out, cache, have_time, have_status)) {
            return false;
        }
        pos = field_stop;
    }
    return have_time && have_status;
}

// -------------------------------------------------------------------------------------------

namespace {

template <class OnEntry>
void parse_text(std::string_view text, const LogFormat& format, OnEntry&& on_entry,
                TimeCache& cache, ParseStats& st, uint64_t line_base) {
    st.bytes += text.size();
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
}

// A whole file mapped read-only; empty files are not mapped. Mapping beats read() into a buffer
// here (measured: docs/benchmarks.md): no copy, and the page-table work is done ahead of time.
class MappedFile {
  public:
    explicit MappedFile(const std::filesystem::path& path) {
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
        m_size = static_cast<size_t>(st.st_size);
        if (m_size == 0) {
            ::close(fd);
            return;
        }
        void* map = ::mmap(nullptr, m_size, PROT_READ, MAP_PRIVATE, fd, 0);
        ::close(fd);
        if (map == MAP_FAILED) {
            throw util::Error("cannot map " + path.string() + ": " + std::strerror(errno));
        }
        m_data = static_cast<const char*>(map);
        ::madvise(map, m_size, MADV_SEQUENTIAL);
        ::madvise(map, m_size, MADV_WILLNEED);
    }
    ~MappedFile() {
        if (m_data != nullptr) {
            ::munmap(const_cast<char*>(m_data), m_size);
        }
    }
    MappedFile(const MappedFile&) = delete;
    MappedFile& operator=(const MappedFile&) = delete;
    std::string_view text() const { return {m_data == nullptr ? "" : m_data, m_size}; }
    /// Gives back the pages wholly before `offset`, already read: on a private read-only mapping
    /// they leave this process (not the page cache), and would be read again from the file.
    void release_before(size_t offset) {
        static const size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
        const size_t upto = offset / page * page;
        if (m_data != nullptr && upto > m_released) {
            ::madvise(const_cast<char*>(m_data) + m_released, upto - m_released, MADV_DONTNEED);
            m_released = upto;
        }
    }

  private:
    const char* m_data = nullptr;
    size_t m_size = 0;
    size_t m_released = 0;
};

template <class OnEntry>
ParseStats parse_mapped(const std::filesystem::path& path, const LogFormat& format,
                        OnEntry&& on_entry) {
    MappedFile file(path);
    ParseStats st;
    TimeCache cache;
    // In chunks of whole lines, each given back once parsed: the resident part of the file is
    // one chunk, whatever its size (a replay's memory follows its question, not the file).
    constexpr size_t k_chunk = size_t{16} << 20;
    const std::string_view all = file.text();
    size_t done = 0;
    while (done < all.size()) {
        size_t cut = std::min(all.size(), done + k_chunk);
        if (cut < all.size()) {
            const void* nl = std::memchr(all.data() + cut, '\n', all.size() - cut);
            cut = nl == nullptr
                      ? all.size()
                      : static_cast<size_t>(static_cast<const char*>(nl) - all.data()) + 1;
        }
        // line_base 0: st.lines already counts the lines of the chunks before.
        parse_text(all.substr(done, cut - done), format, on_entry, cache, st, 0);
        file.release_before(cut);
        done = cut;
    }
    return st;
}

} // namespace

ParseStats parse_lines(std::string_view text, const LogFormat& format,
                       const std::function<void(const LogEntry&)>& on_entry, uint64_t line_base) {
    ParseStats st;
    TimeCache cache;
    parse_text(text, format, on_entry, cache, st, line_base);
    return st;
}

ParseStats parse_file(const std::filesystem::path& path, const LogFormat& format,
                      const std::function<void(const LogEntry&)>& on_entry) {
    return parse_mapped(path, format, on_entry);
}

ParseStats parse_file(const std::filesystem::path& path, const LogFormat& format,
                      RequestAggregator& into) {
    return parse_mapped(path, format, [&into](const LogEntry& e) { into.add(e); });
}

} // namespace rollback::sources
