// SPDX-License-Identifier: MIT
// The option grammar of programs that run an argument as code (interpreters, awk/sed/jq, SQL
// clients, env -S, gdb, vim): which element is the code, which is provably data. An element
// that is neither — an option word, the value of an option the grammar does not know to take
// data — is marked as code too, so a reference there is refused (docs/playbook.md, "argv
// arrays").
#include "playbook/script_syntax.hpp"

#include <algorithm>
#include <cctype>
#include <map>

namespace rollback::playbook::detail {

namespace {

using Names = std::vector<std::string_view>;

struct Grammar {
    std::string_view code_short;   ///< letters whose value (rest of the group, or next) is code
    std::string_view strict_short; ///< letters whose value is not known to be data (mawk -W)
    std::string_view data_short;   ///< letters whose value is data
    std::string_view file_short;   ///< letters whose value is a program file (operands: data)
    std::string_view rest_short;   ///< letters taking the rest of their group, never the next
    std::string_view digit_short;  ///< letters taking the digits that follow (perl -l, -0)
    std::string_view stop_short;   ///< letters after whose value everything is data (python -m)
    Names code_long, data_long, data_long2, file_long, stop_long;
    Names strict_long; ///< long options whose value is not known to be data (node --import)
    bool operand_is_program = false; ///< awk, sed, jq: the first operand is the program text
    bool permute = false;            ///< options may follow operands (GNU getopt)
    bool group_code_next = false;    ///< node -pe: the code is the next element, always
    bool code_ends_options = false;  ///< python -c CODE ARGS: what follows is argv
    bool code_to_end = false;        ///< pwsh -Command: every later element is the command
    bool long_only = false;          ///< gdb, pwsh: `-name` is a long option
    bool ignore_case = false;        ///< pwsh
    bool plus_code = false;          ///< vim +CMD
    bool runs_script = false;        ///< an interpreter: its first operand is the script it runs
};

const Grammar* grammar_of(std::string_view prog) {
    static const std::map<std::string_view, Grammar> table = [] {
        std::map<std::string_view, Grammar> t;
        Grammar python;
        python.code_short = "c";
        // -W's category and -X's options import modules (as PYTHONWARNINGS does): code.
        python.strict_short = "WX";
        python.stop_short = "m";
        python.code_ends_options = true;
        python.runs_script = true;
        t["python"] = python;
        Grammar perl;
        perl.code_short = "eE";
        // -M'POSIX;system ...' is code too; -I chooses where modules load from (PERL5LIB).
        perl.strict_short = "MmI";
        perl.rest_short = "iFxdDC";
        perl.digit_short = "l0";
        perl.runs_script = true;
        t["perl"] = perl;
        Grammar ruby;
        ruby.code_short = "e";
        ruby.strict_short = "Ir"; // a library to require, where libraries load from (RUBYOPT)
        ruby.data_short = "CE";
        ruby.rest_short = "iFxTWK0";
        ruby.runs_script = true;
        t["ruby"] = ruby;
        Grammar node;
        node.code_short = "ep";
        // A module to load (-r, --import, --loader) is code: a data: URL is JavaScript source.
        node.strict_short = "r";
        node.data_short = "C";
        node.code_long = {"eval", "print"};
        node.strict_long = {"require", "import", "loader", "experimental-loader"};
        node.data_long = {"input-type", "env-file", "conditions", "title"};
        node.group_code_next = true;
        node.runs_script = true;
        t["node"] = node;
        Grammar php;
        php.code_short = "rBRE";
        php.strict_short = "d"; // an ini setting (auto_prepend_file ...) is not data
        php.data_short = "cztS";
        php.file_short = "fF";
        php.runs_script = true;
        t["php"] = php;
        Grammar lua;
        lua.code_short = "e";
        lua.strict_short = "l"; // a module to require
        lua.runs_script = true;
        t["lua"] = lua;
        Grammar tcl;
        tcl.runs_script = true;
        t["tclsh"] = tcl;
        Grammar rscript; // Rscript [--options] [-e EXPR] FILE [ARGS]
        rscript.code_short = "e";
        rscript.file_long = {"file"};
        rscript.runs_script = true;
        t["Rscript"] = rscript;
        Grammar expect; // expect [-dinN] [-D N] [-c CMDS] [[-f|-b] FILE] [ARGS]
        expect.code_short = "c";
        expect.data_short = "D";
        expect.file_short = "fb";
        expect.runs_script = true;
        t["expect"] = expect;
        // dc(1): -e/--expression is code (`!` runs a shell command), -f/--file and every
        // operand a program file (break-it 45 F3).
        Grammar dc;
        dc.code_short = "e";
        dc.code_long = {"expression"};
        dc.file_short = "f";
        dc.file_long = {"file"};
        dc.runs_script = true;
        dc.permute = true;
        t["dc"] = dc;
        // m4(1): its input files are the program (syscmd runs a shell command); a -D macro's
        // body is expanded where it is used; -I/-R choose where input and frozen state load.
        Grammar m4;
        m4.code_short = "D";
        m4.code_long = {"define"};
        m4.strict_short = "IR";
        m4.strict_long = {"include", "reload-state"};
        m4.data_short = "UtolFL";
        m4.data_long = {"undefine",  "trace",        "arglength",    "error-output",
                        "debugfile", "freeze-state", "nesting-limit"};
        m4.rest_short = "d";
        m4.runs_script = true;
        m4.permute = true;
        t["m4"] = m4;
        Grammar pwsh;
        pwsh.long_only = true;
        pwsh.ignore_case = true;
        pwsh.code_to_end = true;
        pwsh.code_long = {"command", "c", "encodedcommand", "e", "ec", "commandwithargs", "cwa"};
        pwsh.file_long = {"file", "f"};
        pwsh.runs_script = true; // pwsh FILE: -File is the positional parameter
        pwsh.data_long = {"executionpolicy",
                          "ex",
                          "ep",
                          "inputformat",
                          "inf",
                          "if",
                          "of",
                          "o",
                          "outputformat",
                          "workingdirectory",
                          "wd",
                          "wa",
                          "w",
                          "windowstyle",
                          "settingsfile",
                          "configurationname",
                          "custompipename"};
        t["pwsh"] = pwsh;
        Grammar awk;
        awk.code_short = "e";     // gawk --source
        awk.strict_short = "Wil"; // gawk -i: awk source to include, -l: a shared library
        awk.data_short = "Fv";
        awk.file_short = "fE";
        awk.code_long = {"source"};
        awk.strict_long = {"include", "load"};
        awk.data_long = {"assign", "field-separator"};
        awk.file_long = {"file", "exec"};
        awk.operand_is_program = true;
        t["awk"] = awk;
        Grammar sed;
        sed.code_short = "e";
        sed.file_short = "f";
        sed.data_short = "l";
        sed.rest_short = "i";
        sed.code_long = {"expression"};
        sed.file_long = {"file"};
        sed.data_long = {"line-length"};
        sed.operand_is_program = true;
        sed.permute = true;
        t["sed"] = sed;
        Grammar jq;
        jq.file_short = "f";
        jq.data_short = "L";
        jq.file_long = {"from-file"};
        jq.data_long = {"indent"};
        jq.data_long2 = {"arg", "argjson", "slurpfile", "rawfile"};
        jq.operand_is_program = true;
        jq.permute = true;
        t["jq"] = jq;
        Grammar psql;
        psql.code_short = "c";
        psql.file_short = "f";
        psql.data_short = "dhpUvoLPFRT";
        psql.code_long = {"command"};
        psql.file_long = {"file"};
        psql.data_long = {
            "dbname",           "host",      "port",     "username", "set",
            "variable",         "output",    "log-file", "pset",     "field-separator",
            "record-separator", "table-attr"};
        psql.permute = true;
        t["psql"] = psql;
        Grammar mysql;
        mysql.code_short = "e";
        mysql.data_short = "hPuDS";
        mysql.rest_short = "p";
        mysql.code_long = {"execute", "init-command"};
        mysql.data_long = {"host", "port", "user", "database", "socket"};
        mysql.permute = true;
        t["mysql"] = mysql;
        Grammar env;
        env.code_short = "S";
        env.data_short = "uCa";
        env.code_long = {"split-string"};
        env.data_long = {"unset", "chdir", "argv0"};
        env.code_to_end = true; // env -S 'sh -c' X: X joins the split command line
        t["env"] = env;
        Grammar gdb;
        gdb.long_only = true;
        gdb.code_long = {"ex", "iex", "eval-command", "init-eval-command", "eix", "eiex"};
        // -x/--command FILE: gdb commands (`shell`, `python` run code), a program file.
        gdb.file_long = {"x", "command", "ix", "init-command"};
        gdb.data_long = {"p",  "pid",     "c", "core",           "e",  "exec",       "s",
                         "se", "symbols", "d", "directory",      "cd", "D",          "tty",
                         "t",  "i",       "b", "data-directory", "l",  "interpreter"};
        gdb.stop_long = {"args"};
        gdb.permute = true;
        t["gdb"] = gdb;
        Grammar vim;
        vim.code_short = "c";
        vim.data_short = "iTwWtq";
        vim.file_short = "uU"; // the vimrc/gvimrc read first: Ex commands, a program file
        vim.rest_short = "SVpoO";
        vim.code_long = {"cmd",
                         "remote",
                         "remote-silent",
                         "remote-wait",
                         "remote-wait-silent",
                         "remote-tab",
                         "remote-tab-silent",
                         "remote-tab-wait",
                         "remote-tab-wait-silent",
                         "remote-send",
                         "remote-expr"};
        vim.data_long = {"startuptime", "servername", "log", "socketid", "windowid"};
        vim.plus_code = true;
        vim.permute = true;
        t["vim"] = vim;
        return t;
    }();
    std::string_view key = prog;
    // A version after the name (`ruby3.1`, `php8.2`, `node18`, `tclsh8.6`).
    const size_t end = prog.find_last_not_of("0123456789.-_");
    const std::string_view base = end == std::string_view::npos ? prog : prog.substr(0, end + 1);
    if (base != prog && table.count(base) != 0) {
        key = base;
    }
    if (prog.starts_with("python") || prog.starts_with("pypy")) {
        key = "python";
    } else if (prog.starts_with("perl")) {
        key = "perl";
    } else if (prog == "nodejs") {
        key = "node";
    } else if (prog.starts_with("lua")) {
        key = "lua";
    } else if (prog == "powershell") {
        key = "pwsh";
    } else if (prog == "wish" || prog.starts_with("tclsh") || prog == "jimsh") {
        key = "tclsh";
    } else if (prog == "gawk" || prog == "mawk" || prog == "nawk" || prog == "busybox-awk" ||
               prog == "original-awk") {
        key = "awk";
    } else if (prog == "gsed") {
        key = "sed";
    } else if (prog == "mariadb") {
        key = "mysql";
    } else if (prog == "gdb-multiarch" || prog == "ggdb") {
        key = "gdb";
    } else if (prog.starts_with("vim") || prog == "vi" || prog == "ex" || prog == "view" ||
               prog == "rvim" || prog == "rview" || prog == "nvim" || prog == "gvim" ||
               prog == "gview" || prog == "evim" || prog == "eview" || prog == "vimx" ||
               prog == "nex" || prog == "nview" || prog == "gvimdiff") {
        key = "vim";
    }
    auto it = table.find(key);
    return it == table.end() ? nullptr : &it->second;
}

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

bool in(const Names& names, std::string_view name) {
    return std::find(names.begin(), names.end(), name) != names.end();
}

bool has(std::string_view letters, char c) {
    return letters.find(c) != std::string_view::npos;
}

/// getopt_long (and pwsh, mysql, git) take an unambiguous prefix of a long option: `key` is
/// `name` or a prefix of it.
bool abbreviates(const Names& names, std::string_view key) {
    return !key.empty() && std::any_of(names.begin(), names.end(),
                                       [&](std::string_view n) { return n.starts_with(key); });
}

/// The one name in `names` that `key` abbreviates, or empty (none, or ambiguous).
std::string_view abbreviated(const Names& names, std::string_view key) {
    std::string_view found;
    for (std::string_view n : names) {
        if (n == key) {
            return n;
        }
        if (!key.empty() && n.starts_with(key)) {
            if (!found.empty()) {
                return {};
            }
            found = n;
        }
    }
    return found;
}

/// Python modules whose command-line arguments are data (file names, text, a port): after
/// any other `-m MODULE` the arguments may be code (timeit, pdb -c, idlelib -c, cProfile -c,
/// IPython, unittest's test names, pip's packages).
bool data_module(std::string_view module) {
    static const Names modules{"json.tool",   "base64",     "gzip",      "zipfile",   "tarfile",
                               "http.server", "venv",       "uuid",      "calendar",  "mimetypes",
                               "compileall",  "py_compile", "sysconfig", "platform",  "ensurepip",
                               "quopri",      "filecmp",    "tokenize",  "webbrowser"};
    return in(modules, module);
}

/// gdb matches an unambiguous prefix of a long option (getopt_long_only): `-eval`, `-eval-c`.
bool gdb_code_prefix(std::string_view name) {
    return (name.size() >= 2 && std::string_view("eval-command").starts_with(name)) ||
           (name.size() >= 6 && std::string_view("init-eval-command").starts_with(name));
}

} // namespace

bool code_program(const std::vector<std::string>& argv, size_t j, std::string_view prog,
                  CodeScan& out) {
    const Grammar* g = grammar_of(prog);
    if (g == nullptr) {
        return false;
    }
    out = CodeScan{};
    const bool gdb = grammar_of("gdb") == g;
    auto code_at = [&](size_t i, bool value) {
        if (i < argv.size()) {
            out.code.push_back(i);
            if (value && out.code_value == 0) {
                out.code_value = i;
            }
        }
    };
    auto found_code = [&](size_t i) {
        code_at(i, true);
        out.code_given = true;
        if (g->code_to_end) {
            for (size_t k = i + 1; k < argv.size(); ++k) {
                code_at(k, false);
            }
        }
    };
    std::vector<size_t> operands;
    bool operands_only = false;
    for (size_t i = j + 1; i < argv.size(); ++i) {
        const std::string& a = argv[i];
        if (!operands_only && g->plus_code && a.size() >= 2 && a[0] == '+') {
            code_at(i, false); // vim +CMD
            continue;
        }
        if (operands_only || a.size() < 2 || a[0] != '-') {
            operands.push_back(i);
            operands_only = operands_only || !g->permute;
            continue;
        }
        if (a == "--") {
            operands_only = true;
            continue;
        }
        if (a[1] == '-' || g->long_only) {
            std::string_view name(a);
            name.remove_prefix(a[1] == '-' ? 2 : 1);
            const size_t eq = name.find('=');
            const std::string key =
                g->ignore_case ? lower(name.substr(0, eq)) : std::string(name.substr(0, eq));
            const bool joined = eq != std::string_view::npos;
            if (in(g->stop_long, key)) {
                return true; // gdb --args PROGRAM ARGS: data from here on
            }
            const bool exact = in(g->code_long, key) || in(g->strict_long, key) ||
                               in(g->data_long, key) || in(g->file_long, key) ||
                               in(g->data_long2, key);
            const bool code = in(g->code_long, key) || (gdb && gdb_code_prefix(key)) ||
                              (!exact && abbreviates(g->code_long, key));
            const bool strict =
                !code && (in(g->strict_long, key) || (!exact && abbreviates(g->strict_long, key)));
            const std::string_view data_name =
                exact || code || strict ? std::string_view(key) : abbreviated(g->data_long, key);
            const std::string_view file_name =
                exact || code || strict ? std::string_view(key) : abbreviated(g->file_long, key);
            if (code) {
                found_code(joined ? i : i + 1);
                if (g->code_to_end || g->code_ends_options) {
                    return true;
                }
                i += joined ? 0 : 1;
            } else if (strict) {
                code_at(joined ? i : i + 1, false); // a module to load, a program to run
                code_at(i, false);
                i += joined ? 0 : 1;
            } else if (in(g->data_long, data_name) || in(g->file_long, file_name)) {
                out.file_given = out.file_given || in(g->file_long, file_name);
                if (in(g->file_long, file_name)) {
                    code_at(joined ? i : i + 1, false); // a program file a value would choose
                }
                i += joined ? 0 : 1;
            } else if (in(g->data_long2, key)) {
                i += 2; // jq --arg NAME VALUE
            } else {
                code_at(i, false); // an option the grammar does not know: not data
            }
            continue;
        }
        // A letter group: flags, then at most one letter that takes a value.
        const size_t opt = i;
        bool data_joined = false;
        for (size_t k = 1; k < a.size(); ++k) {
            const char c = a[k];
            const bool rest = k + 1 < a.size();
            if (has(g->code_short, c)) {
                if (g->group_code_next || !rest) {
                    found_code(i + 1);
                    code_at(i, false);
                    ++i;
                } else {
                    found_code(i);
                }
                if (g->code_ends_options || g->code_to_end) {
                    return true;
                }
                break;
            }
            if (has(g->strict_short, c)) {
                code_at(rest ? i : i + 1, false);
                i += rest ? 0 : 1;
                break;
            }
            if (has(g->data_short, c) || has(g->file_short, c) || has(g->stop_short, c)) {
                out.file_given = out.file_given || has(g->file_short, c);
                if (has(g->file_short, c)) {
                    code_at(rest ? i : i + 1, false); // a program file a value would choose
                }
                if (has(g->stop_short, c)) {
                    // python -m MODULE ARGS: the module is code (a value choosing it runs
                    // it), its arguments data only for a module known to read data.
                    const size_t module = rest ? i : i + 1;
                    const std::string_view name = module >= argv.size() ? std::string_view()
                                                  : rest ? std::string_view(a).substr(k + 1)
                                                         : std::string_view(argv[module]);
                    code_at(module, false);
                    code_at(opt, false);
                    if (!data_module(name)) {
                        for (size_t m = module + 1; m < argv.size(); ++m) {
                            code_at(m, false);
                        }
                    }
                    return true;
                }
                data_joined = rest;
                i += rest ? 0 : 1;
                break;
            }
            if (has(g->rest_short, c)) {
                break;
            }
            if (has(g->digit_short, c)) {
                // perl -l[octal], -0[octal] or -0xHEX
                if (c == '0' && k + 1 < a.size() && a[k + 1] == 'x') {
                    ++k;
                    while (k + 1 < a.size() &&
                           std::isxdigit(static_cast<unsigned char>(a[k + 1]))) {
                        ++k;
                    }
                }
                while (k + 1 < a.size() && a[k + 1] >= '0' && a[k + 1] <= '7') {
                    ++k;
                }
            }
        }
        if (!data_joined && std::find(out.code.begin(), out.code.end(), opt) == out.code.end()) {
            code_at(opt, false); // the option word itself is not data (`-{{v}}`, `-x{{v}}`)
        }
    }
    if (g->operand_is_program && !out.code_given && !out.file_given && !operands.empty()) {
        found_code(operands.front());
        out.program = operands.front();
    }
    if (g->runs_script && !out.code_given && !out.file_given && !operands.empty() &&
        argv[operands.front()] != "-") {
        out.script = operands.front();
    }
    return true;
}

} // namespace rollback::playbook::detail
