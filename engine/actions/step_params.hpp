// SPDX-License-Identifier: MIT
#pragma once

// Typed reading of an action's own keys (playbook::Step::params) with located diagnostics: the
// one reader of raw keys, used by each action kind's parse (actions/kind_action.hpp), which runs
// once per step, at load.

#include "playbook/model.hpp"
#include "util/duration.hpp"
#include "util/error.hpp"

#include <boost/json/value.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rollback::actions {

class StepParams {
  public:
    explicit StepParams(const playbook::Step& step) : m_step(step) {}

    /// Each getter returns nullopt when the key is absent, or present with the wrong type (then
    /// a diagnostic "key \"k\": expected ..." is recorded).
    std::optional<std::string> string(std::string_view key);
    std::optional<std::int64_t> integer(std::string_view key);
    std::optional<bool> boolean(std::string_view key);
    /// A duration string such as "30s" or "1m30s".
    std::optional<util::Millis> duration(std::string_view key);
    /// An array of strings (argv, paths).
    std::optional<std::vector<std::string>> strings(std::string_view key);
    /// An integer, or an array of integers (expect_status = 200 or [200, 204]).
    std::optional<std::vector<std::int64_t>> integers(std::string_view key);
    /// The bound values of the SQL text at `path` ("sql", "statements.1", "assert.0.sql"; see
    /// playbook::Step::sql_params); empty when it used no variable.
    std::vector<std::string> sql_params(const std::string& path) const;
    /// The raw value, or nullptr.
    const boost::json::value* raw(std::string_view key) const;
    bool has(std::string_view key) const { return raw(key) != nullptr; }

    /// Where `key` is written: Step::param_where, else the step itself.
    util::Location where(std::string_view key) const;
    /// Records a problem with `key` (empty key = the step itself).
    void error(std::string_view key, std::string problem, std::string hint = {});

    const std::vector<util::Diagnostic>& diagnostics() const { return m_diagnostics; }
    bool ok() const { return m_diagnostics.empty(); }

  private:
    void type_error(std::string_view key, std::string_view expected);

    const playbook::Step& m_step;
    std::vector<util::Diagnostic> m_diagnostics;
};

/// `step "id"`: the subject of a step's diagnostics.
std::string step_subject(const playbook::Step& step);

/// Descends into a table value: `wait_healthy.url` style keys for nested diagnostics are the
/// caller's business; this returns the member or nullptr.
const boost::json::value* member(const boost::json::value* table, std::string_view key);

} // namespace rollback::actions
