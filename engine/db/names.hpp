// SPDX-License-Identifier: MIT
#pragma once

// SQL text and names: identifier and literal quoting, names of derived databases, the client
// programs. Includes the connection vocabulary (db/connection.hpp) for its users' convenience.

#include "db/connection.hpp"

#include <string>
#include <string_view>

namespace rollback::db {

/// `"name"` with embedded quotes doubled.
std::string quote_ident(std::string_view name);
/// `'text'` with embedded quotes doubled (standard_conforming_strings is on since 9.1).
std::string quote_literal(std::string_view text);
/// "schema.table" → `"schema"."table"`; a name without a dot is taken as `public.name`.
std::string quote_table(std::string_view qualified);
/// "orders" → "public.orders"; already qualified names are kept.
std::string qualify_table(std::string_view name);

/// A database name derived from `base` for a run: `<base>_<tag>_<run>` with the run id reduced to
/// [a-z0-9_], shortened (keeping the run's end) to PostgreSQL's 63-byte identifier limit.
std::string derived_db_name(const std::string& base, std::string_view tag, std::string_view run_id);

/// The PostgreSQL client program `name` (pg_dump, pg_restore): /usr/lib/postgresql/15/bin/<name>
/// when it exists, else the name (looked up in PATH by the runner).
std::string pg_program(const std::string& name);

} // namespace rollback::db
