// SPDX-License-Identifier: MIT
#include "db/connection.hpp"

#include "util/secrets.hpp"
#include "util/strings.hpp"

#include <libpq-fe.h>
#include <pqxx/connection>
#include <pqxx/except>
#include <pqxx/nontransaction>

namespace rollback::db {

namespace {

// key=value quoting per libpq: single quotes, backslash-escaped ' and \.
std::string conninfo_value(const std::string& v) {
    std::string out = "'";
    for (char c : v) {
        if (c == '\'' || c == '\\') {
            out += '\\';
        }
        out += c;
    }
    return out + "'";
}

std::string build(const std::map<std::string, std::string>& params, bool with_password) {
    std::string out;
    for (const auto& [k, v] : params) {
        if (k == "password" && !with_password) {
            continue;
        }
        if (!out.empty()) {
            out += ' ';
        }
        out += k + "=" + conninfo_value(v);
    }
    return out;
}

} // namespace

Dsn Dsn::parse(std::string_view text) {
    // Register first: a libpq parse error may quote the text back.
    util::mask_dsn(text);
    std::string s(text);
    char* err = nullptr;
    PQconninfoOption* opts = PQconninfoParse(s.c_str(), &err);
    if (opts == nullptr) {
        std::string msg = err != nullptr ? std::string(util::trim(err)) : "out of memory";
        PQfreemem(err);
        throw util::Error(util::mask_secrets("invalid DSN " + util::mask_dsn(text) + ": " + msg),
                          util::ExitCode::invalid);
    }
    Dsn d;
    for (PQconninfoOption* o = opts; o->keyword != nullptr; ++o) {
        if (o->val != nullptr) {
            d.m_params[o->keyword] = o->val;
        }
    }
    PQconninfoFree(opts);
    if (auto it = d.m_params.find("password"); it != d.m_params.end()) {
        util::register_secret(it->second);
    }
    return d;
}

Dsn Dsn::with_dbname(const std::string& dbname) const {
    Dsn d = *this;
    d.m_params["dbname"] = dbname;
    return d;
}

Dsn Dsn::with_default(const std::string& key, const std::string& value) const {
    Dsn d = *this;
    d.m_params.emplace(key, value);
    return d;
}

std::string Dsn::dbname() const {
    auto it = m_params.find("dbname");
    return it == m_params.end() ? std::string() : it->second;
}

std::string Dsn::host() const {
    auto it = m_params.find("host");
    return it == m_params.end() ? std::string() : it->second;
}

std::string Dsn::param(const std::string& key) const {
    auto it = m_params.find(key);
    return it == m_params.end() ? std::string() : it->second;
}

std::string Dsn::conninfo() const {
    return build(m_params, true);
}

std::string Dsn::conninfo_without_password() const {
    return build(m_params, false);
}

std::map<std::string, std::string> Dsn::child_env() const {
    std::map<std::string, std::string> env;
    if (auto it = m_params.find("password"); it != m_params.end()) {
        env["PGPASSWORD"] = it->second;
    }
    return env;
}

std::string Dsn::masked() const {
    std::string out;
    for (const auto& [k, v] : m_params) {
        if (!out.empty()) {
            out += ' ';
        }
        // Quoted as in a connection string, so that `dbname='shop dbname=other'` reads as the
        // one value it is.
        const bool plain = !v.empty() && v.find_first_of(" \t\n\r\f\v'\\") == std::string::npos;
        out += k + "=" + (k == "password" ? std::string("***") : plain ? v : conninfo_value(v));
    }
    return out;
}

void ConnectionDeleter::operator()(pqxx::connection_base* c) const {
    delete static_cast<pqxx::connection*>(c);
}

Connection connect(const Dsn& dsn) {
    std::unique_ptr<pqxx::connection> c;
    try {
        c = std::make_unique<pqxx::connection>(dsn.conninfo());
    } catch (const std::exception& e) {
        std::string cause = db_error_text(e);
        std::string hint;
        if (cause.find("password authentication failed") != std::string::npos ||
            cause.find("no password supplied") != std::string::npos) {
            hint = "check the user and password of the DSN (or ~/.pgpass)";
        } else if (cause.find("does not exist") != std::string::npos) {
            hint = "check the dbname and user of the DSN";
        } else if (cause.find("Connection refused") != std::string::npos ||
                   cause.find("No such file or directory") != std::string::npos ||
                   cause.find("could not translate host name") != std::string::npos ||
                   cause.find("timeout expired") != std::string::npos) {
            hint = "is the server running and reachable at this host/port?";
        } else if (cause.find("not currently accepting connections") != std::string::npos) {
            hint = "the database has ALLOW_CONNECTIONS false (a swap in progress or interrupted?)";
        }
        throw ConnectError("cannot connect to PostgreSQL (" + dsn.masked() + "): " + cause,
                           util::ExitCode::run_failed, hint);
    }
    pqxx::nontransaction nt(*c);
    nt.exec(
        "SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; SET IntervalStyle = 'postgres';"
        " SET extra_float_digits = 3; SET bytea_output = 'hex'; SET application_name = 'rollback'");
    nt.commit();
    return Connection(c.release());
}

std::string db_error_text(const std::exception& e) {
    std::string msg = util::mask_secrets(e.what());
    while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) {
        msg.pop_back();
    }
    return msg;
}

} // namespace rollback::db
