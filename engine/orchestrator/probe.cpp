// SPDX-License-Identifier: MIT
#include "orchestrator/probe.hpp"

#include "util/strings.hpp"

namespace rollback::orchestrator {

ProbeVerdict run_probe(Execution& ex, const playbook::Step& step, exec::ProcessRunner& runner) {
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
    journal::StepProbe rec;
    rec.step = step.id;
    rec.exit_code = o.exit_code;
    rec.verdict = v == ProbeVerdict::done       ? "done"
                  : v == ProbeVerdict::not_done ? "not_done"
                                                : "error";
    rec.output_tail = util::tail(o.stdout_tail + o.stderr_tail, 2048);
    ex.record(rec);
    return v;
}

} // namespace rollback::orchestrator
