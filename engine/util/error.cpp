// SPDX-License-Identifier: MIT
#include "util/error.hpp"

#include <algorithm>
#include <fstream>

namespace rollback::util {
namespace {

std::string read_line(const std::string& file, int line) {
    std::ifstream in(file, std::ios::binary);
    std::string text;
    for (int i = 1; in && std::getline(in, text); ++i) {
        if (i == line) {
            if (!text.empty() && text.back() == '\r') {
                text.pop_back();
            }
            return text;
        }
    }
    return {};
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
        std::string src = read_line(d.where.file, d.where.line);
        if (!src.empty()) {
            // Tabs stay tabs under the caret so it lines up in any terminal.
            std::string pad;
            for (int i = 0; i + 1 < d.where.column && i < static_cast<int>(src.size()); ++i) {
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
