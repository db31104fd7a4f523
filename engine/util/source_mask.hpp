// SPDX-License-Identifier: MIT
#pragma once

// What a diagnostic may echo of a source line that can hold secrets nobody registered yet: a
// `.env` line (every value is a secret by convention) or a line of a TOML file that failed to
// parse (nothing in it could be read, so nothing was registered). The value parts are shown as
// "***"; the structure a syntax error is about (names, `=`, quotes, brackets) stays.

#include <string>
#include <string_view>

namespace rollback::util {

/// A `.env` line with everything after its name, `=` and opening quote replaced by "***"
/// (`TOKEN="***`, `export TOKEN ***`). `column` (1-based) is moved onto the shown text.
std::string dotenv_line_masked(std::string_view line, int& column);

/// Line `line` (1-based) of the TOML text `text` (read from its start, so a multi-line string
/// begun earlier is known) with the content of every string and comment on it replaced by
/// "***": `dsn = "***" x`. `column` (1-based) is moved onto the shown text. Empty when the text
/// has no such line.
std::string toml_line_masked(std::string_view text, int line, int& column);

/// `line` with the userinfo of every URL in it masked: `http://deploy:***@host/`, and a lone
/// `https://***@host/` (a token). `column` (1-based) is moved onto the shown text. Applied to
/// every echoed source line: such a credential is refused before anything registers it.
std::string url_userinfo_masked(std::string_view line, int& column);

} // namespace rollback::util
