// SPDX-License-Identifier: MIT
#pragma once

// A `ca_file` (http/prometheus sources, http actions) checked as the TLS client will load it,
// before anything uses it: a file without a PEM certificate (empty, a private key, the wrong
// file) is a configuration error found by validate/plan, not a failed check after a rollback.

#include <string>

namespace rollback::util {

/// Why `path` cannot serve as the CA certificates to trust ("cannot read it", "no certificate
/// or crl found"); "" when it loads.
std::string ca_file_problem(const std::string& path);

} // namespace rollback::util
