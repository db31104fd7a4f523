// SPDX-License-Identifier: MIT
#include "util/time.hpp"

#include <cstdio>
#include <ctime>
#include <date/date.h>
#include <sstream>

namespace rollback::util {

namespace {

using std::chrono::seconds;

bool digit(char c) {
    return c >= '0' && c <= '9';
}

// Seconds since the epoch of the first and last instant the years k_min_year..k_max_year hold.
const int64_t k_min_seconds =
    int64_t{date::sys_days(date::year(k_min_year) / 1 / 1).time_since_epoch().count()} * 86400;
const int64_t k_max_seconds =
    int64_t{date::sys_days(date::year(k_max_year + 1) / 1 / 1).time_since_epoch().count()} * 86400 -
    1;

std::optional<SystemTime> fail(std::string* why, std::string problem) {
    if (why != nullptr) {
        *why = std::move(problem);
    }
    return std::nullopt;
}

} // namespace

std::string format_time(SystemTime t) {
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
    std::time_t secs = static_cast<std::time_t>(ms / 1000);
    long long frac = ms % 1000;
    if (frac < 0) {
        frac += 1000;
        secs -= 1;
    }
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char buf[96];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03lldZ", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
    return buf;
}

std::optional<SystemTime> time_from_seconds(int64_t s) {
    if (s < k_min_seconds || s > k_max_seconds) {
        return std::nullopt;
    }
    return SystemTime(std::chrono::duration_cast<SystemTime::duration>(seconds(s)));
}

std::optional<SystemTime> time_from_millis(int64_t ms) {
    const int64_t s = ms / 1000 - (ms % 1000 < 0 ? 1 : 0);
    if (!time_from_seconds(s)) {
        return std::nullopt;
    }
    return SystemTime(
        std::chrono::duration_cast<SystemTime::duration>(std::chrono::milliseconds(ms)));
}

std::optional<SystemTime> parse_time(std::string_view text, std::string* why) {
    // The grammar is checked here (fixed widths: date's parser also takes "2026-1-3" and
    // "+5:30"); the calendar, the time of day and the arithmetic are the date library's.
    const auto form = [&] {
        return fail(why, "expected RFC 3339 (2026-11-26T14:35:00Z, 2026-11-26T14:35:00.5+02:00) "
                         "or \"2026-11-26 14:35:00\" (UTC)");
    };
    if (text.size() < 19 || text[4] != '-' || text[7] != '-' ||
        (text[10] != 'T' && text[10] != 't' && text[10] != ' ') || text[13] != ':' ||
        text[16] != ':') {
        return form();
    }
    for (int i : {0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18}) {
        if (!digit(text[static_cast<size_t>(i)])) {
            return form();
        }
    }
    std::string_view rest = text.substr(19);
    int64_t frac_ns = 0;
    if (!rest.empty() && rest[0] == '.') {
        size_t i = 1;
        int64_t scale = 100'000'000;
        while (i < rest.size() && digit(rest[i])) {
            if (i > 9) {
                return fail(why, "more than 9 digits of fractional seconds");
            }
            frac_ns += (rest[i] - '0') * scale;
            scale /= 10;
            ++i;
        }
        if (i == 1) {
            return form();
        }
        rest = rest.substr(i);
    }
    int64_t offset_s = 0;
    if (rest.empty() || rest == "Z" || rest == "z") {
        // UTC
    } else if (rest.size() == 6 && (rest[0] == '+' || rest[0] == '-') && digit(rest[1]) &&
               digit(rest[2]) && rest[3] == ':' && digit(rest[4]) && digit(rest[5])) {
        const int oh = (rest[1] - '0') * 10 + (rest[2] - '0');
        const int om = (rest[4] - '0') * 10 + (rest[5] - '0');
        if (oh > 23 || om > 59) {
            return fail(why, "UTC offset " + std::string(rest) + " is not ±HH:MM (00..23:00..59)");
        }
        offset_s = (oh * 3600 + om * 60) * (rest[0] == '+' ? 1 : -1);
    } else {
        return fail(why, "UTC offset " + std::string(rest) +
                             " is not Z or ±HH:MM (e.g. +02:00); a time without one is UTC");
    }
    const auto two = [&](size_t i) { return (text[i] - '0') * 10 + (text[i + 1] - '0'); };
    const date::year_month_day ymd{date::year{two(0) * 100 + two(2)},
                                   date::month{static_cast<unsigned>(two(5))},
                                   date::day{static_cast<unsigned>(two(8))}};
    const int hh = two(11), mm = two(14), ss = two(17);
    date::sys_seconds tp;
    if (ymd.ok() && hh < 24 && mm < 60 && ss < 60) {
        // The usual case, without a stream (a long journal's report parses ~2 times a record).
        tp = date::sys_days(ymd) + std::chrono::hours(hh) + std::chrono::minutes(mm) + seconds(ss);
    } else {
        // Anything else is the date library's to accept or refuse, as it always was.
        std::string head(text.substr(0, 19));
        head[10] = 'T';
        std::istringstream in(head);
        in >> date::parse("%Y-%m-%dT%H:%M:%S", tp);
        if (in.fail()) {
            return fail(why, "no such date and time: " + std::string(text.substr(0, 19)));
        }
    }
    const date::sys_seconds utc = tp - seconds(offset_s);
    const int year = static_cast<int>(date::year_month_day(date::floor<date::days>(utc)).year());
    auto t = time_from_seconds(utc.time_since_epoch().count());
    if (!t) {
        return fail(why, "year " + std::to_string(year) + " is outside " +
                             std::to_string(k_min_year) + ".." + std::to_string(k_max_year));
    }
    return *t + std::chrono::duration_cast<SystemTime::duration>(std::chrono::nanoseconds(frac_ns));
}

} // namespace rollback::util
