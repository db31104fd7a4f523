// SPDX-License-Identifier: MIT
#include "cli/describe.hpp"

#include "cli/options.hpp"
#include "util/exit_code.hpp"

#include <algorithm>
#include <cctype>

namespace rollback::cli {

namespace {

bool is_lower_word(std::string_view w) {
    return !w.empty() && std::islower(static_cast<unsigned char>(w[0])) != 0 &&
           std::all_of(w.begin(), w.end(), [](char ch) {
               return std::islower(static_cast<unsigned char>(ch)) != 0 || ch == '-';
           });
}

CommandDoc describe(const Command& c) {
    CommandDoc doc;
    doc.command = &c;
    doc.subcommands = usage_subcommands(c.usage);
    if (c.run == cmd_help) {
        doc.positionals = {"command"};
        return doc;
    }
    if (c.run == cmd_version || c.run == cmd_completion) {
        return doc;
    }
    set_description_sink([&doc](const po::options_description& desc,
                                const po::positional_options_description& pos) {
        for (unsigned i = 0; i < pos.max_total_count(); ++i) {
            const std::string& name = pos.name_for_position(i);
            if (std::find(doc.positionals.begin(), doc.positionals.end(), name) !=
                doc.positionals.end()) {
                break; // "file" bound to every position from here on
            }
            doc.positionals.push_back(name);
        }
        for (const auto& o : desc.options()) {
            OptionDoc d;
            d.long_name = o->long_name();
            std::string shown =
                o->canonical_display_name(po::command_line_style::allow_dash_for_short);
            if (shown.size() == 2 && shown[0] == '-') {
                d.short_name = shown.substr(1);
            }
            // A name bound to a position is written as one ("validate FILE..."), unless it is
            // also a documented option with a short form (run's -p PLAYBOOK).
            if (d.short_name.empty() && std::find(doc.positionals.begin(), doc.positionals.end(),
                                                  d.long_name) != doc.positionals.end()) {
                continue;
            }
            if (o->semantic()->max_tokens() > 0) {
                d.value_name = o->semantic()->name();
                if (d.value_name.empty() || d.value_name == "arg") {
                    d.value_name = "VALUE";
                }
            }
            d.description = o->description();
            doc.options.push_back(std::move(d));
        }
    });
    try {
        c.run(Args{"--help"});
    } catch (...) {
        set_description_sink({});
        throw;
    }
    set_description_sink({});
    return doc;
}

} // namespace

std::vector<std::string> usage_subcommands(std::string_view usage) {
    std::vector<std::string> words;
    size_t sp = usage.find(' ');
    if (sp == std::string_view::npos) {
        return words;
    }
    std::string_view rest = usage.substr(sp + 1);
    std::string_view first = rest.substr(0, rest.find(' '));
    if (first.size() >= 2 && first.front() == '[' && first.back() == ']') {
        first = first.substr(1, first.size() - 2);
    }
    while (!first.empty()) {
        size_t bar = first.find('|');
        std::string_view w = first.substr(0, bar);
        if (!is_lower_word(w)) {
            return {};
        }
        words.emplace_back(w);
        if (bar == std::string_view::npos) {
            break;
        }
        first.remove_prefix(bar + 1);
    }
    return words;
}

std::vector<CommandDoc> describe_commands() {
    std::vector<CommandDoc> docs;
    for (const auto& c : commands()) {
        if (!c.hidden) {
            docs.push_back(describe(c));
        }
    }
    return docs;
}

const std::vector<ExitCodeDoc>& exit_code_docs() {
    static const std::vector<ExitCodeDoc> docs = {
        {util::to_int(util::ExitCode::ok), "ok / nothing to do"},
        {util::to_int(util::ExitCode::run_failed),
         "the run failed (a step failed with on_failure = \"abort\")"},
        {util::to_int(util::ExitCode::invalid),
         "invalid usage, config or playbook; nothing was executed"},
        {util::to_int(util::ExitCode::verification_failed),
         "verification failed after the rollback"},
        {util::to_int(util::ExitCode::locked),
         "another run holds the lock of the state directory (the holder is named)"},
        {util::to_int(util::ExitCode::rollback_recommended),
         "check, monitor --once: a rollback is recommended (or awaits approval)"},
        {util::to_int(util::ExitCode::needs_attention),
         "a resumed run needs a person's decision (--mark-done or --retry)"},
        {util::to_int(util::ExitCode::state_unwritable),
         "the state directory cannot be written (disk full, read-only, no permission): nothing "
         "ran, or the run stopped cleanly with an intact journal and ran its finally steps"},
        {util::to_int(util::ExitCode::interrupted),
         "interrupted (SIGINT/SIGTERM); finally steps ran"},
    };
    return docs;
}

} // namespace rollback::cli
