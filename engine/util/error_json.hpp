// SPDX-License-Identifier: MIT
#pragma once

// The one error shape, for machines: what `--json` prints instead of `rollback: error: ...`.
//   {"error": {"code": 2, "message": "...", "hint": "...",
//              "diagnostics": [{"file", "line", "column", "subject", "problem", "hint"}]}}
// Texts are masked (util::mask_secrets); the caller prints the object as one line on stderr.

#include "util/error.hpp"

#include <boost/json/object.hpp>

namespace rollback::util {

boost::json::object diagnostic_json(const Diagnostic& d);
boost::json::object error_json(const Error& e);
/// An unexpected exception (exit 1): code 1, message only.
boost::json::object internal_error_json(const std::exception& e);

} // namespace rollback::util
