// SPDX-License-Identifier: MIT
#include "util/error.hpp"

#include "util/source_mask.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>

namespace rollback::util {
namespace {

// The text of a regular file (never a FIFO or a device: a diagnostic must not hang), at most
// k_max_text bytes, read once, with the offset of every line's start: every diagnostic of a file
// takes its line from here, so formatting N diagnostics is linear in the file (break-it 45 F4:
// reading the file again for each one was quadratic).
constexpr size_t k_max_text = size_t{16} << 20;

// A shown line is at most k_max_line bytes of it.
constexpr size_t k_max_line = size_t{1} << 20;

size_t g_source_reads = 0;

class SourceText {
  public:
    explicit SourceText(const std::string& file) {
        std::error_code ec;
        if (!std::filesystem::is_regular_file(file, ec)) {
            return;
        }
        ++g_source_reads;
        std::ifstream in(file, std::ios::binary);
        const auto size = std::filesystem::file_size(file, ec);
        m_text.resize(ec ? k_max_text : std::min<size_t>(size, k_max_text));
        in.read(m_text.data(), static_cast<std::streamsize>(m_text.size()));
        m_text.resize(static_cast<size_t>(std::max<std::streamsize>(0, in.gcount())));
        m_starts.push_back(0);
        for (size_t i = m_text.find('\n'); i != std::string::npos; i = m_text.find('\n', i + 1)) {
            m_starts.push_back(i + 1);
        }
    }

    /// The `line`-th line (1-based) without its end of line, or empty past the end.
    std::string line(int line) const {
        if (line < 1 || static_cast<size_t>(line) > m_starts.size()) {
            return {};
        }
        const size_t from = m_starts[static_cast<size_t>(line) - 1];
        size_t to = static_cast<size_t>(line) < m_starts.size()
                        ? m_starts[static_cast<size_t>(line)] - 1
                        : m_text.size();
        if (from == m_text.size() && static_cast<size_t>(line) == m_starts.size() && line > 1) {
            return {}; // after the last newline: no such line
        }
        std::string out = m_text.substr(from, std::min(to - from, k_max_line));
        if (!out.empty() && out.back() == '\r') {
            out.pop_back();
        }
        return out;
    }

    /// The text from the file's start to the end of the `line`-th line (its newline included):
    /// what a TOML line needs to be masked (source_mask.hpp).
    std::string_view through(int line) const {
        if (line < 1 || static_cast<size_t>(line) > m_starts.size()) {
            return {};
        }
        const size_t to = static_cast<size_t>(line) < m_starts.size()
                              ? m_starts[static_cast<size_t>(line)]
                              : m_text.size();
        return std::string_view(m_text).substr(0, to);
    }

  private:
    std::string m_text;
    std::vector<size_t> m_starts;
};

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

std::string format_with(const Diagnostic& d, std::string_view severity, const SourceText* source) {
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
            src = toml_line_masked(source->through(d.where.line), d.where.line, column);
        } else if (d.echo == SourceEcho::dotenv) {
            src = dotenv_line_masked(source->line(d.where.line), column);
        } else {
            src = source->line(d.where.line);
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

} // namespace

size_t source_reads() {
    return g_source_reads;
}

std::string format_diagnostic(const Diagnostic& d, std::string_view severity) {
    const bool echoes = !d.where.file.empty() && d.where.line > 0;
    const SourceText source(echoes ? d.where.file : std::string());
    return format_with(d, severity, &source);
}

std::string format_diagnostics(const std::vector<Diagnostic>& ds, std::string_view severity) {
    struct PerFile {
        std::unique_ptr<SourceText> source;
        size_t shown = 0;
        size_t more = 0;
    };
    std::map<std::string, PerFile> files;
    std::vector<std::string> order; // files with diagnostics left out, in order of their first
    std::string out;
    for (const auto& d : ds) {
        PerFile& f = files[d.where.file];
        if (f.shown >= k_max_shown_per_file) {
            if (f.more++ == 0) {
                order.push_back(d.where.file);
            }
            continue;
        }
        ++f.shown;
        if (!f.source && !d.where.file.empty() && d.where.line > 0) {
            f.source = std::make_unique<SourceText>(d.where.file);
        }
        const SourceText none{std::string()};
        out += format_with(d, severity, f.source ? f.source.get() : &none);
    }
    for (const std::string& file : order) {
        const size_t more = files[file].more;
        out += (file.empty() ? std::string() : file + ": ") + "and " + std::to_string(more) +
               " more " + std::string(severity) + (more == 1 ? "" : "s") +
               " not shown (the first " + std::to_string(k_max_shown_per_file) +
               " of a file are; validate --json lists all)\n";
    }
    return out;
}

} // namespace rollback::util
