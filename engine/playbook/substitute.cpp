// SPDX-License-Identifier: MIT
// Context-aware substitution of {{variables}}: a value stays a value in a shell word, SQL, JSON,
// a URL or a header (docs/playbook.md, "Variables").
#include "playbook/variables.hpp"

#include "util/encode.hpp"
#include "util/secrets.hpp"
#include "util/strings.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>

namespace rollback::playbook {

std::string_view to_string(Encoding e) {
    switch (e) {
    case Encoding::plain:
        return "plain";
    case Encoding::shell:
        return "shell";
    case Encoding::sql:
        return "sql";
    case Encoding::url:
        return "url";
    case Encoding::header:
        return "header";
    case Encoding::json:
        return "json";
    case Encoding::form:
        return "form";
    case Encoding::argv:
        return "argv";
    }
    return "plain";
}

namespace {

bool is_ident_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
}

// Where the literal text written so far leaves a /bin/sh parser: the quoting of the innermost
// open construct. 'u' unquoted, 's' in '...', 'd' in "...", '(' in $(...), '`' in `...`,
// '{' in ${...}, 'a' in $((...)), 'h' in a here-document's body. In the last three, and after
// an `eval`, no quoting keeps a value one word: the shell parses or evaluates it once more
// (parameter-expansion words, arithmetic, here-document lines ending the document), so a
// reference there is refused (unsafe()).
class ShellState {
  public:
    void advance(std::string_view text) {
        for (size_t i = 0; i < text.size(); ++i) {
            if (m_nested_depth != 0 && m_stack.size() < m_nested_depth) {
                m_nested_depth = 0; // the nested command string closed
            }
            char c = text[i];
            char top = m_stack.back();
            if (top == 'h') {
                // A here-document's body: lines until the delimiter alone on a line.
                if (c == '\n') {
                    std::string_view line(m_line);
                    if (m_strip_tabs) {
                        line.remove_prefix(std::min(line.find_first_not_of('\t'), line.size()));
                    }
                    if (line == m_delimiter) {
                        m_stack.pop_back();
                    }
                    m_line.clear();
                } else {
                    m_line += c;
                }
                continue;
            }
            if (c == '\n' && !m_pending_delimiter.empty() && top == 'u') {
                m_delimiter = m_pending_delimiter;
                m_pending_delimiter.clear();
                m_line.clear();
                m_stack.push_back('h');
                continue;
            }
            if (top == 'u') {
                track_word(c);
            }
            if (top == 's') {
                if (c == '\'') {
                    m_stack.pop_back();
                }
            } else if (c == '\\') {
                ++i; // the next character is literal (in "..." too for the ones that matter)
            } else if (c == '$' && text.substr(i, 3) == "$((") {
                m_stack.push_back('a');
                i += 2;
            } else if (c == '$' && i + 1 < text.size() && text[i + 1] == '(') {
                m_stack.push_back('(');
                ++i;
            } else if (c == '$' && i + 1 < text.size() && text[i + 1] == '{') {
                m_stack.push_back('{');
                ++i;
            } else if (top == 'a') {
                if (text.substr(i, 2) == "))") {
                    m_stack.pop_back();
                    ++i;
                }
            } else if (c == '}' && top == '{') {
                m_stack.pop_back();
            } else if (c == '`') {
                if (top == '`') {
                    m_stack.pop_back();
                } else {
                    m_stack.push_back('`');
                }
            } else if (top == 'd') {
                if (c == '"') {
                    m_stack.pop_back();
                }
            } else if (c == '\'') {
                push_quote('s', top);
            } else if (c == '"') {
                push_quote('d', top);
            } else if (c == ')' && top == '(') {
                m_stack.pop_back();
            } else if (c == '<' && top == 'u' && text.substr(i, 2) == "<<" &&
                       text.substr(i, 3) != "<<<") {
                i = read_delimiter(text, i + 2);
            } else if (top != 'd' && is_word_start(text, i) && text.substr(i, 4) == "eval" &&
                       (i + 4 >= text.size() || is_blank(text[i + 4]))) {
                m_eval = true;
            }
        }
    }
    /// Why a value cannot be one word here, or empty when it can.
    std::string unsafe() const {
        if (m_nested_depth != 0 && m_stack.size() >= m_nested_depth) {
            // (checked again here: the literal text may end right after the quote closed)
            return "inside a command string another shell parses again (" + m_nested_by + ")";
        }
        switch (m_stack.back()) {
        case '{':
            return "inside ${...}";
        case 'a':
            return "inside $((...)) arithmetic";
        case 'h':
            return "inside a here-document (a line of the value could end it)";
        default:
            return m_eval ? "after eval (the shell parses the line twice)" : "";
        }
    }
    // The value as one word of the command, in the quoting the reference is written in.
    std::string encode(std::string_view value) const {
        switch (m_stack.back()) {
        case 's': // inside '...': close, an escaped quote, reopen
            return util::replace_all(std::string(value), "'", "'\\''");
        case 'd': // inside "...": close it, one single-quoted word, reopen
            return "\"" + util::shell_quote(value) + "\"";
        default:
            return util::shell_quote(value);
        }
    }

  private:
    /// The words of the current simple command, unquoted context only (enough to see
    /// `sh -c`, `bash -lc`, `su -c`, `ssh HOST` before a quoted string).
    void track_word(char c) {
        if (c == ';' || c == '\n' || c == '|' || c == '&') {
            m_words.clear();
            m_word.clear();
        } else if (c == ' ' || c == '\t') {
            if (!m_word.empty()) {
                m_words.push_back(m_word);
                m_word.clear();
            }
        } else if (c != '\'' && c != '"') {
            m_word += c;
        }
    }
    /// A quote opened in unquoted context: when the words before it run their argument through
    /// another shell, everything inside is parsed twice.
    void push_quote(char kind, char top) {
        m_stack.push_back(kind);
        if (top != 'u' || m_nested_depth != 0) {
            return;
        }
        std::vector<std::string> words = m_words;
        if (!m_word.empty()) {
            words.push_back(m_word);
        }
        auto base = [](const std::string& w) {
            size_t slash = w.rfind('/');
            return slash == std::string::npos ? w : w.substr(slash + 1);
        };
        for (size_t i = 0; i < words.size(); ++i) {
            const std::string b = base(words[i]);
            const bool shell = b == "sh" || b == "bash" || b == "dash" || b == "ksh" ||
                               b == "zsh" || b == "ash" || b == "su";
            if (b == "ssh" || b == "eval") {
                m_nested_depth = m_stack.size();
                m_nested_by = b;
                return;
            }
            if (shell) {
                for (size_t k = i + 1; k < words.size(); ++k) {
                    const std::string& w = words[k];
                    if (w.size() >= 2 && w[0] == '-' && w[1] != '-' &&
                        w.find('c') != std::string::npos) {
                        m_nested_depth = m_stack.size();
                        m_nested_by = b + " " + w;
                        return;
                    }
                }
            }
        }
    }
    static bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\n' || c == ';'; }
    static bool is_word_start(std::string_view text, size_t i) {
        return i == 0 || std::string_view(" \t\n;&|(").find(text[i - 1]) != std::string_view::npos;
    }
    /// After `<<`: `-` strips tabs; the delimiter word (quoted or not) is read; its body begins
    /// after the end of the line. Returns the index of the word's last character.
    size_t read_delimiter(std::string_view text, size_t i) {
        m_strip_tabs = i < text.size() && text[i] == '-';
        if (m_strip_tabs) {
            ++i;
        }
        while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) {
            ++i;
        }
        std::string word;
        for (; i < text.size() && !is_blank(text[i]) && text[i] != '<' && text[i] != '>' &&
               text[i] != '|' && text[i] != '&' && text[i] != ')';
             ++i) {
            if (text[i] != '\'' && text[i] != '"' && text[i] != '\\') {
                word += text[i];
            }
        }
        if (!word.empty()) {
            m_pending_delimiter = word;
        }
        return i - 1;
    }

    std::vector<char> m_stack{'u'};
    std::vector<std::string> m_words;
    std::string m_word;
    size_t m_nested_depth = 0; ///< the stack size at the nested script's opening quote; 0: none
    std::string m_nested_by;
    bool m_eval = false;
    bool m_strip_tabs = false;
    std::string m_pending_delimiter, m_delimiter, m_line;
};

// Where the literal SQL written so far leaves PostgreSQL's lexer.
class SqlState {
  public:
    enum Where { code, string, ident, dollar, line_comment, block_comment };

    void advance(std::string_view text, const std::string& out_so_far) {
        for (size_t i = 0; i < text.size(); ++i) {
            char c = text[i];
            char next = i + 1 < text.size() ? text[i + 1] : '\0';
            switch (m_where) {
            case code:
                if (c == '\'') {
                    m_where = string;
                    // Where the literal's content begins in the output.
                    m_string_start = out_so_far.size() + i + 1;
                } else if (c == '"') {
                    m_where = ident;
                } else if (c == '-' && next == '-') {
                    m_where = line_comment;
                    ++i;
                } else if (c == '/' && next == '*') {
                    m_where = block_comment;
                    m_depth = 1;
                    ++i;
                } else if (c == '$' && (i == 0 || !is_ident_char(text[i - 1]))) {
                    size_t close = text.find('$', i + 1);
                    if (close != std::string_view::npos) {
                        std::string_view tag = text.substr(i, close - i + 1);
                        bool is_tag =
                            std::all_of(tag.begin() + 1, tag.end() - 1, is_ident_char) &&
                            !(tag.size() > 2 && std::isdigit(static_cast<unsigned char>(tag[1])));
                        if (is_tag) {
                            m_where = dollar;
                            m_tag = std::string(tag);
                            i = close;
                        }
                    }
                }
                break;
            case string:
                if (c == '\'') {
                    if (next == '\'') {
                        ++i;
                    } else {
                        m_where = code;
                    }
                }
                break;
            case ident:
                if (c == '"') {
                    if (next == '"') {
                        ++i;
                    } else {
                        m_where = code;
                    }
                }
                break;
            case dollar:
                if (text.substr(i, m_tag.size()) == m_tag) {
                    m_where = code;
                    i += m_tag.size() - 1;
                }
                break;
            case line_comment:
                if (c == '\n') {
                    m_where = code;
                }
                break;
            case block_comment:
                if (c == '*' && next == '/') {
                    m_depth -= 1;
                    m_where = m_depth == 0 ? code : block_comment;
                    ++i;
                } else if (c == '/' && next == '*') {
                    m_depth += 1;
                    ++i;
                }
                break;
            }
        }
    }
    Where where() const { return m_where; }
    size_t string_start() const { return m_string_start; }
    void leave_string() { m_where = code; }

  private:
    Where m_where = code;
    size_t m_string_start = 0;
    int m_depth = 0;
    std::string m_tag;
};

// Inside or outside a JSON string, after the literal JSON written so far.
class JsonState {
  public:
    void advance(std::string_view text) {
        for (size_t i = 0; i < text.size(); ++i) {
            if (m_in_string && text[i] == '\\') {
                ++i;
            } else if (text[i] == '"') {
                m_in_string = !m_in_string;
            }
        }
    }
    std::string encode(std::string_view value) const {
        if (m_in_string) {
            return util::json_escape(value);
        }
        return is_json_number(value) ? std::string(value) : "\"" + util::json_escape(value) + "\"";
    }

  private:
    static bool is_json_number(std::string_view v) {
        size_t i = 0;
        auto digits = [&] {
            size_t from = i;
            while (i < v.size() && std::isdigit(static_cast<unsigned char>(v[i]))) {
                ++i;
            }
            return i > from;
        };
        if (i < v.size() && v[i] == '-') {
            ++i;
        }
        if (i < v.size() && v[i] == '0') {
            ++i;
        } else if (!digits()) {
            return false;
        }
        if (i < v.size() && v[i] == '.') {
            ++i;
            if (!digits()) {
                return false;
            }
        }
        if (i < v.size() && (v[i] == 'e' || v[i] == 'E')) {
            ++i;
            if (i < v.size() && (v[i] == '+' || v[i] == '-')) {
                ++i;
            }
            if (!digits()) {
                return false;
            }
        }
        return i == v.size();
    }
    bool m_in_string = false;
};

bool has_any(std::string_view value, std::string_view chars) {
    return value.find_first_of(chars) != std::string_view::npos;
}

} // namespace

namespace {

std::string_view basename_of(std::string_view prog) {
    if (size_t slash = prog.rfind('/'); slash != std::string_view::npos) {
        prog = prog.substr(slash + 1);
    }
    return prog;
}

bool is_shell(std::string_view prog) {
    static const std::vector<std::string_view> shells{"sh",  "bash", "dash", "ksh",
                                                      "zsh", "ash",  "mksh", "posh"};
    return std::find(shells.begin(), shells.end(), prog) != shells.end();
}

bool is_interpreter(std::string_view prog) {
    static const std::vector<std::string_view> names{"perl", "ruby",  "node", "nodejs",    "php",
                                                     "lua",  "tclsh", "pwsh", "powershell"};
    return prog.starts_with("python") || prog.starts_with("pypy") || prog.starts_with("perl5") ||
           prog.starts_with("lua5") || std::find(names.begin(), names.end(), prog) != names.end();
}

/// The shell's -c command string after argv[j] (the shell), or 0.
size_t shell_script_after(const std::vector<std::string>& argv, size_t j) {
    for (size_t i = j + 1; i < argv.size(); ++i) {
        const std::string& a = argv[i];
        if (a == "-o" || a == "+o" || a == "-O" || a == "+O" || a == "--rcfile" ||
            a == "--init-file") {
            ++i; // the option's argument
            continue;
        }
        if (a.starts_with("--")) {
            if (a == "--") {
                return 0; // operands follow: a script file, not -c
            }
            continue; // --norc, --noprofile, --posix, --login, ...
        }
        if (a.size() < 2 || (a[0] != '-' && a[0] != '+')) {
            return 0; // the first operand: a script file
        }
        if (a[0] == '-' && a.find('c') != std::string::npos &&
            std::all_of(a.begin() + 1, a.end(),
                        [](char c) { return std::isalpha(static_cast<unsigned char>(c)); })) {
            size_t k = i + 1;
            if (k < argv.size() && argv[k] == "--") {
                ++k;
            }
            return k < argv.size() ? k : 0;
        }
    }
    return 0;
}

} // namespace

ScriptArg script_argument(const std::vector<std::string>& argv) {
    for (size_t j = 0; j < argv.size(); ++j) {
        std::string_view prog = basename_of(argv[j]);
        if (prog == "busybox" && j + 1 < argv.size() && is_shell(argv[j + 1])) {
            ++j;
            prog = argv[j];
        }
        if (is_shell(prog)) {
            if (size_t k = shell_script_after(argv, j); k != 0) {
                return {k, true, std::string(prog)};
            }
            return {};
        }
        if (prog == "su") {
            for (size_t i = j + 1; i < argv.size(); ++i) {
                if ((argv[i] == "-c" || argv[i] == "--command") && i + 1 < argv.size()) {
                    return {i + 1, true, "su"};
                }
                if (argv[i].starts_with("--command=")) {
                    return {i, true, "su"};
                }
            }
            return {};
        }
        if (is_interpreter(prog)) {
            for (size_t i = j + 1; i < argv.size(); ++i) {
                const std::string& a = argv[i];
                if ((a == "-c" || a == "-e" || a == "-E" || a == "-r" || a == "--eval" ||
                     a == "-Command" || a == "-x") &&
                    i + 1 < argv.size()) {
                    return {i + 1, false, std::string(prog)};
                }
                if (!a.starts_with("-")) {
                    break; // a script file: its arguments are data
                }
            }
            return {};
        }
    }
    return {};
}

size_t shell_command_index(const std::vector<std::string>& argv) {
    const ScriptArg s = script_argument(argv);
    return s.shell ? s.index : 0;
}

Substituter::Substituter(std::map<std::string, std::string> values) : m_values(std::move(values)) {
    for (const auto& [name, _] : m_values) {
        m_names.push_back(name);
    }
}

std::string Substituter::apply(std::string_view text, std::vector<std::string>& uses,
                               std::vector<std::string>& problems) const {
    return apply(text, Encoding::plain, uses, problems).text;
}

Substitution Substituter::apply(std::string_view text, Encoding encoding,
                                std::vector<std::string>& uses,
                                std::vector<std::string>& problems) const {
    Substitution out;
    ShellState shell;
    SqlState sql;
    JsonState json;
    std::vector<std::string> sql_names; // the variable of $1, $2, ...
    size_t pos = 0;
    for (;;) {
        size_t open = text.find("{{", pos);
        size_t close = open == std::string_view::npos ? open : text.find("}}", open + 2);
        std::string_view literal =
            text.substr(pos, close == std::string_view::npos ? std::string_view::npos : open - pos);
        shell.advance(literal);
        sql.advance(literal, out.text);
        json.advance(literal);
        out.text.append(literal);
        if (close == std::string_view::npos) {
            return out;
        }
        std::string_view inner = text.substr(open + 2, close - open - 2);
        std::string name(util::trim(inner));
        pos = close + 2;
        auto it = m_values.find(name);
        if (it == m_values.end()) {
            if (!is_variable_name(name)) {
                problems.push_back("invalid variable reference " +
                                   util::quoted(text.substr(open, close + 2 - open)) +
                                   " (write {{name}})");
            } else {
                std::string problem = "undefined variable " + util::quoted(name);
                if (auto guess = util::closest_match(name, m_names); !guess.empty()) {
                    problem += " (did you mean " + util::quoted(guess) + "?)";
                }
                problems.push_back(problem);
            }
            continue;
        }
        if (std::find(uses.begin(), uses.end(), name) == uses.end()) {
            uses.push_back(name);
        }
        const std::string& value = it->second;
        const std::string ref = "{{" + name + "}}";
        auto refuse_nul = [&](std::string_view what) {
            if (value.find('\0') != std::string::npos) {
                problems.push_back("the value of " + ref + " contains a NUL byte, which " +
                                   std::string(what) + " cannot carry");
                return true;
            }
            return false;
        };
        switch (encoding) {
        case Encoding::plain:
        case Encoding::argv: // one element: script_argument chose shell for the script
            if (!refuse_nul("a program argument, environment value or path")) {
                out.text += value;
            }
            break;
        case Encoding::shell:
            if (auto why = shell.unsafe(); !why.empty()) {
                problems.push_back(ref + " " + why +
                                   ": no quoting keeps a value one word there; pass it through "
                                   "the environment (env = { V = \"" +
                                   ref + "\" } and \"$V\") or as an argument (\"$1\")");
            } else if (!refuse_nul("a shell command")) {
                out.text += shell.encode(value);
            }
            break;
        case Encoding::url:
            if (open == 0) {
                // The base URL ("{{shop_url}}/health/"): a URL itself, checked whole later.
                if (has_any(value, std::string_view(" \t\r\n\0", 5))) {
                    problems.push_back("the value of " + ref +
                                       " begins the URL and contains whitespace, a line break "
                                       "or NUL; a base URL cannot");
                } else {
                    out.text += value;
                }
            } else {
                out.text += util::percent_encode(value);
            }
            break;
        case Encoding::header:
            if (has_any(value, std::string_view("\r\n\0", 3))) {
                problems.push_back("the value of " + ref +
                                   " contains a line break (CR or LF) or NUL, which would end "
                                   "the header; a header value cannot carry it");
            } else {
                out.text += value;
            }
            break;
        case Encoding::json:
            out.text += json.encode(value);
            break;
        case Encoding::form:
            out.text += util::percent_encode(value);
            break;
        case Encoding::sql: {
            if (refuse_nul("a SQL parameter")) {
                break;
            }
            auto where = sql.where();
            if (where == SqlState::string) {
                // '{{v}}' alone in its literal: the literal is the parameter.
                bool alone = sql.string_start() == out.text.size() && pos < text.size() &&
                             text[pos] == '\'' && (pos + 1 >= text.size() || text[pos + 1] != '\'');
                if (!alone) {
                    problems.push_back(ref +
                                       " inside a SQL string literal: a value is a bound "
                                       "parameter, never text in a literal; write " +
                                       ref + " alone (or '" + ref +
                                       "'), and build text with || ('prefix-' || " + ref + ")");
                    break;
                }
                out.text.pop_back(); // the opening quote
                ++pos;               // the closing quote
                sql.leave_string();
            } else if (where != SqlState::code) {
                problems.push_back(
                    ref +
                    std::string(where == SqlState::ident    ? " inside a quoted identifier"
                                : where == SqlState::dollar ? " inside a dollar-quoted string"
                                                            : " inside a SQL comment") +
                    ": a value can only be a bound parameter, where SQL takes a value");
                break;
            }
            auto n = std::find(sql_names.begin(), sql_names.end(), name);
            if (n == sql_names.end()) {
                sql_names.push_back(name);
                out.params.push_back(value);
                n = sql_names.end() - 1;
            }
            out.text += "$" + std::to_string(n - sql_names.begin() + 1);
            break;
        }
        }
    }
}

} // namespace rollback::playbook
