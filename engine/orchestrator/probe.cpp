// SPDX-License-Identifier: MIT
#include "orchestrator/probe.hpp"

#include "util/strings.hpp"

namespace rollback::orchestrator {

ProbeVerdict run_probe(Execution& ex, const playbook::Step& step, exec::ProcessRunner& runner,
                       const std::string& host, std::string* why) {
    exec::Command cmd;
    cmd.argv = step.probe_shell
                   ? std::vector<std::string>{"/bin/sh", "-c", util::join(step.probe, " ")}
                   : step.probe;
    auto ctx = ex.context(step);
    cmd.cwd = step.cwd.empty() ? ctx.playbook.directory.string() : step.cwd;
    cmd.env = step.env;
    // A probe only looks; it gets the step's timeout but never more than a minute.
    cmd.timeout = std::min(step.timeout.count() > 0 ? step.timeout : util::Millis(60'000),
                           util::Millis(60'000));
    exec::Outcome o = runner.run(cmd);
    ProbeVerdict v = ProbeVerdict::error;
    if (o.ending == exec::Ending::exited && o.exit_code == 0) {
        v = ProbeVerdict::done;
    } else if (o.ending == exec::Ending::exited && o.exit_code == 1) {
        v = ProbeVerdict::not_done;
    }
    if (why != nullptr && v == ProbeVerdict::error) {
        *why = o.ending == exec::Ending::exited      ? "exit " + std::to_string(o.exit_code)
               : o.ending == exec::Ending::timed_out ? std::string("timed out")
               : o.ending == exec::Ending::failed_to_start
                   ? "could not run: " + util::tail(o.error, 200)
                   : std::string("ended by a signal");
    }
    journal::StepProbe rec;
    rec.step = step.id;
    rec.host = host;
    rec.exit_code = o.exit_code;
    rec.verdict = v == ProbeVerdict::done       ? "done"
                  : v == ProbeVerdict::not_done ? "not_done"
                                                : "error";
    rec.output_tail = util::tail(o.stdout_tail + o.stderr_tail, 2048);
    ex.record(rec);
    return v;
}

} // namespace rollback::orchestrator
