// SPDX-License-Identifier: MIT
// Reading one [[step]] (or [[finally]]) table: common keys, the action's keys, commands, `when`.
#include "playbook/code_env.hpp"
#include "playbook/loader_impl.hpp"
#include "playbook/when.hpp"

#include <boost/json/array.hpp>
#include <cctype>

namespace rollback::playbook::detail {

namespace fs = std::filesystem;

std::string Loader::sub(const tree::Node& at, std::string_view text, Step& s,
                        std::string_view subject, Encoding encoding, const std::string& path) {
    std::vector<std::string> problems;
    if (text.find('\0') != std::string_view::npos) {
        // A program, libpq or the kernel would see the text cut at the NUL: what a reviewer
        // reads would not be what runs.
        problems.push_back("the text contains a NUL character (\\u0000) at offset " +
                           std::to_string(text.find('\0')) +
                           ": a command, argument, path or statement cannot carry it (the "
                           "program would see the text cut there)");
    }
    if (encoding == Encoding::shell) {
        // No value in shell text (docs/playbook.md, "Substitution"): every reference is an
        // error at its own column; the text is then substituted plainly for the messages about
        // undefined names, and never run.
        for (size_t pos = 0;;) {
            const size_t open = text.find("{{", pos);
            const size_t close = open == std::string_view::npos ? open : text.find("}}", open + 2);
            if (close == std::string_view::npos) {
                break;
            }
            const std::string name(util::trim(text.substr(open + 2, close - open - 2)));
            pos = close + 2;
            if (m_host_vars.count(name) != 0) {
                // One message for a per-host value in shell text ({{host}} and every dotted
                // {{host.NAME}}: whatever the name's shape), at its own column: the general
                // refusal below would say the same thing a second time.
                const std::string ref = "{{" + name + "}}";
                m_r.error(when_where(at, std::string(text), open), subject,
                          ref + " inside a shell command string: per-host values go only where "
                                "a program reads them as data",
                          "pass it as a whole argument after the command string (sh -c '... "
                          "\"$1\"' sh \"" +
                              ref + "\"), or through env (read as \"$V\")");
            } else if (is_variable_name(name)) {
                const std::string ref = "{{" + name + "}}";
                m_r.error(when_where(at, std::string(text), open), subject,
                          ref + " in shell text: " + std::string(k_shell_text_refusal),
                          shell_text_hint(ref));
            }
        }
        encoding = Encoding::plain;
    }
    if (encoding == Encoding::operand || encoding == Encoding::service_name) {
        refuse_secret_in_operand(at, text, subject, path);
    }
    Substitution out = m_subst->apply(text, encoding, s.uses, problems);
    for (auto& p : problems) {
        m_r.error(m_r.where(at), subject, std::move(p));
    }
    if (!out.params.empty()) {
        s.sql_params[path] = std::move(out.params);
    }
    return std::move(out.text);
}

// The place of character `offset` of a string value: exact when the value is written on one
// line without escapes (its source is then the text plus two quotes), else the value itself.
util::Location Loader::when_where(const tree::Node& n, const std::string& text,
                                  size_t offset) const {
    util::Location at = m_r.where(n);
    const auto& src = n.source();
    if (src.begin.line == src.end.line && src.end.column - src.begin.column == text.size() + 2) {
        at.column += static_cast<int>(offset) + 1;
    }
    return at;
}

// An argv-like key: an array of strings (exec form) or a string (run by /bin/sh -c).
// Returns false when the key is present but invalid.
bool Loader::read_command(const tree::Table& t, std::string_view key, Step& s,
                          std::string_view subject, std::vector<std::string>& argv,
                          bool& is_string) {
    const tree::Node* n = t.get(key);
    if (n == nullptr) {
        return true;
    }
    if (n->is_string()) {
        is_string = true;
        std::vector<std::string> uses, ignored;
        m_subst->apply(n->string(), uses, ignored);
        refuse_secret_in_command(m_r.where(*n), uses, subject, key);
        argv = {sub(*n, n->string(), s, subject, Encoding::shell)};
        if (util::trim(argv[0]).empty()) {
            m_r.error(m_r.where(*n), subject, "key " + q(key) + ": empty command");
            return false;
        }
        return true;
    }
    auto list = m_r.get_string_array(t, key, subject);
    if (!list) {
        return false;
    }
    if (list->empty()) {
        m_r.error(m_r.where(*n), subject, "key " + q(key) + ": empty command");
        return false;
    }
    argv = sub_argv(*n->as_array(), s, subject, key);
    return true;
}

std::vector<std::string> Loader::sub_argv(const tree::Array& arr, Step& s, std::string_view subject,
                                          std::string_view key) {
    std::vector<std::string> list;
    for (size_t i = 0; i < arr.size(); ++i) {
        list.emplace_back(arr.get(i)->string());
    }
    // How each element is read, by every program the array names (docs/playbook.md,
    // "Substitution"): a shell's command string is shell text, code is refused — neither takes
    // a value.
    std::vector<std::string> seen;
    for (const auto& item : list) {
        std::vector<std::string> ignored_uses, ignored_problems;
        seen.push_back(m_subst->apply(item, ignored_uses, ignored_problems));
    }
    const ArgRoles roles = argument_roles(seen);
    // Where a program is named (argv[0], a wrapper's program) and env/sudo's NAME=VALUE
    // operands, read on the text as written: a value there chooses what runs.
    const ProgramSlots slots = program_slots(list);
    const std::vector<ScriptFile> scripts = script_files(list);
    auto in = [](const std::vector<size_t>& v, size_t i) {
        return std::find(v.begin(), v.end(), i) != v.end();
    };
    auto script_of = [&](size_t i) {
        const auto f = std::find_if(scripts.begin(), scripts.end(),
                                    [&](const ScriptFile& x) { return x.file == i; });
        return f == scripts.end() ? std::string() : std::string(list[f->program]);
    };
    std::string reader; // a shell string that runs its input as code: its arguments reach it
    std::vector<std::string> argv;
    for (size_t i = 0; i < list.size(); ++i) {
        std::vector<std::string> uses, ignored;
        m_subst->apply(list[i], uses, ignored);
        const util::Location at = m_r.where(*arr.get(i));
        refuse_secret_in_command(at, uses, subject, key);
        const std::string first = uses.empty() ? "" : "{{" + uses.front() + "}}";
        const std::string code_name = uses.empty() ? "" : code_env_assignment(list[i]);
        if (!uses.empty() && roles.role[i] != ArgRole::code && in(slots.programs, i) &&
            value_names_program(list[i])) {
            // The wrapper before it: the slot listed just before this one.
            const auto slot = std::find(slots.programs.begin(), slots.programs.end(), i);
            const size_t before = slot == slots.programs.begin() ? 0 : *(slot - 1);
            m_r.error(at, subject,
                      "key " + q(key) + ": " + first + " is the program to run" +
                          (i == 0 ? std::string(" (argv[0])") : " (after " + list[before] + ")") +
                          ": the value would choose what runs, as \"$1\" in the command "
                          "position of shell text would",
                      "name a fixed program (a path, or {{playbook_dir}}/bin/tool) and pass "
                      "the value as its argument");
        } else if (!uses.empty() && roles.role[i] != ArgRole::code && !script_of(i).empty() &&
                   value_names_program(list[i])) {
            // break-it 41/02: the file an interpreter runs is its program, as awk -f's is.
            m_r.error(at, subject,
                      "key " + q(key) + ": " + first + " is the script " + script_of(i) +
                          " runs (its program file): the value would choose what code runs, "
                          "as awk -f " +
                          first + " would",
                      "name a fixed script ({{playbook_dir}}/bin/step.sh, /srv/ops/step.py) and "
                      "pass the value as its argument");
        } else if (!code_name.empty()) {
            m_r.error(at, subject,
                      "key " + q(key) + ": " + first + " is the value of " + code_name +
                          ", but programs run or load code from " + code_name + ": " +
                          code_env_reason(code_name) +
                          " (docs/security.md): the value would be code",
                      "pass the value under a name of your own (SHOP_VALUE={{...}}) and let "
                      "the program read it from there");
        } else if (!uses.empty() && in(slots.assignments, i) &&
                   has_reference(list[i].substr(0, list[i].find('=')))) {
            m_r.error(at, subject,
                      "key " + q(key) + ": " + first +
                          " chooses the name of an environment variable (" + list[0] +
                          "'s NAME=VALUE): the value could set BASH_ENV, LD_PRELOAD, PATH",
                      "write the name: SHOP_VALUE={{...}}");
        } else if (!uses.empty() && roles.role[i] == ArgRole::code) {
            m_r.error(at, subject,
                      "key " + q(key) + ": " + first + " inside " + roles.program[i] +
                          " code: a value cannot be kept a value there",
                      "pass it through the environment (env = { V = \"{{...}}\" }, read "
                      "as \"$V\", os.environ, $ENV{V}, ENVIRON[\"V\"], env.V) or as a whole "
                      "argument the program reads as data (sys.argv, awk -v, jq --arg, "
                      "psql -v)");
        } else if (!uses.empty() && !reader.empty()) {
            m_r.error(at, subject,
                      "key " + q(key) + ": " + first +
                          " is an argument of a shell string that runs what it reads as code (" +
                          reader + "): the value would become code",
                      "do not feed a value to a program that runs its input");
        } else if (!uses.empty() && roles.role[i] == ArgRole::data) {
            refuse_shell_text(at, list[i], first, subject, key);
        }
        if (roles.role[i] == ArgRole::shell && reader.empty()) {
            reader = stdin_code_reader(list[i]);
        }
        argv.push_back(sub(*arr.get(i), list[i], s, subject,
                           roles.role[i] == ArgRole::shell ? Encoding::shell : Encoding::argv));
    }
    return argv;
}

void Loader::refuse_secret_in_command(const util::Location& at,
                                      const std::vector<std::string>& uses,
                                      std::string_view subject, std::string_view key) {
    for (const Variable& v : m_pb.variables) {
        if (v.secret && std::find(uses.begin(), uses.end(), v.name) != uses.end()) {
            std::string env_name;
            for (char c : v.name) {
                env_name +=
                    c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
            }
            m_r.error(at, subject,
                      "key " + q(key) + ": {{" + v.name +
                          "}} is secret, and a program's arguments are visible to every local "
                          "user while it runs (ps, /proc/PID/cmdline)",
                      "pass it through the step's environment: env = { " + env_name + " = \"{{" +
                          v.name + "}}\" } and \"$" + env_name +
                          "\" in the command (or read by the program)");
        }
    }
}

// An action's key that the action puts on a program's command line and records in its state
// (releases.json, `status`): a secret there would be readable in `ps` and shown in clear.
void Loader::refuse_secret_in_operand(const tree::Node& at, std::string_view text,
                                      std::string_view subject, std::string_view key) {
    std::vector<std::string> uses, ignored;
    m_subst->apply(text, uses, ignored);
    for (const Variable& v : m_pb.variables) {
        if (v.secret && std::find(uses.begin(), uses.end(), v.name) != uses.end()) {
            m_r.error(m_r.where(at), subject,
                      "key " + q(key) + ": {{" + v.name +
                          "}} is secret, but the action puts this key on a program's command "
                          "line (ps, /proc/PID/cmdline) and records it in its state "
                          "(releases.json, status)",
                      "a secret goes only where docs/playbook.md allows one (env, a URL, a "
                      "header, a body, SQL, a DSN); name the " +
                          std::string(key) + " with a variable that is not secret");
        }
    }
}

// Outside a shell's command string, an argument written as shell text ("echo {{v}} > f",
// "x'{{v}}'") has no shell the validator knows to read it: a program that is not known
// (`watch`-like, a site's own wrapper) may run it through one, with the value spliced in.
void Loader::refuse_shell_text(const util::Location& at, std::string_view text,
                               const std::string& ref, std::string_view subject,
                               std::string_view key) {
    std::string literal;
    for (size_t pos = 0;;) {
        size_t open = text.find("{{", pos);
        size_t close = open == std::string_view::npos ? open : text.find("}}", open + 2);
        literal += text.substr(pos, close == std::string_view::npos ? text.npos : open - pos);
        if (close == std::string_view::npos) {
            break;
        }
        pos = close + 2;
    }
    const size_t bad = literal.find_first_of("'\"`$;|&<>\\\n\r");
    if (bad == std::string::npos) {
        return;
    }
    std::string shown = literal[bad] == '\n'   ? "a line break"
                        : literal[bad] == '\r' ? "CR"
                                               : q(std::string(1, literal[bad]));
    m_r.error(at, subject,
              "key " + q(key) + ": " + ref + " in an argument written as shell text (it holds " +
                  shown +
                  ") that no shell the validator knows reads: a program that runs it through a "
                  "shell would run the value",
              "pass it through env = { V = \"" + ref +
                  "\" } and \"$V\" in a shell's script (or as an argument after the command "
                  "string); for plain text, leave the shell characters out");
}

// `pattern` is the key path without array indices (what ActionSpec::encodings names),
// `path` the one with them (where Step::sql_params keeps a SQL text's values).
boost::json::value Loader::to_json(const tree::Node& n, Step& s, std::string_view subject,
                                   std::string_view key, const std::string& pattern,
                                   const std::string& path) {
    if (n.is_string()) {
        return boost::json::value(sub(n, n.string(), s, subject, encoding_of(pattern), path));
    }
    if (const tree::Array* a = n.as_array(); a != nullptr && !a->empty() &&
                                             a->is_homogeneous(tree::Type::string) &&
                                             encoding_of(pattern) == Encoding::argv) {
        boost::json::array out;
        for (auto& arg : sub_argv(*a, s, subject, key)) {
            out.emplace_back(std::move(arg));
        }
        return out;
    }
    if (n.is_integer()) {
        return boost::json::value(n.integer());
    }
    if (n.is_floating_point()) {
        return boost::json::value(n.floating_point());
    }
    if (n.is_boolean()) {
        return boost::json::value(n.boolean());
    }
    if (const tree::Array* a = n.as_array()) {
        boost::json::array out;
        for (size_t i = 0; i < a->size(); ++i) {
            out.push_back(
                to_json(*a->get(i), s, subject, key, pattern, path + "." + std::to_string(i)));
        }
        return out;
    }
    if (const tree::Table* t = n.as_table()) {
        boost::json::object out;
        for (auto&& [k, v] : *t) {
            out[k.str()] = to_json(v, s, subject, key, pattern + "." + std::string(k.str()),
                                   path + "." + std::string(k.str()));
        }
        return out;
    }
    m_r.error(m_r.where(n), subject,
              "key " + q(key) + ": " + std::string(type_name(n.type())).substr(2) +
                  " values are not supported; write a string");
    return nullptr;
}

void Loader::read_step(const tree::Table& t, bool is_finally, int index, Step& s, RawStep& raw) {
    raw.is_finally = is_finally;
    const size_t first_problem = m_r.diagnostics().size();
    s.where = m_r.where(t);
    const std::string kind = is_finally ? "finally" : "step";
    // Named by its id, or by its number when it has none (or one that is not a string).
    std::string& subject = raw.subject;
    if (const tree::Node* id = t.get("id"); id != nullptr && id->is_string()) {
        s.id = id->string();
        subject = kind + " " + q(s.id);
        raw.id_at = id->source().begin;
        if (!is_step_id(s.id)) {
            m_r.error(m_r.where(raw.id_at), subject,
                      "invalid id (use letters, digits, '-', '_' and '.')");
        }
    } else {
        subject = kind + " #" + std::to_string(index);
        if (id != nullptr) {
            m_r.type_error(*id, "id", subject, "a string"); // as TomlReader::get_string says it
        } else {
            m_r.error(s.where, subject, "missing required key \"id\"");
        }
    }

    const ActionSpec* spec = nullptr;
    const std::vector<std::string>* allowed = nullptr; // its keys, made once per action
    if (auto action = m_r.get_string(t, "action", subject)) {
        s.action = *action;
        auto it = m_actions.find(*action);
        if (it != m_actions.end()) {
            spec = &it->second;
            allowed = &m_allowed_keys.at(it->first);
        } else {
            m_r.error(m_r.where(*t.get("action")), subject,
                      with_guess("unknown action " + q(*action), *action, m_action_names),
                      "known actions: " + util::join(m_action_names, ", "));
        }
    } else if (!t.contains("action")) {
        m_r.error(s.where, subject, "missing required key \"action\"",
                  "known actions: " + util::join(m_action_names, ", "));
    }

    if (spec != nullptr) {
        if (is_finally) {
            for (auto&& [k, v] : t) {
                if (k.str() == "phase" || k.str() == "needs") {
                    m_r.error(m_r.where(k), subject,
                              "key " + q(k.str()) + " is not allowed in [[finally]] " +
                                  "(finally steps always run last, in file order)");
                }
            }
        }
        m_r.check_keys(t, subject, *allowed);
        for (const std::string& req : spec->required) {
            if (!t.contains(req)) {
                m_r.error(s.where, subject,
                          "missing required key " + q(req) + " (action " + q(s.action) + ")");
            }
        }
    }

    read_common(t, s, raw, subject);
    if (spec != nullptr) {
        read_action_keys(t, *spec, s, subject);
    }
    check_host_references(t, s, subject, first_problem);
    refuse_fed_values(t, subject);
    std::sort(s.uses.begin(), s.uses.end());
}

void Loader::read_common(const tree::Table& t, Step& s, RawStep& raw, const std::string& subject) {
    s.phase = raw.is_finally ? Phase::finally : Phase::immediate;
    if (!raw.is_finally) {
        if (auto phase = m_r.get_string(t, "phase", subject)) {
            auto p = parse_phase(*phase);
            if (p && *p != Phase::finally) {
                s.phase = *p;
            } else {
                m_r.error(m_r.where(*t.get("phase")), subject,
                          with_guess("key \"phase\": unknown phase " + q(*phase), *phase, k_phases),
                          "phases run in this order: immediate, database, code, verify" +
                              std::string(*phase == "finally" ? "; use [[finally]]" : ""));
                raw.phase_ok = false;
            }
        }
        if (auto needs = m_r.get_string_array(t, "needs", subject)) {
            const tree::Array& arr = *t.get("needs")->as_array();
            for (size_t i = 0; i < needs->size(); ++i) {
                s.needs.push_back((*needs)[i]);
                raw.needs_at.push_back(arr.get(i)->source().begin);
            }
        }
    }
    if (auto d = m_r.get_string(t, "description", subject)) {
        s.description = sub(*t.get("description"), *d, s, subject);
    }
    if (auto timeout = m_r.get_duration(t, "timeout", subject)) {
        if (timeout->count() <= 0) {
            m_r.error(m_r.where(*t.get("timeout")), subject,
                      "key \"timeout\": must be more than 0");
        }
        s.timeout = *timeout;
    }
    s.retries = static_cast<int>(m_r.get_int(t, "retries", subject, 0, 100).value_or(0));
    s.retry_delay = m_r.get_duration(t, "retry_delay", subject).value_or(s.retry_delay);
    if (auto f = m_r.get_string(t, "on_failure", subject)) {
        if (*f == "abort" || *f == "continue") {
            s.on_failure = *f == "abort" ? OnFailure::abort : OnFailure::continue_;
        } else {
            m_r.error(
                m_r.where(*t.get("on_failure")), subject,
                with_guess("key \"on_failure\": expected \"abort\" or \"continue\", got " + q(*f),
                           *f, {"abort", "continue"}));
        }
    }
    if (auto when = m_r.get_string(t, "when", subject)) {
        s.when = std::string(util::trim(*when));
        if (auto problem = check_when(*when)) {
            m_r.error(when_where(*t.get("when"), *when, problem->offset), subject,
                      "key \"when\": " + problem->problem,
                      "write e.g. severity == 'critical' and condition != 'latency'");
        }
    }
    // A wait, an approval gate (its request and answer are kept: a resumed gate waits again
    // until the first expiry) or a read-only check (an http GET/HEAD/OPTIONS, a sql_assert in a
    // read-only transaction) has no effect to repeat: resuming needs no person.
    read_step_hosts(t, s, subject);
    bool read_only = s.action == "sql_assert";
    if (s.action == "http") {
        std::string method = "GET";
        if (const auto* m = t.get("method"); m != nullptr && m->is_string()) {
            method = m->string();
            for (auto& c : method) {
                c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
            }
        }
        read_only = method == "GET" || method == "HEAD" || method == "OPTIONS";
    }
    s.idempotent = m_r.get_bool(t, "idempotent", subject)
                       .value_or(s.action == "wait" || s.action == "approve" || read_only);
    read_command(t, "probe", s, subject, s.probe, s.probe_shell);
}

void Loader::read_action_keys(const tree::Table& t, const ActionSpec& spec, Step& s,
                              const std::string& subject) {
    if (s.action == "exec") {
        s.shell = m_r.get_bool(t, "shell", subject).value_or(false);
        bool argv_is_string = false;
        if (read_command(t, "argv", s, subject, s.argv, argv_is_string) && t.contains("argv") &&
            argv_is_string != s.shell) {
            m_r.error(m_r.where(*t.get("argv")), subject,
                      s.shell ? "key \"argv\": with shell = true, argv is one string"
                              : "key \"argv\": a string runs through a shell; write an "
                                "array, or add shell = true",
                      s.shell ? "write argv = \"cmd arg | other\"" : "");
        }
        if (auto cwd = m_r.get_string(t, "cwd", subject)) {
            fs::path p = sub(*t.get("cwd"), *cwd, s, subject);
            // On hosts: a directory of each host, as written (bind_host checks it).
            s.cwd = s.hosts.empty() ? (m_pb.directory / p).lexically_normal().string() : p.string();
        }
        if (const tree::Table* env = m_r.get_table(t, "env", subject)) {
            for (auto&& [k, v] : *env) {
                const std::string name(k.str());
                if (name.empty() ||
                    name.find_first_of(std::string_view("=\0", 2)) != std::string::npos) {
                    // POSIX: a name is not empty and holds no '='; NUL would cut it. The child
                    // would get another variable (`A=B` sets A) or none at all.
                    m_r.error(m_r.where(k), subject,
                              "key \"env\": " + q(name) + " is not an environment variable name" +
                                  (name.empty() ? " (it is empty)"
                                   : name.find('=') != std::string::npos
                                       ? " (it holds '=', so the child would get another variable)"
                                       : " (it holds a NUL byte, which would cut it)"),
                              "a name such as SHOP_ENV, then = and the value: env = { SHOP_ENV = "
                              "\"...\" }");
                    continue;
                }
                if (v.is_string() && is_code_env_name(name) && has_reference(v.string())) {
                    // The env route keeps a value data only under a name nothing evaluates.
                    m_r.error(m_r.where(k), subject,
                              "key \"env\": " + name +
                                  " holds a {{reference}}, but programs run or load code from " +
                                  name + ": " + code_env_reason(name) +
                                  " (docs/security.md): the value would be code",
                              "pass the value under a name of your own (env = { SHOP_VALUE = "
                              "\"{{...}}\" }) and let the program read it from there");
                    continue;
                }
                if (v.is_string()) {
                    s.env[std::string(k.str())] = sub(v, v.string(), s, subject);
                } else {
                    m_r.type_error(v, "env." + std::string(k.str()), subject, "a string");
                }
            }
        }
    } else if (s.action == "wait") {
        s.duration = m_r.get_duration(t, "duration", subject).value_or(s.duration);
    } else if (s.action == "hook") {
        if (auto hook = m_r.get_string(t, "hook", subject)) {
            s.hook = sub(*t.get("hook"), *hook, s, subject);
            check_hook(s.hook, m_r.where(*t.get("hook")), subject);
        }
    }
    m_encodings = &spec.encodings;
    m_body_encoding.reset();
    if (auto body = spec.encodings.find("body"); body != spec.encodings.end()) {
        std::string media_type;
        m_body_encoding = body_encoding(t, body->second, media_type);
        if (*m_body_encoding == Encoding::plain) {
            check_raw_body(t, media_type, subject);
        }
    }
    const std::unordered_set<std::string_view>& params = m_param_keys.at(s.action);
    for (auto&& [k, v] : t) {
        if (params.count(k.str()) == 0) {
            continue; // a common key, a built-in action's own field, or no key of the action
        }
        s.params[k.str()] =
            to_json(v, s, subject, k.str(), std::string(k.str()), std::string(k.str()));
        s.param_where[std::string(k.str())] = m_r.where(k);
    }
}

Encoding Loader::encoding_of(const std::string& pattern) const {
    if (m_body_encoding && pattern == "body") {
        return *m_body_encoding;
    }
    if (auto it = m_encodings->find(pattern); it != m_encodings->end()) {
        return it->second;
    }
    // "headers.*" names every member of headers (a member's name may hold dots).
    for (size_t dot = pattern.find('.'); dot != std::string::npos;
         dot = pattern.find('.', dot + 1)) {
        if (auto it = m_encodings->find(pattern.substr(0, dot) + ".*"); it != m_encodings->end()) {
            return it->second;
        }
    }
    return Encoding::plain;
}

} // namespace rollback::playbook::detail
