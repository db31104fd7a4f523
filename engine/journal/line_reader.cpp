// SPDX-License-Identifier: MIT
#include "journal/line_reader.hpp"

#include "journal/line.hpp"
#include "journal/step_line.hpp"
#include "journal/writer.hpp"
#include "util/error.hpp"

#include <algorithm>
#include <boost/json/monotonic_resource.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

namespace rollback::journal {
namespace {

/// What breaks the hash chain at line `i` (0-based) whose text is `text` and object `obj`, given
/// the SHA-256 of the line before it (`prev`, updated to this line's); "" when it links.
std::string link_problem(std::string_view text, const boost::json::object& obj, size_t i,
                         char (&prev)[64]) {
    auto split = line::split_hash(text);
    if (!split) {
        return "no \"hash\" field at the end of the line";
    }
    const line::Hashes hashes = line::hash_line(text, *split);
    if (!hashes.matches) {
        return "hash mismatch: the record's bytes were changed";
    }
    const auto* seq = obj.if_contains("seq");
    boost::system::error_code ec;
    if (seq == nullptr || !seq->is_number() ||
        seq->to_number<std::int64_t>(ec) != static_cast<std::int64_t>(i) || ec) {
        return "seq " + std::to_string(i) + " expected, found " +
               (seq != nullptr ? boost::json::serialize(*seq) : "none") +
               " (a record was deleted, inserted or moved)";
    }
    const auto* p = obj.if_contains("prev");
    if (p == nullptr || !p->is_string() || p->as_string() != std::string_view(prev, sizeof prev)) {
        return "\"prev\" is not the SHA-256 of line " + std::to_string(i) +
               " (a record before it was changed, deleted or moved)";
    }
    std::copy(std::begin(hashes.line), std::end(hashes.line), prev);
    return {};
}

} // namespace

std::string header_problem(const boost::json::object& h, const fs::path& file) {
    const auto* type = h.if_contains("type");
    const auto* format = h.if_contains("format");
    if (type == nullptr || !type->is_string() || type->as_string() != "header" ||
        format == nullptr || !format->is_string() || format->as_string() != k_format_name) {
        return "journal " + file.string() + " is not a rollback journal (line 1 is not its header)";
    }
    const auto* version = h.if_contains("version");
    if (version == nullptr || !version->is_int64()) {
        return "journal " + file.string() + " has no format version in its header";
    }
    if (version->as_int64() != k_format_version) {
        return "journal " + file.string() + " has format version " +
               std::to_string(version->as_int64()) + "; this rollback reads version " +
               std::to_string(k_format_version) +
               (version->as_int64() > k_format_version ? " — use a newer rollback" : "");
    }
    return {};
}

LineReader::LineReader(Journal& j, Keep keep, const RecordSink* each)
    : m_j(j), m_keep(keep), m_each(each) {
    std::copy(k_zero_hash.begin(), k_zero_hash.end(), m_prev);
}

std::string LineReader::take(std::string_view text, std::uint64_t end) {
    // The header goes the general way: its checks give the messages of a foreign file.
    std::string why;
    if (m_j.lines == 0 || !take_flat(text)) {
        why = take_parsed(text);
    }
    if (!why.empty()) {
        return why;
    }
    if (m_keep == Keep::records) {
        m_j.spans.emplace_back(m_j.text.size(), text.size());
        m_j.text.append(text);
        m_j.text += '\n';
    }
    m_j.valid_bytes = end;
    ++m_j.lines;
    return {};
}

bool LineReader::take_flat(std::string_view text) {
    // A step's record as written (most lines) is read field after field; any other through
    // FlatLine's table of keys. Both give the same record (test_journal_step_line.cpp).
    const bool step_line = read_step_line(text, m_step);
    if (!step_line && !m_flat.scan(text)) {
        return false;
    }
    if (m_j.chain_problem.empty()) {
        // Only a line that links: the general way words a break, as it always has.
        const auto split = line::split_hash(text);
        if (!split) {
            return false;
        }
        const line::Hashes hashes = line::hash_line(text, *split);
        bool links = false;
        if (step_line) {
            links = m_step.entry.seq == static_cast<std::int64_t>(m_j.lines) &&
                    m_step.prev == std::string_view(m_prev, sizeof m_prev);
        } else {
            const FlatValue* seq = m_flat.find("seq");
            const FlatValue* prev = m_flat.find("prev");
            links = seq != nullptr && seq->is_int64() &&
                    seq->integer == static_cast<std::int64_t>(m_j.lines) && prev != nullptr &&
                    prev->is_string() && !prev->escaped &&
                    prev->text == std::string_view(m_prev, sizeof m_prev);
        }
        if (!hashes.matches || !links) {
            return false;
        }
        std::copy(std::begin(hashes.line), std::end(hashes.line), m_prev);
        m_j.last_hash.assign(m_prev, sizeof m_prev);
    }
    if (m_keep == Keep::handed) {
        (*m_each)(step_line ? std::move(m_step.entry) : read_entry(m_flat));
    } else if (m_keep == Keep::records) {
        m_j.records.push_back(step_line ? std::move(m_step.entry) : read_entry(m_flat));
    }
    return true;
}

std::string LineReader::take_parsed(std::string_view text) {
    // Parsed into an arena reused line after line (the first 64 KiB inside this reader) and
    // read into its typed record: no parsed document outlives its line.
    boost::json::monotonic_resource mr(m_arena, sizeof m_arena);
    m_parser.reset(boost::json::storage_ptr(&mr));
    boost::system::error_code ec;
    m_parser.write(text.data(), text.size(), ec);
    std::string why;
    if (ec) {
        why = "not valid JSON (" + ec.message() + ")";
    }
    boost::json::value v = why.empty() ? m_parser.release() : boost::json::value();
    if (why.empty() && !v.is_object()) {
        why = "not a JSON object";
    }
    if (!why.empty()) {
        m_parser.reset(); // what it built of the line goes while its arena is still there
        return why;
    }
    const boost::json::object& obj = v.as_object();
    const std::size_t i = m_j.lines;
    if (m_j.chain_problem.empty()) {
        m_j.chain_problem = link_problem(text, obj, i, m_prev);
        if (!m_j.chain_problem.empty()) {
            m_j.chain_problem = "line " + std::to_string(i + 1) + " (seq " + std::to_string(i) +
                                "): " + m_j.chain_problem;
            m_j.warnings.push_back("journal " + m_j.file.string() +
                                   " is NOT intact: " + m_j.chain_problem +
                                   " — run 'rollback audit verify RUN_ID' to check it");
        } else {
            m_j.last_hash.assign(m_prev, sizeof m_prev);
        }
    }
    if (i == 0) {
        // The version decides how to read everything after it, so it is checked first.
        if (std::string problem = header_problem(obj, m_j.file); !problem.empty()) {
            throw util::Error(problem, util::ExitCode::invalid);
        }
        m_j.header = read_entry(obj);
        if (m_keep == Keep::handed && m_each->header) {
            m_each->header(m_j.header);
        }
    } else if (m_keep == Keep::handed) {
        (*m_each)(read_entry(obj));
    } else if (m_keep == Keep::records) {
        m_j.records.push_back(read_entry(obj));
    }
    return {};
}

} // namespace rollback::journal
