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

/// `text` with every registered secret replaced by "***". Thread-safe. The text is decoded while
/// it is matched, one character of the secret at a time, so any mix of forms is found: each
/// character raw or escaped (%HH and \\xHH bytes, JSON's \\uXXXX with surrogate pairs, \\u{...},
/// \\UXXXXXXXX, \\n and friends, a backslash before any punctuation, also doubled, HTML
/// entities, '' '\\'' '"'"' for a single quote, "" for a double quote, + for a space) and in any
/// letter case (Unicode simple case folding: PostgreSQL folds identifiers, servers upper-case
/// messages). A multi-line secret is also found with its line breaks changed or left out, and
/// each of its lines of 8 characters or more alone. Terminal escape sequences (CSI, OSC, ESC x;
/// raw or escaped as \\x1b, \\u001b, \\033, \\e) between two of its characters are skipped, up to
/// 64 bytes. Not covered: a secret cut in parts printed
/// apart (half to stderr, half to stdout), or transformed otherwise (base64, hashed, reversed).
std::string mask_secrets(std::string_view text);

/// The longest text (in bytes) one registered secret can be matched as: what a SecretMasker
/// holds back is one less.
size_t longest_secret_match();

/// Masking of a stream that arrives in chunks (a child's stdout): a secret cut by a chunk
/// boundary is still masked, because the last (longest_secret_match() − 1) bytes are held back
/// until the next chunk or finish(). Masking the whole stream before any tail is kept means no cut
/// of the result can start inside a secret.
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
