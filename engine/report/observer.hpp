// SPDX-License-Identifier: MIT
#pragma once

#include "journal/records.hpp"

#include <string>
#include <string_view>

namespace rollback::report {

/// Watches a run as it happens. The orchestrator calls it with every journal record (and the
/// run's id) right after the record is durable, so what a person sees is exactly what the
/// journal says, and with progress lines from actions. Implementations must not throw.
class Observer {
  public:
    virtual ~Observer() = default;
    virtual void on_record(const journal::Entry& record, std::string_view run_id) = 0;
    virtual void on_progress(std::string_view step, std::string_view line) = 0;
    /// A progress line of `step` on `host` (a step on hosts); by default on_progress's.
    virtual void on_host_progress(std::string_view step, std::string_view /*host*/,
                                  std::string_view line) {
        on_progress(step, line);
    }
};

/// Discards everything (tests, rehearsals).
class NullObserver final : public Observer {
  public:
    void on_record(const journal::Entry&, std::string_view) override {}
    void on_progress(std::string_view, std::string_view) override {}
};

} // namespace rollback::report
