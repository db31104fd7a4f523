// SPDX-License-Identifier: MIT
#pragma once

// Reading a TOML file into located diagnostics: the shared toolkit of the TOML loaders (playbook,
// rollback.toml). Every getter reports problems into the reader and keeps going, so a loader can
// collect every error of a file in one pass and throw util::InvalidInput once at the end.

#include "playbook/toml_tree.hpp"
#include "util/duration.hpp"
#include "util/error.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rollback::playbook {

/// How deep a TOML document may nest: dotted-key segments, table-header segments, inline tables
/// and arrays, counted together. Real playbooks and configs use fewer than 10.
inline constexpr int k_max_toml_depth = 64;

/// "a string", "an integer", "a float", "a boolean", "an array", "a table", "a date", ...
std::string_view type_name(tree::Type t);

class TomlReader {
  public:
    /// `display_path` is the file name as the user wrote it; it starts every diagnostic.
    explicit TomlReader(std::string display_path);

    /// Parses a whole document (tree::parse_plain, else toml++). On a syntax error appends one
    /// diagnostic (subject "syntax", toml++'s description, located at line ≥ 1) and returns
    /// nullopt. Never throws. Text nested deeper than k_max_toml_depth levels, or with a
    /// non-ASCII byte outside strings and comments, is refused the same way before toml++ sees
    /// it.
    std::optional<tree::Document> parse(std::string text);

    util::Location where(const tree::Region& r) const { return where(r.begin); }
    util::Location where(tree::Position p) const;
    util::Location where(const tree::Node& n) const { return where(n.source()); }
    util::Location where(const tree::Key& k) const { return where(k.source()); }
    util::Location where(const tree::Table& t) const { return where(t.source()); }
    /// Where `key` is written in `table` (the key itself); the table's own place when absent.
    util::Location key_where(const tree::Table& table, std::string_view key) const;

    void error(util::Location at, std::string_view subject, std::string problem,
               std::string hint = {});

    /// Reports each key of `table` not in `allowed` as `unknown key "x" (did you mean "y"?)`,
    /// located at the key. Returns true when every key is allowed.
    bool check_keys(const tree::Table& table, std::string_view subject,
                    const std::vector<std::string>& allowed);

    // Typed getters. A missing key yields nullopt and no diagnostic (use `require` for required
    // keys); a present key of the wrong type or with an invalid value yields nullopt and a
    // diagnostic `key "k": expected an integer, got a string` located at the value.
    std::optional<std::string> get_string(const tree::Table& t, std::string_view key,
                                          std::string_view subject);
    std::optional<int64_t> get_int(const tree::Table& t, std::string_view key,
                                   std::string_view subject, int64_t min, int64_t max);
    std::optional<bool> get_bool(const tree::Table& t, std::string_view key,
                                 std::string_view subject);
    /// A duration string ("30s", "1h30m") parsed by util::parse_duration.
    std::optional<util::Millis> get_duration(const tree::Table& t, std::string_view key,
                                             std::string_view subject);
    std::optional<std::vector<std::string>>
    get_string_array(const tree::Table& t, std::string_view key, std::string_view subject);
    const tree::Table* get_table(const tree::Table& t, std::string_view key,
                                 std::string_view subject);

    /// Reports `missing required key "k"` at `at` when `key` is absent; returns whether present.
    bool require(const tree::Table& t, std::string_view key, std::string_view subject,
                 util::Location at);

    /// Reports `key "k": expected <expected>, got <type>` at the node.
    void type_error(const tree::Node& n, std::string_view key, std::string_view subject,
                    std::string_view expected);

    const std::string& display_path() const { return m_path; }
    const std::vector<util::Diagnostic>& diagnostics() const { return m_diagnostics; }
    bool ok() const { return m_diagnostics.empty(); }
    /// Throws util::InvalidInput with every diagnostic collected so far, if there is any.
    void throw_if_errors() const;

  private:
    std::string m_path;
    std::vector<util::Diagnostic> m_diagnostics;
};

} // namespace rollback::playbook
