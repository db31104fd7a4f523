// SPDX-License-Identifier: MIT
#include "sources/csv.hpp"

#include "sources/access_log.hpp"
#include "sources/jump_hold.hpp"
#include "util/error.hpp"
#include "util/files.hpp"
#include "util/strings.hpp"

#include <charconv>
#include <cmath>
#include <optional>

namespace rollback::sources {

namespace {

inline bool two_digits(const char* p, int& out) {
    if (p[0] < '0' || p[0] > '9' || p[1] < '0' || p[1] > '9') {
        return false;
    }
    out = (p[0] - '0') * 10 + (p[1] - '0');
    return true;
}

// "2014-03-07 03:41:00" (or with 'T'), the form of every NAB row, without a stream per row:
// nullopt when the text has another form or is not plainly valid (a day past the 28th, a year
// out of range), which then goes to util::parse_time. Same result as util::parse_time for the
// texts it accepts.
std::optional<util::SystemTime> parse_plain_utc(std::string_view t) {
    if (t.size() != 19 || t[4] != '-' || t[7] != '-' || (t[10] != ' ' && t[10] != 'T') ||
        t[13] != ':' || t[16] != ':') {
        return std::nullopt;
    }
    const char* p = t.data();
    int y_hi, y_lo, mo, d, h, mi, s;
    if (!two_digits(p, y_hi) || !two_digits(p + 2, y_lo) || !two_digits(p + 5, mo) ||
        !two_digits(p + 8, d) || !two_digits(p + 11, h) || !two_digits(p + 14, mi) ||
        !two_digits(p + 17, s)) {
        return std::nullopt;
    }
    const int year = y_hi * 100 + y_lo;
    if (mo < 1 || mo > 12 || d < 1 || d > 28 || h > 23 || mi > 59 || s > 59 ||
        year < util::k_min_year || year > util::k_max_year) {
        return std::nullopt;
    }
    const int64_t secs =
        days_from_civil(year, static_cast<unsigned>(mo), static_cast<unsigned>(d)) * 86400 +
        h * 3600 + mi * 60 + s;
    return util::SystemTime(std::chrono::milliseconds(secs * 1000));
}

// A row's two fields, and the 1-based column where the value starts.
struct RowFields {
    std::string_view when, value;
    int value_column = 0;
};

// Splits a row that holds a double quote by RFC 4180 §2: a field may be enclosed in double
// quotes (spreadsheet and database exports quote every field), a quoted field may hold a comma,
// and "" in it is one quote. `buf` owns the unquoted text. Blanks around a field are allowed;
// text after a closing quote, an unterminated quote, or other than two fields is an error.
std::optional<RowFields> split_quoted(std::string_view line, std::string& buf, std::string& why) {
    buf.clear();
    buf.reserve(line.size());
    size_t starts[2] = {0, 0}, ends[2] = {0, 0};
    int value_column = 1;
    size_t i = 0, n = 0;
    while (true) {
        while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) {
            ++i;
        }
        if (n == 2) {
            why = "more than two fields";
            return std::nullopt;
        }
        if (n == 1) {
            value_column = static_cast<int>(i) + 1;
        }
        starts[n] = buf.size();
        if (i < line.size() && line[i] == '"') {
            const size_t open = i++;
            while (true) {
                if (i >= line.size()) {
                    why = "a quote at column " + std::to_string(open + 1) + " is not closed";
                    return std::nullopt;
                }
                if (line[i] == '"') {
                    if (i + 1 < line.size() && line[i + 1] == '"') {
                        buf += '"';
                        i += 2;
                        continue;
                    }
                    ++i;
                    break;
                }
                buf += line[i++];
            }
            while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) {
                ++i;
            }
            if (i < line.size() && line[i] != ',') {
                why = "text after the closing quote at column " + std::to_string(i);
                return std::nullopt;
            }
        } else {
            while (i < line.size() && line[i] != ',') {
                if (line[i] == '"') {
                    why = "a quote inside an unquoted field at column " + std::to_string(i + 1);
                    return std::nullopt;
                }
                buf += line[i++];
            }
        }
        ends[n++] = buf.size();
        if (i >= line.size()) {
            break;
        }
        ++i; // the comma
    }
    if (n != 2) {
        why = "expected \"timestamp,value\"";
        return std::nullopt;
    }
    const std::string_view b(buf);
    return RowFields{util::trim(b.substr(starts[0], ends[0] - starts[0])),
                     util::trim(b.substr(starts[1], ends[1] - starts[1])), value_column};
}

} // namespace

bool is_value_csv_header(std::string_view line) {
    if (line.substr(0, k_utf8_bom.size()) == k_utf8_bom) {
        line.remove_prefix(k_utf8_bom.size());
    }
    if (line.find('"') == std::string_view::npos) {
        return util::trim(line) == "timestamp,value";
    }
    std::string buf, why;
    const auto fields = split_quoted(line, buf, why);
    return fields && fields->when == "timestamp" && fields->value == "value";
}

std::vector<decision::Sample> parse_value_csv(std::string_view text,
                                              const std::string& display_path, CsvStats* stats,
                                              util::Millis jump) {
    std::vector<decision::Sample> out;
    // NAB rows are ~30 bytes: one allocation instead of a doubling series (samples are large).
    out.reserve(text.size() / 24 + 1);
    CsvStats st;
    std::vector<util::Diagnostic> header_errors, row_errors;
    auto bad_row = [&](util::Diagnostic d) {
        if (st.bad++ == 0) {
            st.first_bad = d.where.file + ":" + std::to_string(d.where.line) + ":" +
                           std::to_string(d.where.column) + ": " + d.subject + ": " + d.problem;
        }
        if (row_errors.size() < 20) {
            row_errors.push_back(std::move(d));
        }
    };
    struct Row {
        util::SystemTime time;
        double value;
        int line;
        std::string text;
    };
    auto accept = [&](const Row& r) {
        // Equal times occur in real exports (NAB has 12 rows at one instant): the first of them
        // is the sample, the others are skipped and counted. A row going back in time (NAB's
        // machine_temperature series steps back an hour once) cannot be placed in a replay that
        // already evaluated past it: skipped and counted, as the monitor counts late log lines,
        // so one row does not cost the whole replay.
        if (!out.empty() && r.time < out.back().time) {
            if (st.out_of_order++ == 0) {
                st.first_out_of_order_line = static_cast<uint64_t>(r.line);
                st.first_out_of_order = r.text;
            }
            return;
        }
        if (!out.empty() && r.time == out.back().time) {
            ++st.duplicates;
            return;
        }
        out.push_back(decision::Sample::make_value(r.time, r.value));
    };
    auto implausible = [&](const Row& r) {
        if (st.implausible++ == 0) {
            st.first_implausible_line = static_cast<uint64_t>(r.line);
        }
    };
    // One wild date (a typo'd year) must not put every later row behind it: a row that jumps
    // ahead of the newest row (or is the first) is held with the rows near it until a row a jump
    // later confirms them or a row a jump earlier refutes them, as the access logs hold lines
    // (sources/jump_hold.hpp; docs/decision.md, "Event time and lateness").
    auto ms = [](util::SystemTime t) {
        return std::chrono::duration_cast<util::Millis>(t.time_since_epoch()).count();
    };
    JumpHold<Row> hold(jump.count());
    auto clock = [&] { return out.empty() ? INT64_MIN : ms(out.back().time); };
    auto consider = [&](Row r) {
        const int64_t t = ms(r.time);
        hold.feed(std::move(r), t, clock, accept, implausible);
    };
    int line_no = 0;
    size_t pos = 0;
    std::string quoted_buf; // the unquoted text of a row with double quotes
    while (pos < text.size()) {
        size_t nl = text.find('\n', pos);
        std::string_view line =
            text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
        pos = nl == std::string_view::npos ? text.size() : nl + 1;
        ++line_no;
        if (!line.empty() && line.back() == '\r') {
            line.remove_suffix(1);
        }
        if (line_no == 1 && line.substr(0, k_utf8_bom.size()) == k_utf8_bom) {
            line.remove_prefix(k_utf8_bom.size()); // Excel's "CSV UTF-8" starts with one
        }
        if (line_no == 1) {
            if (!is_value_csv_header(line)) {
                header_errors.push_back({{display_path, 1, 1},
                                         "header",
                                         "expected \"timestamp,value\", got " + util::quoted(line),
                                         ""});
            }
            continue;
        }
        if (util::trim(line).empty()) {
            continue;
        }
        std::string_view when, num;
        int value_column = 0;
        if (line.find('"') == std::string_view::npos) {
            const size_t comma = line.find(',');
            if (comma == std::string_view::npos) {
                bad_row({{display_path, line_no, 1}, "row", "expected \"timestamp,value\"", ""});
                continue;
            }
            when = util::trim(line.substr(0, comma));
            num = util::trim(line.substr(comma + 1));
            value_column = static_cast<int>(comma) + 2;
        } else {
            std::string why;
            const auto fields = split_quoted(line, quoted_buf, why);
            if (!fields) {
                bad_row({{display_path, line_no, 1}, "row", why, ""});
                continue;
            }
            when = fields->when;
            num = fields->value;
            value_column = fields->value_column;
        }
        auto t = parse_plain_utc(when);
        std::string why;
        if (!t) {
            t = util::parse_time(when, &why);
        }
        if (!t) {
            bad_row({{display_path, line_no, 1},
                     "timestamp",
                     "cannot read " + util::quoted(when) + ": " + why,
                     ""});
            continue;
        }
        // "+9" is 9 (spreadsheets write an explicit sign); from_chars reads no '+', and "+-9" or
        // a lone "+" stay errors.
        if (num.size() > 1 && num[0] == '+' && num[1] != '-' && num[1] != '+') {
            num.remove_prefix(1);
        }
        double v = 0;
        auto [end, ec] = std::from_chars(num.data(), num.data() + num.size(), v);
        if (ec != std::errc() || end != num.data() + num.size() || !std::isfinite(v)) {
            // nan and inf are not observations: judged as numbers they read healthy or breach.
            // "1,5" is a decimal comma (a European export): say so rather than guess a locale.
            const bool decimal_comma = num.find(',') != std::string_view::npos;
            bad_row({{display_path, line_no, value_column},
                     "value",
                     num.empty() ? std::string("no value") : "not a number: " + util::quoted(num),
                     decimal_comma ? "write the decimal separator as a point (1.5)" : ""});
            continue;
        }
        consider(Row{*t, v, line_no, std::string(line.substr(0, 200))});
    }
    // The last rows, which nothing follows, count unless they are more than a day ahead.
    hold.finish(clock, 86'400'000, accept, implausible);
    if (line_no == 0) {
        header_errors.push_back(
            {{display_path, 1, 1}, "header", "empty file; expected \"timestamp,value\"", ""});
    }
    // A bad header is not this format; rows none of which can be read are not a series. Either
    // way there is nothing to judge: every diagnostic, exit 2.
    if (!header_errors.empty() || (out.empty() && st.bad > 0)) {
        header_errors.insert(header_errors.end(), row_errors.begin(), row_errors.end());
        throw util::InvalidInput(std::move(header_errors));
    }
    if (stats) {
        *stats = std::move(st);
    }
    return out;
}

std::vector<decision::Sample> read_value_csv(const std::filesystem::path& path, CsvStats* stats,
                                             util::Millis jump) {
    return parse_value_csv(util::read_input_file(path, k_max_csv_bytes), path.string(), stats,
                           jump);
}

} // namespace rollback::sources
