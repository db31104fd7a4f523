// SPDX-License-Identifier: MIT
// The command descriptions the man page and the completion scripts are generated from: read from
// the commands' own option descriptions, so they list what each command really parses.
#include "cli/describe.hpp"

#include "util/exit_code.hpp"

#include <algorithm>
#include <doctest/doctest.h>

using namespace rollback;
using namespace rollback::cli;

namespace {

const CommandDoc& find_doc(const std::vector<CommandDoc>& docs, std::string_view name) {
    auto it = std::find_if(docs.begin(), docs.end(),
                           [&](const CommandDoc& d) { return d.command->name == name; });
    REQUIRE(it != docs.end());
    return *it;
}

const OptionDoc* find_option(const CommandDoc& d, std::string_view long_name) {
    for (const auto& o : d.options) {
        if (o.long_name == long_name) {
            return &o;
        }
    }
    return nullptr;
}

} // namespace

TEST_SUITE("cli") {
    TEST_CASE("describe: every visible command of the table in order and the hidden one left out") {
        auto docs = describe_commands();
        std::vector<std::string_view> visible;
        for (const auto& c : commands()) {
            if (!c.hidden) {
                visible.push_back(c.name);
            }
        }
        REQUIRE(docs.size() == visible.size());
        for (size_t i = 0; i < docs.size(); ++i) {
            CHECK(docs[i].command->name == visible[i]);
        }
        CHECK(std::none_of(docs.begin(), docs.end(),
                           [](const CommandDoc& d) { return d.command->name == "completion"; }));
    }

    TEST_CASE("describe: options with short forms and value names and positionals as the command "
              "parses") {
        auto docs = describe_commands();
        const auto& run = find_doc(docs, "run");
        const OptionDoc* pb = find_option(run, "playbook");
        REQUIRE(pb != nullptr);
        CHECK(pb->short_name == "p");
        CHECK(pb->value_name == "FILE");
        const OptionDoc* dry = find_option(run, "dry-run");
        REQUIRE(dry != nullptr);
        CHECK(dry->value_name.empty()); // a switch
        CHECK(find_option(run, "state-dir") != nullptr);

        const auto& validate = find_doc(docs, "validate");
        CHECK(validate.positionals == std::vector<std::string>{"file"});
        CHECK(find_option(validate, "file") == nullptr); // written as FILE..., not --file

        const auto& resume = find_doc(docs, "resume");
        CHECK(resume.positionals == std::vector<std::string>{"run-id"});
        CHECK(find_option(resume, "mark-done") != nullptr);

        const auto& backup = find_doc(docs, "backup");
        CHECK(backup.subcommands == std::vector<std::string>{"list", "verify"});
        CHECK(find_doc(docs, "version").options.empty());
    }

    TEST_CASE("describe: the literal first words of a usage line") {
        using V = std::vector<std::string>;
        CHECK(usage_subcommands("backup [list|verify] --catalog DIR") == V{"list", "verify"});
        CHECK(usage_subcommands("audit verify RUN_ID") == V{"verify"});
        CHECK(usage_subcommands("state init|export|import [RUN_ID|FILE] [-o FILE]") ==
              V{"init", "export", "import"});
        CHECK(usage_subcommands("completion bash|zsh") == V{"bash", "zsh"});
        CHECK(usage_subcommands("resume [RUN_ID] [--mark-done|--retry STEP]").empty());
        CHECK(usage_subcommands("validate [-c CONFIG] [FILE...]").empty());
        CHECK(usage_subcommands("version").empty());
        CHECK(usage_subcommands("plan -p PLAYBOOK").empty());
    }

    TEST_CASE("describe: the exit codes documented are util::ExitCode values each once") {
        std::vector<int> codes;
        for (const auto& e : exit_code_docs()) {
            codes.push_back(e.code);
            CHECK(!e.meaning.empty());
        }
        CHECK(codes == std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 130});
        CHECK(codes.back() == util::to_int(util::ExitCode::interrupted));
        CHECK(codes[7] == util::to_int(util::ExitCode::state_unwritable));
    }

    TEST_CASE("describe: the generated texts name every command and its options") {
        auto docs = describe_commands();
        const std::string bash = bash_completion(docs);
        const std::string zsh = zsh_completion(docs);
        const std::string man = man_page(docs);
        for (const auto& d : docs) {
            const std::string name(d.command->name);
            CAPTURE(name);
            CHECK(bash.find("    " + name + ")\n") != std::string::npos);
            CHECK(zsh.find("    " + name + ")\n") != std::string::npos);
            CHECK(man.find(".SS \"" + name + "\"\n") != std::string::npos);
        }
        CHECK(bash.find("--mark-done") != std::string::npos);
        CHECK(man.find("\\fB\\-\\-mark\\-done\\fR \\fISTEP\\fR") != std::string::npos);
        CHECK(zsh.find("'(-p --playbook)'{-p,--playbook}'[the playbook]:PLAYBOOK:_files'") !=
              std::string::npos);
    }
}
