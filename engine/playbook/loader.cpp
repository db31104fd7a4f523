// SPDX-License-Identifier: MIT
#include "playbook/loader.hpp"

#include "playbook/loader_impl.hpp"
#include "playbook/parsed_file_tree.hpp"
#include "playbook/when.hpp"
#include "util/files.hpp"

#include <boost/json/array.hpp>

namespace rollback::playbook {
namespace fs = std::filesystem;

namespace detail {

Loader::Loader(TomlReader& reader, const LoadOptions& options, Playbook& pb)
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
    for (const auto& [name, spec] : m_actions) {
        m_action_names.push_back(name);
        std::vector<std::string>& allowed = m_allowed_keys[name];
        allowed = common_step_keys();
        allowed.insert(allowed.end(), spec.keys.begin(), spec.keys.end());
        const auto builtin = k_builtin_keys.find(name);
        std::unordered_set<std::string_view>& params = m_param_keys[name];
        for (const std::string& k : spec.keys) {
            const bool common = std::find(common_step_keys().begin(), common_step_keys().end(),
                                          k) != common_step_keys().end();
            const bool own = builtin != k_builtin_keys.end() &&
                             std::find(builtin->second.begin(), builtin->second.end(), k) !=
                                 builtin->second.end();
            if (!common && !own) {
                params.insert(k);
            }
        }
    }
}

void Loader::load(const tree::Table& root, const std::map<std::string, std::string>& dotenv) {
    m_r.check_keys(root, "", k_top_keys);
    read_header(root);
    read_remote(root);
    const tree::Table* vars = m_r.get_table(root, "vars", "");
    m_pb.variables = resolve_variables(m_r, vars, m_options, dotenv, m_pb.warnings);
    std::map<std::string, std::string> values{{"playbook_dir", m_pb.directory.string()}};
    for (const Variable& v : m_pb.variables) {
        values[v.name] = v.value;
        if (m_host_vars.count(v.name) != 0 && vars != nullptr) {
            m_r.error(m_r.key_where(*vars, v.name), "[vars]",
                      "variable " + q(v.name) + " is the name of each host of a host step",
                      "rename it");
        }
    }
    for (const auto& name : m_host_vars) {
        values[name] = std::string(1, k_host_open) + name + k_host_close;
    }
    m_subst.emplace(std::move(values));
    std::vector<std::string> unknown;
    for (const Variable& v : m_pb.variables) {
        if (v.unset) {
            unknown.push_back(v.name);
        }
    }
    m_subst->mark_unknown(std::move(unknown));
    // Lifecycle hooks are checked only now: their names may not use variables, but the
    // order of diagnostics follows the file anyway (sorted by the caller).
    read_hooks(root);

    std::vector<Step> read;
    std::vector<RawStep> raw;
    read_step_list(root, "step", false, read, raw);
    read_step_list(root, "finally", true, read, raw);
    const tree::Node* steps = root.get("step");
    if (steps == nullptr ? m_r.ok() : steps->is_array() && steps->as_array()->empty()) {
        util::Location at = steps ? m_r.where(*steps) : util::Location{m_r.display_path(), 1, 1};
        m_r.error(at, "", "no steps (add a [[step]] table)");
    }
    // Whether a step's id is that of a step read without a problem (any of its definitions).
    StepIndex ids(read.size());
    const std::vector<bool> clean_id = check_duplicates(read, raw, ids);
    const StepOrder order = order_steps(m_r, std::move(read), raw, ids, m_pb);
    if (m_options.validate_step) {
        // The actions' own checks see a step only when it loaded without any problem, so a
        // mistake is never reported twice; they read the complete playbook (hooks, vars).
        for (auto [list, from] :
             {std::pair(&m_pb.steps, &order.steps), std::pair(&m_pb.finally, &order.finally)}) {
            for (size_t k = 0; k < list->size(); ++k) {
                Step& s = (*list)[k];
                if (clean_id[(*from)[k]] && !uses_unset_variable(s)) {
                    for (auto& d : m_options.validate_step(m_pb, s)) {
                        m_r.error(std::move(d.where), d.subject, std::move(d.problem),
                                  std::move(d.hint));
                    }
                }
            }
        }
    }
}

bool Loader::uses_unset_variable(const Step& s) const {
    return std::any_of(m_pb.variables.begin(), m_pb.variables.end(), [&](const Variable& v) {
        return v.unset && std::find(s.uses.begin(), s.uses.end(), v.name) != s.uses.end();
    });
}

void Loader::read_header(const tree::Table& root) {
    m_pb.name = m_pb.file.stem().string();
    const tree::Table* header = m_r.get_table(root, "playbook", "");
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

void Loader::read_hooks(const tree::Table& root) {
    const tree::Table* header = root.get_table("playbook");
    const tree::Table* hooks =
        header != nullptr ? m_r.get_table(*header, "hooks", "[playbook]") : nullptr;
    if (hooks == nullptr) {
        return;
    }
    m_r.check_keys(*hooks, "[playbook.hooks]", k_events);
    for (auto&& [event, node] : *hooks) {
        auto names = m_r.get_string_array(*hooks, event.str(), "[playbook.hooks]");
        if (!names || std::find(k_events.begin(), k_events.end(), event.str()) == k_events.end()) {
            continue;
        }
        for (size_t i = 0; i < names->size(); ++i) {
            check_hook((*names)[i], m_r.where(*node.as_array()->get(i)), "[playbook.hooks]");
        }
        m_pb.hooks[std::string(event.str())] = *names;
    }
}

void Loader::check_hook(const std::string& name, const util::Location& at,
                        std::string_view subject) {
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

void Loader::read_step_list(const tree::Table& root, std::string_view key, bool is_finally,
                            std::vector<Step>& steps, std::vector<RawStep>& raw) {
    const tree::Node* node = root.get(key);
    if (node == nullptr) {
        return;
    }
    const tree::Array* list = node->as_array();
    const std::string header = "[[" + std::string(key) + "]]";
    if (list == nullptr) {
        m_r.type_error(*node, key, "", "an array of tables (write " + header + ")");
        return;
    }
    steps.reserve(steps.size() + list->size());
    raw.reserve(raw.size() + list->size());
    int index = 0;
    for (const tree::Node& item : *list) {
        ++index;
        if (const tree::Table* t = item.as_table()) {
            size_t before = m_r.diagnostics().size();
            read_step(*t, is_finally, index, steps.emplace_back(), raw.emplace_back());
            raw.back().clean = m_r.diagnostics().size() == before;
        } else {
            m_r.type_error(item, key, "", "an array of tables (write " + header + ")");
        }
    }
}

std::vector<bool> Loader::check_duplicates(const std::vector<Step>& steps,
                                           std::vector<RawStep>& raw, StepIndex& ids) {
    // Steps and finally steps share one id space; "the second one" is by position in the file.
    std::vector<size_t> by_line;
    by_line.reserve(steps.size());
    for (size_t i = 0; i < steps.size(); ++i) {
        if (!steps[i].id.empty()) {
            by_line.push_back(i);
        }
    }
    const auto earlier = [&steps](size_t a, size_t b) {
        return steps[a].where.line < steps[b].where.line;
    };
    if (!std::is_sorted(by_line.begin(), by_line.end(), earlier)) {
        std::stable_sort(by_line.begin(), by_line.end(), earlier);
    }
    for (size_t i : by_line) {
        const size_t first = ids.add(steps[i].id, i);
        if (first != i) {
            m_r.error(m_r.where(raw[i].id_at), raw[i].subject,
                      "duplicate id " + q(steps[i].id) + " (first defined at line " +
                          std::to_string(raw[first].id_at.line) + ")");
            raw[i].duplicate = true;
        }
    }
    // By id, as the actions' checks are given a step: clean when any definition of its id is.
    std::vector<bool> group_clean(steps.size(), false);
    bool no_id_clean = false;
    for (size_t i = 0; i < steps.size(); ++i) {
        if (steps[i].id.empty()) {
            no_id_clean = no_id_clean || raw[i].clean;
        } else if (raw[i].clean) {
            group_clean[ids.find(steps[i].id)] = true;
        }
    }
    std::vector<bool> clean(steps.size(), false);
    for (size_t i = 0; i < steps.size(); ++i) {
        clean[i] = steps[i].id.empty() ? no_id_clean : group_clean[ids.find(steps[i].id)];
    }
    return clean;
}

} // namespace detail

using detail::Loader;

const std::vector<std::string>& common_step_keys() {
    static const std::vector<std::string> keys{
        "id",         "description", "phase",      "action", "timeout",
        "retries",    "retry_delay", "on_failure", "when",   "needs",
        "idempotent", "probe",       "hosts",      "batch",  "max_failures"};
    return keys;
}

Playbook load(const fs::path& file, const LoadOptions& options) {
    return load(*parse_file(file), options);
}

Playbook load(const ParsedFile& parsed, const LoadOptions& options) {
    const fs::path& file = parsed.file;
    std::error_code ec;

    Playbook pb;
    pb.file = fs::absolute(file).lexically_normal();
    pb.directory = pb.file.parent_path();

    if (!parsed.root) {
        throw util::InvalidInput(parsed.errors);
    }
    TomlReader reader(file.string());

    std::vector<util::Diagnostic> dotenv_errors;
    std::map<std::string, std::string> dotenv;
    const fs::path dotenv_path = file.parent_path() / ".env";
    // Whatever is there is read like the playbook: a FIFO, a device, a directory or a dangling
    // link named .env is refused (exit 2), not skipped.
    if (fs::exists(fs::symlink_status(dotenv_path, ec))) {
        dotenv = parse_dotenv(util::read_input_file(dotenv_path, util::k_max_config_bytes),
                              dotenv_path.string(), dotenv_errors);
    }

    Loader(reader, options, pb).load(parsed.root->root(), dotenv);

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
