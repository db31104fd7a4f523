// SPDX-License-Identifier: MIT
#pragma once

namespace rollback::cli {

/// The program: dispatches to a subcommand and is the one place that catches util::Error and
/// turns it into `rollback: error: ...` and an exit code (util::ExitCode).
int main(int argc, char** argv);

} // namespace rollback::cli
