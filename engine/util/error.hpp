// SPDX-License-Identifier: MIT
#pragma once

#include "util/exit_code.hpp"

#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace rollback::util {

/// A place in a file; line and column are 1-based, 0 when unknown.
struct Location {
    std::string file;
    int line = 0;
    int column = 0;
};

/// How much of its source line a diagnostic shows under the message (util/source_mask.hpp).
enum class SourceEcho {
    line,        ///< the line as written (registered secrets are masked when it is printed)
    dotenv,      ///< a `.env` line: its name, `=` and opening quote; the value as "***"
    toml_masked, ///< a TOML line that did not parse: every string and comment as "***"
};

/// One problem in user input: `FILE:LINE:COL: error: <subject>: <problem>` plus an optional hint.
struct Diagnostic {
    Location where;
    std::string subject; ///< e.g. `step "restore-db"`; may be empty
    std::string problem; ///< e.g. `unknown key "timout" (did you mean "timeout"?)`
    std::string hint;    ///< optional extra line, printed as `  hint: ...`
    SourceEcho echo = SourceEcho::line;
};

/// The one message shape: location, subject, problem; then the source line and a caret when the
/// file can be read and the location has a line. Ends with a newline.
std::string format_diagnostic(const Diagnostic& d, std::string_view severity = "error");

/// How many diagnostics of one file format_diagnostics shows; the rest are counted in one line
/// ("FILE: and N more errors not shown ..."). `validate --json` lists every one.
constexpr size_t k_max_shown_per_file = 100;

/// The diagnostics in order, each formatted, at most k_max_shown_per_file of one file. Each file
/// is read once for all its diagnostics: linear in the file and the number shown.
std::string format_diagnostics(const std::vector<Diagnostic>& ds,
                               std::string_view severity = "error");

/// How many times diagnostics have read a source file to show its lines (tests pin that
/// format_diagnostics reads each file once).
size_t source_reads();

/// "Cannot proceed": thrown only for failures that end the program, caught once in cli::main,
/// printed as `rollback: error: <what>` and turned into `code`.
class Error : public std::runtime_error {
  public:
    explicit Error(const std::string& what, ExitCode code = ExitCode::invalid,
                   std::string hint = {})
        : std::runtime_error(what), m_code(code), m_hint(std::move(hint)) {}
    ExitCode code() const { return m_code; }
    const std::string& hint() const { return m_hint; }

  private:
    ExitCode m_code;
    std::string m_hint;
};

/// Thrown when input files are invalid: carries every diagnostic found, exit code 2.
class InvalidInput : public Error {
  public:
    explicit InvalidInput(std::vector<Diagnostic> ds)
        : Error(format_diagnostics(ds), ExitCode::invalid), m_diagnostics(std::move(ds)) {}
    const std::vector<Diagnostic>& diagnostics() const { return m_diagnostics; }

  private:
    std::vector<Diagnostic> m_diagnostics;
};

} // namespace rollback::util
