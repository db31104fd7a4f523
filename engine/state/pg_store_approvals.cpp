// SPDX-License-Identifier: MIT
// The approval requests of the monitors in the PostgreSQL store (table approvals), and the check
// every fenced write of a leader makes (leadership_lost).
#include "state/pg_store.hpp"

#include "state/pg_retry.hpp"
#include "state/pg_schema.hpp"

#include "util/error.hpp"

#include <pqxx/connection_base>
#include <pqxx/result>
#include <pqxx/transaction>

namespace rollback::state {

std::string leadership_lost(pqxx::work& tx, const std::string& s, std::uint64_t generation) {
    auto r = tx.exec("SELECT generation, held AND (expires_at IS NULL OR expires_at >"
                     " clock_timestamp()) FROM " +
                     s + "lease WHERE name = 'leader' FOR SHARE");
    const auto now = static_cast<std::uint64_t>(r[0][0].as<long long>());
    if (now != generation) {
        return "this monitor no longer leads (its leadership of generation " +
               std::to_string(generation) + " was taken over: generation " + std::to_string(now) +
               ")";
    }
    if (!r[0][1].as<bool>()) {
        return "this monitor no longer leads (its leadership of generation " +
               std::to_string(generation) + " expired: it was silent past its lease)";
    }
    return "";
}

void PgStore::put_approval(const ApprovalRequest& a) {
    check_decision_id(a.decision_id);
    const std::string doc = approval_json(a);
    with_session("writing approval request " + a.decision_id + " to " + m_where, k_pg_write,
                 [&](pqxx::connection_base& conn, bool) {
                     pqxx::work tx(conn);
                     tx.exec_params("INSERT INTO " + m_s +
                                        "approvals (decision_id, doc) VALUES ($1, $2) ON "
                                        "CONFLICT (decision_id) DO UPDATE SET doc = excluded.doc",
                                    a.decision_id, doc);
                     tx.commit();
                 });
}

bool PgStore::answer_pending_approval(const ApprovalRequest& next) {
    check_decision_id(next.decision_id);
    const std::string doc = approval_json(next);
    return with_session("answering approval request " + next.decision_id + " in " + m_where,
                        k_pg_write, [&](pqxx::connection_base& conn, bool again) {
                            pqxx::work tx(conn);
                            // One statement: the row is replaced only while it still reads pending
                            // and names no run (row-locked by the UPDATE; a concurrent answer
                            // re-evaluates the WHERE and finds none).
                            auto r =
                                tx.exec_params("UPDATE " + m_s +
                                                   "approvals SET doc = $2 WHERE decision_id = $1"
                                                   " AND doc::jsonb->>'state' = 'pending'"
                                                   " AND coalesce(doc::jsonb->>'run_id', '') = ''",
                                               next.decision_id, doc);
                            if (r.affected_rows() == 0 && again) {
                                // The answer whose commit's answer was lost is this one when the
                                // row holds it.
                                auto now = tx.exec_params("SELECT doc FROM " + m_s +
                                                              "approvals WHERE decision_id = $1",
                                                          next.decision_id);
                                return !now.empty() && now[0][0].as<std::string>() == doc;
                            }
                            tx.commit();
                            return r.affected_rows() == 1;
                        });
}

std::optional<ApprovalRequest> PgStore::approval(const std::string& decision_id) const {
    check_decision_id(decision_id);
    const auto doc = with_session(
        "reading approval request " + decision_id + " in " + m_where, k_pg_read,
        [&](pqxx::connection_base& conn, bool) -> std::optional<std::string> {
            pqxx::read_transaction tx(conn);
            auto r = tx.exec_params("SELECT doc FROM " + m_s + "approvals WHERE decision_id = $1",
                                    decision_id);
            if (r.empty()) {
                return std::nullopt;
            }
            return r[0][0].as<std::string>();
        });
    if (!doc) {
        return std::nullopt;
    }
    return parse_approval(*doc, m_where + " approvals/" + decision_id);
}

std::vector<ApprovalRequest> PgStore::approvals(std::vector<std::string>* skipped) const {
    const auto rows =
        with_session("reading the approval requests of " + m_where, k_pg_read,
                     [&](pqxx::connection_base& conn, bool) {
                         pqxx::read_transaction tx(conn);
                         std::vector<std::pair<std::string, std::string>> out;
                         for (const auto& row : tx.exec("SELECT decision_id, doc FROM " + m_s +
                                                        "approvals ORDER BY decision_id")) {
                             out.emplace_back(row[0].as<std::string>(), row[1].as<std::string>());
                         }
                         return out;
                     });
    std::vector<ApprovalRequest> out;
    std::vector<std::string> unreadable;
    for (const auto& [id, doc] : rows) { // ids start with the time
        try {
            out.push_back(parse_approval(doc, m_where + " approvals/" + id));
        } catch (const util::Error& e) {
            unreadable.push_back(e.what());
        }
    }
    passed_over(unreadable, skipped);
    return out;
}

void PgStore::request_approval(const ApprovalRequest& a, std::uint64_t leader_generation) {
    check_decision_id(a.decision_id);
    with_session(
        "filing approval request " + a.decision_id + " in " + m_where, k_pg_write,
        [&](pqxx::connection_base& conn, bool) {
            pqxx::work tx(conn);
            if (leader_generation != 0) {
                // In the transaction that files it: the leadership is still this monitor's and
                // live (a leader paused past its lease files nothing after a takeover).
                if (auto lost = leadership_lost(tx, m_s, leader_generation); !lost.empty()) {
                    throw util::Error("no approval request filed for " + a.decision_id + ": " +
                                          lost,
                                      util::ExitCode::locked);
                }
            }
            // Two monitors filing at once see each other's request: one incident, one request.
            // Filed again after a lost answer, it is its own request, not a twin.
            tx.exec("LOCK TABLE " + m_s + "approvals IN SHARE ROW EXCLUSIVE MODE");
            std::vector<ApprovalRequest> all;
            for (const auto& row : tx.exec("SELECT decision_id, doc FROM " + m_s + "approvals")) {
                all.push_back(parse_approval(row[1].as<std::string>(),
                                             m_where + " approvals/" + row[0].as<std::string>()));
            }
            if (auto twin = pending_twin(all, a); !twin.empty()) {
                throw util::Error("no approval request filed for " + a.decision_id + ": request " +
                                      twin + " of condition " + a.condition +
                                      " is pending (one incident, one request)",
                                  util::ExitCode::locked);
            }
            tx.exec_params("INSERT INTO " + m_s +
                               "approvals (decision_id, doc) VALUES ($1, $2)"
                               " ON CONFLICT (decision_id) DO UPDATE SET doc = excluded.doc",
                           a.decision_id, approval_json(a));
            tx.commit();
        });
}

bool PgStore::note_told(const ApprovalRequest& next, std::uint64_t leader_generation) {
    check_decision_id(next.decision_id);
    return with_session(
        "keeping what the hooks were told of " + next.decision_id + " in " + m_where, k_pg_write,
        [&](pqxx::connection_base& conn, bool) {
            pqxx::work tx(conn);
            if (leader_generation != 0) {
                // The leader row FOR SHARE until the commit: a takeover commits before this
                // check or after this write, never between — a leader paused past its lease
                // records nothing over what the next leader told.
                if (auto lost = leadership_lost(tx, m_s, leader_generation); !lost.empty()) {
                    throw util::Error("what the [decision] hooks were told of " + next.decision_id +
                                          " was not kept: " + lost,
                                      util::ExitCode::locked);
                }
            }
            auto r = tx.exec_params("SELECT doc FROM " + m_s +
                                        "approvals WHERE decision_id = $1 FOR UPDATE",
                                    next.decision_id);
            if (r.empty()) {
                return false;
            }
            const auto stored = parse_approval(r[0][0].as<std::string>(),
                                               m_where + " approvals/" + next.decision_id);
            if (stored.state != "pending" || !stored.run_id.empty()) {
                return false; // answered: what it was told matters no more
            }
            // Kept again after a lost answer: with_told adds nothing told twice.
            tx.exec_params("UPDATE " + m_s + "approvals SET doc = $2 WHERE decision_id = $1",
                           next.decision_id, approval_json(with_told(stored, next)));
            tx.commit();
            return true;
        });
}

} // namespace rollback::state
