// SPDX-License-Identifier: MIT
// action = "http": a verification request. A response that does not meet the expectation is
// Status::verification_failed (exit code 3 for the run), not a plain failure.
#include "actions/http_check.hpp"
#include "actions/kind_action.hpp"
#include "exec/runner.hpp"
#include "util/ca_file.hpp"
#include "util/media_type.hpp"
#include "util/secrets.hpp"
#include "util/strings.hpp"

#include <algorithm>
#include <filesystem>
#include <memory>
#include <thread>
#include <unistd.h>

namespace rollback::actions {

std::string describe_statuses(const std::vector<std::int64_t>& status) {
    if (status.empty()) {
        return "2xx";
    }
    std::vector<std::string> parts;
    for (auto s : status) {
        parts.push_back(std::to_string(s));
    }
    return util::join(parts, " or ");
}

std::string http_mismatch(const util::HttpRequest& request, const util::HttpResponse& response,
                          const HttpExpectation& expect) {
    std::string prefix = request.method + " " + request.url + ": ";
    std::string problem;
    if (!response.received()) {
        problem = response.error;
    } else if (expect.status.empty() ? (response.status < 200 || response.status > 299)
                                     : std::find(expect.status.begin(), expect.status.end(),
                                                 response.status) == expect.status.end()) {
        problem = "expected " + describe_statuses(expect.status) + ", got " +
                  std::to_string(response.status);
    } else if (!expect.body_contains.empty() &&
               response.body.find(expect.body_contains) == std::string::npos) {
        problem = "body does not contain " + util::quoted(expect.body_contains);
    }
    return problem.empty() ? std::string() : util::mask_secrets(prefix + problem);
}

std::vector<Check> check_url(const std::string& url) {
    std::string why;
    auto parsed = util::parse_http_url(url, &why);
    std::string shown = util::mask_secrets(url);
    if (!parsed) {
        return {{false, "url " + shown, why, {}}};
    }
    std::string problem = util::resolve_host(parsed->host);
    if (!problem.empty()) {
        return {{false, "host " + parsed->host + " resolves", problem, "check the URL and DNS"}};
    }
    return {{true, "url " + shown + " parses, host " + parsed->host + " resolves", {}, {}}};
}

Check check_ca_file(const std::string& path) {
    // Loaded as the TLS client will: a file without a certificate is found before the run.
    if (auto problem = util::ca_file_problem(path); !problem.empty()) {
        return {false, "ca_file " + path + " holds a CA certificate", problem,
                "a PEM file of the CA certificates to trust"};
    }
    return {true, "ca_file " + path + " holds a CA certificate", {}, {}};
}

namespace {

const std::vector<std::string> k_methods{"GET",   "HEAD",   "POST",   "PUT",
                                         "PATCH", "DELETE", "OPTIONS"};

// RFC 9110 token characters.
bool is_header_name(std::string_view name) {
    return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) ||
               std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
    });
}

struct HttpParams : playbook::ActionParams {
    util::HttpRequest request;
    HttpExpectation expect;
    int attempts = 1;
    util::Millis interval{std::chrono::seconds(1)};
    std::optional<util::Millis> request_timeout;
};

// `dir`: the playbook's directory, against which a relative ca_file is read.
HttpParams read_params(StepParams& p, const std::filesystem::path& dir) {
    HttpParams h;
    if (auto m = p.string("method")) {
        std::string upper;
        for (char c : *m) {
            upper += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        }
        if (std::find(k_methods.begin(), k_methods.end(), upper) == k_methods.end()) {
            p.error("method", "unknown method " + util::quoted(*m) + " (use " +
                                  util::join(k_methods, ", ") + ")");
        }
        h.request.method = upper;
    }
    if (auto url = p.string("url")) {
        std::string why;
        if (!util::parse_http_url(*url, &why)) {
            p.error("url", why);
        }
        h.request.url = *url;
    } else if (!p.has("url")) {
        p.error("", "missing key \"url\"");
    }
    if (const auto* headers = p.raw("headers")) {
        if (!headers->is_object()) {
            p.error("headers",
                    "expected a table of strings, e.g. { Authorization = \"Bearer ...\" }");
        } else {
            for (const auto& entry : headers->as_object()) {
                // Not a structured binding: clang 14 cannot capture one in the lambda below.
                const std::string_view k = entry.key();
                const boost::json::value& v = entry.value();
                if (!v.is_string()) {
                    p.error("headers", "header " + util::quoted(k) + ": expected a string");
                } else if (!is_header_name(k)) {
                    p.error("headers", "header " + util::quoted(k) +
                                           ": not a header name (letters, digits and "
                                           "!#$%&'*+-.^_`|~ only)");
                } else if (std::string_view(v.as_string())
                               .find_first_of(std::string_view("\r\n\0", 3)) !=
                           std::string_view::npos) {
                    // A line break would end this header and start another one.
                    p.error("headers", "header " + util::quoted(k) +
                                           ": the value contains a line break (CR or LF) or NUL");
                } else if (auto same = std::find_if(
                               h.request.headers.begin(), h.request.headers.end(),
                               [&](const auto& kv) { return util::ascii_iequals(kv.first, k); });
                           same != h.request.headers.end()) {
                    // Field names are case-insensitive (RFC 9110 §5.1): one field, given twice.
                    p.error("headers", "header " + util::quoted(k) + ": given twice (also as " +
                                           util::quoted(same->first) +
                                           "; header names are case-insensitive)");
                } else if (util::ascii_iequals(k, "content-type") &&
                           util::media_type(v.as_string()).empty()) {
                    p.error("headers", "header " + util::quoted(k) +
                                           ": not a media type (type/subtype, e.g. "
                                           "application/json; charset=utf-8)");
                } else {
                    h.request.headers.emplace_back(std::string(k), std::string(v.as_string()));
                }
            }
        }
    }
    h.request.body = p.string("body").value_or("");
    if (auto st = p.integers("expect_status")) {
        for (auto s : *st) {
            if (s < 100 || s > 599) {
                p.error("expect_status", std::to_string(s) + " is not an HTTP status (100-599)");
            }
        }
        h.expect.status = *st;
    }
    h.expect.body_contains = p.string("expect_body").value_or("");
    if (auto a = p.integer("attempts")) {
        if (*a < 1 || *a > 1000) {
            p.error("attempts", "expected 1 to 1000");
        } else {
            h.attempts = static_cast<int>(*a);
        }
    }
    h.interval = p.duration("interval").value_or(h.interval);
    h.request_timeout = p.duration("request_timeout");
    if (auto ca = p.string("ca_file")) {
        h.request.tls.ca_file = (dir / *ca).lexically_normal().string();
    }
    h.request.tls.insecure = p.boolean("insecure").value_or(false);
    if ((p.has("ca_file") || p.has("insecure")) && !h.request.url.empty() &&
        !util::ascii_istarts_with(h.request.url, "https://")) { // schemes: any case (RFC 3986)
        p.error(p.has("ca_file") ? "ca_file" : "insecure", "only for an https:// url");
    }
    return h;
}

struct Http {
    static constexpr std::string_view name = "http";
    using Params = HttpParams;

    static std::vector<std::string> keys() {
        return {"method",          "url",         "headers",  "body",
                "expect_status",   "expect_body", "attempts", "interval",
                "request_timeout", "ca_file",     "insecure"};
    }
    static std::vector<std::string> required_keys() { return {"url"}; }
    static std::map<std::string, playbook::Encoding> encodings() {
        return {{"url", playbook::Encoding::url},
                {"headers.*", playbook::Encoding::header},
                {"body", playbook::Encoding::plain}}; // json or form by Content-Type or shape
    }

    static Params parse(StepParams& p, const playbook::Playbook& pb, const playbook::Step&) {
        return read_params(p, pb.directory);
    }

    static std::string describe(const playbook::Step&, const Params& h) {
        std::string out = h.request.method + " " + h.request.url + ", expect " +
                          describe_statuses(h.expect.status);
        if (!h.expect.body_contains.empty()) {
            out += " and body containing " + util::quoted(h.expect.body_contains);
        }
        if (h.attempts > 1) {
            out += ", up to " + std::to_string(h.attempts) + " attempts every " +
                   util::format_duration(h.interval);
        }
        return out;
    }

    static std::vector<Check> preflight(const Context&, const Params& h) {
        auto checks = check_url(h.request.url); // never sends the request: it may change state
        if (!h.request.tls.ca_file.empty()) {
            checks.push_back(check_ca_file(h.request.tls.ca_file));
        }
        return checks;
    }

    static Result run(const Context& ctx, const Params& h) {
        Result r;
        auto start = std::chrono::steady_clock::now();
        auto budget =
            ctx.step.timeout.count() > 0 ? ctx.step.timeout : util::Millis(std::chrono::hours(24));
        auto remaining = [&] {
            return budget - std::chrono::duration_cast<util::Millis>(
                                std::chrono::steady_clock::now() - start);
        };
        util::HttpResponse response;
        std::string mismatch;
        int attempt = 0;
        while (true) {
            ++attempt;
            if (attempt > 1) {
                // Each request is an effect of its own (a POST is not idempotent): it is sent
                // only while this process still holds the run lock, as a step starts (break-it
                // 43 F6). The first one follows the step_started record, fenced itself.
                check_fence(ctx, "attempt " + std::to_string(attempt) + " of " +
                                     std::to_string(h.attempts) + " of step " +
                                     util::quoted(ctx.step.id) + " (" + h.request.method + " " +
                                     util::mask_secrets(h.request.url) + ")");
            }
            util::HttpRequest req = h.request;
            req.timeout =
                std::min(h.request_timeout.value_or(util::Millis(std::chrono::seconds(10))),
                         std::max(remaining(), util::Millis(1)));
            response = util::http_request(req);
            mismatch = http_mismatch(req, response, h.expect);
            if (mismatch.empty() || attempt >= h.attempts || remaining() <= h.interval) {
                break;
            }
            if (ctx.progress) {
                ctx.progress(mismatch + "; attempt " + std::to_string(attempt + 1) + " of " +
                             std::to_string(h.attempts) + " in " +
                             util::format_duration(h.interval));
            }
            if (!exec::sleep_unless_interrupted(h.interval)) {
                r.status = Status::interrupted;
                r.summary = "interrupted";
                return r;
            }
        }
        r.details["method"] = h.request.method;
        r.details["url"] = util::mask_secrets(h.request.url);
        r.details["status"] = response.status;
        r.details["elapsed_ms"] = response.elapsed.count();
        r.details["attempts"] = attempt;
        r.output_tail = util::tail(util::mask_secrets(response.body), 2048); // mask, then cut
        if (!mismatch.empty()) {
            r.status = Status::verification_failed;
            r.summary =
                mismatch + (attempt > 1 ? " (after " + std::to_string(attempt) + " attempts)" : "");
            return r;
        }
        r.status = Status::succeeded;
        r.summary = util::mask_secrets(h.request.method + " " + h.request.url + ": " +
                                       std::to_string(response.status) + " in " +
                                       util::format_duration(response.elapsed));
        return r;
    }
};

} // namespace

std::unique_ptr<Action> make_http_action() {
    return std::make_unique<KindAction<Http>>();
}

} // namespace rollback::actions
