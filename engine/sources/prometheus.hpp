// SPDX-License-Identifier: MIT
#pragma once

// The `prometheus` source: one instant query over the HTTP API per observation.

#include "decision/sample.hpp"
#include "util/http_client.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace rollback::sources {

/// GET `base_url`/api/v1/query?query=`query` with `timeout`. One series (or a scalar) with a
/// finite value → a value sample. An empty vector → no_traffic ("empty vector": a working
/// Prometheus matched no series, e.g. no 5xx since the process started). More than one series, a
/// range vector, NaN or ±Inf, an error answer
/// (`status: "error"`), a non-2xx status or a body that is not Prometheus JSON → error (the check
/// is broken, not healthy). Prometheus unreachable (refused, timeout, unresolvable) or a 5xx
/// without a Prometheus body (a proxy in front of it) → unavailable (the monitoring is down, not
/// the target). A URL that is not http:// → error.
decision::Sample query_prometheus(util::HttpClient& client, const std::string& base_url,
                                  const std::string& query, util::Millis timeout,
                                  decision::SystemTime now, const util::TlsOptions& tls = {});

/// The value of one Prometheus sample as sent in JSON ("1.5", "NaN", "+Inf", "-Inf"): the number
/// when finite, else nullopt with `problem` set.
std::optional<double> parse_prometheus_value(std::string_view text, std::string& problem);

} // namespace rollback::sources
