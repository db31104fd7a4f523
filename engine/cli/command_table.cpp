// SPDX-License-Identifier: MIT
#include "cli/commands.hpp"

namespace rollback::cli {

const std::vector<Command>& commands() {
    static const std::vector<Command> table = {
        {"validate", "validate [-c CONFIG] [FILE...]",
         "check playbooks and rollback.toml configs; report every error; run nothing",
         cmd_validate},
        {"plan", "plan -p PLAYBOOK", "the dry run: resolved steps and preflight checks", cmd_plan},
        {"run", "run -p PLAYBOOK [--dry-run] [--yes]",
         "show the plan, confirm, execute (journaled)", cmd_run},
        {"resume", "resume [RUN_ID] [--mark-done|--retry STEP]", "continue an interrupted run",
         cmd_resume},
        {"status", "status [RUN_ID] [--json]", "the current or last run: state, steps, who and why",
         cmd_status},
        {"history", "history [--json]", "past runs, one line each", cmd_history},
        {"report", "report RUN_ID [--json]", "a run's full timeline, from its journal", cmd_report},
        {"audit", "audit verify RUN_ID", "check a journal's hash chain (exit 1 when tampered)",
         cmd_audit},
        {"backup", "backup [list|verify] --catalog DIR [--dsn DSN]",
         "take, list or verify catalogued PostgreSQL backups", cmd_backup},
        {"rehearse", "rehearse -p PLAYBOOK [--dsn DSN]",
         "restore backups into scratch databases, verify, time; touches nothing live",
         cmd_rehearse},
        {"check", "check [--replay FILE [--from T --to T]] [--json]",
         "evaluate every condition (or replay a recorded log); exit 5 = rollback recommended",
         cmd_check},
        {"explain", "explain DECISION_ID|RUN_ID|--now|--last",
         "a decision record in words: numbers, baseline, counting, action", cmd_explain},
        {"deployed", "deployed --release V", "record a deploy marker (baselines, once-per-release)",
         cmd_deployed},
        {"monitor", "monitor [-c CONFIG] [--once]",
         "the loop: evaluate every interval; start the playbook on a trigger; SIGHUP reloads",
         cmd_monitor},
        {"trigger", "trigger --condition NAME --reason TEXT",
         "a person's rollback decision: recorded, then the playbook runs", cmd_trigger},
        {"approve", "approve DECISION_ID | --list",
         "approve a rollback the monitor asked for (mode = \"confirm\"); the playbook runs",
         cmd_approve},
        {"help", "help [COMMAND]", "show the commands, or one command's options", cmd_help},
        {"version", "version", "print the version", cmd_version},
        {"completion", "completion bash|zsh",
         "print the shell completion script, generated from this table", cmd_completion, true},
    };
    return table;
}

} // namespace rollback::cli
