// SPDX-License-Identifier: MIT
// Programs that take their program from standard input (break-it 37/04): a value piped or
// redirected into them is code, as into `| sh`.
#include "playbook/script_syntax.hpp"

#include <algorithm>

namespace rollback::playbook::detail {

/// Standard input, or any other descriptor a here-string can feed (`/dev/fd/3 3<<<"$1"`).
bool is_stdin_path(std::string_view w) {
    return w == "-" || w == "/dev/stdin" || w == "<(" || w.starts_with("/dev/fd/") ||
           w.starts_with("/proc/self/fd/") || w.starts_with("/proc/$$/fd/");
}

namespace {

/// No operand after the options of words[j] (`with_value` letters take the next word), or the
/// first one names standard input: the program reads its input.
bool reads_input_operand(const std::vector<std::string>& words, size_t j,
                         std::string_view with_value) {
    for (size_t i = j + 1; i < words.size(); ++i) {
        const std::string& a = words[i];
        if (a.size() < 2 || a[0] != '-') {
            return is_stdin_path(a);
        }
        if (a.size() == 2 && with_value.find(a[1]) != std::string_view::npos) {
            ++i;
        }
    }
    return true;
}

} // namespace

/// A program that takes its program from standard input (break-it 37/04): its program-file
/// option naming stdin (`awk -f /dev/stdin`, `sed -f -`, `jq -f <(...)`, `make -f -`,
/// `gdb -batch -x /dev/stdin`), or a program that reads commands there whatever its operands
/// (ed, ex, vim, gdb without -batch, dc, m4, ftp; su, runuser, sudo -s/-i and doas -s with no
/// command run a shell reading it). Empty for any other.
std::string program_from_stdin(const std::vector<std::string>& words, size_t j,
                               const std::string& prog) {
    const auto has = [&](std::initializer_list<std::string_view> options) {
        return std::any_of(
            words.begin() + static_cast<long>(j) + 1, words.end(), [&](const std::string& a) {
                return std::any_of(options.begin(), options.end(), [&](std::string_view o) {
                    return a == o ||
                           (o.starts_with("--") && a.starts_with(o) && a[o.size()] == '=');
                });
            });
    };
    // The value of `-L` (separate or joined) or `--long` (separate or `=`) names stdin.
    const auto file_option = [&](std::string_view letters, std::vector<std::string_view> longs) {
        for (size_t i = j + 1; i < words.size(); ++i) {
            const std::string& a = words[i];
            const std::string_view next =
                i + 1 < words.size() ? std::string_view(words[i + 1]) : std::string_view();
            for (std::string_view l : longs) {
                if ((a == l && is_stdin_path(next)) ||
                    (a.starts_with(l) && a.size() > l.size() && a[l.size()] == '=' &&
                     is_stdin_path(std::string_view(a).substr(l.size() + 1)))) {
                    return true;
                }
            }
            if (a.size() >= 2 && a[0] == '-' && a[1] != '-' &&
                letters.find(a.back()) != std::string_view::npos && is_stdin_path(next)) {
                return true;
            }
            if (a.size() > 2 && a[0] == '-' && letters.find(a[1]) != std::string_view::npos &&
                is_stdin_path(std::string_view(a).substr(2))) {
                return true;
            }
        }
        return false;
    };
    static const std::vector<std::string_view> awks{"awk", "gawk", "mawk", "nawk"};
    static const std::vector<std::string_view> line_programs{
        "vim", "vi", "nvim", "view", "ex", "vimdiff", "rvim", "ed", "red", "ftp"};
    const bool found =
        (std::find(awks.begin(), awks.end(), prog) != awks.end() &&
         file_option("fE", {"--file", "--exec", "--include"})) ||
        (prog == "sed" && file_option("f", {"--file"})) ||
        (prog == "jq" && file_option("f", {"--from-file"})) ||
        ((prog == "make" || prog == "gmake") && file_option("f", {"--file", "--makefile"})) ||
        (prog == "gdb" && (!has({"-batch", "--batch"}) ||
                           file_option("x", {"--command", "-command", "--init-command"}))) ||
        std::find(line_programs.begin(), line_programs.end(), prog) != line_programs.end() ||
        ((prog == "dc" || prog == "m4") && !has({"-e", "--expression"}) &&
         reads_input_operand(words, j, prog == "m4" ? "DUIdloF" : "f")) ||
        (prog == "su" && !has({"-c", "--command", "--session-command"})) ||
        (prog == "runuser" && !has({"-c", "--command"}) &&
         (!has({"-u", "--user"}) || wrapped_program(words, j) >= words.size())) ||
        ((prog == "sudo" || prog == "doas") &&
         std::any_of(words.begin() + static_cast<long>(j) + 1,
                     words.begin() + static_cast<long>(wrapped_program(words, j)),
                     [](const std::string& a) {
                         return a == "--shell" || a == "--login" ||
                                (a.size() >= 2 && a[0] == '-' && a[1] != '-' &&
                                 a.find_first_of("si") != std::string::npos);
                     }) &&
         wrapped_program(words, j) >= words.size());
    return found ? prog + " (its program from standard input)" : "";
}

} // namespace rollback::playbook::detail
