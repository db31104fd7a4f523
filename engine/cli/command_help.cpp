// SPDX-License-Identifier: MIT
#include "cli/command_help.hpp"

#include "cli/commands.hpp"
#include "cli/describe.hpp"
#include "cli/options.hpp"

#include <algorithm>

namespace rollback::cli {

namespace {

constexpr size_t width = 80;
constexpr size_t column = 26; ///< where descriptions start

/// Appends `text` word-wrapped to `width`, continuation lines indented by `indent`, starting at
/// column `at` of the current line.
void wrap(std::string& out, std::string_view text, size_t at, size_t indent) {
    size_t col = at;
    bool first = true;
    while (!text.empty()) {
        size_t sp = text.find(' ');
        std::string_view word = text.substr(0, sp);
        text = sp == std::string_view::npos ? std::string_view() : text.substr(sp + 1);
        if (word.empty()) {
            continue;
        }
        if (!first && col + 1 + word.size() > width) {
            out += "\n" + std::string(indent, ' ');
            col = indent;
        } else if (!first) {
            out += ' ';
            ++col;
        }
        out += word;
        col += word.size();
        first = false;
    }
    out += '\n';
}

/// "  NAME" then the description from `column` (on the next line when NAME is too long).
void entry(std::string& out, const std::string& name, std::string_view description) {
    std::string head = "  " + name;
    out += head;
    if (head.size() + 2 > column) {
        out += "\n" + std::string(column, ' ');
    } else {
        out += std::string(column - head.size(), ' ');
    }
    wrap(out, description, column, column);
}

std::string value_name(const po::option_description& o) {
    if (o.semantic()->max_tokens() == 0) {
        return {};
    }
    std::string v = o.semantic()->name();
    return v.empty() || v == "arg" ? "VALUE" : v;
}

std::string option_name(const po::option_description& o) {
    std::string shown = o.canonical_display_name(po::command_line_style::allow_dash_for_short);
    std::string name = shown.size() == 2 && shown[0] == '-' ? shown + ", " : std::string("    ");
    name += "--" + o.long_name();
    if (auto v = value_name(o); !v.empty()) {
        name += " " + v;
    }
    return name;
}

const Command* find_command(std::string_view name) {
    for (const auto& c : commands()) {
        if (c.name == name) {
            return &c;
        }
    }
    return nullptr;
}

} // namespace

std::string command_help(std::string_view command, const po::options_description& desc,
                         const po::positional_options_description& positional) {
    const Command* c = find_command(command);
    std::string out = "usage: rollback ";
    out += c != nullptr ? std::string(c->usage) : std::string(command) + " [OPTIONS]";
    out += "\n";
    if (c != nullptr) {
        out += "\n";
        wrap(out, c->summary, 0, 0);
    }

    // Names bound to positions: the last one may take every later position ("FILE...").
    std::vector<std::string> bound;
    bool repeats = false;
    for (unsigned i = 0; i < positional.max_total_count(); ++i) {
        const std::string& name = positional.name_for_position(i);
        if (std::find(bound.begin(), bound.end(), name) != bound.end()) {
            repeats = true;
            break;
        }
        bound.push_back(name);
    }
    std::string arguments, own, shared;
    for (const auto& o : desc.options()) {
        const bool is_bound = std::find(bound.begin(), bound.end(), o->long_name()) != bound.end();
        std::string shown = o->canonical_display_name(po::command_line_style::allow_dash_for_short);
        const bool has_short = shown.size() == 2 && shown[0] == '-';
        if (is_bound) {
            std::string v = value_name(*o);
            if (repeats && o->long_name() == bound.back()) {
                v += "...";
            }
            entry(arguments, v, o->description());
            if (!has_short) {
                continue; // shown as a positional only; run's -p PLAYBOOK is also an option
            }
        }
        entry(is_common_option(o->long_name()) ? shared : own, option_name(*o), o->description());
    }
    if (!arguments.empty()) {
        out += "\narguments:\n" + arguments;
    }
    if (!own.empty()) {
        out += "\noptions:\n" + own;
    }
    out += "\nshared options:\n" + shared;
    if (c != nullptr && !c->exit_codes.empty()) {
        out += "\nexit codes:\n";
        for (util::ExitCode code : c->exit_codes) {
            for (const auto& e : exit_code_docs()) {
                if (e.code == util::to_int(code)) {
                    std::string n = std::to_string(e.code);
                    out += "  " + n + std::string(5 - std::min<size_t>(n.size(), 4), ' ');
                    wrap(out, e.meaning, 7, 7);
                }
            }
        }
    }
    if (c != nullptr && !c->example.empty()) {
        out += "\nexample:\n  rollback ";
        out += c->example;
        out += "\n";
    }
    return out;
}

} // namespace rollback::cli
