// SPDX-License-Identifier: MIT
#include "orchestrator/host_survivors.hpp"

#include "exec/process_group.hpp"
#include "util/strings.hpp"

#include <charconv>

namespace rollback::orchestrator {
namespace {

// $1: list, TERM or KILL; $2: the ERE of a carrier's environment entry (grep -z: one entry per
// "line", so ^ and $ anchor at the entry). Carriers first (their token checked by grep), then
// every live process in a carrier's process group or session. Another user's environment is
// unreadable: such a process is found only as a member. A signal goes to a carrier whose token
// is read again just before it (by pid: a shell has no pidfd, so a pid reused in between the
// two reads, microseconds, is the one race left).
constexpr std::string_view k_scan = R"SH(set -u
m=$1
r=$2
cd /proc 2>/dev/null || { echo "no /proc on the host" >&2; exit 3; }
[ -r self/environ ] || { echo "cannot read /proc/self/environ on the host" >&2; exit 3; }
printf "x=y\000" | grep -qzE "^x=y$" 2>/dev/null || { echo "grep -z -E does not work on the host" >&2; exit 3; }
c=
for f in $(grep -lszE -e "$r" -- [0-9]*/environ 2>/dev/null); do c="$c ${f%/environ}"; done
if [ "$m" != list ]; then
  for p in $c; do grep -qszE -e "$r" -- "$p/environ" && kill -"$m" "$p" 2>/dev/null; done
  exit 0
fi
g=" "
s=" "
for p in $c; do
  IFS= read -r l 2>/dev/null <"$p/stat" || continue
  set -- ${l##*) }
  [ $# -ge 20 ] || continue
  case $1 in Z|X) continue;; esac
  g="$g$3 "
  s="$s$4 "
done
[ "$g" != " " ] || exit 0
for p in [0-9]*; do
  IFS= read -r l 2>/dev/null <"$p/stat" || continue
  set -- ${l##*) }
  [ $# -ge 20 ] || continue
  case $1 in Z|X) continue;; esac
  case $g in *" $3 "*) ;; *) case $s in *" $4 "*) ;; *) continue;; esac;; esac
  k=0
  case "$c " in *" $p "*) k=1;; esac
  n=${l#*(}
  n=${n%)*}
  a=$(tr "\000\n" "  " 2>/dev/null <"$p/cmdline" | cut -c1-200)
  a=${a% }
  [ -n "$a" ] || a="[$n]"
  printf "%s %s %s %s\n" "$p" "${20}" "$k" "$a"
done)SH";

bool plain_name(std::string_view s) {
    return !s.empty() && s.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                             "0123456789_.-") == std::string_view::npos;
}

std::string ere_literal(std::string_view s) {
    std::string out;
    for (char c : s) {
        out += c == '.' ? std::string("[.]") : std::string(1, c);
    }
    return out;
}

template <typename T>
bool number(std::string_view s, T& out) {
    const auto r = std::from_chars(s.data(), s.data() + s.size(), out);
    return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

} // namespace

std::string host_attempt(const std::string& run_id, const std::string& step, int attempt,
                         const std::string& host) {
    return run_id + "/" + step + "/" + std::to_string(attempt) + "@" + host;
}

std::string host_token_pattern(const std::string& run_id, const std::string& step,
                               const std::string& host) {
    if (!plain_name(run_id) || !plain_name(step) || !plain_name(host)) {
        return {};
    }
    return "^" + std::string(exec::k_attempt_env) + "=" + ere_literal(run_id) + "/" +
           ere_literal(step) + "/[0-9]+@" + ere_literal(host) + "/[0-9a-f]{16}$";
}

std::string_view scan_script() {
    return k_scan;
}

std::vector<HostProcess> parse_host_scan(std::string_view out) {
    std::vector<HostProcess> found;
    for (const std::string& text : util::split(out, '\n')) {
        const std::string_view line(text);
        // "<pid> <start> <0|1> <command>"
        const size_t a = line.find(' ');
        const size_t b = a == std::string_view::npos ? a : line.find(' ', a + 1);
        const size_t c = b == std::string_view::npos ? b : line.find(' ', b + 1);
        if (c == std::string_view::npos) {
            continue;
        }
        HostProcess p;
        const std::string_view proof = line.substr(b + 1, c - b - 1);
        if (!number(line.substr(0, a), p.pid) || p.pid <= 0 ||
            !number(line.substr(a + 1, b - a - 1), p.start) || (proof != "0" && proof != "1")) {
            continue;
        }
        p.proof = proof == "1";
        p.command = std::string(line.substr(c + 1));
        found.push_back(std::move(p));
    }
    return found;
}

HostScanner ssh_host_scanner(std::shared_ptr<remote::Connections> connections) {
    return [connections](const remote::Host& host, HostScanMode mode, const std::string& pattern) {
        HostScan out;
        remote::SshRunner ssh(*connections, host);
        exec::Command cmd;
        const char* word = mode == HostScanMode::list   ? "list"
                           : mode == HostScanMode::term ? "TERM"
                                                        : "KILL";
        cmd.argv = {"/bin/sh", "-c", std::string(k_scan), "rollback-survivors", word, pattern};
        cmd.timeout = std::chrono::seconds(60);
        cmd.capture_limit = 1 << 20;
        const exec::Outcome o = ssh.run(cmd);
        if (o.ending == exec::Ending::failed_to_start) {
            out.error = o.error;
        } else if (o.ending != exec::Ending::exited) {
            out.error = "the look at the host " + std::string(exec::to_string(o.ending));
        } else if (o.exit_code != 0) {
            std::string why(util::trim(o.stderr_tail));
            if (const size_t nl = why.rfind('\n'); nl != std::string::npos) {
                why = why.substr(nl + 1);
            }
            out.error = why.empty()
                            ? "its look at the processes exited " + std::to_string(o.exit_code)
                            : why;
        } else if (o.stdout_bytes > o.stdout_tail.size()) {
            out.error = "its list of processes is longer than " +
                        std::to_string(cmd.capture_limit) + " bytes";
        } else {
            out.processes = parse_host_scan(o.stdout_tail);
        }
        return out;
    };
}

} // namespace rollback::orchestrator
