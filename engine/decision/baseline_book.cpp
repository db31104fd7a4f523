// SPDX-License-Identifier: MIT
#include "decision/evaluator.hpp"

#include "util/error.hpp"
#include "util/json_text.hpp"
#include "util/time.hpp"

#include <boost/json.hpp>

namespace rollback::decision {

namespace json = boost::json;

std::string BaselineBook::to_json() const {
    json::array rels;
    for (const auto& r : releases) {
        json::object values, ticks;
        for (const auto& [k, v] : r.values) {
            values[k] = v;
        }
        for (const auto& [k, v] : r.ticks) {
            ticks[k] = v;
        }
        json::object rel{{"release", r.release},
                         {"rolled_back", r.rolled_back},
                         {"values", std::move(values)},
                         {"ticks", std::move(ticks)}};
        if (r.deployed_at) {
            json::object before;
            for (const auto& [k, b] : r.before_deploy) {
                json::object bo{{"origin", b.origin}};
                bo["value"] = b.value ? json::value(*b.value) : json::value(nullptr);
                before[k] = std::move(bo);
            }
            rel["deployed_at"] = util::format_time(*r.deployed_at);
            rel["before_deploy"] = std::move(before);
        }
        rels.push_back(std::move(rel));
    }
    return util::json_text(json::object{{"version", 1}, {"releases", std::move(rels)}});
}

BaselineBook BaselineBook::from_json(std::string_view text) {
    try {
        auto v = json::parse(json::string_view(text.data(), text.size()));
        BaselineBook b;
        for (const auto& rv : v.at("releases").as_array()) {
            ReleaseBaseline r;
            r.release = json::value_to<std::string>(rv.at("release"));
            r.rolled_back = rv.at("rolled_back").as_bool();
            for (const auto& [k, x] : rv.at("values").as_object()) {
                r.values[std::string(k)] = x.to_number<double>();
            }
            for (const auto& [k, x] : rv.at("ticks").as_object()) {
                r.ticks[std::string(k)] = x.to_number<uint64_t>();
            }
            // Books kept before the fields have neither: their baselines are recomputed.
            if (const auto* at = rv.as_object().if_contains("deployed_at"); at != nullptr) {
                r.deployed_at = util::parse_time(std::string(at->as_string()));
                if (!r.deployed_at) {
                    throw std::runtime_error("bad deployed_at");
                }
                for (const auto& [k, x] : rv.at("before_deploy").as_object()) {
                    BaselineInfo info;
                    info.kind = BaselineKind::before_deploy;
                    info.origin = json::value_to<std::string>(x.at("origin"));
                    if (!x.at("value").is_null()) {
                        info.value = x.at("value").to_number<double>();
                    }
                    r.before_deploy[std::string(k)] = std::move(info);
                }
            }
            b.releases.push_back(std::move(r));
        }
        return b;
    } catch (const std::exception& e) {
        throw util::Error(std::string("baseline book: malformed: ") + e.what());
    }
}

} // namespace rollback::decision
