// SPDX-License-Identifier: MIT
#pragma once

// The one way the engine turns a JSON value into text: journal lines, decision records, tick logs,
// state files and rows, `--json` outputs. Boost.JSON writes a string's bytes as they are, and its
// reader (ours, jq's, PostgreSQL's) refuses a byte that is not UTF-8; a step's output, a --reason,
// a file name may hold one. So every string and key is made valid UTF-8 first (util::valid_utf8:
// such a byte as the text `\xHH`), and what is written can always be read back.

#include <boost/json/value.hpp>
#include <string>

namespace rollback::util {

/// Makes every string and object key in `v` valid UTF-8 (util::valid_utf8), in place; a string
/// that is not is masked (util::mask_secrets) before its bytes become text. Returns whether
/// anything changed.
bool make_valid_utf8(boost::json::value& v);

/// boost::json::serialize() of `v` with every string and key made valid UTF-8 first: the text is
/// always valid JSON. `v` itself is not changed.
std::string json_text(const boost::json::value& v);

} // namespace rollback::util
