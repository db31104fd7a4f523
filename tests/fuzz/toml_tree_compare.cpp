// SPDX-License-Identifier: MIT
#include "toml_tree_compare.hpp"

#include "playbook/toml_tree.hpp"
#include "playbook/toml_tree_copy.hpp"

#include <cstring>

namespace rollback::fuzz {
namespace {

namespace tree = playbook::tree;

std::string text_of(const tree::Position& p) {
    return std::to_string(p.line) + ":" + std::to_string(p.column);
}

std::string text_of(const tree::Region& r) {
    return text_of(r.begin) + "-" + text_of(r.end);
}

bool same(const tree::Position& a, const tree::Position& b) {
    return a.line == b.line && a.column == b.column;
}

class Comparer {
  public:
    std::string difference;

    bool tables(const tree::Table& a, const tree::Table& b, const std::string& path) {
        if (!same(a.source().begin, b.source().begin)) {
            return differ(path + ": table at " + text_of(a.source().begin) + ", toml++ " +
                          text_of(b.source().begin));
        }
        if (a.size() != b.size()) {
            return differ(path + ": " + std::to_string(a.size()) + " keys, toml++ " +
                          std::to_string(b.size()));
        }
        for (auto x = a.begin(), y = b.begin(); x != a.end(); ++x, ++y) {
            const std::string at = path + "." + std::string(x->key.str());
            if (x->key.str() != y->key.str()) {
                return differ(at + ": toml++ has key " + std::string(y->key.str()) + " here");
            }
            if (!same(x->key.source().begin, y->key.source().begin) ||
                !same(x->key.source().end, y->key.source().end)) {
                return differ(at + ": key at " + text_of(x->key.source()) + ", toml++ " +
                              text_of(y->key.source()));
            }
            if (!nodes(x->value, y->value, at)) {
                return false;
            }
        }
        return true;
    }

  private:
    bool differ(std::string what) {
        difference = std::move(what);
        return false;
    }

    bool nodes(const tree::Node& a, const tree::Node& b, const std::string& path) {
        if (a.type() != b.type()) {
            return differ(path + ": type " + std::to_string(static_cast<int>(a.type())) +
                          ", toml++ " + std::to_string(static_cast<int>(b.type())));
        }
        if (!same(a.source().begin, b.source().begin)) {
            return differ(path + ": at " + text_of(a.source()) + ", toml++ " + text_of(b.source()));
        }
        // The end of a table, or of an array of tables (toml++ stretches it over the tables),
        // is no place any loader reads.
        const bool ends = !a.is_table() && !a.is_array_of_tables();
        if (ends && !same(a.source().end, b.source().end)) {
            return differ(path + ": at " + text_of(a.source()) + ", toml++ " + text_of(b.source()));
        }
        switch (a.type()) {
        case tree::Type::string:
            return a.string() == b.string() || differ(path + ": another string");
        case tree::Type::integer:
            return a.integer() == b.integer() || differ(path + ": another integer");
        case tree::Type::boolean:
            return a.boolean() == b.boolean() || differ(path + ": another boolean");
        case tree::Type::floating_point: {
            const double x = a.floating_point(), y = b.floating_point();
            return std::memcmp(&x, &y, sizeof x) == 0 || differ(path + ": another float");
        }
        case tree::Type::table:
            return tables(*a.as_table(), *b.as_table(), path);
        case tree::Type::array: {
            const tree::Array& x = *a.as_array();
            const tree::Array& y = *b.as_array();
            if (x.size() != y.size()) {
                return differ(path + ": " + std::to_string(x.size()) + " elements, toml++ " +
                              std::to_string(y.size()));
            }
            for (std::size_t i = 0; i < x.size(); ++i) {
                if (!nodes(x[i], y[i], path + "[" + std::to_string(i) + "]")) {
                    return false;
                }
            }
            return true;
        }
        default:
            return true;
        }
    }
};

} // namespace

TomlTreeComparison compare_toml_tree(std::string_view text) {
    TomlTreeComparison out;
    auto shared = std::make_shared<const std::string>(text);
    auto plain = tree::parse_plain(shared);
    if (!plain) {
        return out;
    }
    out.plain = true;
    toml::table reference;
    try {
        reference = toml::parse(*shared, std::string_view("doc.toml"));
    } catch (const toml::parse_error& e) {
        out.difference = "toml++ refuses it: " + std::string(e.description());
        return out;
    }
    const tree::Document theirs = tree::copy_of(reference, shared);
    Comparer c;
    c.tables(plain->root(), theirs.root(), "");
    out.difference = c.difference;
    return out;
}

} // namespace rollback::fuzz
