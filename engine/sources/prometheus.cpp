// SPDX-License-Identifier: MIT
#include "sources/prometheus.hpp"

#include "util/strings.hpp"

#include <boost/json.hpp>
#include <charconv>
#include <cmath>

namespace rollback::sources {

namespace json = boost::json;
using decision::Sample;
using decision::SampleKind;

namespace {

std::string snippet(std::string_view body) {
    std::string s(util::trim(body.substr(0, 120)));
    for (char& c : s) {
        if (c == '\n' || c == '\r' || c == '\t') {
            c = ' ';
        }
    }
    return util::quoted(s) + (body.size() > 120 ? "..." : "");
}

std::string string_at(const json::object& o, std::string_view key) {
    const json::value* v = o.if_contains(key);
    return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string();
}

// [timestamp, "value"] of a vector element or a scalar.
Sample value_sample(const json::value& pair, decision::SystemTime now) {
    const json::array* a = pair.if_array();
    if (a == nullptr || a->size() != 2 || !(*a)[1].is_string()) {
        return Sample::make_missing(now, SampleKind::error,
                                    "malformed Prometheus answer: a sample is not [time, \"value\"]"
                                    " (a native histogram? query a number, e.g. "
                                    "histogram_quantile(...))");
    }
    std::string problem;
    const std::string_view text((*a)[1].get_string());
    if (text == "NaN") {
        // 0/0: the documented sum(rate(5xx))/sum(rate(all)) over a window without requests. No
        // traffic, judged by on_no_traffic (ignored by default) — not a broken check that pages
        // at every quiet gap (docs/config.md, "prometheus").
        return Sample::make_missing(now, SampleKind::no_traffic,
                                    "query returned NaN: a ratio over a window without requests "
                                    "(0/0), no traffic");
    }
    auto v = parse_prometheus_value(text, problem);
    if (!v) {
        return Sample::make_missing(now, SampleKind::error, problem);
    }
    return Sample::make_value(now, *v);
}

Sample from_success(const json::object& data, decision::SystemTime now) {
    const std::string type = string_at(data, "resultType");
    const json::value* result = data.if_contains("result");
    if (result == nullptr) {
        return Sample::make_missing(now, SampleKind::error,
                                    "malformed Prometheus answer: data has no result");
    }
    if (type == "scalar") {
        return value_sample(*result, now);
    }
    if (type == "vector" && result->is_array()) {
        const json::array& series = result->get_array();
        if (series.empty()) {
            // An answer of a working Prometheus: no series matched — e.g. the 5xx series of
            // sum(rate(5xx)) / sum(rate(all)) that a client library creates at the first 5xx
            // after a deploy or a restart. No traffic to judge (on_no_traffic, ignored by
            // default), not a monitor that cannot see (docs/config.md, "prometheus").
            return Sample::make_missing(
                now, SampleKind::no_traffic,
                "empty vector: the query matched no series (no matching requests, or a series "
                "not created yet; a misspelt metric reads the same: `rollback check` shows it)");
        }
        if (series.size() > 1) {
            return Sample::make_missing(
                now, SampleKind::error,
                "query returns " + std::to_string(series.size()) +
                    " series; aggregate it to one, e.g. sum(...) or max(...)");
        }
        const json::object* one = series[0].if_object();
        const json::value* value = one != nullptr ? one->if_contains("value") : nullptr;
        if (value == nullptr) {
            return Sample::make_missing(now, SampleKind::error,
                                        "malformed Prometheus answer: the series has no value"
                                        " (a native histogram? query a number, e.g. "
                                        "histogram_quantile(...))");
        }
        return value_sample(*value, now);
    }
    if (type == "matrix") {
        return Sample::make_missing(now, SampleKind::error,
                                    "query returns a range vector; query one number per series, "
                                    "e.g. rate(x[5m]) instead of x[5m]");
    }
    return Sample::make_missing(
        now, SampleKind::error,
        "query returns " + (type.empty() ? std::string("no resultType") : "a " + type + " result") +
            "; expected a vector of one series or a scalar");
}

} // namespace

std::optional<double> parse_prometheus_value(std::string_view text, std::string& problem) {
    // Prometheus spells the non-finite values NaN, +Inf and -Inf. NaN is what 0/0 gives (a ratio
    // over a window without requests: value_sample makes it no_traffic before asking here), Inf
    // a division by zero: neither is a number the condition can judge.
    if (text == "NaN" || text == "+Inf" || text == "-Inf" || text == "Inf") {
        problem = "query returned " + std::string(text) +
                  " (a division by zero? e.g. an error ratio over a window without requests): "
                  "not a number the condition can judge";
        return std::nullopt;
    }
    double v = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size() ||
        !std::isfinite(v)) {
        problem =
            "query returned a value that is not a number: " + util::quoted(text.substr(0, 80));
        return std::nullopt;
    }
    return v;
}

decision::Sample query_prometheus(util::HttpClient& client, const std::string& base_url,
                                  const std::string& query, util::Millis timeout,
                                  decision::SystemTime now, const util::TlsOptions& tls) {
    std::string base = base_url;
    while (!base.empty() && base.back() == '/') {
        base.pop_back();
    }
    util::HttpRequest req;
    req.url = base + "/api/v1/query?query=" + util::url_encode(query);
    req.timeout = timeout;
    req.tls = tls;
    req.headers = {{"Accept", "application/json"}};
    util::HttpResponse r = client.send(req);
    if (!r.received()) {
        if (r.stage == util::HttpStage::url) {
            return Sample::make_missing(now, SampleKind::error, r.error);
        }
        return Sample::make_missing(now, SampleKind::unavailable,
                                    "Prometheus at " + base + " not reachable: " + r.error);
    }
    const std::string http = "HTTP " + std::to_string(r.status);
    const bool ok_status = r.status >= 200 && r.status < 300;
    boost::system::error_code ec;
    json::value body = json::parse(r.body, ec);
    const json::object* top = ec ? nullptr : body.if_object();
    const std::string status = top != nullptr ? string_at(*top, "status") : std::string();
    if (status != "success" && status != "error") {
        // Not Prometheus talking: a gateway error means it cannot be reached; anything else
        // (a 404 for a wrong path, an HTML page) is a broken check.
        if (r.status >= 500) {
            return Sample::make_missing(now, SampleKind::unavailable,
                                        http + " from " + base +
                                            " without a Prometheus answer: " + snippet(r.body));
        }
        return Sample::make_missing(now, SampleKind::error,
                                    http + " from " + base +
                                        ", not a Prometheus answer (is url the Prometheus base "
                                        "URL, e.g. http://prometheus:9090?): " +
                                        snippet(r.body));
    }
    if (status == "error") {
        std::string type = string_at(*top, "errorType");
        std::string error = string_at(*top, "error");
        return Sample::make_missing(now, SampleKind::error,
                                    "Prometheus error (" + (type.empty() ? "" : type + ", ") +
                                        http + "): " + (error.empty() ? "no message" : error));
    }
    if (!ok_status) {
        return Sample::make_missing(now, SampleKind::error,
                                    http + " from " + base + " with status \"success\"");
    }
    const json::value* data = top->if_contains("data");
    if (data == nullptr || !data->is_object()) {
        return Sample::make_missing(now, SampleKind::error,
                                    "malformed Prometheus answer: no data object");
    }
    return from_success(data->get_object(), now);
}

} // namespace rollback::sources
