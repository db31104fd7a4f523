// SPDX-License-Identifier: MIT
#include "util/time.hpp"

#include <cstdio>
#include <ctime>

namespace rollback::util {

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

std::optional<SystemTime> parse_time(std::string_view text) {
    int y, mo, d, h, mi, s, consumed = 0;
    std::string str(text);
    if (std::sscanf(str.c_str(), "%4d-%2d-%2d%*1[T ]%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &s,
                    &consumed) != 6) {
        return std::nullopt;
    }
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) {
        return std::nullopt;
    }
    std::string_view rest = text.substr(static_cast<size_t>(consumed));
    long long frac_ms = 0;
    if (!rest.empty() && rest[0] == '.') {
        size_t i = 1;
        long long scale = 100;
        while (i < rest.size() && rest[i] >= '0' && rest[i] <= '9') {
            frac_ms += (rest[i] - '0') * scale;
            scale /= 10;
            ++i;
        }
        if (i == 1) {
            return std::nullopt;
        }
        rest = rest.substr(i);
    }
    long long offset_s = 0;
    if (rest == "Z" || rest == "z" || rest.empty()) {
        // UTC
    } else if ((rest[0] == '+' || rest[0] == '-') && rest.size() == 6 && rest[3] == ':') {
        int oh = (rest[1] - '0') * 10 + (rest[2] - '0');
        int om = (rest[4] - '0') * 10 + (rest[5] - '0');
        offset_s = (oh * 3600 + om * 60) * (rest[0] == '+' ? 1 : -1);
    } else {
        return std::nullopt;
    }
    std::tm tm{};
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = s;
    std::time_t secs = timegm(&tm);
    return SystemTime(
        std::chrono::milliseconds((static_cast<long long>(secs) - offset_s) * 1000 + frac_ms));
}

} // namespace rollback::util
