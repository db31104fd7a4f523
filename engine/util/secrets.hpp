// SPDX-License-Identifier: MIT
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace rollback::util {

/// The process-wide set of secret values (from `secret = true` variables, DSN passwords, ...).
/// Every output path — terminal, log file, journal, report, JSON events — passes text through
/// `mask_secrets`, so a secret registered before it is printed never appears in clear.
/// Values shorter than 3 characters are not registered (they would mask ordinary text).
void register_secret(std::string_view value);

/// `text` with every registered secret replaced by "***". Thread-safe. A secret is found in any
/// letter case (PostgreSQL folds unquoted identifiers to lower case) and in the forms a server or
/// the engine itself may give it: percent-encoded (also keeping "/" or every reserved character, as
/// encodeURI and Python's quote do), JSON-escaped (also with "\/"), shell-quoted ('\''), SQL-quoted
/// (''), as a string literal (Python's repr: \\ and \'), and a multi-line secret with its line
/// breaks changed or line by line — see secret_forms.
std::string mask_secrets(std::string_view text);

/// The forms of `value` that mask_secrets looks for (lower case, without duplicates).
std::vector<std::string> secret_forms(std::string_view value);

/// Masking of a stream that arrives in chunks (a child's stdout): a secret cut by a chunk
/// boundary is still masked, because the last (longest form − 1) bytes are held back until the
/// next chunk or finish(). Masking the whole stream before any tail is kept means no cut of the
/// result can start inside a secret.
class SecretMasker {
  public:
    /// The masked text that can be released after `chunk` (possibly empty).
    std::string feed(std::string_view chunk);
    /// The held-back rest, masked; the stream has ended.
    std::string finish();

  private:
    std::string m_pending;
};

/// What a person's terminal may be shown of `text`: secrets masked (mask_secrets), then control
/// characters and escape sequences made visible (util::visible_controls). For every human-readable
/// output: diagnostics, report, status, live progress. (JSON output escapes controls itself.)
std::string terminal_text(std::string_view text);

/// Forgets every registered secret (tests only).
void clear_secrets();

/// "postgresql://user:pw@host/db" and "host=h password=pw" with the password shown as "***".
/// Registers the password as a secret as a side effect.
std::string mask_dsn(std::string_view dsn);

} // namespace rollback::util
