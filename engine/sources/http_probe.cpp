// SPDX-License-Identifier: MIT
#include "sources/http_probe.hpp"

#include <system_error>

namespace rollback::sources {

using decision::Sample;
using decision::SampleKind;

decision::Sample probe_http(util::HttpClient& client, const std::string& url, int expect_status,
                            util::Millis timeout, decision::SystemTime now,
                            const util::TlsOptions& tls) {
    util::HttpRequest req;
    req.url = url;
    req.timeout = timeout;
    req.tls = tls;
    util::HttpResponse r = client.send(req);
    const double latency_ms = static_cast<double>(r.elapsed.count());
    if (r.received()) {
        if (r.status == expect_status) {
            return Sample::make_probe(now, false, latency_ms);
        }
        Sample s = Sample::make_probe(now, true, latency_ms);
        s.detail =
            "HTTP " + std::to_string(r.status) + ", expected " + std::to_string(expect_status);
        return s;
    }
    if (r.stage == util::HttpStage::url) {
        return Sample::make_missing(now, SampleKind::error, r.error);
    }
    // Nothing reached the target: a resolver that fails or hangs, or a host without a route to
    // any network, is the monitor's trouble. Blaming the target would page for downtime (and
    // roll back a healthy release) whenever the monitor's own network breaks.
    if (r.stage == util::HttpStage::resolve) {
        return Sample::make_missing(now, SampleKind::unavailable,
                                    r.timed_out ? "resolving the host of " + url + " " + r.error
                                                : r.error);
    }
    if (r.cause == std::errc::network_unreachable) {
        return Sample::make_missing(now, SampleKind::unavailable, r.error);
    }
    // A timeout waited for the target: that wait is its latency. A refused or reset connection
    // or a malformed answer says nothing of how slow the target is.
    Sample s = Sample::make_probe(now, true,
                                  r.timed_out ? std::optional<double>(latency_ms) : std::nullopt);
    s.detail = r.error;
    return s;
}

} // namespace rollback::sources
