// SPDX-License-Identifier: MIT
#pragma once

// The `http` source: one GET of the target per observation.

#include "decision/sample.hpp"
#include "util/http_client.hpp"

#include <string>

namespace rollback::sources {

/// One probe of `url` with `timeout`, with its latency in ms. The answer `expect_status` → a
/// healthy probe; another status, a refused or reset connection, a broken response or the
/// timeout → a failed probe (the target's failure: it counts as downtime). When nothing could be
/// sent because of the monitor's side (the host name does not resolve, resolving times out, this
/// host has no route to the network) → unavailable (no data, never downtime); a URL that is not a
/// valid http:// URL → error (the check is broken).
decision::Sample probe_http(util::HttpClient& client, const std::string& url, int expect_status,
                            util::Millis timeout, decision::SystemTime now,
                            const util::TlsOptions& tls = {});

} // namespace rollback::sources
