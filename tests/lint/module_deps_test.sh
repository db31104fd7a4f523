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
# Every form that reaches another module's header: angle brackets, a relative path, and a file
# in a sub-folder of a module.
cp "$src/engine/decision/condition.cpp" "$work/engine/decision/condition.cpp"
python3 "$src/tests/lint/module_deps.py" "$work" >/dev/null || { echo "FAIL: scratch copy not clean"; exit 1; }
printf '#include <state/store.hpp>\n#include "../cli/state_dir.hpp"\n' >> "$work/engine/decision/window.cpp"
mkdir -p "$work/engine/decision/sub"
printf '#include "../../cli/main.hpp"\n#include <boost/json.hpp>\n#include "../window.hpp"\n' > "$work/engine/decision/sub/x.cpp"
out=$(python3 "$src/tests/lint/module_deps.py" "$work") && { echo "$out"; echo "FAIL: not reported"; exit 1; }
for want in 'engine/decision/window.cpp:[0-9]*: includes state/' \
            'engine/decision/window.cpp:[0-9]*: includes cli/' \
            'engine/decision/sub/x.cpp:1: includes cli/'; do
  grep -q "$want" <<<"$out" || { echo "$out"; echo "FAIL: missing: $want"; exit 1; }
done
[ "$(grep -c 'includes' <<<"$out")" = 3 ] || { echo "$out"; echo "FAIL: a wrong report"; exit 1; }
echo "ok: a planted violation is reported (quoted, angle, relative, sub-folder)"
