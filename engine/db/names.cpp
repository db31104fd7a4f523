// SPDX-License-Identifier: MIT
#include "db/names.hpp"

#include "util/strings.hpp"

#include <filesystem>

namespace rollback::db {

std::string quote_ident(std::string_view name) {
    return "\"" + util::replace_all(std::string(name), "\"", "\"\"") + "\"";
}

std::string quote_literal(std::string_view text) {
    return "'" + util::replace_all(std::string(text), "'", "''") + "'";
}

std::string qualify_table(std::string_view name) {
    std::string n(util::trim(name));
    return n.find('.') == std::string::npos ? "public." + n : n;
}

std::string quote_table(std::string_view qualified) {
    std::string q = qualify_table(qualified);
    size_t dot = q.find('.');
    return quote_ident(q.substr(0, dot)) + "." + quote_ident(q.substr(dot + 1));
}

std::string derived_db_name(const std::string& base, std::string_view tag,
                            std::string_view run_id) {
    std::string run;
    for (char c : run_id) {
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
            run += c;
        } else if (c >= 'A' && c <= 'Z') {
            run += static_cast<char>(c - 'A' + 'a');
        } else if (!run.empty() && run.back() != '_') {
            run += '_';
        }
    }
    std::string suffix = "_" + std::string(tag) + "_" + run;
    constexpr size_t k_max = 63; // NAMEDATALEN - 1: longer names are silently truncated
    if (base.size() + suffix.size() > k_max) {
        // Keep up to 31 bytes of the database name and the end of the run id (its unique part).
        size_t room = k_max - std::min<size_t>(base.size(), 31) - tag.size() - 2;
        suffix =
            "_" + std::string(tag) + "_" + run.substr(run.size() > room ? run.size() - room : 0);
    }
    std::string head = base.substr(0, std::min(base.size(), k_max - suffix.size()));
    return head + suffix;
}

std::string pg_program(const std::string& name) {
    std::filesystem::path p = std::filesystem::path("/usr/lib/postgresql/15/bin") / name;
    std::error_code ec;
    return std::filesystem::exists(p, ec) ? p.string() : name;
}

} // namespace rollback::db
