// SPDX-License-Identifier: MIT
#pragma once

// A name from outside (a database's, a table's) made into one file name component: what the
// backup catalog's ids and the reconciliation exports are named by. PostgreSQL allows any
// character in a quoted name ("../sales", "orders/2026"); such a name used raw as a path
// component writes outside the directory meant.

#include <string>
#include <string_view>

namespace rollback::util {

/// `name` with every byte except `A-Z a-z 0-9 . _ -` (and a leading `.`) written as `%XX`
/// (upper-case hex; `%` itself too): never empty (an empty name is `%`), no `/`, no NUL, never
/// `.` or `..` nor hidden, and two names never give the same result. Ordinary names
/// ("shop", "public.orders", "shop_order-2") are kept as written. Up to 3 bytes per byte of
/// `name`: the caller bounds the length.
std::string file_name_part(std::string_view name);

} // namespace rollback::util
