#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The dependency rule of docs/architecture.md, enforced: a file of engine/<m>/ includes only
headers of <m> and of the modules <m> links (transitively), as CMakeLists.txt's
rollback_module(<m> DEPS ...) declares them. Every file under engine/<m>/ (sub-folders too) and
every include form is checked: "m/x.hpp", <m/x.hpp>, and relative ones ("../m/x.hpp") resolved
as the compiler does (the including file's folder first for quotes, then engine/, which is on
every target's include path). Prints every violation (file:line: ...); exit 1."""
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
SOURCES = (".cpp", ".hpp", ".h", ".cc", ".hh", ".ipp", ".inl")
INCLUDE = re.compile(r'\s*#\s*include\s*(?:"([^"]+)"|<([^>]+)>)')


def included_module(including_dir, quoted, target):
    """The module (engine/ folder) an include reaches, or None (a system or library header)."""
    candidates = []
    if quoted:
        candidates.append(os.path.normpath(os.path.join(including_dir, target)))
    candidates.append(os.path.normpath(os.path.join(engine, target)))
    chosen = next((c for c in candidates if os.path.exists(c)), None)
    if chosen is None:
        # A header that does not exist (yet): judge it by the path it names from engine/.
        chosen = candidates[-1] if not quoted or "/" in target else None
    if chosen is None:
        return None
    rel = os.path.relpath(chosen, engine)
    if rel.startswith(".."):
        return None
    first = rel.split(os.sep)[0]
    return first if first in modules else None


bad = 0
for m in modules:
    if m not in deps:
        print(f"engine/{m}/: a folder that is no module in CMakeLists.txt")
        bad += 1
        continue
    allowed = closure(m) | {m}
    for folder, subdirs, files in os.walk(os.path.join(engine, m)):
        subdirs.sort()
        for name in sorted(files):
            if not name.endswith(SOURCES):
                continue
            path = os.path.join(folder, name)
            shown = os.path.relpath(path, root)
            for n, line in enumerate(open(path, encoding="utf-8", errors="replace"), 1):
                inc = INCLUDE.match(line)
                if not inc:
                    continue
                quoted = inc.group(1) is not None
                target = inc.group(1) if quoted else inc.group(2)
                to = included_module(folder, quoted, target)
                if to is not None and to not in allowed:
                    print(f"{shown}:{n}: includes {to}/, which {m}/ does not link "
                          f"(it links: {', '.join(sorted(allowed - {m})) or 'nothing'})")
                    bad += 1
print(f"module_deps: {len(modules)} modules, {bad} violations")
sys.exit(1 if bad else 0)
