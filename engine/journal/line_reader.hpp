// SPDX-License-Identifier: MIT
#pragma once

// Reading a journal line after line, whoever cuts the lines (reader.cpp: a whole text, or a file
// read in chunks): each line parsed once, its link in the hash chain checked, its record kept,
// handed on or dropped. Internal to the journal module.

#include "journal/flat_line.hpp"
#include "journal/reader.hpp"
#include "journal/step_line.hpp"

#include <boost/json/parser.hpp>
#include <cstdint>
#include <string>
#include <string_view>

namespace rollback::journal {

/// How a journal line is parsed: a byte that is not UTF-8 inside a string is read as it is. This
/// rollback writes none (util::valid_utf8), but earlier ones wrote a step's output as it came,
/// and such a line is a record as written, its hash intact (docs/journal.md).
inline boost::json::parse_options line_parse_options() {
    boost::json::parse_options o;
    o.allow_invalid_utf8 = true;
    return o;
}

/// The header problem, or "" when the header is one this rollback reads.
std::string header_problem(const boost::json::object& h, const fs::path& file);

/// What a reading keeps of each record after the header.
enum class Keep {
    records, ///< the typed records and the lines' text (Journal::records, text, spans)
    handed,  ///< nothing: each typed record is handed to a RecordSink
    none,    ///< nothing, and no record is read (the chain and the header are still checked)
};

class LineReader {
  public:
    LineReader(Journal& j, Keep keep, const RecordSink* each);
    LineReader(const LineReader&) = delete;
    LineReader& operator=(const LineReader&) = delete;

    /// Reads the next line, `text` (without its newline), which ends at byte `end` of the
    /// journal. Returns "" when it is a record (Journal::valid_bytes is then `end`), else why it
    /// is not (nothing of it kept). Throws util::Error for a header this rollback cannot read.
    std::string take(std::string_view text, std::uint64_t end);

  private:
    /// take() of a line after the header of FlatLine's plain shape that links in the chain (or
    /// follows a break); false, nothing done, for any other line: the general way reads it.
    bool take_flat(std::string_view text);
    /// take() through a JSON document: every line the flat way does not take.
    std::string take_parsed(std::string_view text);

    Journal& m_j;
    Keep m_keep;
    const RecordSink* m_each;
    FlatLine m_flat;
    StepLine m_step; ///< the last line read_step_line read
    boost::json::parser m_parser{boost::json::storage_ptr(), line_parse_options()};
    char m_prev[64]; ///< SHA-256 of the last line that linked
    alignas(16) unsigned char m_arena[64 * 1024];
};

} // namespace rollback::journal
