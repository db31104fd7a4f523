// SPDX-License-Identifier: MIT
#include "cli/output_file.hpp"

#include "journal/reader.hpp"

#include <cstdio>

namespace rollback::cli {

namespace {

std::pair<std::filesystem::path, std::string> state_dir_entry(const std::filesystem::path& dir) {
    return {dir, "the state directory " + dir.string() +
                     " (journals, decision records, the lock: the audit record)"};
}

} // namespace

util::OutputRule page_output(const std::filesystem::path& state_dir) {
    util::OutputRule rule;
    rule.what = "the page";
    rule.kind = "an HTML page (an earlier report)";
    rule.replaceable = [](std::string_view head) {
        return head.substr(0, 15) == "<!DOCTYPE html>";
    };
    rule.protected_dirs.push_back(state_dir_entry(state_dir));
    return rule;
}

util::OutputRule journal_output(const std::filesystem::path& state_dir, const std::string& run_id) {
    util::OutputRule rule;
    rule.what = "the journal";
    rule.kind = "a journal of run " + run_id + " (an earlier export of it)";
    rule.replaceable = [run_id](std::string_view head) {
        return journal::header_run_id(head) == run_id;
    };
    rule.protected_dirs.push_back(state_dir_entry(state_dir));
    return rule;
}

bool write_output(const std::string& output, std::string_view content,
                  const util::OutputRule& rule) {
    if (output.empty() || output == "-") {
        std::fwrite(content.data(), 1, content.size(), stdout);
        return false;
    }
    util::write_output_file(output, content, rule);
    return true;
}

} // namespace rollback::cli
