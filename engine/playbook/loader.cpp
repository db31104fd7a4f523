// SPDX-License-Identifier: MIT
#include "playbook/loader.hpp"

#include "playbook/ordering.hpp"
#include "playbook/toml_reader.hpp"
#include "playbook/variables.hpp"
#include "playbook/when.hpp"
#include "util/files.hpp"
#include "util/strings.hpp"

#include <algorithm>
#include <boost/json/array.hpp>
#include <boost/json/value.hpp>
#include <cctype>
#include <set>

namespace rollback::playbook {
namespace fs = std::filesystem;

namespace {

const std::vector<std::string> k_top_keys{"playbook", "vars", "step", "finally"};
const std::vector<std::string> k_playbook_keys{"name", "description", "hooks_dir", "hooks"};
const std::vector<std::string> k_events{"on-trigger", "before-step", "after-step", "on-failure",
                                        "on-success"};
const std::vector<std::string> k_phases{"immediate", "database", "code", "verify"};

// Keys of the built-in actions that the loader turns into Step fields (not params).
const std::map<std::string, std::vector<std::string>> k_builtin_keys{
    {"exec", {"argv", "shell", "cwd", "env"}},
    {"wait", {"duration"}},
    {"hook", {"hook"}},
};

std::string q(std::string_view s) {
    return util::quoted(s);
}

std::string with_guess(std::string problem, std::string_view word,
                       const std::vector<std::string>& candidates) {
    if (auto guess = util::closest_match(word, candidates); !guess.empty()) {
        problem += " (did you mean " + q(guess) + "?)";
    }
    return problem;
}

bool is_step_id(std::string_view id) {
    return !id.empty() && std::all_of(id.begin(), id.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
    });
}

class Loader {
  public:
    Loader(TomlReader& reader, const LoadOptions& options, Playbook& pb)
        : m_r(reader), m_options(options), m_pb(pb) {
        for (const auto& [name, keys] : k_builtin_keys) {
            m_actions[name].keys = keys;
        }
        m_actions["exec"].required = {"argv"};
        m_actions["wait"].required = {"duration"};
        m_actions["hook"].required = {"hook"};
        for (const ActionSpec& spec : options.actions) {
            ActionSpec& known = m_actions[spec.name];
            known.name = spec.name;
            for (const auto& k : spec.keys) {
                if (std::find(known.keys.begin(), known.keys.end(), k) == known.keys.end()) {
                    known.keys.push_back(k);
                }
            }
            for (const auto& [k, e] : spec.encodings) {
                known.encodings[k] = e;
            }
            for (const auto& k : spec.required) {
                if (std::find(known.required.begin(), known.required.end(), k) ==
                    known.required.end()) {
                    known.required.push_back(k);
                }
            }
        }
        for (const auto& [name, _] : m_actions) {
            m_action_names.push_back(name);
        }
    }

    void load(const toml::table& root, const std::map<std::string, std::string>& dotenv) {
        m_r.check_keys(root, "", k_top_keys);
        read_header(root);
        const toml::table* vars = m_r.get_table(root, "vars", "");
        m_pb.variables = resolve_variables(m_r, vars, m_options, dotenv, m_pb.warnings);
        std::map<std::string, std::string> values{{"playbook_dir", m_pb.directory.string()}};
        for (const Variable& v : m_pb.variables) {
            values[v.name] = v.value;
        }
        m_subst.emplace(std::move(values));
        // Lifecycle hooks are checked only now: their names may not use variables, but the
        // order of diagnostics follows the file anyway (sorted by the caller).
        read_hooks(root);

        std::vector<RawStep> raw;
        read_step_list(root, "step", false, raw);
        read_step_list(root, "finally", true, raw);
        const toml::node* steps = root.get("step");
        if (steps == nullptr ? m_r.ok() : steps->is_array() && steps->as_array()->empty()) {
            util::Location at =
                steps ? m_r.where(*steps) : util::Location{m_r.display_path(), 1, 1};
            m_r.error(at, "", "no steps (add a [[step]] table)");
        }
        check_duplicates(raw);
        order_steps(m_r, raw, m_pb);
        if (m_options.validate_step) {
            // The actions' own checks see a step only when it loaded without any problem, so a
            // mistake is never reported twice; they read the complete playbook (hooks, vars).
            for (const auto* list : {&m_pb.steps, &m_pb.finally}) {
                for (const Step& s : *list) {
                    if (m_clean.count(s.id) != 0 && !uses_unset_variable(s)) {
                        for (auto& d : m_options.validate_step(m_pb, s)) {
                            m_r.error(std::move(d.where), d.subject, std::move(d.problem),
                                      std::move(d.hint));
                        }
                    }
                }
            }
        }
    }

  private:
    bool uses_unset_variable(const Step& s) const {
        return std::any_of(m_pb.variables.begin(), m_pb.variables.end(), [&](const Variable& v) {
            return v.unset && std::find(s.uses.begin(), s.uses.end(), v.name) != s.uses.end();
        });
    }

    void read_header(const toml::table& root) {
        m_pb.name = m_pb.file.stem().string();
        const toml::table* header = m_r.get_table(root, "playbook", "");
        std::optional<std::string> hooks_dir;
        util::Location hooks_dir_where;
        if (header != nullptr) {
            m_r.check_keys(*header, "[playbook]", k_playbook_keys);
            m_pb.name = m_r.get_string(*header, "name", "[playbook]").value_or(m_pb.name);
            m_pb.description = m_r.get_string(*header, "description", "[playbook]").value_or("");
            hooks_dir = m_r.get_string(*header, "hooks_dir", "[playbook]");
            if (hooks_dir) {
                hooks_dir_where = m_r.where(*header->get("hooks_dir"));
            }
        }
        if (hooks_dir) {
            m_pb.hooks_dir = (m_pb.directory / *hooks_dir).lexically_normal();
            if (!fs::is_directory(m_pb.hooks_dir)) {
                m_r.error(hooks_dir_where, "[playbook]",
                          "hooks_dir " + m_pb.hooks_dir.string() + " is not a directory");
            }
        } else if (fs::is_directory(m_pb.directory / "hooks")) {
            m_pb.hooks_dir = m_pb.directory / "hooks";
        } else {
            m_pb.hooks_dir = (m_pb.directory / ".." / "hooks").lexically_normal();
        }
    }

    void read_hooks(const toml::table& root) {
        const toml::table* header = root["playbook"].as_table();
        const toml::table* hooks =
            header != nullptr ? m_r.get_table(*header, "hooks", "[playbook]") : nullptr;
        if (hooks == nullptr) {
            return;
        }
        m_r.check_keys(*hooks, "[playbook.hooks]", k_events);
        for (auto&& [event, node] : *hooks) {
            auto names = m_r.get_string_array(*hooks, event.str(), "[playbook.hooks]");
            if (!names ||
                std::find(k_events.begin(), k_events.end(), event.str()) == k_events.end()) {
                continue;
            }
            for (size_t i = 0; i < names->size(); ++i) {
                check_hook((*names)[i], m_r.where(*node.as_array()->get(i)), "[playbook.hooks]");
            }
            m_pb.hooks[std::string(event.str())] = *names;
        }
    }

    void check_hook(const std::string& name, const util::Location& at, std::string_view subject) {
        if (name.empty() || name.find('/') != std::string::npos || name == "." || name == "..") {
            m_r.error(at, subject, "hook " + q(name) + " must be a file name in hooks_dir");
            return;
        }
        fs::path p = m_pb.hooks_dir / name;
        std::error_code ec;
        if (!fs::exists(p, ec)) {
            m_r.error(at, subject, "hook " + q(name) + " not found in " + m_pb.hooks_dir.string());
        } else if (!util::is_executable_file(p)) {
            m_r.error(at, subject,
                      "hook " + q(name) + " is not executable (chmod +x " + p.string() + ")");
        }
    }

    void read_step_list(const toml::table& root, std::string_view key, bool is_finally,
                        std::vector<RawStep>& raw) {
        const toml::node* node = root.get(key);
        if (node == nullptr) {
            return;
        }
        const toml::array* list = node->as_array();
        const std::string header = "[[" + std::string(key) + "]]";
        if (list == nullptr) {
            m_r.type_error(*node, key, "", "an array of tables (write " + header + ")");
            return;
        }
        int index = 0;
        for (const toml::node& item : *list) {
            ++index;
            if (const toml::table* t = item.as_table()) {
                size_t before = m_r.diagnostics().size();
                raw.push_back(read_step(*t, is_finally, index));
                if (m_r.diagnostics().size() == before) {
                    m_clean.insert(raw.back().step.id);
                }
            } else {
                m_r.type_error(item, key, "", "an array of tables (write " + header + ")");
            }
        }
    }

    std::string sub(const toml::node& at, std::string_view text, Step& s, std::string_view subject,
                    Encoding encoding = Encoding::plain, const std::string& path = {}) {
        std::vector<std::string> problems;
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
    util::Location when_where(const toml::node& n, const std::string& text, size_t offset) const {
        util::Location at = m_r.where(n);
        const auto& src = n.source();
        if (src.begin.line == src.end.line &&
            src.end.column - src.begin.column == text.size() + 2) {
            at.column += static_cast<int>(offset) + 1;
        }
        return at;
    }

    // An argv-like key: an array of strings (exec form) or a string (run by /bin/sh -c).
    // Returns false when the key is present but invalid.
    bool read_command(const toml::table& t, std::string_view key, Step& s, std::string_view subject,
                      std::vector<std::string>& argv, bool& is_string) {
        const toml::node* n = t.get(key);
        if (n == nullptr) {
            return true;
        }
        if (n->is_string()) {
            is_string = true;
            argv = {sub(*n, n->as_string()->get(), s, subject, Encoding::shell)};
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
        // ["sh", "-c", "... {{v}}"]: the command string is shell text, whatever the values.
        std::vector<std::string> seen;
        for (const auto& item : *list) {
            std::vector<std::string> ignored_uses, ignored_problems;
            seen.push_back(m_subst->apply(item, ignored_uses, ignored_problems));
        }
        const size_t shell_at = shell_command_index(seen);
        const toml::array& arr = *n->as_array();
        for (size_t i = 0; i < list->size(); ++i) {
            argv.push_back(sub(*arr.get(i), (*list)[i], s, subject,
                               shell_at != 0 && i == shell_at ? Encoding::shell : Encoding::plain));
        }
        return true;
    }

    // `pattern` is the key path without array indices (what ActionSpec::encodings names),
    // `path` the one with them (where Step::sql_params keeps a SQL text's values).
    boost::json::value to_json(const toml::node& n, Step& s, std::string_view subject,
                               std::string_view key, const std::string& pattern,
                               const std::string& path) {
        if (n.is_string()) {
            return boost::json::value(
                sub(n, n.as_string()->get(), s, subject, encoding_of(pattern), path));
        }
        if (n.is_integer()) {
            return boost::json::value(n.as_integer()->get());
        }
        if (n.is_floating_point()) {
            return boost::json::value(n.as_floating_point()->get());
        }
        if (n.is_boolean()) {
            return boost::json::value(n.as_boolean()->get());
        }
        if (const toml::array* a = n.as_array()) {
            boost::json::array out;
            for (size_t i = 0; i < a->size(); ++i) {
                out.push_back(
                    to_json(*a->get(i), s, subject, key, pattern, path + "." + std::to_string(i)));
            }
            return out;
        }
        if (const toml::table* t = n.as_table()) {
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

    RawStep read_step(const toml::table& t, bool is_finally, int index) {
        RawStep raw;
        raw.is_finally = is_finally;
        Step& s = raw.step;
        s.where = m_r.where(t);
        const std::string kind = is_finally ? "finally" : "step";
        std::string subject = kind + " #" + std::to_string(index);
        if (auto id = m_r.get_string(t, "id", subject)) {
            s.id = *id;
            subject = kind + " " + q(*id);
            raw.id_where = m_r.where(*t.get("id"));
            if (!is_step_id(*id)) {
                m_r.error(raw.id_where, subject,
                          "invalid id (use letters, digits, '-', '_' and '.')");
            }
        } else if (!t.contains("id")) {
            m_r.error(s.where, subject, "missing required key \"id\"");
        }
        raw.subject = subject;

        const ActionSpec* spec = nullptr;
        if (auto action = m_r.get_string(t, "action", subject)) {
            s.action = *action;
            auto it = m_actions.find(*action);
            if (it != m_actions.end()) {
                spec = &it->second;
            } else {
                m_r.error(m_r.where(*t.get("action")), subject,
                          with_guess("unknown action " + q(*action), *action, m_action_names),
                          "known actions: " + util::join(m_action_names, ", "));
            }
        } else if (!t.contains("action")) {
            m_r.error(s.where, subject, "missing required key \"action\"",
                      "known actions: " + util::join(m_action_names, ", "));
        }

        std::vector<std::string> allowed = common_step_keys();
        if (spec != nullptr) {
            allowed.insert(allowed.end(), spec->keys.begin(), spec->keys.end());
            for (auto&& [k, v] : t) {
                if (is_finally && (k.str() == "phase" || k.str() == "needs")) {
                    m_r.error(m_r.where(k), subject,
                              "key " + q(k.str()) + " is not allowed in [[finally]] " +
                                  "(finally steps always run last, in file order)");
                }
            }
            m_r.check_keys(t, subject, allowed);
            for (const std::string& req : spec->required) {
                if (!t.contains(req)) {
                    m_r.error(s.where, subject,
                              "missing required key " + q(req) + " (action " + q(s.action) + ")");
                }
            }
        }

        read_common(t, raw, subject);
        if (spec != nullptr) {
            read_action_keys(t, *spec, s, subject);
        }
        std::sort(s.uses.begin(), s.uses.end());
        return raw;
    }

    void read_common(const toml::table& t, RawStep& raw, const std::string& subject) {
        Step& s = raw.step;
        s.phase = raw.is_finally ? Phase::finally : Phase::immediate;
        if (!raw.is_finally) {
            if (auto phase = m_r.get_string(t, "phase", subject)) {
                auto p = parse_phase(*phase);
                if (p && *p != Phase::finally) {
                    s.phase = *p;
                } else {
                    m_r.error(
                        m_r.where(*t.get("phase")), subject,
                        with_guess("key \"phase\": unknown phase " + q(*phase), *phase, k_phases),
                        "phases run in this order: immediate, database, code, verify" +
                            std::string(*phase == "finally" ? "; use [[finally]]" : ""));
                    raw.phase_ok = false;
                }
            }
            if (auto needs = m_r.get_string_array(t, "needs", subject)) {
                const toml::array& arr = *t.get("needs")->as_array();
                for (size_t i = 0; i < needs->size(); ++i) {
                    s.needs.push_back((*needs)[i]);
                    raw.needs_where.push_back(m_r.where(*arr.get(i)));
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
                    with_guess("key \"on_failure\": expected \"abort\" or \"continue\", got " +
                                   q(*f),
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
        // A wait has no effect to repeat: resuming after a crash during one needs no person.
        s.idempotent = m_r.get_bool(t, "idempotent", subject).value_or(s.action == "wait");
        read_command(t, "probe", s, subject, s.probe, s.probe_shell);
    }

    void read_action_keys(const toml::table& t, const ActionSpec& spec, Step& s,
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
                s.cwd = (m_pb.directory / p).lexically_normal().string();
            }
            if (const toml::table* env = m_r.get_table(t, "env", subject)) {
                for (auto&& [k, v] : *env) {
                    if (v.is_string()) {
                        s.env[std::string(k.str())] = sub(v, v.as_string()->get(), s, subject);
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
        m_encodings = spec.encodings;
        if (auto body = m_encodings.find("body"); body != m_encodings.end()) {
            body->second = body_encoding(t, body->second);
        }
        const auto builtin = k_builtin_keys.find(s.action);
        for (auto&& [k, v] : t) {
            bool common = std::find(common_step_keys().begin(), common_step_keys().end(),
                                    k.str()) != common_step_keys().end();
            bool own = builtin != k_builtin_keys.end() &&
                       std::find(builtin->second.begin(), builtin->second.end(), k.str()) !=
                           builtin->second.end();
            bool declared =
                std::find(spec.keys.begin(), spec.keys.end(), k.str()) != spec.keys.end();
            if (common || own || !declared) {
                continue;
            }
            s.params[k.str()] =
                to_json(v, s, subject, k.str(), std::string(k.str()), std::string(k.str()));
            s.param_where[std::string(k.str())] = m_r.where(k);
        }
    }

    Encoding encoding_of(const std::string& pattern) const {
        if (auto it = m_encodings.find(pattern); it != m_encodings.end()) {
            return it->second;
        }
        // "headers.*" names every member of headers (a member's name may hold dots).
        for (size_t dot = pattern.find('.'); dot != std::string::npos;
             dot = pattern.find('.', dot + 1)) {
            if (auto it = m_encodings.find(pattern.substr(0, dot) + ".*");
                it != m_encodings.end()) {
                return it->second;
            }
        }
        return Encoding::plain;
    }

    // A request body is JSON or a form by its Content-Type header, else JSON when it begins
    // with { or [; otherwise `declared`.
    static Encoding body_encoding(const toml::table& t, Encoding declared) {
        if (const toml::table* headers = t["headers"].as_table()) {
            for (auto&& [k, v] : *headers) {
                std::string name(k.str());
                std::transform(name.begin(), name.end(), name.begin(),
                               [](unsigned char c) { return std::tolower(c); });
                if (name != "content-type" || !v.is_string()) {
                    continue;
                }
                const std::string& type = v.as_string()->get();
                if (type.find("json") != std::string::npos) {
                    return Encoding::json;
                }
                if (type.find("x-www-form-urlencoded") != std::string::npos) {
                    return Encoding::form;
                }
                return declared;
            }
        }
        if (const auto* body = t["body"].as_string()) {
            std::string_view text = util::trim(body->get());
            if (!text.empty() && (text[0] == '{' || text[0] == '[')) {
                return Encoding::json;
            }
        }
        return declared;
    }

    void check_duplicates(std::vector<RawStep>& raw) {
        // Steps and finally steps share one id space; "the second one" is by position in the file.
        std::vector<const RawStep*> by_line;
        for (const RawStep& r : raw) {
            if (!r.step.id.empty()) {
                by_line.push_back(&r);
            }
        }
        std::stable_sort(by_line.begin(), by_line.end(), [](const RawStep* a, const RawStep* b) {
            return a->step.where.line < b->step.where.line;
        });
        std::map<std::string, const RawStep*> first;
        for (const RawStep* r : by_line) {
            auto [it, inserted] = first.emplace(r->step.id, r);
            if (!inserted) {
                m_r.error(r->id_where, r->subject,
                          "duplicate id " + q(r->step.id) + " (first defined at line " +
                              std::to_string(it->second->id_where.line) + ")");
                const_cast<RawStep*>(r)->duplicate = true;
            }
        }
    }

    TomlReader& m_r;
    const LoadOptions& m_options;
    Playbook& m_pb;
    std::map<std::string, ActionSpec> m_actions;
    std::vector<std::string> m_action_names;
    std::optional<Substituter> m_subst;
    std::map<std::string, Encoding> m_encodings; ///< of the step being read (its action's)
    std::set<std::string> m_clean;               ///< ids of the steps read without any diagnostic
};

} // namespace

const std::vector<std::string>& common_step_keys() {
    static const std::vector<std::string> keys{
        "id",          "description", "phase", "action", "timeout",    "retries",
        "retry_delay", "on_failure",  "when",  "needs",  "idempotent", "probe"};
    return keys;
}

Playbook load(const fs::path& file, const LoadOptions& options) {
    const std::string display = file.string();
    std::error_code ec;
    const std::string text = util::read_input_file(file, util::k_max_config_bytes);

    Playbook pb;
    pb.file = fs::absolute(file).lexically_normal();
    pb.directory = pb.file.parent_path();

    TomlReader reader(display);
    std::optional<toml::table> root = reader.parse(text);
    reader.throw_if_errors();

    std::vector<util::Diagnostic> dotenv_errors;
    std::map<std::string, std::string> dotenv;
    const fs::path dotenv_path = file.parent_path() / ".env";
    if (fs::is_regular_file(dotenv_path, ec)) {
        dotenv = parse_dotenv(util::read_input_file(dotenv_path, util::k_max_config_bytes),
                              dotenv_path.string(), dotenv_errors);
    }

    Loader(reader, options, pb).load(*root, dotenv);

    std::vector<util::Diagnostic> all = reader.diagnostics();
    // In file order, so a reader can fix them top to bottom; .env problems come last.
    std::stable_sort(all.begin(), all.end(), [](const auto& a, const auto& b) {
        return std::pair(a.where.line, a.where.column) < std::pair(b.where.line, b.where.column);
    });
    all.insert(all.end(), dotenv_errors.begin(), dotenv_errors.end());
    if (!all.empty()) {
        throw util::InvalidInput(std::move(all));
    }
    return pb;
}

} // namespace rollback::playbook
