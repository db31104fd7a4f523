// SPDX-License-Identifier: MIT
#pragma once

// Internal to playbook/: the loader that turns a parsed playbook into a Playbook. loader.cpp
// reads the header, variables and hooks and orders the steps; loader_steps.cpp reads each step.

#include "playbook/loader.hpp"
#include "playbook/ordering.hpp"
#include "playbook/toml_reader.hpp"
#include "playbook/variables.hpp"
#include "util/strings.hpp"

#include <algorithm>
#include <boost/json/value.hpp>
#include <cctype>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_set>
#include <vector>

namespace rollback::playbook::detail {

inline const std::vector<std::string> k_top_keys{"playbook", "vars",   "step",
                                                 "finally",  "remote", "hosts"};
inline const std::vector<std::string> k_playbook_keys{"name", "description", "hooks_dir", "hooks"};
inline const std::vector<std::string> k_events{"on-trigger", "before-step", "after-step",
                                               "on-failure", "on-success",  "on-approval"};
inline const std::vector<std::string> k_phases{"immediate", "database", "code", "verify"};

// Keys of the built-in actions that the loader turns into Step fields (not params).
inline const std::map<std::string, std::vector<std::string>> k_builtin_keys{
    {"exec", {"argv", "shell", "cwd", "env"}},
    {"wait", {"duration"}},
    {"hook", {"hook"}},
};

inline std::string q(std::string_view s) {
    return util::quoted(s);
}

inline std::string with_guess(std::string problem, std::string_view word,
                              const std::vector<std::string>& candidates) {
    if (auto guess = util::closest_match(word, candidates); !guess.empty()) {
        problem += " (did you mean " + q(guess) + "?)";
    }
    return problem;
}

inline bool is_step_id(std::string_view id) {
    return !id.empty() && std::all_of(id.begin(), id.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
    });
}

class Loader {
  public:
    Loader(TomlReader& reader, const LoadOptions& options, Playbook& pb);
    void load(const tree::Table& root, const std::map<std::string, std::string>& dotenv);

  private:
    bool uses_unset_variable(const Step& s) const;
    void read_header(const tree::Table& root);
    // `[remote]` and `[hosts]` (loader_hosts.cpp), before the variables: their names are kept.
    void read_remote(const tree::Table& root);
    // `hosts`, `batch`, `max_failures` of a step, and its `{{host...}}` references.
    void read_step_hosts(const tree::Table& t, Step& s, const std::string& subject);
    /// `first_problem`: the index of the step's first diagnostic (a secret already refused at
    /// its key is not reported again at `action`).
    void check_host_references(const tree::Table& t, Step& s, const std::string& subject,
                               size_t first_problem);
    void read_hooks(const tree::Table& root);
    void check_hook(const std::string& name, const util::Location& at, std::string_view subject);
    void read_step_list(const tree::Table& root, std::string_view key, bool is_finally,
                        std::vector<Step>& steps, std::vector<RawStep>& raw);
    std::string sub(const tree::Node& at, std::string_view text, Step& s, std::string_view subject,
                    Encoding encoding = Encoding::plain, const std::string& path = {});
    // The place of character `offset` of a string value: exact when the value is written on one
    // line without escapes (its source is then the text plus two quotes), else the value itself.
    util::Location when_where(const tree::Node& n, const std::string& text, size_t offset) const;
    // An argv-like key: an array of strings (exec form) or a string (run by /bin/sh -c).
    // Returns false when the key is present but invalid.
    bool read_command(const tree::Table& t, std::string_view key, Step& s, std::string_view subject,
                      std::vector<std::string>& argv, bool& is_string);
    // The elements of an argv array `arr` (all strings), substituted by Encoding::argv: the
    // shell command string in it takes shell words; a reference in another language's code is
    // an error. Exec's argv and probe, and every action key declared Encoding::argv.
    std::vector<std::string> sub_argv(const tree::Array& arr, Step& s, std::string_view subject,
                                      std::string_view key);
    // A secret among `uses` (the references of one command element) is an error: a child's
    // arguments are readable by every local user.
    void refuse_secret_in_command(const util::Location& at, const std::vector<std::string>& uses,
                                  std::string_view subject, std::string_view key);
    // A shell string (argv, probe, an argv-encoded action key) that evaluates a value handed to
    // it through env or as an argument after the command string as code: an error at the
    // string (loader_shell_values.cpp).
    void refuse_fed_values(const tree::Table& t, std::string_view subject);
    // A secret in an action's key the action puts on a command line and records (an
    // Encoding::operand or service_name key) is an error.
    void refuse_secret_in_operand(const tree::Node& at, std::string_view text,
                                  std::string_view subject, std::string_view key);
    // A reference in an argument no known shell reads, written among shell characters
    // (quotes, $, `, ;, |, &, <, >, \, line breaks): an error.
    void refuse_shell_text(const util::Location& at, std::string_view text, const std::string& ref,
                           std::string_view subject, std::string_view key);
    // `pattern` is the key path without array indices (what ActionSpec::encodings names),
    // `path` the one with them (where Step::sql_params keeps a SQL text's values).
    boost::json::value to_json(const tree::Node& n, Step& s, std::string_view subject,
                               std::string_view key, const std::string& pattern,
                               const std::string& path);
    /// Fills `s` and `raw`, fresh and already in their lists (built in place: a Step moved is
    /// ~640 bytes).
    void read_step(const tree::Table& t, bool is_finally, int index, Step& s, RawStep& raw);
    void read_common(const tree::Table& t, Step& s, RawStep& raw, const std::string& subject);
    void read_action_keys(const tree::Table& t, const ActionSpec& spec, Step& s,
                          const std::string& subject);
    Encoding encoding_of(const std::string& pattern) const;
    // A request body is JSON when it begins with { or [ or its Content-Type is a JSON media
    // type, a form by its Content-Type; otherwise `declared` (raw), and `media_type` is the
    // Content-Type's media type ("" without one).
    Encoding body_encoding(const tree::Table& t, Encoding declared, std::string& media_type) const;
    // A reference in a body that goes in raw: an error in a multipart body (a value can hold
    // the boundary and add a part), a warning in any other.
    void check_raw_body(const tree::Table& t, const std::string& media_type,
                        std::string_view subject);
    /// Marks the second definition of an id duplicate (and reports it) and fills `ids` with the
    /// first; returns, by step, whether any step of its id was read without a problem.
    std::vector<bool> check_duplicates(const std::vector<Step>& steps, std::vector<RawStep>& raw,
                                       StepIndex& ids);

    TomlReader& m_r;
    const LoadOptions& m_options;
    Playbook& m_pb;
    std::map<std::string, ActionSpec> m_actions;
    /// The keys a step of each action may have: common_step_keys() then the action's own.
    std::map<std::string, std::vector<std::string>> m_allowed_keys;
    std::vector<std::string> m_action_names;
    std::optional<Substituter> m_subst;
    /// Of the step being read (its action's), and its "body" as its headers and body decide.
    const std::map<std::string, Encoding>* m_encodings = &m_no_encodings;
    std::optional<Encoding> m_body_encoding;
    const std::map<std::string, Encoding> m_no_encodings;
    /// By action: its keys that are read into Step::params (declared, neither common to every
    /// step nor a built-in action's own field).
    std::map<std::string, std::unordered_set<std::string_view>> m_param_keys;
    std::set<std::string> m_host_vars; ///< "host" and "host.NAME" of the inventory
};

} // namespace rollback::playbook::detail
