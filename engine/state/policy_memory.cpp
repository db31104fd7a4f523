// SPDX-License-Identifier: MIT
#include "state/policy_memory.hpp"

#include "state/local_store.hpp"

#include "util/error.hpp"
#include "util/json_text.hpp"
#include "util/log.hpp"

#include <boost/json.hpp>

namespace rollback::state {

namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

std::optional<util::SystemTime> time_field(const json::object& o, const char* key) {
    const json::value* v = o.if_contains(key);
    if (v == nullptr || !v->is_string() || v->as_string().empty()) {
        return std::nullopt;
    }
    auto t = util::parse_time(std::string(v->as_string()));
    if (!t) {
        throw std::runtime_error(std::string("bad time in \"") + key + "\"");
    }
    return t;
}

decision::Verdict verdict_of(std::string_view text) {
    for (auto v : {decision::Verdict::no_data, decision::Verdict::no_traffic,
                   decision::Verdict::insufficient_sample, decision::Verdict::error}) {
        if (decision::to_string(v) == text) {
            return v;
        }
    }
    throw std::runtime_error("bad missing_verdict \"" + std::string(text) + "\"");
}

} // namespace

std::optional<decision::Evaluator::PolicyMemory>
load_policy_memory(const PolicyMemoryDocument& store, std::string* blocked_by) {
    if (blocked_by != nullptr) {
        blocked_by->clear();
    }
    try {
        auto doc = store.policy_memory_document();
        if (!doc) {
            return std::nullopt;
        }
        auto o = json::parse(*doc).as_object();
        decision::Evaluator::PolicyMemory memory{time_field(o, "cooldown_until"),
                                                 time_field(o, "watch_until"),
                                                 {},
                                                 time_field(o, "watch_since")};
        memory.evaluated_until = time_field(o, "evaluated_until");
        if (const json::value* d = o.if_contains("decided_run"); d != nullptr && d->is_object()) {
            const auto& dr = d->as_object();
            auto str = [&](const char* key) {
                const json::value* v = dr.if_contains(key);
                return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
            };
            memory.decided_run = decision::Evaluator::PolicyMemory::DecidedRun{
                str("run_id"), str("decision_id"), str("condition")};
            if (blocked_by != nullptr) {
                *blocked_by = str("blocked_by");
            }
        }
        if (o.if_contains("shadow_cooldown_until") != nullptr) {
            memory.shadow_cooldown_until = time_field(o, "shadow_cooldown_until");
        }
        if (const json::value* w = o.if_contains("watched_logs"); w != nullptr) {
            for (const auto& entry : w->as_object()) {
                const auto& l = entry.value().as_object();
                decision::Evaluator::PolicyMemory::WatchedLog log;
                log.dev = l.at("dev").to_number<uint64_t>();
                log.ino = l.at("ino").to_number<uint64_t>();
                log.size = l.at("size").to_number<uint64_t>();
                log.since_s = l.at("since_s").to_number<int64_t>();
                memory.watched_logs.emplace(std::string(entry.key()), log);
            }
        }
        // Version 1 had no conditions: its open incidents are not known.
        if (const json::value* cs = o.if_contains("conditions"); cs != nullptr) {
            for (const auto& entry : cs->as_object()) {
                const auto& c = entry.value().as_object();
                decision::Evaluator::ConditionMemory cm;
                cm.incident_since = time_field(c, "incident_since");
                cm.ok_since = time_field(c, "ok_since");
                if (c.if_contains("breached_at") != nullptr) {
                    cm.breached_at = time_field(c, "breached_at");
                }
                cm.acted = c.at("acted").as_bool();
                if (const json::value* v = c.if_contains("shadow_acted"); v != nullptr) {
                    cm.shadow_acted = v->as_bool();
                }
                cm.last_escalated = time_field(c, "last_escalated");
                if (c.if_contains("silence_escalated") != nullptr) {
                    cm.silence_escalated = time_field(c, "silence_escalated");
                }
                cm.noted_cooldown = time_field(c, "noted_cooldown");
                if (const json::value* v = c.if_contains("missing_verdict");
                    v != nullptr && !v->as_string().empty()) {
                    cm.missing_verdict = verdict_of(v->as_string());
                }
                if (const json::value* v = c.if_contains("approval_id"); v != nullptr) {
                    cm.approval_id = std::string(v->as_string());
                }
                cm.approval_expires = time_field(c, "approval_expires");
                cm.fail_since = time_field(c, "fail_since");
                cm.fail_last = time_field(c, "fail_last");
                cm.judged_until = time_field(c, "judged_until");
                if (const json::value* v = c.if_contains("lateness_ms"); v != nullptr) {
                    cm.lateness = util::Millis(v->to_number<int64_t>());
                }
                if (const json::value* v = c.if_contains("approval_expired"); v != nullptr) {
                    cm.approval_expired = v->as_bool();
                }
                if (const json::value* v = c.if_contains("approval_escalated"); v != nullptr) {
                    cm.approval_escalated = v->as_bool();
                }
                memory.conditions.emplace(std::string(entry.key()), std::move(cm));
            }
        }
        return memory;
    } catch (const std::exception& e) {
        log::warn("ignoring {}: {}", store.policy_memory_location(), e.what());
        return std::nullopt;
    }
}

void save_policy_memory(PolicyMemoryDocument& store,
                        const decision::Evaluator::PolicyMemory& memory,
                        const std::string& blocked_by) {
    auto text = [](const std::optional<util::SystemTime>& t) {
        return t ? util::format_time(*t) : std::string();
    };
    json::object conditions;
    for (const auto& entry : memory.conditions) {
        const auto& cm = entry.second;
        conditions[entry.first] =
            json::object{{"incident_since", text(cm.incident_since)},
                         {"ok_since", text(cm.ok_since)},
                         {"breached_at", text(cm.breached_at)},
                         {"acted", cm.acted},
                         {"shadow_acted", cm.shadow_acted},
                         {"last_escalated", text(cm.last_escalated)},
                         {"silence_escalated", text(cm.silence_escalated)},
                         {"noted_cooldown", text(cm.noted_cooldown)},
                         {"missing_verdict",
                          cm.missing_verdict ? std::string(decision::to_string(*cm.missing_verdict))
                                             : std::string()},
                         {"approval_id", cm.approval_id},
                         {"approval_expires", text(cm.approval_expires)},
                         {"approval_expired", cm.approval_expired},
                         {"approval_escalated", cm.approval_escalated},
                         {"fail_since", text(cm.fail_since)},
                         {"fail_last", text(cm.fail_last)},
                         {"judged_until", text(cm.judged_until)}};
        if (cm.lateness) {
            conditions[entry.first].as_object()["lateness_ms"] = cm.lateness->count();
        }
    }
    json::object doc{{"version", 3},
                     {"cooldown_until", text(memory.cooldown_until)},
                     {"watch_until", text(memory.watch_until)},
                     {"evaluated_until", text(memory.evaluated_until)},
                     {"watch_since", text(memory.watch_since)},
                     {"shadow_cooldown_until", text(memory.shadow_cooldown_until)},
                     {"conditions", std::move(conditions)}};
    if (!memory.watched_logs.empty()) {
        json::object logs;
        for (const auto& [name, l] : memory.watched_logs) {
            logs[name] = json::object{
                {"dev", l.dev}, {"ino", l.ino}, {"size", l.size}, {"since_s", l.since_s}};
        }
        doc["watched_logs"] = std::move(logs);
    }
    if (memory.decided_run) {
        doc["decided_run"] = json::object{{"run_id", memory.decided_run->run_id},
                                          {"decision_id", memory.decided_run->decision_id},
                                          {"condition", memory.decided_run->condition}};
        if (!blocked_by.empty()) {
            doc["decided_run"].as_object()["blocked_by"] = blocked_by;
        }
    }
    store.put_policy_memory_document(util::json_text(doc));
}

std::optional<decision::Evaluator::PolicyMemory> load_policy_memory(const fs::path& state_dir) {
    return load_policy_memory(LocalStore(state_dir));
}

void save_policy_memory(const fs::path& state_dir,
                        const decision::Evaluator::PolicyMemory& memory) {
    LocalStore store(state_dir);
    save_policy_memory(store, memory);
}

} // namespace rollback::state
