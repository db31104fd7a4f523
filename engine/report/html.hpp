// SPDX-License-Identifier: MIT
#pragma once

// `rollback report RUN_ID --html` and `rollback explain DECISION_ID --html`: one self-contained
// HTML file (inline CSS and SVG, no script, no network) a person can open or attach to a
// post-mortem: the decision's evidence as a chart, the run's steps as a timeline, the restore's
// loss window and reconciliation. Every text is masked (util::mask_secrets) and HTML-escaped.

#include "journal/reader.hpp"
#include "journal/state.hpp"
#include "report/run_report.hpp"
#include "util/duration.hpp"
#include "util/time.hpp"

#include <boost/json/object.hpp>
#include <optional>
#include <string>
#include <vector>

namespace rollback::report {

/// One evaluation of a condition (a line of the tick log): its observed value, null when the
/// tick had no usable observation, and its verdict.
struct EvidencePoint {
    util::SystemTime time;
    std::optional<double> value;
    std::string verdict;
};

/// What one condition showed at a decision, as plain data (built by the caller from the decision
/// record and the tick log, so this module does not depend on decision/).
struct Evidence {
    std::string condition, signal, unit, comparator, verdict, action;
    std::optional<double> observed, threshold, baseline;
    std::string baseline_origin;
    std::optional<util::SystemTime> window_start, window_end;
    std::string counting_state, detail;
    std::vector<EvidencePoint> series; ///< the tick log around the decision, in time order
};

/// The decision a run (or `explain`) is about.
struct DecisionView {
    std::string id;
    util::SystemTime time;
    std::string action, reason, target, release;
    bool executed = true;
    std::vector<Evidence> conditions; ///< the cause first
};

/// The whole page for a run: header, the decision that started it (if any), the step timeline
/// (an SVG Gantt: one row per step in plan order, one bar per attempt coloured by its outcome,
/// hooks as marks), the step table, restore facts (loss window, reconciliation) from the steps'
/// details, and warnings.
std::string run_html(const journal::Journal& j, const journal::RunState& s, const RunContext& ctx,
                     const std::optional<DecisionView>& decision);

/// The page for one decision: its reason, one chart per condition (the signal over the tick log,
/// the threshold, the judged window, the decision's instant, the baseline) and what followed
/// (`followed`: plain text lines, e.g. the runs that name the decision).
std::string decision_html(const DecisionView& d, const std::string& followed);

/// The chart of one condition as an inline SVG element (exposed for tests).
std::string evidence_svg(const Evidence& e, util::SystemTime decided_at);

/// `text` masked and escaped for HTML text and attribute values.
std::string html_text(std::string_view text);

/// A restore step's details (db/side_swap.hpp) as a person reads them: `<dl>` rows with
/// durations as "8.90 s" (the `timings` object's `*_s` one per row), numbers and booleans as
/// text, then the reconciliation as a table (table, missing, changed, restored only, files) or
/// "no reconciliation"; never serialized JSON. Every text escaped (html_text).
std::string restore_details_html(const boost::json::object& details);

} // namespace rollback::report
