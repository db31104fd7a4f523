// SPDX-License-Identifier: MIT
#include "decision/evaluator.hpp"

#include "util/error.hpp"

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
        rels.push_back(json::object{{"release", r.release},
                                    {"rolled_back", r.rolled_back},
                                    {"values", std::move(values)},
                                    {"ticks", std::move(ticks)}});
    }
    return json::serialize(json::object{{"version", 1}, {"releases", std::move(rels)}});
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
            b.releases.push_back(std::move(r));
        }
        return b;
    } catch (const std::exception& e) {
        throw util::Error(std::string("baseline book: malformed: ") + e.what());
    }
}

} // namespace rollback::decision
