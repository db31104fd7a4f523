#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The dependency rule of docs/architecture.md, enforced: a file of engine/<m>/ includes only
headers of <m> and of the modules <m> links (transitively), as CMakeLists.txt's
rollback_module(<m> DEPS ...) declares them. Prints every violation (file:line: ...); exit 1."""
import os
import re
import sys

root = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
cmake = open(os.path.join(root, "CMakeLists.txt")).read()
deps = {}
for m in re.finditer(r"rollback_module\((\w+)(.*?)\)", cmake, re.S):
    deps[m.group(1)] = set(re.findall(r"\brb_(\w+)", m.group(2)))
if not deps:
    sys.exit("module_deps: no rollback_module(...) in CMakeLists.txt")


def closure(m, seen=None):
    seen = set() if seen is None else seen
    for d in deps.get(m, ()):
        if d not in seen:
            seen.add(d)
            closure(d, seen)
    return seen


engine = os.path.join(root, "engine")
modules = sorted(d for d in os.listdir(engine) if os.path.isdir(os.path.join(engine, d)))
bad = 0
for m in modules:
    if m not in deps:
        print(f"engine/{m}/: a folder that is no module in CMakeLists.txt")
        bad += 1
        continue
    allowed = closure(m) | {m}
    for name in sorted(os.listdir(os.path.join(engine, m))):
        path = os.path.join(engine, m, name)
        for n, line in enumerate(open(path, encoding="utf-8"), 1):
            inc = re.match(r'\s*#\s*include\s+"([a-z_]+)/', line)
            if inc and inc.group(1) in modules and inc.group(1) not in allowed:
                print(f"engine/{m}/{name}:{n}: includes {inc.group(1)}/, which {m}/ does not link "
                      f"(it links: {', '.join(sorted(allowed - {m})) or 'nothing'})")
                bad += 1
print(f"module_deps: {len(modules)} modules, {bad} violations")
sys.exit(1 if bad else 0)
