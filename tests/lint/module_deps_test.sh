#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The dependency rule holds on the tree, and the check fails when a module reaches past it.
set -euo pipefail
src=${ROLLBACK_SOURCE_DIR:?}
python3 "$src/tests/lint/module_deps.py" "$src"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
cp "$src/CMakeLists.txt" "$work/"
cp -r "$src/engine" "$work/"
echo '#include "cli/main.hpp"' >> "$work/engine/decision/condition.cpp"
if out=$(python3 "$src/tests/lint/module_deps.py" "$work"); then
  echo "FAIL: decision/ including cli/ was not reported"; exit 1
fi
grep -q 'engine/decision/condition.cpp:[0-9]*: includes cli/, which decision/ does not link' <<<"$out" \
  || { echo "$out"; echo "FAIL: wrong report"; exit 1; }
echo "ok: a planted violation is reported"
