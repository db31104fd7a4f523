// SPDX-License-Identifier: MIT
#include "util/error.hpp"

#include "util/source_mask.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>

namespace rollback::util {
namespace {

// The `line`-th line of a regular file (never a FIFO or a device: a diagnostic must not hang),
// at most k_max_line bytes of it.
constexpr size_t k_max_line = size_t{1} << 20;

// With `through`, the text from the file's start to the end of that line instead (at most
// k_max_through bytes): what a TOML line needs to be masked (source_mask.hpp).
constexpr size_t k_max_through = size_t{16} << 20;

std::string read_line(const std::string& file, int line, bool through = false) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(file, ec)) {
        return {};
    }
    std::ifstream in(file, std::ios::binary);
    std::string text;
    int at = 1;
    for (std::istreambuf_iterator<char> it(in), end; it != end; ++it) {
        const char ch = *it;
        if (through && text.size() < k_max_through) {
            text += ch;
        }
        if (ch == '\n') {
            if (at == line) {
                break;
            }
            ++at;
        } else if (!through && at == line && text.size() < k_max_line) {
            text += ch;
        }
    }
    if (through) {
        return at == line ? text : std::string();
    }
    if (at != line) {
        return {};
    }
    if (!text.empty() && text.back() == '\r') {
        text.pop_back();
    }
    return text;
}

// A long source line is shown as about k_context bytes around the column, cut at UTF-8
// boundaries and marked "..." where cut; `column` (1-based) is moved into the excerpt.
constexpr size_t k_context = 120;

std::string excerpt(const std::string& src, int& column) {
    if (src.size() <= k_context + 40) {
        return src;
    }
    const size_t col = static_cast<size_t>(std::max(1, column)) - 1;
    size_t from = col > k_context / 2 ? col - k_context / 2 : 0;
    size_t to = std::min(src.size(), from + k_context);
    auto continuation = [&](size_t i) {
        return i < src.size() && (static_cast<unsigned char>(src[i]) & 0xC0) == 0x80;
    };
    while (from > 0 && continuation(from)) {
        --from;
    }
    while (to < src.size() && continuation(to)) {
        ++to;
    }
    std::string out =
        (from > 0 ? "..." : "") + src.substr(from, to - from) + (to < src.size() ? "..." : "");
    column = static_cast<int>(col - from + (from > 0 ? 3 : 0)) + 1;
    return out;
}

} // namespace

std::string format_diagnostic(const Diagnostic& d, std::string_view severity) {
    std::string out;
    if (!d.where.file.empty()) {
        out += d.where.file;
        if (d.where.line > 0) {
            // Appended piece by piece: g++ 12 -O3 warns falsely (-Wrestrict) on `":" +
            // to_string()`.
            out += ':';
            out += std::to_string(d.where.line);
            out += ':';
            out += std::to_string(std::max(1, d.where.column));
        }
        out += ": ";
    }
    out += severity;
    out += ": ";
    if (!d.subject.empty()) {
        out += d.subject + ": ";
    }
    out += d.problem + "\n";
    if (!d.where.file.empty() && d.where.line > 0) {
        int column = d.where.column;
        std::string src;
        if (d.echo == SourceEcho::toml_masked) {
            src =
                toml_line_masked(read_line(d.where.file, d.where.line, true), d.where.line, column);
        } else if (d.echo == SourceEcho::dotenv) {
            src = dotenv_line_masked(read_line(d.where.file, d.where.line), column);
        } else {
            src = read_line(d.where.file, d.where.line);
        }
        src = excerpt(url_userinfo_masked(src, column), column);
        if (!src.empty()) {
            // Tabs stay tabs under the caret so it lines up in any terminal.
            std::string pad;
            for (int i = 0; i + 1 < column && i < static_cast<int>(src.size()); ++i) {
                pad += src[static_cast<size_t>(i)] == '\t' ? '\t' : ' ';
            }
            out += "    " + src + "\n    " + pad + "^\n";
        }
    }
    if (!d.hint.empty()) {
        out += "  hint: " + d.hint + "\n";
    }
    return out;
}

std::string format_diagnostics(const std::vector<Diagnostic>& ds) {
    std::string out;
    for (const auto& d : ds) {
        out += format_diagnostic(d);
    }
    return out;
}

} // namespace rollback::util
