// SPDX-License-Identifier: MIT
#include "state/policy_memory.hpp"

#include "state/local_store.hpp"

#include "util/error.hpp"
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

} // namespace

std::optional<decision::Evaluator::PolicyMemory>
load_policy_memory(const PolicyMemoryDocument& store) {
    try {
        auto doc = store.policy_memory_document();
        if (!doc) {
            return std::nullopt;
        }
        auto o = json::parse(*doc).as_object();
        return decision::Evaluator::PolicyMemory{time_field(o, "cooldown_until"),
                                                 time_field(o, "watch_until")};
    } catch (const std::exception& e) {
        log::warn("ignoring {}: {}", store.policy_memory_location(), e.what());
        return std::nullopt;
    }
}

void save_policy_memory(PolicyMemoryDocument& store,
                        const decision::Evaluator::PolicyMemory& memory) {
    auto text = [](const std::optional<util::SystemTime>& t) {
        return t ? util::format_time(*t) : std::string();
    };
    store.put_policy_memory_document(
        json::serialize(json::object{{"version", 1},
                                     {"cooldown_until", text(memory.cooldown_until)},
                                     {"watch_until", text(memory.watch_until)}}));
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
