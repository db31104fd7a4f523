// SPDX-License-Identifier: MIT
// rollback(1), in man(7) roff, generated from the command table and the commands' own option
// descriptions (cli/describe.hpp): `rollback help --man`. The build writes it to rollback.1.
#include "cli/describe.hpp"

#include <algorithm>
#include <string>

namespace rollback::cli {

namespace {

/// Text for a roff line: backslashes and hyphens escaped, a leading '.' or '\'' made literal.
std::string roff(std::string_view text) {
    std::string out;
    for (char ch : text) {
        if (ch == '\\') {
            out += "\\e";
        } else if (ch == '-') {
            out += "\\-";
        } else {
            out += ch;
        }
    }
    if (!out.empty() && (out[0] == '.' || out[0] == '\'')) {
        out.insert(0, "\\&");
    }
    return out;
}

std::string option_tag(const OptionDoc& o) {
    std::string tag;
    if (!o.short_name.empty()) {
        tag += "\\fB\\-" + roff(o.short_name) + "\\fR, ";
    }
    tag += "\\fB\\-\\-" + roff(o.long_name) + "\\fR";
    if (!o.value_name.empty()) {
        tag += " \\fI" + roff(o.value_name) + "\\fR";
    }
    return tag;
}

void add_options(std::string& s, const std::vector<OptionDoc>& options) {
    for (const auto& o : options) {
        s += ".TP\n" + option_tag(o) + "\n" + roff(o.description) + "\n";
    }
}

/// The options every described command accepts (add_common_options), in the first one's order.
std::vector<OptionDoc> common_options(const std::vector<CommandDoc>& docs) {
    std::vector<OptionDoc> common;
    const CommandDoc* first = nullptr;
    for (const auto& d : docs) {
        if (!d.options.empty()) {
            first = &d;
            break;
        }
    }
    if (first == nullptr) {
        return common;
    }
    for (const auto& o : first->options) {
        bool everywhere = std::all_of(docs.begin(), docs.end(), [&](const CommandDoc& d) {
            return d.options.empty() ||
                   std::any_of(d.options.begin(), d.options.end(),
                               [&](const OptionDoc& x) { return x.long_name == o.long_name; });
        });
        if (everywhere) {
            common.push_back(o);
        }
    }
    return common;
}

bool is_common(const std::vector<OptionDoc>& common, const OptionDoc& o) {
    return std::any_of(common.begin(), common.end(),
                       [&](const OptionDoc& c) { return c.long_name == o.long_name; });
}

/// rollback.toml's tables, and [server] whole: what `rollback monitor` serves and who may ask.
std::string configuration_section() {
    return ".SH CONFIGURATION\n"
           "The configuration (\\fB\\-c\\fR \\fIFILE\\fR, else ./rollback.toml; the "
           "package's is /etc/rollback/rollback.toml) is TOML: \\fB[target]\\fR (the service, "
           "\\fIstate_dir\\fR), \\fB[source.\\fR\\fINAME\\fR\\fB]\\fR (http, access_log, "
           "prometheus, sql, command), \\fB[[condition]]\\fR (rules on signals, or "
           "\\fIkind\\fR = \\(dqalert\\(dq on Alertmanager alerts), \\fB[decision]\\fR (mode, "
           "playbook, cooldown), \\fB[state]\\fR (a shared PostgreSQL state), "
           "\\fB[server]\\fR and \\fB[webhook.\\fR\\fINAME\\fR\\fB]\\fR. "
           "\\fBrollback validate \\-c\\fR \\fIFILE\\fR checks it and runs nothing.\n"
           ".SS \"[server]\"\n"
           "With a \\fB[server]\\fR table, \\fBrollback monitor\\fR also serves HTTP/1.1 on its "
           "own thread; without one it listens nowhere. It is read at start (a SIGHUP reload "
           "applies everything else).\n"
           ".TP\n.B listen\n"
           "\\fIADDRESS\\fR:\\fIPORT\\fR, an IP literal (IPv6 as [::1]:9095); default "
           "127.0.0.1:9095. An address that is not loopback needs a token.\n"
           ".TP\n.B token_file\n"
           "a file holding the bearer token (relative: to the configuration's directory), read "
           "as Alertmanager reads its credentials_file (surrounding whitespace removed); one "
           "word.\n"
           ".TP\n.B token_env\n"
           "the environment variable holding the token instead (excludes \\fBtoken_file\\fR).\n"
           ".TP\n.B max_body\n"
           "the longest request body, 1KiB to 64MiB (B, KiB, MiB, kB, MB); default 1MiB; longer "
           "is answered 413.\n"
           ".PP\n"
           "Paths: \\fBPOST /api/v1/alertmanager\\fR (Alertmanager webhook, version 4), "
           "\\fBPOST /api/v1/webhook/\\fR\\fINAME\\fR (a generic JSON webhook of "
           "\\fB[webhook.\\fR\\fINAME\\fR\\fB]\\fR), \\fBGET /metrics\\fR (Prometheus "
           "text format), \\fBGET /healthz\\fR (200 while the loop ticks, 503 while it runs a "
           "playbook). With a token every path but /healthz needs \\fBAuthorization: Bearer\\fR "
           "\\fITOKEN\\fR (none or a wrong one: 401). A body that is no notification is "
           "answered 400 with the reason; one that cannot be kept, 503 (the sender retries). "
           "The token is a secret, masked in every output.\n"
           ".PP\n"
           "Example:\n.RS\n.EX\n[server]\nlisten = \"127.0.0.1:9095\"\n"
           "token_file = \"/etc/rollback/token\"\nmax_body = \"1MiB\"\n.EE\n.RE\n";
}

} // namespace

std::string man_page(const std::vector<CommandDoc>& docs) {
    const auto common = common_options(docs);
    std::string s;
    s += ".\\\" Generated by `rollback help --man` from the command table; do not edit.\n";
    s += ".TH ROLLBACK 1 \"\" \"rollback " ROLLBACK_VERSION "\" \"User Commands\"\n";
    s += ".SH NAME\nrollback \\- decide when a web service's release must be rolled back, and "
         "carry the rollback out\n";
    s += ".SH SYNOPSIS\n.B rollback\n.I COMMAND\n.RI [ OPTIONS ]\n.br\n.B rollback help\n"
         ".RI [ COMMAND ]\n";
    s += ".SH DESCRIPTION\n"
         ".B rollback\n"
         "evaluates conditions (error rate, latency against a baseline, downtime, data checks) "
         "over access logs, HTTP probes, Prometheus, SQL and commands, and writes a decision "
         "record with its numbers.\n"
         "When a rollback is decided, by the monitor, by a person or on approval, it runs the "
         "playbook: TOML steps in phases (immediate, database, code, verify, finally), every "
         "state change journaled before its side effect, so that an interrupted run resumes "
         "without running a finished step twice.\n"
         "A database is restored into a side database, verified and swapped in; the old one is "
         "kept and rows written since the backup are exported for a person.\n"
         ".PP\n"
         "The state directory (journals, the run lock, decision records, rollback.log) is found "
         "by one rule for every command: \\fB\\-\\-state\\-dir\\fR, else "
         "\\fB$ROLLBACK_STATE_DIR\\fR, else the \\fIstate_dir\\fR of the configuration "
         "(\\fB\\-c\\fR \\fIFILE\\fR, else ./rollback.toml, else rollback.toml beside the "
         "playbook or one directory up), else .rollback/ beside the playbook, else ./.rollback.\n";
    s += ".SH OPTIONS\nEvery command except help and version accepts the options below; the others "
         "each command uses are listed with it.\n";
    add_options(s, common);
    s += ".SH COMMANDS\n";
    for (const auto& d : docs) {
        s += ".SS \"" + roff(d.command->name) + "\"\n";
        s += "\\fBrollback " + roff(d.command->usage) + "\\fR\n.PP\n" + roff(d.command->summary) +
             ".\n";
        std::vector<OptionDoc> own;
        for (const auto& o : d.options) {
            if (!is_common(common, o)) {
                own.push_back(o);
            }
        }
        if (!own.empty()) {
            s += ".RS\n";
            add_options(s, own);
            s += ".RE\n";
        }
        if (!d.command->exit_codes.empty()) {
            std::string codes;
            for (util::ExitCode code : d.command->exit_codes) {
                codes += (codes.empty() ? "" : ", ") + std::to_string(util::to_int(code));
            }
            s += ".PP\nExit status: " + codes + ".\n";
        }
        if (!d.command->example.empty()) {
            s += ".PP\nExample:\n.RS\n.EX\nrollback " + roff(d.command->example) + "\n.EE\n.RE\n";
        }
    }
    s += configuration_section();
    s += ".SH EXIT STATUS\n";
    for (const auto& e : exit_code_docs()) {
        s += ".TP\n.B " + std::to_string(e.code) + "\n" + roff(e.meaning) + "\n";
    }
    s += ".SH ENVIRONMENT\n"
         ".TP\n.B ROLLBACK_STATE_DIR\nthe state directory, when \\fB\\-\\-state\\-dir\\fR is not "
         "given (hooks get it set to their run's directory)\n"
         ".TP\n.B NO_COLOR\nwhen set, the live step list uses no colour\n";
    s += ".SH FILES\n"
         "As the Debian package installs them:\n"
         ".TP\n.I /etc/rollback/rollback.toml\nthe monitor's configuration: sources, conditions, "
         "[decision] (a conffile)\n"
         ".TP\n.I /etc/default/rollback\nthe playbook and backup catalog the systemd timers use\n"
         ".TP\n.I /var/lib/rollback\nthe service's state directory: journals, lock, decision "
         "records, rollback.log\n"
         ".TP\n.I /usr/share/rollback/playbooks\nexample playbooks (database\\-only, code\\-only, "
         "ecommerce)\n"
         ".TP\n.I /usr/share/rollback/hooks\nthe shipped hooks: notify, page\\-oncall\n"
         ".TP\n.I /usr/lib/systemd/system/rollback\\-monitor.service\nthe monitor loop; with "
         "rollback\\-backup\\-verify.timer (daily) and rollback\\-rehearse.timer (quarterly)\n";
    s += ".SH SEE ALSO\n"
         ".BR systemctl (1),\n.BR systemd.timer (5),\n.BR pg_dump (1),\n.BR pg_restore (1)\n"
         ".PP\n"
         "/usr/share/doc/rollback/install.md and the project's docs/ (playbook.md, config.md, "
         "decision.md, journal.md, database.md).\n"
         "PostgreSQL's ROLLBACK(7) shares the name: open this page with "
         "\\fBman\\ 1\\ \\%rollback\\fR.\n";
    return s;
}

} // namespace rollback::cli
