#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# No source file of engine/ over 600 lines (issue 12; STYLE.md: small files, one job each). A file
# that grows past it is split by job, not trimmed of comments. Prints the offenders.
set -euo pipefail
root=${ROLLBACK_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
limit=600
status=0
while IFS= read -r -d '' f; do
    n=$(wc -l <"$f")
    if [ "$n" -gt "$limit" ]; then
        echo "${f#"$root"/}: $n lines (at most $limit: split it by job)" >&2
        status=1
    fi
done < <(find "$root/engine" -type f \( -name '*.cpp' -o -name '*.hpp' \) -print0)
exit $status
