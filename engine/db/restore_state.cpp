// SPDX-License-Identifier: MIT
#include "db/restore_state.hpp"

#include "db/restore.hpp"
#include "util/strings.hpp"

#include <algorithm>
#include <map>
#include <pqxx/connection_base>
#include <pqxx/result>
#include <pqxx/transaction>

namespace rollback::db {

namespace {

constexpr std::string_view k_mark_prefix = "rollback:restore ";

constexpr std::pair<RestoreStage, std::string_view> k_stages[] = {
    {RestoreStage::none, "none"},
    {RestoreStage::side_created, "side_created"},
    {RestoreStage::restored, "restored"},
    {RestoreStage::verified, "verified"},
    {RestoreStage::swapping, "swapping"},
    {RestoreStage::swapped, "swapped"},
    {RestoreStage::reconciled, "reconciled"},
};

// `20261130t070549z_f65b64` (a run id as derived_db_name reduces it: lower case, `-` as `_`) → the
// run id; else "".
std::string run_id_from_reduced(std::string_view s) {
    if (s.size() != 23 || s[8] != 't' || s[15] != 'z' || s[16] != '_') {
        return {};
    }
    std::string out(s);
    out[8] = 'T';
    out[15] = 'Z';
    out[16] = '-';
    return out;
}

// One word for a POSIX shell: '...' when that needs no escape, else "..." with \ " $ ` escaped
// (libpq's conninfo quotes its values with '...').
std::string shell_word(std::string_view s) {
    if (s.find('\'') == std::string_view::npos) {
        return "'" + std::string(s) + "'";
    }
    std::string out = "\"";
    for (char c : s) {
        if (c == '\\' || c == '"' || c == '$' || c == '`') {
            out += '\\';
        }
        out += c;
    }
    return out + "\"";
}

// A shell line that drops `name` on the server of `dsn` (the password is not in it: psql asks,
// or takes PGPASSWORD / ~/.pgpass).
} // namespace

std::string drop_command(const Dsn& dsn, const std::string& name) {
    std::string conninfo = maintenance_dsn(dsn).conninfo_without_password();
    return "psql " + shell_word(conninfo) + " -c " +
           shell_word("DROP DATABASE " + quote_ident(name));
}

std::string_view to_string(RestoreStage s) {
    for (const auto& [stage, name] : k_stages) {
        if (stage == s) {
            return name;
        }
    }
    return "none";
}

std::optional<RestoreStage> parse_restore_stage(std::string_view name) {
    for (const auto& [stage, n] : k_stages) {
        if (n == name) {
            return stage;
        }
    }
    return std::nullopt;
}

std::string format_mark(const RestoreMark& m) {
    return std::string(k_mark_prefix) + "run=" + m.run_id +
           " stage=" + std::string(to_string(m.stage)) + " backup=" + m.backup +
           " allow_connections=" + (m.allow_connections ? "true" : "false");
}

std::optional<RestoreMark> parse_mark(std::string_view comment) {
    if (comment.substr(0, k_mark_prefix.size()) != k_mark_prefix) {
        return std::nullopt;
    }
    RestoreMark m;
    bool have_run = false;
    bool have_stage = false;
    for (const auto& word : util::split(comment.substr(k_mark_prefix.size()), ' ')) {
        size_t eq = word.find('=');
        if (eq == std::string::npos) {
            continue;
        }
        std::string key = word.substr(0, eq);
        std::string value = word.substr(eq + 1);
        if (key == "run") {
            m.run_id = value;
            have_run = !value.empty();
        } else if (key == "stage") {
            auto s = parse_restore_stage(value);
            if (!s) {
                return std::nullopt;
            }
            m.stage = *s;
            have_stage = true;
        } else if (key == "backup") {
            m.backup = value;
        } else if (key == "allow_connections") {
            m.allow_connections = value != "false";
        }
    }
    if (!have_run || !have_stage) {
        return std::nullopt;
    }
    return m;
}

void write_mark(pqxx::transaction_base& tx, const std::string& name, const RestoreMark& m) {
    tx.exec("COMMENT ON DATABASE " + quote_ident(name) + " IS " + quote_literal(format_mark(m)));
}

std::string RestoreProbe::describe() const {
    if (!problem.empty()) {
        return problem;
    }
    switch (stage) {
    case RestoreStage::none:
        return "the restore of " + database + " has not begun (no " + side + "); " + database +
               " is untouched";
    case RestoreStage::side_created:
    case RestoreStage::restored:
    case RestoreStage::verified:
    case RestoreStage::swapping: {
        std::string s = "the swap did not happen: " + database +
                        " is NOT restored (it is the database as it was before the run); the "
                        "backup is in " +
                        side + ", stage " + std::string(to_string(stage));
        if (production_blocked) {
            s += "; " + database + " does not accept new connections (blocked for the swap)";
        }
        return s;
    }
    case RestoreStage::swapped:
        return database + " is restored (swapped in) and the previous database kept as " + rolled +
               "; reconciliation is not written yet";
    case RestoreStage::reconciled:
        return database + " is restored, reconciled, and the previous database kept as " + rolled;
    }
    return {};
}

RestoreProbe probe_restore(const Dsn& dsn, const std::string& run_id) {
    RestoreProbe p;
    p.database = dsn.dbname();
    p.side = derived_db_name(p.database, "restore", run_id);
    p.rolled = derived_db_name(p.database, "rolledback", run_id);
    auto conn = connect(maintenance_dsn(dsn));
    pqxx::read_transaction tx(*conn);
    struct Row {
        bool allow = true;
        std::optional<RestoreMark> mark;
    };
    std::map<std::string, Row> rows;
    for (const auto& r : tx.exec("SELECT datname, datallowconn, shobj_description(oid, "
                                 "'pg_database') FROM pg_database WHERE datname IN (" +
                                 quote_literal(p.database) + ", " + quote_literal(p.side) + ", " +
                                 quote_literal(p.rolled) + ")")) {
        Row row;
        row.allow = r[1].as<bool>();
        if (!r[2].is_null()) {
            row.mark = parse_mark(r[2].c_str());
        }
        rows[r[0].c_str()] = row;
    }
    tx.commit();
    auto ours = [&](const std::string& name) -> std::optional<RestoreMark> {
        auto it = rows.find(name);
        if (it == rows.end() || !it->second.mark || it->second.mark->run_id != run_id) {
            return std::nullopt;
        }
        return it->second.mark;
    };
    const bool db_exists = rows.count(p.database) != 0;
    p.side_exists = rows.count(p.side) != 0;
    p.rolled_exists = rows.count(p.rolled) != 0;
    p.production_blocked = db_exists && !rows[p.database].allow;

    if (auto m = ours(p.database); m && m->stage >= RestoreStage::swapped) {
        // The swap committed: <db> is the database this run restored.
        p.mark = m;
        p.stage = m->stage;
        if (!p.rolled_exists) {
            p.problem = p.database + " was restored by run " + run_id +
                        " but the previous database " + p.rolled +
                        " no longer exists; the reconciliation cannot be made";
        } else if (p.side_exists) {
            p.problem = p.database + " was restored by run " + run_id + " but " + p.side +
                        " exists again; check by hand which database is which";
        }
        return p;
    }
    if (p.side_exists) {
        // Ours by its name; without a mark it was created and the crash came before the mark.
        p.mark = ours(p.side);
        p.stage = p.mark ? p.mark->stage : RestoreStage::side_created;
        if (p.stage >= RestoreStage::swapped) {
            p.stage = RestoreStage::swapping;
        }
        if (p.rolled_exists) {
            p.problem = "both " + p.side + " and " + p.rolled + " exist but " + p.database +
                        " is not marked as restored by run " + run_id +
                        "; check by hand which database is which";
        } else if (!db_exists) {
            p.problem = p.database + " does not exist (" + p.side + " does); check by hand";
        }
        return p;
    }
    if (p.rolled_exists) {
        p.problem = p.rolled + " exists but " + p.database + " is not marked as restored by run " +
                    run_id + "; check by hand which database is which";
    }
    return p;
}

std::string LeftoverDatabase::describe() const {
    if (kind == "verification") {
        return "scratch database of a rollback backup verify --restore-test that did not finish (a "
               "copy of a backup of " +
               database +
               ", customer data included; no verification of this backup catalog uses it): the "
               "next verification with this catalog drops it when the catalog recorded it";
    }
    if (kind == "rehearsal") {
        return "scratch database of a rollback rehearse that did not finish (a copy of a backup "
               "of " +
               database +
               ", customer data included; no rehearsal of this state directory uses it): the "
               "next rehearse drops it when this state directory recorded it";
    }
    std::string run = run_id.empty() ? std::string("an unknown run") : "run " + run_id;
    if (kind == "rolled_back") {
        return "the previous " + database + ", kept by " + run + " when it restored " + database +
               " (drop it once the reconciliation is dealt with)";
    }
    return "side database of " + run + (stage.empty() ? "" : ", stage " + stage) +
           ", never swapped in: " + database + " was not restored from it";
}

std::vector<LeftoverDatabase>
find_leftover_databases(const Dsn& dsn, const std::string& live_run_id,
                        const std::vector<std::string>& scratch_in_use) {
    const std::string db = dsn.dbname();
    auto conn = connect(maintenance_dsn(dsn).with_default("connect_timeout", "5"));
    pqxx::read_transaction tx(*conn);
    // LIKE's `_` matches any character: the exact prefix is compared below.
    pqxx::result rows =
        tx.exec("SELECT datname, shobj_description(oid, 'pg_database') FROM pg_database WHERE "
                "datname LIKE " +
                quote_literal(db.substr(0, 31) + "%") + " ORDER BY datname");
    tx.commit();
    std::vector<LeftoverDatabase> out;
    for (const auto& r : rows) {
        std::string name = r[0].c_str();
        std::optional<RestoreMark> mark;
        if (!r[1].is_null()) {
            mark = parse_mark(r[1].c_str());
        }
        for (std::string kind : {"restore", "rolledback", "rehearse", "verify"}) {
            // derived_db_name keeps the whole name, or its first 31 bytes when the result would
            // pass PostgreSQL's 63-byte limit.
            std::string prefix = db + "_" + kind + "_";
            if (name.compare(0, prefix.size(), prefix) != 0) {
                prefix = db.substr(0, 31) + "_" + kind + "_";
            }
            if (name.size() <= prefix.size() || name.compare(0, prefix.size(), prefix) != 0) {
                continue;
            }
            std::string reduced = name.substr(prefix.size());
            LeftoverDatabase l;
            l.name = name;
            l.kind = kind == "restore"      ? "side"
                     : kind == "rolledback" ? "rolled_back"
                     : kind == "rehearse"   ? "rehearsal"
                                            : "verification";
            l.database = db;
            if (kind == "rehearse" || kind == "verify") {
                // A running rehearsal's (its record held): in use, not left over.
                if (std::find(scratch_in_use.begin(), scratch_in_use.end(), name) !=
                    scratch_in_use.end()) {
                    break;
                }
                l.drop_command = drop_command(dsn, name);
                out.push_back(std::move(l));
                break;
            }
            l.run_id = run_id_from_reduced(reduced);
            if (kind == "restore" && mark) {
                l.run_id = mark->run_id;
                l.stage = std::string(to_string(mark->stage));
            }
            if (kind == "restore" && !live_run_id.empty() &&
                (l.run_id == live_run_id || name == derived_db_name(db, "restore", live_run_id))) {
                break; // the running run's own side database
            }
            l.drop_command = drop_command(dsn, name);
            out.push_back(std::move(l));
            break;
        }
    }
    return out;
}

} // namespace rollback::db
