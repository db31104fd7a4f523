// SPDX-License-Identifier: MIT
#include "remote/wrapper.hpp"

#include "util/strings.hpp"

#include <cstdio>

namespace rollback::remote {
namespace {

// No single quote anywhere: the text is one '...' word of the remote command line. `read`,
// `printf`, `export`, `cd`, `kill` are built-ins: a value read from stdin is never an argument
// of a program (no `ps` shows it). The watcher's stdout/stderr are /dev/null so that it never
// holds the session's channel open; it reads the rest of stdin through fd 3, which the program
// does not get. The wrapper's own variables (h, m, g, c, l, v, s, x, p, w, r, e, n) are never
// touched by the step's env: the env entries are kept as arguments before a "--" (an entry always
// holds a '='), and are exported only in the subshell that becomes the program. A request is
// whole only with its "end" line: one cut by end of file starts nothing. The program must be an
// executable regular file (found through PATH when its name has no '/'), else it is not started.
// After end of file on stdin (the engine's timeout or interrupt, the engine killed, the
// connection lost) the watcher sends TERM to the program's group and KILL once the grace is over
// if any member is left, whether or not the group's leader ended on the TERM (it ignores the
// wrapper's TERM from then on; it works from / so that it keeps no directory in use). What
// the connection's end does to the wrapper never spares the group (break-it issue 11):
// - the end may come before the program's group exists (the subshell has not reached setsid
//   yet): the watcher waits for the group while the subshell lives, then signals it;
// - the watcher is started before the wrapper writes anything, and from then on the wrapper and
//   the watcher ignore SIGPIPE and SIGHUP (a write to the closed channel fails, it does not kill);
//   the program itself starts with the dispositions the wrapper got.
constexpr std::string_view k_wrapper = R"SH(set -u
IFS= read -r h || exit 97
case $h in "rollback-remote 1 "*) ;; *) echo "rollback-remote: bad request" >&2; exit 97;; esac
set -- $h; m="@rollback-remote:$3"; g=$4
c=
s=
x=
e=
set --
while IFS= read -r l; do
  case $l in
    end) e=1; break;;
    "a "*) v=$(printf "%bx" "${l#a }"); [ -n "$s" ] || { s=1; x=${v%x}; set -- "$@" --; }; set -- "$@" "${v%x}";;
    "e "*) [ -z "$s" ] || { echo "rollback-remote: bad request" >&2; exit 97; }; v=$(printf "%bx" "${l#e }"); set -- "$@" "${v%x}";;
    "c "*) v=$(printf "%bx" "${l#c }"); c=${v%x};;
  esac
done
[ -n "$s" ] && [ -n "$e" ] || { echo "rollback-remote: bad request" >&2; exit 97; }
if [ -n "$c" ] && [ "$c" != . ]; then
  cd "$c" 2>/dev/null || { printf "%s not-started cannot enter directory %s\n" "$m" "$c" >&2; exit 126; }
fi
v=
case $x in
  */*) v=$x;;
  *) set -f; IFS=:; for l in $PATH; do [ -f "${l:-.}/$x" ] && [ -x "${l:-.}/$x" ] && { v=${l:-.}/$x; break; }; done; unset IFS; set +f;;
esac
if [ -z "$v" ] || [ ! -f "$v" ] || [ ! -x "$v" ]; then
  printf "%s not-started cannot execute %s: not found or not an executable file\n" "$m" "$x" >&2; exit 127
fi
command -v setsid >/dev/null 2>&1 || { printf "%s not-started setsid is not installed on the host\n" "$m" >&2; exit 127; }
exec 3<&0
(exec 3<&-; while [ "$1" != -- ]; do export "$1"; shift; done; shift; exec setsid "$@") </dev/null &
p=$!
trap "" PIPE HUP
(cd /; trap "exit 0" TERM; cat <&3 >/dev/null 2>&1; exec 3<&-; trap "" TERM
 n=0; until kill -0 -"$p" 2>/dev/null; do kill -0 "$p" 2>/dev/null && [ "$n" -lt 600 ] || exit 0; n=$((n+1)); sleep 0.05 2>/dev/null || sleep 1; done
 kill -TERM -"$p" 2>/dev/null || exit 0
 n=0; while kill -0 -"$p" 2>/dev/null && [ "$n" -lt "$g"0 ]; do n=$((n+1)); sleep 0.1 2>/dev/null || { sleep 1; n=$((n+9)); }; done
 kill -KILL -"$p" 2>/dev/null) </dev/null >/dev/null 2>&1 &
w=$!
exec 3<&-
printf "%s pgid %s\n" "$m" "$p" >&2
wait "$p"; r=$?
kill "$w" 2>/dev/null
printf "%s exit %s\n" "$m" "$r" >&2
exit "$r")SH";

bool keeps(unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '/' || c == '=' || c == ':' || c == ',' || c == '@' || c == '+' ||
           c == '-';
}

} // namespace

const std::string& wrapper_command() {
    static const std::string cmd =
        "exec /bin/sh -c '" + std::string(k_wrapper) + "' rollback-remote";
    return cmd;
}

std::string octal_escape(std::string_view value) {
    std::string out;
    out.reserve(value.size());
    for (unsigned char c : value) {
        if (keeps(c)) {
            out += static_cast<char>(c);
        } else {
            char buf[6];
            std::snprintf(buf, sizeof buf, "\\0%03o", c);
            out += buf;
        }
    }
    return out;
}

std::string encode_request(const Request& r) {
    std::string out = "rollback-remote 1 " + r.nonce + " " + std::to_string(r.grace.count()) + "\n";
    if (!r.cwd.empty()) {
        out += "c " + octal_escape(r.cwd) + "\n";
    }
    for (const auto& [k, v] : r.env) {
        out += "e " + octal_escape(k + "=" + v) + "\n";
    }
    for (const auto& a : r.argv) {
        out += "a " + octal_escape(a) + "\n";
    }
    out += "end\n";
    return out;
}

Report take_report(std::string& stderr_text, const std::string& nonce) {
    Report rep;
    const std::string marker = "@rollback-remote:" + nonce + " ";
    std::string kept;
    size_t pos = 0;
    while (pos < stderr_text.size()) {
        size_t nl = stderr_text.find('\n', pos);
        size_t end = nl == std::string::npos ? stderr_text.size() : nl + 1;
        std::string_view line(stderr_text.data() + pos, end - pos);
        size_t at = line.find(marker);
        if (at == std::string_view::npos) {
            kept.append(line);
        } else {
            // A program's output without a final newline puts the marker mid-line: keep the
            // program's part.
            kept.append(line.substr(0, at));
            std::string_view rest = util::trim(line.substr(at + marker.size()));
            auto number = [](std::string_view s) -> std::optional<int> {
                try {
                    return std::stoi(std::string(s));
                } catch (...) {
                    return std::nullopt;
                }
            };
            if (rest.rfind("pgid ", 0) == 0) {
                rep.pgid = number(rest.substr(5));
            } else if (rest.rfind("exit ", 0) == 0) {
                rep.exit_code = number(rest.substr(5));
            } else if (rest.rfind("not-started ", 0) == 0) {
                rep.not_started = std::string(rest.substr(12));
            }
        }
        pos = end;
    }
    stderr_text = std::move(kept);
    return rep;
}

} // namespace rollback::remote
