// SPDX-License-Identifier: MIT
#include "util/ca_file.hpp"

#include <boost/asio/ssl/context.hpp>
#include <filesystem>
#include <unistd.h>

namespace rollback::util {

std::string ca_file_problem(const std::string& path) {
    std::error_code fec;
    if (!std::filesystem::is_regular_file(path, fec) || ::access(path.c_str(), R_OK) != 0) {
        return "cannot read it";
    }
    // The very call the client makes (util/http_client.cpp).
    boost::asio::ssl::context ctx(boost::asio::ssl::context::tls_client);
    boost::system::error_code ec;
    ctx.load_verify_file(path, ec);
    if (ec) {
        return "it holds no CA certificate the TLS client can load (" + ec.message() + ")";
    }
    return "";
}

} // namespace rollback::util
