// SPDX-License-Identifier: MIT
#include "sources/csv.hpp"

#include "util/error.hpp"
#include "util/files.hpp"
#include "util/strings.hpp"

#include <charconv>

namespace rollback::sources {

std::vector<decision::Sample> parse_value_csv(std::string_view text,
                                              const std::string& display_path) {
    std::vector<decision::Sample> out;
    std::vector<util::Diagnostic> errors;
    int line_no = 0;
    size_t pos = 0;
    while (pos < text.size() && errors.size() < 20) {
        size_t nl = text.find('\n', pos);
        std::string_view line =
            text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
        pos = nl == std::string_view::npos ? text.size() : nl + 1;
        ++line_no;
        if (!line.empty() && line.back() == '\r') {
            line.remove_suffix(1);
        }
        if (line_no == 1) {
            if (util::trim(line) != "timestamp,value") {
                errors.push_back({{display_path, 1, 1},
                                  "header",
                                  "expected \"timestamp,value\", got " + util::quoted(line),
                                  ""});
            }
            continue;
        }
        if (util::trim(line).empty()) {
            continue;
        }
        size_t comma = line.find(',');
        if (comma == std::string_view::npos) {
            errors.push_back(
                {{display_path, line_no, 1}, "row", "expected \"timestamp,value\"", ""});
            continue;
        }
        auto t = util::parse_time(util::trim(line.substr(0, comma)));
        if (!t) {
            errors.push_back({{display_path, line_no, 1},
                              "timestamp",
                              "cannot read " + util::quoted(line.substr(0, comma)),
                              ""});
            continue;
        }
        std::string_view num = util::trim(line.substr(comma + 1));
        double v = 0;
        auto [end, ec] = std::from_chars(num.data(), num.data() + num.size(), v);
        if (ec != std::errc() || end != num.data() + num.size()) {
            errors.push_back({{display_path, line_no, static_cast<int>(comma) + 2},
                              "value",
                              "not a number: " + util::quoted(num),
                              ""});
            continue;
        }
        // Equal times occur in real exports (NAB has 12 rows at one instant); the evaluator keeps
        // the first of them. Going backwards is an error.
        if (!out.empty() && *t < out.back().time) {
            errors.push_back(
                {{display_path, line_no, 1}, "timestamp", "before the previous row's time", ""});
            continue;
        }
        out.push_back(decision::Sample::make_value(*t, v));
    }
    if (line_no == 0) {
        errors.push_back(
            {{display_path, 1, 1}, "header", "empty file; expected \"timestamp,value\"", ""});
    }
    if (!errors.empty()) {
        throw util::InvalidInput(std::move(errors));
    }
    return out;
}

std::vector<decision::Sample> read_value_csv(const std::filesystem::path& path) {
    return parse_value_csv(util::read_file(path), path.string());
}

} // namespace rollback::sources
