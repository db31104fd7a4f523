// SPDX-License-Identifier: MIT
#pragma once

// Reading a run's journal, and verifying its hash chain (`rollback audit verify`).

#include "journal/records.hpp"

#include <boost/json/object.hpp>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace rollback::journal {

namespace fs = std::filesystem;

/// A journal as read from disk: every line parsed once into a typed record; the lines' text is
/// kept for what needs the records exactly as written (`report --json`).
struct Journal {
    fs::path file;
    Entry header;                      ///< line 1 (seq 0), a Header
    std::vector<Entry> records;        ///< lines 2.., in file order (seq 1, 2, ...)
    std::vector<std::string> warnings; ///< e.g. the torn last record that was ignored
    /// Byte length of the complete lines (where a resumed writer continues).
    std::uint64_t valid_bytes = 0;
    /// Complete lines read as records, header included (the next record's seq).
    std::size_t lines = 0;
    /// SHA-256 of the last of those lines while the chain links (the next record's "prev");
    /// meaningful only when chain_problem is "".
    std::string last_hash;
    /// "" when the hash chain of the complete records links (as `audit verify` checks it), else
    /// the first break: "line 3 (seq 2): hash mismatch: ...". Also one of `warnings`.
    std::string chain_problem;
    /// The text of the lines read, and where each record's line is in it (header first).
    std::string text;
    std::vector<std::pair<std::size_t, std::size_t>> spans; ///< offset, length per line

    std::string run_id() const; ///< header "run_id", "" when absent
    const Header& header_fields() const { return std::get<Header>(header.record); }
    /// Line `i` (0 = the header, i = records[i - 1]) as written, without its newline; "" for a
    /// journal built in memory.
    std::string_view line(std::size_t i) const;
    /// Line `i` parsed again as JSON, exactly as written (its "prev" and "hash" included).
    boost::json::object object(std::size_t i) const;
};

/// Where read() hands each record instead of keeping it (a fold that needs no record twice).
/// Made from a callable of each record; `header`, when set, is given the header first, before
/// any record (what relates the records to it, e.g. `report`'s elapsed times, needs no record
/// kept either).
struct RecordSink {
    std::function<void(Entry&&)> record;
    std::function<void(const Entry&)> header = {};

    template <typename F>
    requires(!std::is_same_v<std::remove_cvref_t<F>, RecordSink> &&
             std::is_invocable_v<F&, Entry&&>) RecordSink(F each)
        : record(std::move(each)) {} // NOLINT(google-explicit-constructor)
    RecordSink(std::function<void(Entry&&)> each, std::function<void(const Entry&)> on_header)
        : record(std::move(each)), header(std::move(on_header)) {}
    void operator()(Entry&& e) const { record(std::move(e)); }
};

/// Reads and parses `file`. A torn or unparseable LAST line is dropped with a warning
/// ("journal X: last record is incomplete (crash while writing?); ignored"). Throws util::Error
/// (exit 2) when the file is missing or unreadable, empty ("journal X is empty"), has a bad line
/// before the last ("journal X:LINE: ..."), is not a rollback journal, or has an unknown version
/// ("journal X has format version 7; this rollback reads version 1 — use a newer rollback").
/// With `each`, every record after the header is handed to it in order and neither the records
/// nor the text are kept (the result holds the header, the warnings and valid_bytes): a long
/// run is folded without holding its records.
Journal read(const fs::path& file, const RecordSink* each = nullptr);

/// read() for a writer that continues the journal: every line is parsed and the header and the
/// hash chain are checked as read() checks them (the same errors and warnings, `valid_bytes`,
/// `lines`, `last_hash`, `chain_problem`), but no record after the header is read or kept.
Journal read_chain(const fs::path& file);

/// read() of a journal's `content` kept elsewhere; `file` names it in messages.
Journal parse(std::string_view content, const fs::path& file, const RecordSink* each = nullptr);

/// One journal line (without its newline) read into its typed record; nullopt when it is not
/// a JSON object.
std::optional<Entry> parse_entry(std::string_view line);

/// The last complete record of `file`, read from its end alone (no more than `max_line` bytes):
/// how a watcher learns whether a run has finished without reading its whole journal. nullopt
/// when the file cannot be read, holds no complete line after its header, or its last complete
/// line is longer than `max_line` or not a JSON object.
std::optional<Entry> last_entry(const fs::path& file, std::size_t max_line = 64 * 1024);

/// The outcome of verify(): ok, or the first bad line and what is wrong with it.
struct Verification {
    bool ok = false;
    std::size_t lines = 0;     ///< complete lines checked (header included)
    std::size_t bad_line = 0;  ///< 1-based line number of the first bad line; 0 when ok
    std::int64_t bad_seq = -1; ///< the seq that line should have (= bad_line - 1); -1 when ok
    std::string problem; ///< e.g. "hash mismatch: the line was changed", "seq 5 expected, got 6"
    /// The bad line is not a JSON object the reader can parse, but its hash matches its bytes:
    /// unreadable as written (a writer's fault), not tampered with.
    bool unreadable = false;
};

/// Checks every line of `file`: valid JSON object, "seq" = its index, "prev" = SHA-256 of the
/// previous line's bytes, "hash" = SHA-256 of the line without its hash field, header format and
/// version. Detects any changed, deleted (except a deleted last line), inserted or reordered
/// line, and a torn tail. Throws util::Error (exit 2) only when the file cannot be read.
Verification verify(const fs::path& file);

/// verify() of a journal's `content` kept elsewhere (a store's table, a file to import); `file`
/// names it in messages.
Verification verify_content(std::string_view content, const fs::path& file);

/// The "run_id" of `content`'s first line when it is a journal header; "" otherwise (no complete
/// first line, not a JSON object, not a header). A journal is its run's evidence only when its
/// header names the run: a file renamed, or written over by another run's, does not.
std::string header_run_id(std::string_view content);

} // namespace rollback::journal
