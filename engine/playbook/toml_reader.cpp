// SPDX-License-Identifier: MIT
#include "playbook/toml_reader.hpp"

#include "playbook/parsed_file_tree.hpp"
#include "playbook/toml_tree_copy.hpp"
#include "util/files.hpp"
#include "util/strings.hpp"

#include <algorithm>

namespace rollback::playbook {

std::string_view type_name(tree::Type t) {
    switch (t) {
    case tree::Type::string:
        return "a string";
    case tree::Type::integer:
        return "an integer";
    case tree::Type::floating_point:
        return "a float";
    case tree::Type::boolean:
        return "a boolean";
    case tree::Type::date:
        return "a date";
    case tree::Type::time:
        return "a time";
    case tree::Type::date_time:
        return "a date-time";
    case tree::Type::array:
        return "an array";
    case tree::Type::table:
        return "a table";
    case tree::Type::none:
        break;
    }
    return "nothing";
}

namespace {

// What toml++ 3.3 is never given (it recurses once per level of nesting, and so does every walk
// of its tree; a non-ASCII byte in a bare key reaches an unreachable branch of its lexer): the
// first place where the text nests deeper than k_max_toml_depth (dotted keys, table headers,
// inline tables and arrays, counted together) or holds a byte above 0x7F outside a string or a
// comment (TOML 1.0 allows them nowhere else). A conservative lexical pass: strings and comments
// are skipped, the rest is counted; what it lets through, toml++ parses in full.
class ShapeCheck {
  public:
    explicit ShapeCheck(std::string_view text) : m_text(text) {}

    std::optional<util::Diagnostic> run(const std::string& path) {
        m_stack.push_back({0, true}); // the document: keys at the current header's depth
        if (m_text.substr(0, 3) == "\xEF\xBB\xBF") {
            m_pos = 3; // a UTF-8 byte order mark, which toml++ skips
        }
        while (m_pos < m_text.size()) {
            const char c = m_text[m_pos];
            if (static_cast<unsigned char>(c) > 0x7F) {
                return at(path, "non-ASCII character outside a string or a comment",
                          "quote the key: \"μ\" = ...");
            }
            if (c == '#') {
                skip_to_line_end();
                continue;
            }
            if (c == '"' || c == '\'') {
                if (!skip_string()) {
                    return std::nullopt; // unterminated: toml++ reports it
                }
                continue;
            }
            if (c == '\n') {
                newline();
                continue;
            }
            if (step(c)) {
                return at(path,
                          "nested deeper than " + std::to_string(k_max_toml_depth) + " levels",
                          "dotted keys, [table.headers], inline tables and arrays count alike");
            }
            advance();
        }
        return std::nullopt;
    }

  private:
    struct Frame {
        int depth;   // depth of the values written in this frame
        bool is_key; // keys are written here: a table (document or inline table)
    };

    // True when `c` makes the text too deep.
    bool step(char c) {
        Frame& top = m_stack.back();
        const bool document = m_stack.size() == 1;
        if (document && m_line_start && c == '[') {
            m_in_header = true;
            m_header_depth = 1;
            m_line_start = false;
            return false;
        }
        if (c == ' ' || c == '\t' || c == '\r') {
            return false;
        }
        m_line_start = false;
        if (m_in_header) {
            if (c == '.') {
                return ++m_header_depth > k_max_toml_depth;
            }
            if (c == ']') {
                m_in_header = false;
                m_stack.front().depth = m_header_depth;
            }
            return false;
        }
        if (top.is_key && m_in_key) {
            if (c == '.') {
                return ++m_key_depth + top.depth > k_max_toml_depth;
            }
            if (c == '=') {
                m_in_key = false;
                m_value_depth = top.depth + m_key_depth;
            }
            return false;
        }
        if (c == '[' || c == '{') {
            const int depth = (top.is_key ? m_value_depth : top.depth) + 1;
            m_stack.push_back({depth, c == '{'});
            m_in_key = c == '{';
            m_key_depth = 1;
            return depth > k_max_toml_depth;
        }
        if ((c == ']' || c == '}') && m_stack.size() > 1) {
            m_stack.pop_back();
            m_in_key = false;
            return false;
        }
        if (c == ',' && top.is_key && m_stack.size() > 1) {
            m_in_key = true; // the next key of an inline table
            m_key_depth = 1;
        }
        return false;
    }

    void newline() {
        advance();
        if (m_stack.size() == 1) {
            m_line_start = true;
            m_in_key = true;
            m_key_depth = 1;
            m_in_header = false;
        }
    }

    void advance() {
        if (m_text[m_pos] == '\n') {
            ++m_line;
            m_column = 1;
        } else {
            ++m_column;
        }
        ++m_pos;
    }

    void skip_to_line_end() {
        while (m_pos < m_text.size() && m_text[m_pos] != '\n') {
            advance();
        }
    }

    // Skips a basic or literal string, single- or multi-line. False when it does not end.
    bool skip_string() {
        m_line_start = false;
        const char q = m_text[m_pos];
        const bool multi = m_text.substr(m_pos, 3) == std::string(3, q);
        for (int i = 0; i < (multi ? 3 : 1); ++i) {
            advance();
        }
        while (m_pos < m_text.size()) {
            const char c = m_text[m_pos];
            if (c == '\\' && q == '"' && m_pos + 1 < m_text.size()) {
                advance();
                advance();
                continue;
            }
            if (c == '\n' && !multi) {
                return true; // unterminated on its line: toml++ reports it
            }
            if (c == q && (!multi || m_text.substr(m_pos, 3) == std::string(3, q))) {
                for (int i = 0; i < (multi ? 3 : 1); ++i) {
                    advance();
                }
                // Up to two more quotes may close a multi-line string ("""a""""").
                while (multi && m_pos < m_text.size() && m_text[m_pos] == q) {
                    advance();
                }
                return true;
            }
            advance();
        }
        return false;
    }

    std::optional<util::Diagnostic> at(const std::string& path, std::string problem,
                                       std::string hint) const {
        return util::Diagnostic{{path, m_line, m_column},
                                "syntax",
                                std::move(problem),
                                std::move(hint),
                                util::SourceEcho::toml_masked};
    }

    std::string_view m_text;
    size_t m_pos = 0;
    int m_line = 1, m_column = 1;
    std::vector<Frame> m_stack;
    bool m_line_start = true, m_in_header = false, m_in_key = true;
    int m_header_depth = 0, m_key_depth = 1, m_value_depth = 0;
};

} // namespace

TomlReader::TomlReader(std::string display_path) : m_path(std::move(display_path)) {}

std::optional<tree::Document> TomlReader::parse(std::string text) {
    auto shared = std::make_shared<const std::string>(std::move(text));
    // A plain document (nearly every playbook and config) is read without toml++; what it gives
    // up on, toml++ reads as before. parse_plain keeps within limits ShapeCheck never refuses.
    if (auto plain = tree::parse_plain(shared)) {
        return plain;
    }
    if (auto bad = ShapeCheck(*shared).run(m_path)) {
        m_diagnostics.push_back(std::move(*bad));
        return std::nullopt;
    }
    try {
        const toml::table root = toml::parse(*shared, m_path);
        return tree::copy_of(root, shared);
    } catch (const toml::parse_error& e) {
        // Errors at end of input can point one past the last line; keep them on a real line.
        util::Location at{m_path, static_cast<int>(e.source().begin.line),
                          static_cast<int>(e.source().begin.column)};
        at.line = std::max(1, at.line);
        at.column = std::max(1, at.column);
        // Nothing of the file was read, so no secret in it is registered: the line is shown
        // with its strings masked.
        error(at, "syntax", std::string(e.description()));
        m_diagnostics.back().echo = util::SourceEcho::toml_masked;
        return std::nullopt;
    }
}

util::Location TomlReader::where(tree::Position p) const {
    return {m_path, static_cast<int>(p.line), static_cast<int>(p.column)};
}

util::Location TomlReader::key_where(const tree::Table& table, std::string_view key) const {
    const tree::Member* m = table.find(key);
    return m == nullptr ? where(table) : where(m->key);
}

void TomlReader::error(util::Location at, std::string_view subject, std::string problem,
                       std::string hint) {
    m_diagnostics.push_back(
        {std::move(at), std::string(subject), std::move(problem), std::move(hint)});
}

bool TomlReader::check_keys(const tree::Table& table, std::string_view subject,
                            const std::vector<std::string>& allowed) {
    bool all_known = true;
    for (auto&& [k, v] : table) {
        if (std::find(allowed.begin(), allowed.end(), k.str()) != allowed.end()) {
            continue;
        }
        all_known = false;
        std::string problem = "unknown key " + util::quoted(k.str());
        if (auto guess = util::closest_match(k.str(), allowed); !guess.empty()) {
            problem += " (did you mean " + util::quoted(guess) + "?)";
        }
        error(where(k), subject, std::move(problem));
    }
    return all_known;
}

void TomlReader::type_error(const tree::Node& n, std::string_view key, std::string_view subject,
                            std::string_view expected) {
    error(where(n), subject,
          "key " + util::quoted(key) + ": expected " + std::string(expected) + ", got " +
              std::string(type_name(n.type())));
}

std::optional<std::string> TomlReader::get_string(const tree::Table& t, std::string_view key,
                                                  std::string_view subject) {
    const tree::Node* n = t.get(key);
    if (n == nullptr) {
        return std::nullopt;
    }
    if (n->is_string()) {
        return std::string(n->string());
    }
    type_error(*n, key, subject, "a string");
    return std::nullopt;
}

std::optional<int64_t> TomlReader::get_int(const tree::Table& t, std::string_view key,
                                           std::string_view subject, int64_t min, int64_t max) {
    const tree::Node* n = t.get(key);
    if (n == nullptr) {
        return std::nullopt;
    }
    if (!n->is_integer()) {
        type_error(*n, key, subject, "an integer");
        return std::nullopt;
    }
    int64_t v = n->integer();
    if (v < min || v > max) {
        error(where(*n), subject,
              "key " + util::quoted(key) + ": " + std::to_string(v) + " is out of range (" +
                  std::to_string(min) + ".." + std::to_string(max) + ")");
        return std::nullopt;
    }
    return v;
}

std::optional<bool> TomlReader::get_bool(const tree::Table& t, std::string_view key,
                                         std::string_view subject) {
    const tree::Node* n = t.get(key);
    if (n == nullptr) {
        return std::nullopt;
    }
    if (!n->is_boolean()) {
        type_error(*n, key, subject, "a boolean");
        return std::nullopt;
    }
    return n->boolean();
}

std::optional<util::Millis> TomlReader::get_duration(const tree::Table& t, std::string_view key,
                                                     std::string_view subject) {
    const tree::Node* n = t.get(key);
    if (n == nullptr) {
        return std::nullopt;
    }
    if (!n->is_string()) {
        type_error(*n, key, subject, "a duration string like \"30s\"");
        return std::nullopt;
    }
    const std::string_view text = n->string();
    if (auto d = util::parse_duration(text)) {
        return d;
    }
    error(where(*n), subject,
          "key " + util::quoted(key) + ": invalid duration " + util::quoted(text),
          "write a number and a unit: \"250ms\", \"30s\", \"5m\", \"1h30m\" (at most "
          "3650d)");
    return std::nullopt;
}

std::optional<std::vector<std::string>>
TomlReader::get_string_array(const tree::Table& t, std::string_view key, std::string_view subject) {
    const tree::Node* n = t.get(key);
    if (n == nullptr) {
        return std::nullopt;
    }
    const tree::Array* arr = n->as_array();
    if (arr == nullptr) {
        type_error(*n, key, subject, "an array of strings");
        return std::nullopt;
    }
    std::vector<std::string> out;
    bool ok = true;
    for (size_t i = 0; i < arr->size(); ++i) {
        const tree::Node& e = *arr->get(i);
        if (!e.is_string()) {
            error(where(e), subject,
                  "key " + util::quoted(key) + ": expected an array of strings, element " +
                      std::to_string(i + 1) + " is " + std::string(type_name(e.type())));
            ok = false;
            continue;
        }
        out.emplace_back(e.string());
    }
    if (!ok) {
        return std::nullopt;
    }
    return out;
}

const tree::Table* TomlReader::get_table(const tree::Table& t, std::string_view key,
                                         std::string_view subject) {
    const tree::Node* n = t.get(key);
    if (n == nullptr) {
        return nullptr;
    }
    if (!n->is_table()) {
        type_error(*n, key, subject, "a table");
        return nullptr;
    }
    return n->as_table();
}

bool TomlReader::require(const tree::Table& t, std::string_view key, std::string_view subject,
                         util::Location at) {
    if (t.contains(key)) {
        return true;
    }
    error(std::move(at), subject, "missing required key " + util::quoted(key));
    return false;
}

std::shared_ptr<const ParsedFile> parse_file(const std::filesystem::path& file) {
    auto parsed = std::make_shared<ParsedFile>();
    parsed->file = file;
    std::string text = util::read_input_file(file, util::k_max_config_bytes);
    TomlReader reader(file.string());
    parsed->root = reader.parse(std::move(text));
    parsed->errors = reader.diagnostics();
    return parsed;
}

void TomlReader::throw_if_errors() const {
    if (!m_diagnostics.empty()) {
        throw util::InvalidInput(m_diagnostics);
    }
}

} // namespace rollback::playbook
