// SPDX-License-Identifier: MIT
#pragma once

// A journal line read without building a JSON document, when it has the plain shape the writer
// gives nearly every record: objects of distinct keys and arrays, nested at most 8 deep, whose
// scalars are strings of printable ASCII (escapes but \u allowed), integers of at most 18
// digits, true, false and null, with no white space. Any other line — a \u escape, a byte above
// 0x7F, a fraction or an exponent, white space, a duplicate key, anything invalid — is left to
// Boost.JSON, which reads it (or says why it is not JSON) as it always has. A nested value is
// kept as its text and read when asked for. Internal to the journal module.

#include "journal/records.hpp"

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace rollback::journal {

class FlatLine;

/// Whether `text` holds a byte that is a control, above 0x7F or a backslash: eight bytes at a
/// time. A line without them (most) has strings that end at their next quote.
bool has_special_bytes(std::string_view text);

enum class FlatKind : std::uint8_t { string, integer, boolean, null, object, array };

/// One value of a plain line; the accessors are named as boost::json::value's, so one reader
/// template serves both.
/// (No default member initializers: a FlatLine's members are left unset until scanned.)
struct FlatValue {
    FlatKind kind;
    bool escaped;          ///< a string with a backslash escape
    std::int64_t integer;  ///< FlatKind::integer; FlatKind::boolean: 1 for true
    std::string_view text; ///< a string as written between its quotes; an object or array as
                           ///< written, brackets included

    bool is_string() const { return kind == FlatKind::string; }
    bool is_int64() const { return kind == FlatKind::integer; }
    bool is_object() const { return kind == FlatKind::object; }
    /// The string, its escapes decoded.
    std::string as_string() const;
    std::int64_t as_int64() const { return integer; }
    FlatLine as_object() const;
};

/// The values of a plain array, in order.
class FlatArray {
  public:
    explicit FlatArray(std::string_view text);
    std::size_t size() const { return m_items.size(); }
    const FlatValue* begin() const { return m_items.data(); }
    const FlatValue* end() const { return m_items.data() + m_items.size(); }

  private:
    std::vector<FlatValue> m_items;
};

class FlatLine {
  public:
    struct Member {
        std::string_view key;
        FlatValue value;
    };

    /// Reads `line` (a view kept: `line` must outlive the reading); false when it is not of the
    /// plain shape (then nothing is said about whether it is JSON).
    bool scan(std::string_view line);

    /// The value of `key`, nullptr when absent.
    const FlatValue* find(std::string_view key) const;

    const Member* begin() const { return m_members.data(); }
    const Member* end() const { return m_members.data() + m_count; }

    /// Most keys an object may have.
    static constexpr std::size_t k_max_members = 32;

  private:
    std::array<Member, k_max_members> m_members;
    std::size_t m_count = 0;
    mutable std::size_t m_next = 0; ///< where find() looks first
};

/// read_entry() of a line read by FlatLine: the record read_entry() gives for its JSON.
Entry read_entry(const FlatLine& line);

} // namespace rollback::journal
