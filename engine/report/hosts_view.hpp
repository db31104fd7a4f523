// SPDX-License-Identifier: MIT
#pragma once

// Steps on hosts in `status` and `report` (issue 15): the host × step grid and the per-host
// records of the timeline.

#include "journal/state.hpp"

#include <boost/json/object.hpp>
#include <string>

namespace rollback::report {

/// The timeline line of a step_host_started / step_host_finished record.
std::string describe_host_record(const journal::Entry& e);

/// "" when no step ran on hosts; else a table, one row per host, one column per step on hosts:
/// each cell the host's last status for the step ("-": not started there; "running": started,
/// not finished — what a resume runs again).
std::string hosts_grid(const journal::RunState& s);

/// {host: status} of a step on hosts.
boost::json::object hosts_json(const journal::StepState& st);

} // namespace rollback::report
