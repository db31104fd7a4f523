// SPDX-License-Identifier: MIT
#pragma once

// A parsed TOML document as the loaders read it: tables, arrays and values, each with where it is
// written, held in a few blocks owned by the Document (toml++'s tree holds a heap node, a map node
// and a shared file name per value: for a 20,000-step playbook about 20 MB, and most of the time
// of loading it). Read only once built. TomlReader::parse builds it (toml_tree_parse.cpp reads
// plain documents itself; any other goes through toml++, whose tree is copied into one).

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace rollback::playbook::tree {

/// toml++'s node_type, in its order.
enum class Type : std::uint8_t {
    none,
    table,
    array,
    string,
    integer,
    floating_point,
    boolean,
    date,
    time,
    date_time
};

/// 1-based; the column counts code points (a tab is one), as toml++ counts them.
struct Position {
    std::uint32_t line = 0;
    std::uint32_t column = 0;
};

/// Where a key or a node is written: `begin` is its first character; `end`, one past its last,
/// is exact for keys and for values that are not tables (a table's is its begin).
struct Region {
    Position begin;
    Position end;
};

class Table;
class Array;

class Node {
  public:
    Type type() const { return m_type; }
    const Region& source() const { return m_source; }

    bool is_table() const { return m_type == Type::table; }
    bool is_array() const { return m_type == Type::array; }
    bool is_string() const { return m_type == Type::string; }
    bool is_integer() const { return m_type == Type::integer; }
    bool is_floating_point() const { return m_type == Type::floating_point; }
    bool is_number() const { return is_integer() || is_floating_point(); }
    bool is_boolean() const { return m_type == Type::boolean; }
    /// A non-empty array whose every element is a table (toml++'s is_array_of_tables).
    bool is_array_of_tables() const;

    /// The value of a node of that type ("", 0, 0.0, false for another type).
    std::string_view string() const { return is_string() ? m_string : std::string_view(); }
    std::int64_t integer() const { return is_integer() ? m_integer : 0; }
    double floating_point() const { return is_floating_point() ? m_float : 0.0; }
    bool boolean() const { return is_boolean() && m_boolean; }
    const Table* as_table() const { return is_table() ? m_table : nullptr; }
    const Array* as_array() const { return is_array() ? m_array : nullptr; }

    /// toml++'s node::value<T>() for T = std::string (a string), std::int64_t (an integer, a
    /// boolean as 0 or 1, or a float that is a whole number in range) and double (a float, or
    /// an integer within ±2^53).
    template <typename T>
    std::optional<T> value() const;

  private:
    friend class Builder;
    Type m_type = Type::none;
    bool m_inline = false; ///< a table or array written within one value ({...} or [...])
    Region m_source;
    union {
        std::string_view m_string;
        std::int64_t m_integer;
        double m_float;
        bool m_boolean;
        const Table* m_table;
        const Array* m_array;
        std::uint32_t m_index; ///< of a table or an array, while the document is built
    };

  public:
    Node() : m_integer(0) {}
};

class Key {
  public:
    std::string_view str() const { return m_text; }
    const Region& source() const { return m_source; }

  private:
    friend class Builder;
    std::string_view m_text;
    Region m_source;
};

template <>
std::optional<std::string> Node::value<std::string>() const;
template <>
std::optional<std::int64_t> Node::value<std::int64_t>() const;
template <>
std::optional<double> Node::value<double>() const;

/// One key of a table and its value (`for (auto&& [key, value] : table)`).
struct Member {
    Key key;
    Node value;
};

/// Walks members (or elements) kept apart from their order: `*it` is `all[order[i]]`.
template <typename T>
class OrderIterator {
  public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = T;
    using difference_type = std::ptrdiff_t;
    using pointer = const T*;
    using reference = const T&;

    OrderIterator(const T* all, const std::uint32_t* at) : m_all(all), m_at(at) {}
    const T& operator*() const { return m_all[*m_at]; }
    const T* operator->() const { return m_all + *m_at; }
    OrderIterator& operator++() {
        ++m_at;
        return *this;
    }
    bool operator==(const OrderIterator& o) const { return m_at == o.m_at; }
    bool operator!=(const OrderIterator& o) const { return m_at != o.m_at; }

  private:
    const T* m_all;
    const std::uint32_t* m_at;
};

/// Members in byte order of their keys (toml++'s order).
class Table {
  public:
    using iterator = OrderIterator<Member>;

    /// The value of `key`, nullptr when absent.
    const Node* get(std::string_view key) const;
    bool contains(std::string_view key) const { return get(key) != nullptr; }
    /// The member of `key`, nullptr when absent.
    const Member* find(std::string_view key) const;
    /// The value of `key` when it is a table / an array, else nullptr.
    const Table* get_table(std::string_view key) const {
        const Node* n = get(key);
        return n != nullptr ? n->as_table() : nullptr;
    }
    const Array* get_array(std::string_view key) const {
        const Node* n = get(key);
        return n != nullptr ? n->as_array() : nullptr;
    }

    iterator begin() const { return {m_all, m_order}; }
    iterator end() const { return {m_all, m_order + m_size}; }
    std::size_t size() const { return m_size; }
    bool empty() const { return m_size == 0; }
    const Region& source() const { return m_source; }

  private:
    friend class Builder;
    const Member* m_all = nullptr;
    const std::uint32_t* m_order = nullptr;
    std::uint32_t m_size = 0;
    Region m_source;
};

class Array {
  public:
    using iterator = OrderIterator<Node>;

    iterator begin() const { return {m_all, m_order}; }
    iterator end() const { return {m_all, m_order + m_size}; }
    std::size_t size() const { return m_size; }
    bool empty() const { return m_size == 0; }
    /// Element `i`, nullptr past the end.
    const Node* get(std::size_t i) const { return i < m_size ? m_all + m_order[i] : nullptr; }
    const Node& operator[](std::size_t i) const { return m_all[m_order[i]]; }
    /// Whether every element is of type `t` (false when empty, as toml++'s is_homogeneous);
    /// Type::none: of one type, whichever.
    bool is_homogeneous(Type t) const;
    const Region& source() const { return m_source; }

  private:
    friend class Builder;
    const Node* m_all = nullptr;
    const std::uint32_t* m_order = nullptr;
    std::uint32_t m_size = 0;
    Region m_source;
};

/// A whole document: its root table and everything under it. Movable; the views it hands out
/// stay valid as long as it lives (moved or not).
class Document {
  public:
    const Table& root() const { return m_tables.front(); }

  private:
    friend class Builder;
    std::shared_ptr<const std::string> m_text; ///< the text plain strings and keys are views of
    std::vector<std::unique_ptr<char[]>> m_strings; ///< decoded strings and keys
    std::vector<Table> m_tables;                    ///< [0]: the root
    std::vector<Array> m_arrays;
    std::vector<Member> m_members;             ///< as added
    std::vector<std::uint32_t> m_member_order; ///< each table's together, by key
    std::vector<Node> m_items;                 ///< as appended
    std::vector<std::uint32_t> m_item_order;   ///< each array's together, in order
};

/// Builds a Document: tables and arrays get an index when made, members and elements are added
/// in any order, and finish() orders each table's members and each array's elements.
class Builder {
  public:
    /// `text`: what views given to key() and the value makers point into (kept alive).
    explicit Builder(std::shared_ptr<const std::string> text);
    /// Room for about this many members and elements (a guess: more are taken as they come).
    void reserve(std::size_t members, std::size_t items);

    static Node string(std::string_view s, Region at);
    static Node integer(std::int64_t v, Region at);
    static Node floating_point(double v, Region at);
    static Node boolean(bool v, Region at);
    /// A date, time or date-time: only its type and place are kept (no loader reads one).
    static Node other(Type t, Region at);
    static Key key(std::string_view s, Region at);

    /// A new empty table / array, and a node for it. `inline_`: written as {...} / [...].
    Node table(Region at, bool inline_ = false);
    Node array(Region at, bool inline_ = false);
    /// The index of the table / array `n` (made by table() / array()) is, while building.
    static std::uint32_t index_of(const Node& n) { return n.m_index; }
    static bool is_inline(const Node& n) { return n.m_inline; }
    /// `n` placed at `at` instead.
    static Node placed(Node n, Region at) {
        n.m_source = at;
        return n;
    }

    /// Adds `key` = `value` to table `table`; false (nothing added) when the key is there.
    bool add(std::uint32_t table, const Key& key, const Node& value);
    /// The value of `key` in table `table` as added so far, nullptr when absent.
    const Node* find(std::uint32_t table, std::string_view key) const;
    void append(std::uint32_t array, const Node& value);
    /// The last element appended to array `array` (which has one).
    const Node& last(std::uint32_t array) const { return m_doc.m_items[m_arrays[array].last]; }

    /// A copy of `s` that lives as long as the document.
    std::string_view keep(std::string_view s);

    Document finish() &&;

  private:
    struct TableInfo {
        Region at;
        std::uint32_t first, last, count;
        /// Past k_scan_limit members, a key finds its member here instead of by a walk.
        std::unique_ptr<std::unordered_map<std::string_view, std::uint32_t>> index;
    };
    struct ArrayInfo {
        Region at;
        std::uint32_t count, last;
    };
    static constexpr std::uint32_t k_none = 0xFFFFFFFFu;
    static constexpr std::uint32_t k_scan_limit = 16;

    Document m_doc; ///< its members and items are filled as they come
    std::vector<TableInfo> m_tables;
    std::vector<ArrayInfo> m_arrays;
    std::vector<std::uint32_t> m_member_table; ///< by member: its table
    std::vector<std::uint32_t> m_member_next;  ///< by member: its table's next one, or k_none
    std::vector<std::uint32_t> m_item_array;   ///< by element: its array
};

/// Parses `text` when it is a plain document — TOML 1.0 without floats, dates, times,
/// multi-line strings, integers other than decimal ones of at most 18 digits, empty keys, a
/// byte order mark, control characters or C1 code points, or a table defined in more than the
/// one obvious way — and nullopt for anything else, valid or not (then toml++ reads it). What
/// it returns is what toml++ gives for the same text (tests/unit/test_playbook_toml_tree.cpp).
std::optional<Document> parse_plain(std::shared_ptr<const std::string> text);

} // namespace rollback::playbook::tree
