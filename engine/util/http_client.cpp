// SPDX-License-Identifier: MIT
#include "util/http_client.hpp"

#include "util/duration.hpp"
#include "util/files.hpp"
#include "util/media_type.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <netdb.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <optional>
#include <stdexcept>
#include <sys/socket.h>
#include <sys/types.h>

namespace rollback::util {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;

namespace {

bool has_header(const HttpHeaders& headers, std::string_view name) {
    for (const auto& [k, v] : headers) {
        if (ascii_iequals(k, name)) {
            return true;
        }
    }
    return false;
}

/// A failure with the text the caller sees in HttpResponse::error.
struct ExchangeFailure : std::runtime_error {
    explicit ExchangeFailure(const std::string& what, std::error_code c = {})
        : std::runtime_error(what), code(c) {}
    std::error_code code;
};

bool is_ip_literal(const std::string& host) {
    boost::system::error_code ec;
    asio::ip::make_address(host, ec);
    return !ec;
}

// One request's I/O objects live outside the coroutine so the deadline timer can cancel
// whatever operation is pending (the resolver has no timeout of its own).
struct Exchange {
    asio::io_context ioc;
    tcp::resolver resolver{ioc};
    beast::tcp_stream stream{ioc};
    std::optional<ssl::context> tls_context;
    std::optional<beast::ssl_stream<beast::tcp_stream>> tls; ///< https: stream is unused
    asio::steady_timer timer{ioc};
    bool timed_out = false;
    Millis timeout{0};
    const HttpRequest& request;
    HttpUrl url;
    HttpResponse& response;

    Exchange(const HttpRequest& req, HttpUrl u, HttpResponse& resp)
        : request(req), url(std::move(u)), response(resp) {}

    beast::tcp_stream& transport() { return tls ? beast::get_lowest_layer(*tls) : stream; }

    void check_deadline() const {
        if (timed_out) {
            throw ExchangeFailure("timed out");
        }
    }

    /// https: the context and stream, verification as asked. Nothing is sent yet.
    void prepare_tls() {
        tls_context.emplace(ssl::context::tls_client);
        boost::system::error_code ec;
        if (!request.tls.ca_file.empty()) {
            tls_context->load_verify_file(request.tls.ca_file, ec);
            if (ec) {
                throw ExchangeFailure("cannot load ca_file \"" + request.tls.ca_file +
                                      "\": " + ec.message());
            }
        } else {
            tls_context->set_default_verify_paths(ec);
        }
        tls_context->set_verify_mode(request.tls.insecure ? ssl::verify_none : ssl::verify_peer);
        tls.emplace(ioc, *tls_context);
        beast::get_lowest_layer(*tls).expires_after(timeout);
        SSL* handle = tls->native_handle();
        if (!is_ip_literal(url.host)) {
            SSL_set_tlsext_host_name(handle, url.host.c_str()); // SNI: names only (RFC 6066)
        }
        if (!request.tls.insecure) {
            X509_VERIFY_PARAM* param = SSL_get0_param(handle);
            const int ok = is_ip_literal(url.host)
                               ? X509_VERIFY_PARAM_set1_ip_asc(param, url.host.c_str())
                               : X509_VERIFY_PARAM_set1_host(param, url.host.c_str(), 0);
            if (ok != 1) {
                throw ExchangeFailure("cannot check the certificate against \"" + url.host + "\"");
            }
        }
    }

    /// Why a handshake failed, in OpenSSL's words for a certificate ("certificate has expired").
    std::string handshake_failure(const boost::system::system_error& e) {
        const long verify = SSL_get_verify_result(tls->native_handle());
        if (verify != X509_V_OK) {
            return std::string("certificate verify failed: ") +
                   X509_verify_cert_error_string(verify);
        }
        return e.code().message();
    }

    /// Each address in turn until one connects, as Asio's range connect does — but each socket
    /// marked close-on-exec before it connects (Asio's socket(2) does not): a program the engine
    /// starts meanwhile, on another thread, must not inherit the connection. Throws the last
    /// address's error; a timeout or a cancel ends the tries.
    asio::awaitable<void> connect(const tcp::resolver::results_type& endpoints) {
        boost::system::system_error last(asio::error::host_not_found);
        for (const auto& entry : endpoints) {
            auto& socket = transport().socket();
            beast::error_code ec;
            socket.close(ec);
            socket.open(entry.endpoint().protocol(), ec);
            if (ec) {
                last = boost::system::system_error(ec);
                continue;
            }
            util::close_on_exec(socket.native_handle());
            try {
                co_await transport().async_connect(entry.endpoint(), asio::use_awaitable);
                co_return;
            } catch (const boost::system::system_error& e) {
                last = e;
                if (timed_out || e.code() == beast::error::timeout ||
                    e.code() == asio::error::operation_aborted) {
                    break;
                }
            }
        }
        throw last;
    }

    asio::awaitable<void> run() {
        std::string where = url.host + ":" + std::to_string(url.port);
        if (url.tls) {
            prepare_tls();
        }
        tcp::resolver::results_type endpoints;
        response.stage = HttpStage::resolve;
        try {
            endpoints = co_await resolver.async_resolve(url.host, std::to_string(url.port),
                                                        asio::use_awaitable);
        } catch (const boost::system::system_error& e) {
            check_deadline();
            throw ExchangeFailure("cannot resolve host \"" + url.host + "\": " + e.code().message(),
                                  e.code());
        }
        check_deadline();
        response.stage = HttpStage::connect;
        try {
            co_await connect(endpoints);
        } catch (const boost::system::system_error& e) {
            check_deadline();
            throw ExchangeFailure("connect to " + where + ": " + e.code().message(), e.code());
        }
        check_deadline();
        if (tls) {
            try {
                co_await tls->async_handshake(ssl::stream_base::client, asio::use_awaitable);
            } catch (const boost::system::system_error& e) {
                check_deadline();
                throw ExchangeFailure("TLS handshake with " + where + ": " + handshake_failure(e),
                                      e.code());
            }
            check_deadline();
            co_await talk(*tls, where);
        } else {
            co_await talk(stream, where);
        }
        beast::error_code ignored;
        transport().socket().shutdown(tcp::socket::shutdown_both, ignored);
    }

    template <class Stream>
    asio::awaitable<void> talk(Stream& s, const std::string& where) {
        response.stage = HttpStage::send;
        http::request<http::string_body> req;
        http::verb verb = http::string_to_verb(request.method);
        if (verb == http::verb::unknown) {
            req.method_string(request.method);
        } else {
            req.method(verb);
        }
        req.target(url.target);
        req.version(11);
        for (const auto& [k, v] : request.headers) {
            req.insert(k, v);
        }
        if (!has_header(request.headers, "Host")) {
            bool default_port = url.port == (url.tls ? 443 : 80);
            std::string host =
                url.host.find(':') != std::string::npos ? "[" + url.host + "]" : url.host;
            req.set(http::field::host, default_port ? host : host + ":" + std::to_string(url.port));
        }
        if (!has_header(request.headers, "User-Agent")) {
            req.set(http::field::user_agent, "rollback/" ROLLBACK_VERSION);
        }
        req.set(http::field::connection, "close");
        req.body() = request.body;
        if (!request.body.empty() || verb == http::verb::post || verb == http::verb::put ||
            verb == http::verb::patch) {
            req.prepare_payload();
        }

        try {
            co_await http::async_write(s, req, asio::use_awaitable);
        } catch (const boost::system::system_error& e) {
            check_deadline();
            throw ExchangeFailure("send to " + where + ": " + e.code().message(), e.code());
        }
        check_deadline();
        response.stage = HttpStage::receive;

        beast::flat_buffer buffer;
        http::response_parser<http::string_body> parser;
        parser.body_limit(request.body_limit);
        if (verb == http::verb::head) {
            parser.skip(true);
        }
        try {
            co_await http::async_read(s, buffer, parser, asio::use_awaitable);
        } catch (const boost::system::system_error& e) {
            check_deadline();
            if (e.code() == http::error::body_limit) {
                throw ExchangeFailure("response from " + where + " larger than " +
                                      std::to_string(request.body_limit) + " bytes");
            }
            // A server that closes without TLS close_notify after a complete response is
            // common; the response was read whole (parser done) or it was not.
            if (!(e.code() == ssl::error::stream_truncated && parser.is_done())) {
                throw ExchangeFailure("read from " + where + ": " + e.code().message(), e.code());
            }
        }
        auto& msg = parser.get();
        response.status = static_cast<int>(msg.result_int());
        for (const auto& field : msg) {
            response.headers.emplace_back(std::string(field.name_string()),
                                          std::string(field.value()));
        }
        response.body = std::move(msg.body());
        response.stage = HttpStage::done;
    }
};

} // namespace

std::optional<HttpUrl> parse_http_url(std::string_view url, std::string* problem) {
    auto fail = [&](std::string why) -> std::optional<HttpUrl> {
        if (problem != nullptr) {
            *problem = std::move(why);
        }
        return std::nullopt;
    };
    const bool tls = url.size() >= 8 && ascii_iequals(url.substr(0, 8), "https://");
    const std::string_view k_scheme = tls ? "https://" : "http://";
    if (url.size() < k_scheme.size() || !ascii_iequals(url.substr(0, k_scheme.size()), k_scheme)) {
        return fail("expected a URL starting with http:// or https://");
    }
    std::string_view rest = url.substr(k_scheme.size());
    if (auto hash = rest.find('#'); hash != std::string_view::npos) {
        rest = rest.substr(0, hash);
    }
    size_t end = rest.find_first_of("/?");
    std::string_view authority = rest.substr(0, end);
    std::string target = end == std::string_view::npos ? "/" : std::string(rest.substr(end));
    if (!target.empty() && target.front() == '?') {
        target = "/" + target;
    }
    for (char c : target) {
        if (c == ' ' || c < 0x20 || c == 0x7f) {
            return fail("URL contains a space or control character");
        }
    }
    if (authority.find('@') != std::string_view::npos) {
        return fail("user:password@ in the URL is not supported (use an Authorization header)");
    }
    HttpUrl out;
    out.target = target;
    out.tls = tls;
    out.port = tls ? 443 : 80;
    std::string_view port_text;
    if (!authority.empty() && authority.front() == '[') {
        size_t close = authority.find(']');
        if (close == std::string_view::npos) {
            return fail("unterminated [ in host");
        }
        out.host = std::string(authority.substr(1, close - 1));
        std::string_view after = authority.substr(close + 1);
        if (!after.empty()) {
            if (after.front() != ':') {
                return fail("unexpected text after ]");
            }
            port_text = after.substr(1);
            if (port_text.empty()) {
                return fail("empty port");
            }
        }
    } else {
        size_t colon = authority.find(':');
        out.host = std::string(authority.substr(0, colon));
        if (colon != std::string_view::npos) {
            port_text = authority.substr(colon + 1);
            if (port_text.empty()) {
                return fail("empty port");
            }
        }
    }
    if (out.host.empty()) {
        return fail("missing host");
    }
    if (!port_text.empty()) {
        unsigned value = 0;
        for (char c : port_text) {
            if (c < '0' || c > '9' || value > 65535) {
                return fail("invalid port \"" + std::string(port_text) + "\"");
            }
            value = value * 10 + static_cast<unsigned>(c - '0');
        }
        if (value == 0 || value > 65535) {
            return fail("invalid port \"" + std::string(port_text) + "\"");
        }
        out.port = static_cast<std::uint16_t>(value);
    }
    return out;
}

std::string url_encode(std::string_view text) {
    static constexpr char k_hex[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(text.size());
    for (char ch : text) {
        const auto c = static_cast<unsigned char>(ch);
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '.' || c == '_' || c == '~') {
            out += ch;
        } else {
            out += '%';
            out += k_hex[c >> 4];
            out += k_hex[c & 15];
        }
    }
    return out;
}

std::string resolve_host(const std::string& host) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* result = nullptr;
    int rc = ::getaddrinfo(host.c_str(), nullptr, &hints, &result);
    if (rc != 0) {
        return ::gai_strerror(rc);
    }
    ::freeaddrinfo(result);
    return {};
}

std::optional<std::string> HttpResponse::header(std::string_view name) const {
    for (const auto& [k, v] : headers) {
        if (ascii_iequals(k, name)) {
            return v;
        }
    }
    return std::nullopt;
}

HttpResponse http_request(const HttpRequest& request) {
    HttpResponse response;
    auto start = std::chrono::steady_clock::now();
    auto finish = [&] {
        response.elapsed =
            std::chrono::duration_cast<Millis>(std::chrono::steady_clock::now() - start);
        return response;
    };
    std::string problem;
    auto url = parse_http_url(request.url, &problem);
    if (!url) {
        response.error = "invalid URL \"" + request.url + "\": " + problem;
        return finish();
    }

    Exchange ex(request, *url, response);
    auto timeout = request.timeout.count() > 0 ? request.timeout : Millis(std::chrono::hours(24));
    ex.timer.expires_after(timeout);
    // The stream's own expiry is a backstop for an operation started just as the timer fired.
    // (For https the TLS stream is made when the exchange starts: it sets its own expiry then.)
    ex.stream.expires_after(timeout);
    ex.timeout = timeout;
    ex.timer.async_wait([&ex](const boost::system::error_code& ec) {
        if (ec) {
            return; // cancelled: the exchange finished first
        }
        ex.timed_out = true;
        ex.resolver.cancel();
        ex.transport().cancel();
    });
    std::string error;
    std::error_code cause;
    asio::co_spawn(ex.ioc, ex.run(), [&](std::exception_ptr e) {
        ex.timer.cancel();
        if (!e) {
            return;
        }
        try {
            std::rethrow_exception(e);
        } catch (const ExchangeFailure& f) {
            error = f.what();
            cause = f.code;
        } catch (const boost::system::system_error& f) {
            error = f.code().message();
            cause = f.code();
        } catch (const std::exception& f) {
            error = f.what();
        }
    });
    ex.ioc.run();
    const HttpStage stage = response.stage;
    if (ex.timed_out || error.find("The socket was closed due to a timeout") != std::string::npos) {
        response = HttpResponse{};
        response.timed_out = true;
        response.error = "timed out after " + format_duration(timeout);
        response.cause = std::make_error_code(std::errc::timed_out);
        response.stage = stage;
    } else if (!error.empty()) {
        response = HttpResponse{};
        response.error = error;
        response.cause = cause;
        response.stage = stage;
    }
    return finish();
}

} // namespace rollback::util
