// SPDX-License-Identifier: MIT
#pragma once

// Playbook variables: the `[vars]` table, `.env` files and `{{name}}` substitution.

#include "playbook/loader.hpp"
#include "playbook/model.hpp"
#include "playbook/toml_reader.hpp"

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace rollback::playbook {

/// `.env` syntax: KEY=VALUE lines, `#` comment lines, blank lines, an optional `export ` prefix,
/// values optionally in '...' (literal) or "..." (\n \t \" \\ escapes); an unquoted value is
/// trimmed and loses a trailing ` # comment`. A malformed line yields a diagnostic located in
/// `display_path` and is skipped.
std::map<std::string, std::string> parse_dotenv(std::string_view text,
                                                const std::string& display_path,
                                                std::vector<util::Diagnostic>& errors);

/// True for names usable in `{{...}}`: a letter or `_`, then letters, digits, `_` or `-`.
bool is_variable_name(std::string_view name);

/// Resolves every `[vars]` entry (overrides > environment > `.env` > default) and reports bad
/// entries, unset environment variables and overrides of undeclared variables into `reader`.
/// Secret values are registered with util::register_secret.
/// An unset environment variable without a default is one diagnostic at its entry: an error in
/// `reader`, or with options.unset_env_is_warning a warning in `warnings`; either way the
/// variable is returned (empty, `unset`) so that its uses are not reported again.
std::vector<Variable> resolve_variables(TomlReader& reader, const tree::Table* vars,
                                        const LoadOptions& options,
                                        const std::map<std::string, std::string>& dotenv,
                                        std::vector<util::Diagnostic>& warnings);

/// Why a reference in shell text (Encoding::shell) is refused, and the hint. No value — not even
/// {{playbook_dir}} — is written into text a shell parses (docs/playbook.md, "Substitution").
inline constexpr std::string_view k_shell_text_refusal =
    "a shell parses this text, and no quoting keeps a value data everywhere a shell can put it "
    "(arithmetic, variable names, trap, backquotes, command strings parsed again)";
/// The hint for `ref` (`{{name}}`) in shell text.
std::string shell_text_hint(const std::string& ref);

/// The result of substituting into one text.
struct Substitution {
    std::string text;                ///< with every reference replaced (sql: by $1, $2, ...)
    std::vector<std::string> params; ///< sql: the values of $1, $2, ... in order
};

/// `{{ name }}` substitution, single pass: substituted text is never scanned again.
class Substituter {
  public:
    explicit Substituter(std::map<std::string, std::string> values);
    /// `text` with every reference replaced according to `encoding`. Adds each used name to
    /// `uses` (once) and each problem (undefined variable with did-you-mean, malformed reference,
    /// a value the context cannot carry, a reference where the context cannot take a value) to
    /// `problems`; problems never quote a value. A `{{` without a closing `}}` is left as it is.
    Substitution apply(std::string_view text, Encoding encoding, std::vector<std::string>& uses,
                       std::vector<std::string>& problems) const;
    /// Plain substitution (Encoding::plain).
    std::string apply(std::string_view text, std::vector<std::string>& uses,
                      std::vector<std::string>& problems) const;

    /// Names whose value is not known (an unset environment variable at `validate`): checks
    /// of where a value lands that depend on the value itself (a URL path segment) skip them.
    void mark_unknown(std::vector<std::string> names) { m_unknown = std::move(names); }

  private:
    std::map<std::string, std::string> m_values;
    std::vector<std::string> m_names;
    std::vector<std::string> m_unknown;
};

/// The argument of `argv` that a program runs as code, wherever that program sits in argv (after
/// wrappers such as env, timeout, nice, setsid, sudo, runuser): the command string of a shell
/// (sh, bash, dash, ksh, zsh, ash, mksh, busybox sh) given with `-c` — options before it may be
/// letter groups (`-ec`), `-o NAME`/`+o NAME`, long options (`--norc`, `--rcfile FILE`), and
/// `--` may stand between `-c` and the string —, `su`'s `-c`/`--command`, or the code of an
/// interpreter (python*, perl, ruby, node, php, lua, tclsh, pwsh) given with `-c`/`-e`/`-E`/
/// `-r`/`--eval`/`-Command`. The first such argument counts: what follows is its arguments.
struct ScriptArg {
    ScriptArg() = default;
    ScriptArg(size_t i, bool is_shell, std::string prog)
        : index(i), shell(is_shell), program(std::move(prog)) {}
    size_t index = 0;    ///< 0: none
    bool shell = false;  ///< a shell's command string (shell text: takes no value)
    std::string program; ///< the program that runs it, for messages
    bool to_end =
        false; ///< the elements after `index` are code too (`watch CMD...`, `ssh H CMD...`)
    std::vector<size_t> options; ///< option values that are code (`git -c`, `ssh -o`, `rsync -e`)
};
ScriptArg script_argument(const std::vector<std::string>& argv);

/// How the programs an argv array names read each of its elements. `data` < `shell` < `code`.
enum class ArgRole { data, shell, code };
struct ArgRoles {
    std::vector<ArgRole> role;        ///< one per element
    std::vector<std::string> program; ///< the program that reads the element as shell or code
};
/// Every element that some program named in `argv` runs as shell or code, found by taking each
/// element as a program wherever it stands (script_argument of every suffix): an unknown wrapper
/// in front (`prlimit --nofile=1 sh -c`, `setpriv ... sh -c`, `find -exec sh -c`, a site's own
/// script) hides nothing. Where readings disagree, code wins over shell, shell over data.
ArgRoles argument_roles(const std::vector<std::string>& argv);

/// Where an argv array names the program that runs (program_position.cpp): argv[0] and, after
/// each wrapper (env, sudo, timeout, nice, xargs, setsid, stdbuf, chroot, flock, systemd-run,
/// ...), the element its options and fixed operands leave for the program — in a chain
/// (`timeout 5 sudo -u app PROG`). `assignments`: env's and sudo's NAME=VALUE operands.
struct ProgramSlots {
    std::vector<size_t> programs;
    std::vector<size_t> assignments;
};
ProgramSlots program_slots(const std::vector<std::string>& argv);

/// The script file a shell or an interpreter runs (`bash FILE`, `python3 -u FILE`, `perl -n
/// FILE`: the first operand when no -c/-e/-m gave the code), for each program program_slots
/// finds (argv[0], after wrappers: `env bash FILE`, `sudo -u app python3 FILE`) and the
/// program after find's -exec: `file` the operand, `program` the interpreter's index.
struct ScriptFile {
    size_t file;
    size_t program;
};
std::vector<ScriptFile> script_files(const std::vector<std::string>& argv);

/// The program in a shell script that runs what it reads (its standard input, a here-string, a
/// process substitution, /dev/stdin) as code — `| sh`, `| bash -s`, `bash <<<`, `python3 -`,
/// `source /dev/stdin`, `| psql`, `| xargs sh -c`, `ssh HOST` without a command, `at` — or
/// `eval` anywhere; else empty. Data written anywhere in such a script can reach it.
std::string stdin_code_reader(std::string_view script);

/// Where shell text evaluates a value handed to it as code: `names` are environment variables
/// that hold a reference, `positional` says the arguments after the command string do ($1,
/// $@). Arithmetic ((( )), $(( )), $[ ], let, [[ -eq ]], declare -i, subscripts,
/// ${v:off:len}), names (printf -v, read, [[ -v ]], declare -n, unset, ${!v}), code (source,
/// trap) and the command position ($N, "$@" run as a command) — a description of the first
/// such use, or empty.
std::string fed_value_use(std::string_view script, const std::vector<std::string>& names,
                          bool positional);

/// script_argument(argv).index when that argument is shell code, else 0.
size_t shell_command_index(const std::vector<std::string>& argv);

} // namespace rollback::playbook
