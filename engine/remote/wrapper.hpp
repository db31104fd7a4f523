// SPDX-License-Identifier: MIT
#pragma once

// The remote half of a step on a host: a fixed POSIX sh program (the same text for every
// command, so nothing of a command is on any command line) that reads the program's argv, its
// environment and its directory as data on stdin, runs the program in its own process group
// and session (setsid), and ends that group (TERM, grace, KILL) when its stdin reaches end of
// file before the program ended — the engine's ssh client was ended: a timeout, an interrupt,
// the engine killed. It tells the engine the group and the exit code on stderr, in lines that
// start with a marker only the engine knows (a random nonce per command).

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rollback::remote {

/// The remote command line: `exec /bin/sh -c '<wrapper>' rollback-remote`.
const std::string& wrapper_command();

/// What the wrapper reads on stdin, then keeps reading until end of file.
struct Request {
    std::vector<std::string> argv;
    std::map<std::string, std::string> env;
    std::string cwd; ///< empty or "." = the login directory
    std::chrono::seconds grace{5};
    std::string nonce; ///< the marker of the wrapper's own lines
};
std::string encode_request(const Request& r);

/// Every byte that is not [A-Za-z0-9_./=:,@+-] as \0ooo: the form `printf %b` decodes.
std::string octal_escape(std::string_view value);

/// What the wrapper said about the program, taken out of the command's stderr.
struct Report {
    std::optional<int> pgid;      ///< the program's group on the host (it started)
    std::optional<int> exit_code; ///< it ended (128+N: killed by signal N)
    std::string not_started;      ///< why it did not start (no such program, no such directory)
};

/// Removes the wrapper's lines (those starting with the marker of `nonce`) from `stderr_text`
/// and returns what they said.
Report take_report(std::string& stderr_text, const std::string& nonce);

} // namespace rollback::remote
