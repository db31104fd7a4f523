// SPDX-License-Identifier: MIT
#include "playbook/toml_tree_copy.hpp"

namespace rollback::playbook::tree {
namespace {

Position position(const toml::source_position& p) {
    return {static_cast<std::uint32_t>(p.line), static_cast<std::uint32_t>(p.column)};
}

Region region(const toml::source_region& r) {
    return {position(r.begin), position(r.end)};
}

/// A table's place is its beginning (its end is not kept: Region).
Region table_region(const toml::source_region& r) {
    return {position(r.begin), position(r.begin)};
}

class Copier {
  public:
    explicit Copier(Builder& b) : m_b(b) {}

    void table(const toml::table& from, std::uint32_t to) {
        for (auto&& [k, v] : from) {
            m_b.add(to, Builder::key(m_b.keep(k.str()), region(k.source())), node(v));
        }
    }

  private:
    Node node(const toml::node& n) {
        switch (n.type()) {
        case toml::node_type::table: {
            const toml::table& t = *n.as_table();
            Node out = m_b.table(table_region(n.source()), t.is_inline());
            table(t, Builder::index_of(out));
            return out;
        }
        case toml::node_type::array: {
            Node out = m_b.array(region(n.source()));
            for (const toml::node& item : *n.as_array()) {
                const Node copied = node(item); // made before it is appended: arrays nest
                m_b.append(Builder::index_of(out), copied);
            }
            return out;
        }
        case toml::node_type::string:
            return Builder::string(m_b.keep(n.as_string()->get()), region(n.source()));
        case toml::node_type::integer:
            return Builder::integer(n.as_integer()->get(), region(n.source()));
        case toml::node_type::floating_point:
            return Builder::floating_point(n.as_floating_point()->get(), region(n.source()));
        case toml::node_type::boolean:
            return Builder::boolean(n.as_boolean()->get(), region(n.source()));
        case toml::node_type::date:
            return Builder::other(Type::date, region(n.source()));
        case toml::node_type::time:
            return Builder::other(Type::time, region(n.source()));
        case toml::node_type::date_time:
            return Builder::other(Type::date_time, region(n.source()));
        case toml::node_type::none:
            break;
        }
        return Builder::other(Type::none, region(n.source()));
    }

    Builder& m_b;
};

} // namespace

Document copy_of(const toml::table& root, std::shared_ptr<const std::string> text) {
    Builder b(std::move(text));
    Copier(b).table(root, 0);
    return std::move(b).finish();
}

} // namespace rollback::playbook::tree
