// SPDX-License-Identifier: MIT
#include "db/connection.hpp"

#include "db/answer_deadline.hpp"

#include "util/secrets.hpp"
#include "util/strings.hpp"

#include <algorithm>
#include <libpq-fe.h>
#include <optional>
#include <pqxx/connection>
#include <pqxx/except>
#include <pqxx/nontransaction>
#include <set>
#include <vector>

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

namespace {

// libpq's parse error with every quoted word that is not one of its keywords (or one
// character, as "=") replaced by "***": a malformed DSN may hold its password where the parser
// could not find it, and the message quotes the words it stopped at.
std::string masked_parse_error(const std::string& msg) {
    std::set<std::string> keywords;
    if (PQconninfoOption* d = PQconndefaults(); d != nullptr) {
        for (PQconninfoOption* o = d; o->keyword != nullptr; ++o) {
            keywords.insert(o->keyword);
        }
        PQconninfoFree(d);
    }
    std::string out;
    size_t i = 0;
    while (i < msg.size()) {
        const size_t open = msg.find('"', i);
        const size_t close = open == std::string::npos ? open : msg.find('"', open + 1);
        if (close == std::string::npos) {
            out += msg.substr(i);
            break;
        }
        const std::string word = msg.substr(open + 1, close - open - 1);
        out += msg.substr(i, open + 1 - i);
        out += word.size() <= 1 || keywords.count(word) != 0 ? word : "***";
        out += '"';
        i = close + 1;
    }
    return out;
}

bool all_digits(const std::string& v) {
    return !v.empty() &&
           std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// The values libpq checks only when it connects (connectOptions2), checked as it checks them,
// so that what `validate` accepts can connect: "" when `value` is one `key` takes.
std::string bad_value(const std::string& key, const std::string& value) {
    static const std::map<std::string, std::vector<std::string>> k_choices = {
        {"sslmode", {"disable", "allow", "prefer", "require", "verify-ca", "verify-full"}},
        {"gssencmode", {"disable", "prefer", "require"}},
        {"channel_binding", {"disable", "prefer", "require"}},
        {"target_session_attrs",
         {"any", "read-write", "read-only", "primary", "standby", "prefer-standby"}},
        {"load_balance_hosts", {"disable", "random"}},
        {"sslnegotiation", {"postgres", "direct"}},
        {"ssl_min_protocol_version", {"TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"}},
        {"ssl_max_protocol_version", {"TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"}},
    };
    if (auto it = k_choices.find(key); it != k_choices.end()) {
        if (std::find(it->second.begin(), it->second.end(), value) == it->second.end()) {
            return "invalid " + key + " value: \"" + value + "\" (one of " +
                   util::join(it->second, ", ") + ")";
        }
        return "";
    }
    if (key == "port") {
        // One port per host, comma-separated; empty means the default.
        for (const auto& p : util::split(value, ',')) {
            if (p.empty()) {
                continue;
            }
            if (!all_digits(p) || p.size() > 5 || std::stoi(p) < 1 || std::stoi(p) > 65535) {
                return "invalid port number: \"" + p + "\" (1 to 65535)";
            }
        }
        return "";
    }
    for (const char* k : {"connect_timeout", "keepalives", "keepalives_idle", "keepalives_interval",
                          "keepalives_count", "tcp_user_timeout"}) {
        if (key == k && !value.empty() &&
            !(all_digits(value) || (value[0] == '-' && all_digits(value.substr(1))))) {
            return "invalid integer value \"" + value + "\" for connection option \"" + key + "\"";
        }
    }
    return "";
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
        // Malformed, its password may be anywhere in it (break-it 32/01): the whole text is a
        // secret from now on (the config line echoed with the error is masked too), and the
        // words libpq quotes back are masked unless they are its keywords.
        if (s.size() >= 3) {
            util::register_secret(s);
        }
        throw util::Error("invalid DSN: " + util::mask_secrets(masked_parse_error(msg)),
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
    for (const auto& [key, value] : d.m_params) {
        if (auto why = bad_value(key, value); !why.empty()) {
            throw util::Error(util::mask_secrets("invalid DSN " + d.masked() + ": " + why),
                              util::ExitCode::invalid);
        }
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

Dsn Dsn::with_param(const std::string& key, const std::string& value) const {
    Dsn d = *this;
    d.m_params[key] = value;
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

Connection connect(const Dsn& dsn, std::chrono::milliseconds answer_within) {
    std::unique_ptr<pqxx::connection> c;
    try {
        // Named in the startup packet: a step's session is known by its name before it can run
        // a statement (db/sessions.hpp). Connecting never waits without bound on a server that
        // accepts and stays silent (a stuck postmaster, a pooler holding the connection): 10 s
        // unless the DSN says otherwise (break-it 47/N4: a preflight hung a monitor's loop).
        c = std::make_unique<pqxx::connection>(dsn.with_default("application_name", "rollback")
                                                   .with_default("connect_timeout", "10")
                                                   .conninfo());
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
    try {
        std::optional<AnswerDeadline> bound;
        if (answer_within.count() > 0) {
            bound.emplace(*c, answer_within);
        }
        pqxx::nontransaction nt(*c);
        nt.exec("SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; SET IntervalStyle = "
                "'postgres';"
                " SET extra_float_digits = 3; SET bytea_output = 'hex'");
        nt.commit();
    } catch (const std::exception& e) {
        if (server_went_away(e)) {
            throw lost_while_connecting(dsn, e);
        }
        throw;
    }
    return Connection(c.release());
}

bool server_went_away(const std::exception& e) {
    if (dynamic_cast<const pqxx::broken_connection*>(&e) != nullptr) {
        return true;
    }
    const auto* sql = dynamic_cast<const pqxx::sql_error*>(&e);
    return sql != nullptr && sql->sqlstate().rfind("57P", 0) == 0;
}

ConnectError lost_while_connecting(const Dsn& dsn, const std::exception& e) {
    return ConnectError(
        "cannot connect to PostgreSQL (" + dsn.masked() +
            "): the server closed the connection while it was being set up: " + db_error_text(e),
        util::ExitCode::run_failed, "is the server shutting down or restarting?");
}

std::string db_error_text(const std::exception& e) {
    std::string msg = util::mask_secrets(e.what());
    while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) {
        msg.pop_back();
    }
    return msg;
}

bool refused_for_good(const std::string& what) {
    for (const char* cause : {"password authentication failed", "no password supplied",
                              "SCRAM authentication", "\" does not exist", "for connection option",
                              "invalid port number", "invalid sslmode value",
                              "invalid gssencmode value", "invalid target_session_attrs value"}) {
        if (what.find(cause) != std::string::npos &&
            (std::string_view(cause).front() != '"' ||
             what.find("database \"") != std::string::npos ||
             what.find("role \"") != std::string::npos)) {
            return true;
        }
    }
    return false;
}

} // namespace rollback::db
