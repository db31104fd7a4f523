// SPDX-License-Identifier: MIT
#include "state/policy_memory.hpp"

#include "util/error.hpp"
#include "util/files.hpp"
#include "util/log.hpp"

#include <boost/json.hpp>

namespace rollback::state {

namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

fs::path file_of(const fs::path& state_dir) {
    return state_dir / "monitor-policy.json";
}

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

std::optional<decision::Evaluator::PolicyMemory> load_policy_memory(const fs::path& state_dir) {
    const fs::path file = file_of(state_dir);
    std::error_code ec;
    if (!fs::exists(file, ec)) {
        return std::nullopt;
    }
    try {
        auto o = json::parse(util::read_file(file)).as_object();
        return decision::Evaluator::PolicyMemory{time_field(o, "cooldown_until"),
                                                 time_field(o, "watch_until")};
    } catch (const std::exception& e) {
        log::warn("ignoring {}: {}", file.string(), e.what());
        return std::nullopt;
    }
}

void save_policy_memory(const fs::path& state_dir,
                        const decision::Evaluator::PolicyMemory& memory) {
    auto text = [](const std::optional<util::SystemTime>& t) {
        return t ? util::format_time(*t) : std::string();
    };
    util::write_file_atomic(file_of(state_dir), json::serialize(json::object{
                                                    {"version", 1},
                                                    {"cooldown_until", text(memory.cooldown_until)},
                                                    {"watch_until", text(memory.watch_until)}}) +
                                                    "\n");
}

} // namespace rollback::state
