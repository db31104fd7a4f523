// SPDX-License-Identifier: MIT
#pragma once

// Shared by the `http` action and the `service` action's wait_healthy: one HTTP expectation,
// checked against a response, and the preflight of a URL (parses, host resolves; nothing sent).

#include "actions/action.hpp"
#include "util/http_client.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace rollback::actions {

struct HttpExpectation {
    std::vector<std::int64_t> status; ///< accepted statuses; empty = any 2xx
    std::string body_contains;        ///< empty = no body check
};

/// Empty when `response` meets `expect`, else why not, prefixed with "METHOD url: ":
/// "GET http://h/health/: expected 200, got 500", "... body does not contain \"ok\"",
/// "... connection refused". Secrets in the text are masked.
std::string http_mismatch(const util::HttpRequest& request, const util::HttpResponse& response,
                          const HttpExpectation& expect);

/// "200", "200 or 204", "2xx".
std::string describe_statuses(const std::vector<std::int64_t>& status);

/// Read-only checks of `url`: it parses as http:// and its host resolves.
std::vector<Check> check_url(const std::string& url);

/// Preflight: an https check's `ca_file` is a readable regular file.
Check check_ca_file(const std::string& path);

} // namespace rollback::actions
