// SPDX-License-Identifier: MIT
#include "playbook/toml_tree.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace rollback::playbook::tree {

bool Node::is_array_of_tables() const {
    return is_array() && m_array->is_homogeneous(Type::table);
}

template <>
std::optional<std::string> Node::value<std::string>() const {
    if (is_string()) {
        return std::string(m_string);
    }
    return std::nullopt;
}

template <>
std::optional<double> Node::value<double>() const {
    if (is_floating_point()) {
        return m_float;
    }
    if (is_integer()) {
        constexpr std::int64_t largest_whole = std::int64_t{1} << 53;
        if (m_integer < -largest_whole || m_integer > largest_whole) {
            return std::nullopt;
        }
        return static_cast<double>(m_integer);
    }
    return std::nullopt;
}

template <>
std::optional<std::int64_t> Node::value<std::int64_t>() const {
    if (is_integer()) {
        return m_integer;
    }
    if (is_boolean()) {
        return m_boolean ? 1 : 0;
    }
    if (is_floating_point()) {
        // A whole number that an int64 holds: 2^63 itself does not (-2^63 does).
        constexpr double two_63 = 9223372036854775808.0;
        if (std::isfinite(m_float) && m_float >= -two_63 && m_float < two_63 &&
            std::trunc(m_float) == m_float) {
            return static_cast<std::int64_t>(m_float);
        }
    }
    return std::nullopt;
}

const Member* Table::find(std::string_view key) const {
    if (m_size <= 8) {
        // A step's table: most keys asked for are absent, and a length tells most apart.
        for (std::uint32_t i = 0; i < m_size; ++i) {
            const Member& m = m_all[m_order[i]];
            const std::string_view k = m.key.str();
            // Keys of one length mostly differ in their first character: no call to compare.
            if (k.size() == key.size() && (k.empty() || (k[0] == key[0] && k == key))) {
                return &m;
            }
        }
        return nullptr;
    }
    const std::uint32_t* it = std::lower_bound(
        m_order, m_order + m_size, key,
        [this](std::uint32_t m, std::string_view k) { return m_all[m].key.str() < k; });
    return it != m_order + m_size && m_all[*it].key.str() == key ? m_all + *it : nullptr;
}

const Node* Table::get(std::string_view key) const {
    const Member* m = find(key);
    return m != nullptr ? &m->value : nullptr;
}

bool Array::is_homogeneous(Type t) const {
    if (m_size == 0) {
        return false;
    }
    if (t == Type::none) {
        t = (*this)[0].type();
    }
    return std::all_of(begin(), end(), [t](const Node& n) { return n.type() == t; });
}

Builder::Builder(std::shared_ptr<const std::string> text) {
    m_doc.m_text = std::move(text);
    m_tables.push_back({Region{{1, 1}, {1, 1}}, k_none, k_none, 0, nullptr}); // the root
}

Node Builder::string(std::string_view s, Region at) {
    Node n;
    n.m_type = Type::string;
    n.m_source = at;
    n.m_string = s;
    return n;
}

Node Builder::integer(std::int64_t v, Region at) {
    Node n;
    n.m_type = Type::integer;
    n.m_source = at;
    n.m_integer = v;
    return n;
}

Node Builder::floating_point(double v, Region at) {
    Node n;
    n.m_type = Type::floating_point;
    n.m_source = at;
    n.m_float = v;
    return n;
}

Node Builder::boolean(bool v, Region at) {
    Node n;
    n.m_type = Type::boolean;
    n.m_source = at;
    n.m_boolean = v;
    return n;
}

Node Builder::other(Type t, Region at) {
    Node n;
    n.m_type = t;
    n.m_source = at;
    return n;
}

Key Builder::key(std::string_view s, Region at) {
    Key k;
    k.m_text = s;
    k.m_source = at;
    return k;
}

Node Builder::table(Region at, bool inline_) {
    Node n;
    n.m_type = Type::table;
    n.m_inline = inline_;
    n.m_source = at;
    n.m_index = static_cast<std::uint32_t>(m_tables.size());
    m_tables.push_back({at, k_none, k_none, 0, nullptr});
    return n;
}

Node Builder::array(Region at, bool inline_) {
    Node n;
    n.m_type = Type::array;
    n.m_inline = inline_;
    n.m_source = at;
    n.m_index = static_cast<std::uint32_t>(m_arrays.size());
    m_arrays.push_back({at, 0, k_none});
    return n;
}

void Builder::reserve(std::size_t members, std::size_t items) {
    m_doc.m_members.reserve(members);
    m_member_table.reserve(members);
    m_member_next.reserve(members);
    m_doc.m_items.reserve(items);
    m_item_array.reserve(items);
}

const Node* Builder::find(std::uint32_t table, std::string_view key) const {
    const TableInfo& t = m_tables[table];
    const std::vector<Member>& members = m_doc.m_members;
    if (t.index) {
        auto it = t.index->find(key);
        return it == t.index->end() ? nullptr : &members[it->second].value;
    }
    for (std::uint32_t i = t.first; i != k_none; i = m_member_next[i]) {
        if (members[i].key.str() == key) {
            return &members[i].value;
        }
    }
    return nullptr;
}

bool Builder::add(std::uint32_t table, const Key& key, const Node& value) {
    if (find(table, key.str()) != nullptr) {
        return false;
    }
    const auto at = static_cast<std::uint32_t>(m_doc.m_members.size());
    m_doc.m_members.push_back({key, value});
    m_member_table.push_back(table);
    m_member_next.push_back(k_none);
    TableInfo& t = m_tables[table];
    if (t.last == k_none) {
        t.first = at;
    } else {
        m_member_next[t.last] = at;
    }
    t.last = at;
    ++t.count;
    if (t.index) {
        t.index->emplace(key.str(), at);
    } else if (t.count > k_scan_limit) {
        // A long table (thousands of [vars]) is looked up by hash: linear, not quadratic.
        t.index = std::make_unique<std::unordered_map<std::string_view, std::uint32_t>>();
        for (std::uint32_t i = t.first; i != k_none; i = m_member_next[i]) {
            t.index->emplace(m_doc.m_members[i].key.str(), i);
        }
    }
    return true;
}

void Builder::append(std::uint32_t array, const Node& value) {
    ArrayInfo& a = m_arrays[array];
    a.last = static_cast<std::uint32_t>(m_doc.m_items.size());
    ++a.count;
    m_doc.m_items.push_back(value);
    m_item_array.push_back(array);
}

std::string_view Builder::keep(std::string_view s) {
    auto block = std::make_unique<char[]>(s.size() + 1);
    std::memcpy(block.get(), s.data(), s.size());
    std::string_view kept(block.get(), s.size());
    m_doc.m_strings.push_back(std::move(block));
    return kept;
}

namespace {

/// Indices of `owner` grouped by owner (0..owners-1), each group in increasing index: a
/// counting sort. `starts` gets each group's first position (and the total at the end).
std::vector<std::uint32_t> group(const std::vector<std::uint32_t>& owner, std::size_t owners,
                                 std::vector<std::uint32_t>& starts) {
    starts.assign(owners + 1, 0);
    for (std::uint32_t o : owner) {
        ++starts[o + 1];
    }
    for (std::size_t i = 1; i < starts.size(); ++i) {
        starts[i] += starts[i - 1];
    }
    std::vector<std::uint32_t> order(owner.size());
    std::vector<std::uint32_t> next(starts.begin(), starts.end() - 1);
    for (std::uint32_t i = 0; i < owner.size(); ++i) {
        order[next[owner[i]]++] = i;
    }
    return order;
}

} // namespace

Document Builder::finish() && {
    Document& d = m_doc;
    std::vector<std::uint32_t> member_at, item_at;
    d.m_member_order = group(m_member_table, m_tables.size(), member_at);
    d.m_item_order = group(m_item_array, m_arrays.size(), item_at);
    d.m_tables.resize(m_tables.size());
    d.m_arrays.resize(m_arrays.size());
    for (std::size_t t = 0; t < m_tables.size(); ++t) {
        Table& table = d.m_tables[t];
        table.m_all = d.m_members.data();
        table.m_order = d.m_member_order.data() + member_at[t];
        table.m_size = member_at[t + 1] - member_at[t];
        table.m_source = m_tables[t].at;
        auto* first = d.m_member_order.data() + member_at[t];
        std::sort(first, first + table.m_size, [&d](std::uint32_t a, std::uint32_t b) {
            return d.m_members[a].key.str() < d.m_members[b].key.str();
        });
    }
    for (std::size_t a = 0; a < m_arrays.size(); ++a) {
        Array& array = d.m_arrays[a];
        array.m_all = d.m_items.data();
        array.m_order = d.m_item_order.data() + item_at[a];
        array.m_size = item_at[a + 1] - item_at[a];
        array.m_source = m_arrays[a].at;
    }
    auto resolve = [&d](Node& n) {
        if (n.m_type == Type::table) {
            n.m_table = &d.m_tables[n.m_index];
        } else if (n.m_type == Type::array) {
            n.m_array = &d.m_arrays[n.m_index];
        }
    };
    for (Member& m : d.m_members) {
        resolve(m.value);
    }
    for (Node& n : d.m_items) {
        resolve(n);
    }
    return std::move(m_doc);
}

} // namespace rollback::playbook::tree
