#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Every doctest case must be reachable by the CTest test doctest_discover_tests makes of it.

CTest runs each case as `unit_tests --test-case=NAME`. A ';' in NAME splits the CMake list (the
test gets the name's first part), and doctest reads ',' in a filter as a separator: either way
the filter matches no case and the CTest test passes having run nothing (50 of them did). So a
case name holds neither, and no two cases share a name. Usage: test_names.py BINARY..."""

import subprocess
import sys

bad = []
for binary in sys.argv[1:]:
    out = subprocess.run([binary, "--list-test-cases", "--no-version"], capture_output=True,
                         text=True, check=True).stdout
    names = [l for l in out.splitlines() if l and not l.startswith(("[doctest]", "====="))]
    if not names:
        bad.append(f"{binary}: lists no test case")
    seen = set()
    for name in names:
        if "," in name or ";" in name:
            bad.append(f"{binary}: {name!r}: ',' and ';' make its CTest test run nothing")
        if name != name.strip():
            bad.append(f"{binary}: {name!r}: leading or trailing space")
        if name in seen:
            bad.append(f"{binary}: {name!r}: two cases with one name")
        seen.add(name)
for b in bad:
    print(b, file=sys.stderr)
sys.exit(1 if bad else 0)
