// SPDX-License-Identifier: MIT
#pragma once
// Access-log lines for tests: nginx's combined format with $request_time appended
// (`combined_request_time`), dated in UTC.

#include <cstdint>
#include <cstdio>
#include <ctime>
#include <string>

namespace rollback::test {

/// One line of a request at `t` (s since the epoch) answered with `status` in `seconds_taken`.
inline std::string log_line(int64_t t, int status, double seconds_taken = 0.05) {
    std::time_t tt = static_cast<std::time_t>(t);
    std::tm tm{};
    gmtime_r(&tt, &tm);
    char when[64];
    std::strftime(when, sizeof when, "%d/%b/%Y:%H:%M:%S +0000", &tm);
    char buf[256];
    std::snprintf(buf, sizeof buf,
                  "10.0.0.1 - - [%s] \"GET /cart/ HTTP/1.1\" %d 512 \"-\" \"t\" %.3f\n", when,
                  status, seconds_taken);
    return buf;
}

} // namespace rollback::test
