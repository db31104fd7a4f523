// SPDX-License-Identifier: MIT
#pragma once

// Approval gates inside a run (`action = "approve"`): the step's request and the one answer a
// person gives (`rollback approve RUN_ID STEP [--reject]`). Kept by the run's store
// (state::GateDocuments) so that a paused run survives an engine restart: resume finds the first
// request (its expiry unchanged) and an answer given meanwhile. LocalStore's layout, under the
// state directory:
//   runs/<run_id>/gates/<step>.request.json   written once (the first request wins)
//   runs/<run_id>/gates/<step>.answer.json    written once (the first answer wins: link(2))
// PgStore keeps the same two write-once documents in its `gates` table, so a person answers a
// gate from any host sharing the state.

#include "state/store.hpp"
#include "util/time.hpp"

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace rollback::state {

struct GateRequest {
    std::string run_id;
    std::string step;
    util::SystemTime requested_at;
    util::SystemTime expires_at;
    std::string message;                ///< what the person is asked
    std::vector<std::string> approvers; ///< who may answer; empty: anyone
    bool approve_on_timeout = false;    ///< the declared default when nobody answers
};

struct GateAnswer {
    bool approved = false;
    std::string by; ///< the person (cli::current_user)
    util::SystemTime at;
    std::string note; ///< --reason
};

class StepGates {
  public:
    /// The gates `docs` keeps (the run's store).
    explicit StepGates(GateDocuments& docs) : m_docs(&docs) {}
    /// The gates of the state directory `state_dir` (LocalStore's files).
    explicit StepGates(const std::filesystem::path& state_dir);

    /// Records `wanted` unless the step has a request already; returns the request in force
    /// (the first one: a resumed gate keeps its expiry). Throws util::Error when the state
    /// directory cannot be written.
    GateRequest open(const GateRequest& wanted) const;
    /// The step's request, or nullopt. A malformed document is util::Error (exit 2) naming it.
    std::optional<GateRequest> request(const std::string& run_id, const std::string& step) const;
    /// The answer, or nullopt.
    std::optional<GateAnswer> answer(const std::string& run_id, const std::string& step) const;
    /// Records `a` if nobody answered yet (atomic, exclusive create). Returns false, writing
    /// nothing, when an answer exists.
    bool give(const std::string& run_id, const std::string& step, const GateAnswer& a) const;
    /// A person asked to run the gate's step again (`resume --retry STEP`): the request and its
    /// answer are kept as `<step>.request.N.json`/`<step>.answer.N.json` (N = 1, 2, ...), so the
    /// next attempt opens a new gate and asks again. Nothing happens when there is no request.
    void retire(const std::string& run_id, const std::string& step) const;
    /// Every request of `run_id` (for status), ordered by step id.
    std::vector<GateRequest> requests(const std::string& run_id) const;

  private:
    std::shared_ptr<GateDocuments> m_own; ///< the LocalStore of the path constructor
    GateDocuments* m_docs = nullptr;
};

} // namespace rollback::state
