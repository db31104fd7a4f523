// SPDX-License-Identifier: MIT
#include "playbook/variables.hpp"

#include "util/encode.hpp"
#include "util/secrets.hpp"
#include "util/strings.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>

namespace rollback::playbook {
namespace {

const std::vector<std::string> k_var_keys{"env", "secret", "default"};

std::string unquote_double(std::string_view v) {
    std::string out;
    for (size_t i = 0; i < v.size(); ++i) {
        if (v[i] == '\\' && i + 1 < v.size()) {
            char c = v[++i];
            out += c == 'n' ? '\n' : c == 't' ? '\t' : c == 'r' ? '\r' : c;
        } else {
            out += v[i];
        }
    }
    return out;
}

std::optional<std::string> lookup_env(const LoadOptions& options, const std::string& name) {
    if (options.environment != nullptr) {
        auto it = options.environment->find(name);
        return it == options.environment->end() ? std::nullopt
                                                : std::optional<std::string>(it->second);
    }
    if (const char* v = std::getenv(name.c_str())) {
        return std::string(v);
    }
    return std::nullopt;
}

// Integers and booleans are accepted as literals and kept as their TOML text.
std::optional<std::string> scalar_text(const tree::Node& n) {
    if (n.is_string()) {
        return std::string(n.string());
    }
    if (n.is_integer()) {
        return std::to_string(n.integer());
    }
    if (n.is_boolean()) {
        return n.boolean() ? "true" : "false";
    }
    return std::nullopt;
}

// Characters a POSIX shell reading an unquoted `KEY=value` (`set -a; . ./.env`) does not take
// as they are: blanks end the assignment (the rest runs as a command), $ and ` expand, ; & |
// < > ( ) end or redirect the command, a backslash or a quote is removed.
constexpr std::string_view k_shell_special = " \t\v\f\r$`;&|<>()\\\"'";

// The unquoted value as the engine keeps it: up to a ` #` comment.
std::string_view unquoted_value(std::string_view value) {
    if (size_t hash = value.find(" #"); hash != std::string_view::npos) {
        return util::trim(value.substr(0, hash));
    }
    return value;
}

// Where (offset in `line`) a shell would read `line` differently from the engine, or npos.
// `eq` is the offset of '=', `value` the trimmed text after it.
size_t shell_reading_offset(std::string_view line, size_t eq, std::string_view value) {
    if (eq > 0 && (line[eq - 1] == ' ' || line[eq - 1] == '\t')) {
        return eq - 1; // `KEY = v`: the shell runs KEY
    }
    if (!value.empty() && value[0] != '#' && value.data() != line.data() + eq + 1) {
        return eq + 1; // `KEY= v`: KEY is empty and v runs
    }
    if (value.empty() || value[0] == '"' || value[0] == '\'') {
        return std::string_view::npos; // quoted: read by the quote rules
    }
    const std::string_view v = unquoted_value(value);
    const size_t base = static_cast<size_t>(value.data() - line.data());
    if (size_t at = v.find_first_of(k_shell_special); at != std::string_view::npos) {
        return base + at;
    }
    // Tilde expansion of an assignment: at the start and after each ':'.
    if (v[0] == '~') {
        return base;
    }
    if (size_t at = v.find(":~"); at != std::string_view::npos) {
        return base + at + 1;
    }
    return std::string_view::npos;
}

std::string shell_reading_problem(std::string_view line, size_t eq, std::string_view value) {
    const size_t at = shell_reading_offset(line, eq, value);
    if (at == std::string_view::npos) {
        return {};
    }
    if (at + 1 == eq) {
        return "blank before =";
    }
    if (at == eq + 1) {
        return "blank after =";
    }
    return "unquoted value that a shell reads differently (a blank or a character the shell "
           "expands or runs)";
}

int problem_column(const std::string& raw, std::string_view line, size_t eq,
                   std::string_view value) {
    const size_t at = shell_reading_offset(line, eq, value);
    return static_cast<int>(line.data() - raw.data() + at) + 1;
}

} // namespace

bool is_variable_name(std::string_view name) {
    if (name.empty() || !(std::isalpha(static_cast<unsigned char>(name[0])) || name[0] == '_')) {
        return false;
    }
    return std::all_of(name.begin(), name.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
    });
}

std::map<std::string, std::string> parse_dotenv(std::string_view text,
                                                const std::string& display_path,
                                                std::vector<util::Diagnostic>& errors) {
    std::map<std::string, std::string> out;
    std::map<std::string, int> first_line; // of each name
    int line_no = 0;
    int cr_lines = 0; // lines with a carriage return: one error, at the first
    size_t cr_error = 0;
    for (const std::string& raw : util::split(text, '\n')) {
        ++line_no;
        std::string_view line = util::trim(raw);
        if (!line.empty() && line[0] == '#') {
            continue; // sh ignores a comment, its CR too
        }
        if (const size_t cr = raw.find('\r'); cr != std::string::npos) {
            // trim() would drop it, but /bin/sh keeps it: `REL=v1\r` and `REL="v1"\r` are
            // "v1\r" to the service's start script (`set -a; . ./.env`), and a blank line
            // "\r" is a command named "\r". The engine and the service would disagree.
            if (cr_lines++ == 0) {
                cr_error = errors.size();
                errors.push_back({{display_path, line_no, static_cast<int>(cr) + 1},
                                  ".env",
                                  "a carriage return (a CRLF line end?): /bin/sh would keep it "
                                  "in the value",
                                  "convert the file to LF line ends: dos2unix " + display_path +
                                      " (or sed -i 's/\\r$//' " + display_path + ")",
                                  util::SourceEcho::dotenv});
            }
            continue;
        }
        if (line.empty()) {
            continue;
        }
        if (line.substr(0, 7) == "export ") {
            line = util::trim(line.substr(7));
        }
        size_t eq = line.find('=');
        std::string key(util::trim(line.substr(0, eq == std::string_view::npos ? 0 : eq)));
        if (eq == std::string_view::npos || !is_variable_name(key)) {
            // The line is never quoted: a .env holds secrets (the echo shows only its name).
            errors.push_back({{display_path, line_no, 1},
                              ".env",
                              "expected NAME=VALUE",
                              "a variable name (letters, digits, _ and -), then = and the value",
                              util::SourceEcho::dotenv});
            continue;
        }
        std::string_view value = util::trim(line.substr(eq + 1));
        if (std::string problem = shell_reading_problem(line, eq, value); !problem.empty()) {
            errors.push_back({{display_path, line_no, problem_column(raw, line, eq, value)},
                              ".env",
                              problem + " of " + key,
                              "write KEY=VALUE without blanks around =, and quote a value with "
                              "blanks or any of $ ` ; & | < > ( ) \\ \" ' ~: " +
                                  key + "='...' (docs/playbook.md, \".env syntax\")",
                              util::SourceEcho::dotenv});
            continue;
        }
        if (!value.empty() && (value[0] == '"' || value[0] == '\'')) {
            size_t end = 1; // past the closing quote; a '"' after a backslash does not close
            while (end < value.size() && value[end] != value[0]) {
                end += value[0] == '"' && value[end] == '\\' ? 2 : 1;
            }
            if (end >= value.size()) {
                const int column = static_cast<int>(value.data() - raw.data()) + 1;
                errors.push_back({{display_path, line_no, column},
                                  ".env",
                                  std::string("unterminated ") +
                                      (value[0] == '"' ? "double" : "single") +
                                      "-quoted value of " + key,
                                  "close the quote on the same line",
                                  util::SourceEcho::dotenv});
                continue;
            }
            // After the closing quote only blanks and a ` # comment`: a shell reading the same
            // file joins `"a"b` into one word and runs `"a" b` as a command, so any other text
            // is a typo the engine and the service would read differently.
            std::string_view rest = value.substr(end + 1);
            std::string_view after = util::trim(rest);
            if (!after.empty() && (after[0] != '#' || after.size() == rest.size())) {
                const int column = static_cast<int>(after.data() - raw.data()) + 1;
                errors.push_back({{display_path, line_no, column},
                                  ".env",
                                  "text after the closing quote of " + key,
                                  "end the line at the quote, or put the whole value in the "
                                  "quotes (a comment needs a space before #)",
                                  util::SourceEcho::dotenv});
                continue;
            }
        }
        if (auto [first, fresh] = first_line.emplace(key, line_no); !fresh) {
            errors.push_back(
                {{display_path, line_no, 1},
                 ".env",
                 key + " is set again (first at line " + std::to_string(first->second) + ")",
                 "keep one line for " + key +
                     " (which one wins differs between "
                     "the programs that read a .env)",
                 util::SourceEcho::dotenv});
            continue;
        }
        if (value.size() >= 2 && (value[0] == '"' || value[0] == '\'') &&
            value.find(value[0], 1) != std::string_view::npos) {
            size_t close = value.find(value[0], 1);
            if (value[0] == '"') {
                // Find the closing quote that is not escaped.
                close = 1;
                while (close < value.size() && value[close] != '"') {
                    close += value[close] == '\\' ? 2 : 1;
                }
                out[key] = unquote_double(value.substr(1, std::min(close, value.size()) - 1));
            } else {
                out[key] = std::string(value.substr(1, close - 1));
            }
            continue;
        }
        out[key] = std::string(unquoted_value(value));
    }
    if (cr_lines > 1) {
        errors[cr_error].problem += " (" + std::to_string(cr_lines) + " lines have one)";
    }
    return out;
}

std::vector<Variable> resolve_variables(TomlReader& reader, const tree::Table* vars,
                                        const LoadOptions& options,
                                        const std::map<std::string, std::string>& dotenv,
                                        std::vector<util::Diagnostic>& warnings) {
    std::vector<Variable> out;
    // Tables iterate by key; variables are listed (plan, journal) in file order.
    std::vector<std::pair<const tree::Key*, const tree::Node*>> entries;
    if (vars != nullptr) {
        for (auto&& [key, node] : *vars) {
            entries.emplace_back(&key, &node);
        }
    }
    std::stable_sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) {
        const auto& pa = a.first->source().begin;
        const auto& pb = b.first->source().begin;
        return std::pair(pa.line, pa.column) < std::pair(pb.line, pb.column);
    });
    {
        for (const auto& [key_ptr, node_ptr] : entries) {
            const tree::Key& key = *key_ptr;
            const tree::Node& node = *node_ptr;
            const std::string name(key.str());
            const std::string subject = "[vars] " + name;
            if (!is_variable_name(name)) {
                reader.error(reader.where(key), subject,
                             "invalid variable name (use letters, digits, _ and -)");
                continue;
            }
            if (name == "playbook_dir") {
                reader.error(reader.where(key), subject,
                             "\"playbook_dir\" is built in and cannot be redefined");
                continue;
            }
            Variable v{name, {}, false, "playbook"};
            auto override_it = options.overrides.find(name);
            if (auto literal = scalar_text(node)) {
                v.value = *literal;
            } else if (const tree::Table* t = node.as_table()) {
                bool keys_ok = reader.check_keys(*t, subject, k_var_keys);
                auto env = reader.get_string(*t, "env", subject);
                v.secret = reader.get_bool(*t, "secret", subject).value_or(false);
                if (v.secret) {
                    // Before any check of this entry can fail: its default, or a misspelt key's
                    // value (`defualt = "..."`), must not be shown by the diagnostic.
                    for (auto&& [k, value] : *t) {
                        if (auto text = scalar_text(value);
                            text && k.str() != "env" && k.str() != "secret") {
                            util::register_secret(*text);
                        }
                    }
                }
                std::optional<std::string> def;
                if (const tree::Node* d = t->get("default")) {
                    def = scalar_text(*d);
                    if (!def) {
                        reader.type_error(*d, "default", subject, "a string");
                        keys_ok = false;
                    }
                }
                if (!t->contains("env")) {
                    reader.error(reader.where(*t), subject, "missing required key \"env\"",
                                 "a variable table reads the environment: "
                                 "{ env = \"NAME\", default = \"...\" }");
                    continue;
                }
                if (env && (env->empty() ||
                            env->find_first_of(std::string_view("=\0", 2)) != std::string::npos)) {
                    // getenv("A=B") would find the variable A whose value begins with "B=".
                    reader.error(reader.where(*t->get("env")), subject,
                                 "key \"env\": " + util::quoted(*env) +
                                     " is not an environment variable name",
                                 "a name without '=' or NUL, e.g. env = \"SHOP_TOKEN\"");
                    continue;
                }
                if (!env || !keys_ok) {
                    continue;
                }
                if (override_it != options.overrides.end()) {
                    // resolved below
                } else if (auto e = lookup_env(options, *env)) {
                    v.value = *e;
                    v.origin = "env " + *env;
                } else if (auto it = dotenv.find(*env); it != dotenv.end()) {
                    v.value = it->second;
                    v.origin = ".env " + *env;
                } else if (def) {
                    v.value = *def;
                    v.origin = "default";
                } else {
                    util::Diagnostic d{reader.where(*t->get("env")), subject,
                                       "environment variable " + *env + " is not set",
                                       "set it or add default = \"...\""};
                    if (options.unset_env_is_warning) {
                        warnings.push_back(std::move(d));
                    } else {
                        reader.error(std::move(d.where), d.subject, std::move(d.problem),
                                     std::move(d.hint));
                    }
                    v.unset = true;
                    v.origin = "env " + *env + " (not set)";
                }
            } else {
                reader.type_error(node, name, "[vars]", "a string or { env = \"NAME\" }");
                continue;
            }
            if (override_it != options.overrides.end()) {
                v.value = override_it->second;
                v.origin = "--var";
            }
            if (v.secret) {
                util::register_secret(v.value);
                if (!v.value.empty() && v.value.size() < 3) {
                    // Masking it would mask every "7" or "ok" in every output, so it is not
                    // masked (util::register_secret): a secret shown in clear is refused, as a
                    // secret in a command line is (break-it 26/19).
                    reader.error(reader.where(node), subject,
                                 "secret " + util::quoted(name) + " (from " + v.origin + ") has " +
                                     std::to_string(v.value.size()) +
                                     (v.value.size() == 1 ? " character" : " characters") +
                                     ": too short to be masked in outputs",
                                 "use a secret of 3 characters or more, or declare the variable "
                                 "without secret = true if it is not one");
                }
            }
            out.push_back(std::move(v));
        }
    }
    std::vector<std::string> declared;
    if (vars != nullptr) {
        for (auto&& [key, node] : *vars) {
            declared.emplace_back(key.str());
        }
    }
    for (const auto& [name, value] : options.overrides) {
        if (std::find(declared.begin(), declared.end(), name) != declared.end()) {
            continue;
        }
        std::string problem = "no variable " + util::quoted(name) + " in [vars]";
        if (auto guess = util::closest_match(name, declared); !guess.empty()) {
            problem += " (did you mean " + util::quoted(guess) + "?)";
        }
        reader.error({reader.display_path(), 0, 0}, "--var " + name, problem);
    }
    return out;
}

} // namespace rollback::playbook
