#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The differential test of the decision rules (docs/decision-reference.md).

Generates seeded cases, runs them through the engine (decision_ref_driver: the functions of
`rollback check --replay`) and through the reference model (model.py, written from
docs/decision.md), compares every tick exactly, and on a difference shrinks the case and prints
the smallest one as a reproduction. Then checks the pinned cases (pinned.py) on both sides.

  harness.py --driver build/decision_ref_driver [--cases N] [--seed S] [--case FILE]

Environment: DECISION_REF_CASES (default 10000), DECISION_REF_SEED (default 20261130).
Exit 0: no difference and every pinned case holds; 1 otherwise; 125: cannot run here."""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import gen  # noqa: E402
import model  # noqa: E402
import pinned  # noqa: E402


def canon(ticks):
    """Numbers as floats (the driver prints 5 for 5.0), so that equal values compare equal."""
    out = []
    for t in ticks:
        rows = [[r[0], r[1], None if r[2] is None else float(r[2]), r[3], r[4], r[5]]
                for r in t[5]]
        out.append([t[0], t[1], t[2], t[3], t[4], rows])
    return out


def start_driver(driver, cases):
    """Starts the driver on the cases; returns a function that waits for its answers:
    {id: ticks or {"error": text}}."""
    f_in = tempfile.TemporaryFile("w+")
    for c in cases:
        f_in.write(json.dumps(c) + "\n")
    f_in.seek(0)
    f_out = tempfile.TemporaryFile("w+")
    p = subprocess.Popen([driver], stdin=f_in, stdout=f_out, stderr=subprocess.PIPE, text=True)

    def wait():
        _, err = p.communicate(timeout=600)
        f_in.close()
        if p.returncode != 0:
            raise RuntimeError(f"{driver} exited {p.returncode}: {err.strip()}")
        f_out.seek(0)
        out = {}
        for line in f_out:
            o = json.loads(line)
            out[o["id"]] = {"error": o["error"]} if "error" in o else canon(o["ticks"])
        f_out.close()
        return out
    return wait


def run_driver(driver, cases):
    return start_driver(driver, cases)()


def run_model(case):
    try:
        return canon(model.run(case))
    except Exception as e:  # a case the model cannot read: a difference to show, not a crash
        return {"error": f"model: {type(e).__name__}: {e}"}


# ---- shrinking -----------------------------------------------------------------------------

_OPTIONAL_KEYS = ("max_missed", "min_requests", "resolve_after", "severity", "on_no_data",
                  "on_no_traffic", "on_insufficient_sample", "on_silence", "for", "consecutive",
                  "m_of_n", "mode", "cooldown", "watch_after", "max_lateness")


def _config_variants(cfg):
    """The config without one condition, or without one optional key."""
    blocks = cfg.split("[[condition]]\n")
    if len(blocks) > 2:
        for i in range(1, len(blocks)):
            rest = blocks[:i] + blocks[i + 1:]
            text = "[[condition]]\n".join(rest)
            if "[decision]" not in text:
                text += "\n" + blocks[-1][blocks[-1].index("[decision]"):]
            yield text
    lines = cfg.split("\n")
    for i, line in enumerate(lines):
        if line.split(" = ")[0] in _OPTIONAL_KEYS:
            yield "\n".join(lines[:i] + lines[i + 1:])


def _earliest_first(lines):
    """The generator's invariant for logs: the first line is the earliest (see gen.py)."""
    times = [p[0] for p in map(model.parse_log_line, lines) if p]
    return not times or times[0] == min(times)


def _data_variants(data, chunk):
    lines = data.splitlines()
    head = 1 if lines and lines[0].startswith("timestamp") else 0
    body = lines[head:]
    for s in range(0, len(body), chunk):
        rest = body[:s] + body[s + chunk:]
        if rest and (head or _earliest_first(rest)):
            yield "\n".join(lines[:head] + rest) + "\n"


def differs(driver, cases):
    """The first case of `cases` on which model and engine differ, or None."""
    if not cases:
        return None
    got = run_driver(driver, [dict(c, id=i) for i, c in enumerate(cases)])
    for i, c in enumerate(cases):
        if got.get(i) != run_model(c):
            return c
    return None


def shrink(driver, case, budget_s=20.0):
    """Greedy delta debugging: drop events, conditions, optional keys, then chunks of the data,
    while model and engine still differ."""
    deadline = time.monotonic() + budget_s
    cur = dict(case)
    progress = True
    while progress and time.monotonic() < deadline:
        progress = False
        cands = [dict(cur, events=cur["events"][:i] + cur["events"][i + 1:])
                 for i in range(len(cur["events"]))]
        cands += [dict(cur, config=v) for v in _config_variants(cur["config"])]
        found = differs(driver, cands)
        if found:
            cur, progress = found, True
            continue
        n = max(1, len(cur["data"].splitlines()))
        chunk = n // 2
        while chunk >= 1 and time.monotonic() < deadline:
            found = differs(driver, [dict(cur, data=v) for v in _data_variants(cur["data"],
                                                                             chunk)])
            if found:
                cur, progress = found, True
                break
            chunk //= 2
    return cur


# ---- printing ------------------------------------------------------------------------------

def _fmt_time(ms):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms / 1000)) + "Z"


def _fmt_tick(t):
    if t is None:
        return "-"
    conds = "; ".join(f"{r[0]} {r[1]} obs={r[2]} miss={r[3]} req={r[4]} late={r[5]}"
                      for r in t[5])
    return f"{t[1]}{'(x)' if t[3] else ''} cause={t[2] or '-'} rel={t[4] or '-'} | {conds}"


def print_case(case, engine, ref, out=sys.stdout):
    print("---- rollback.toml ----", file=out)
    print(case["config"].rstrip(), file=out)
    print(f"---- data ({len(case['data'].splitlines())} lines) ----", file=out)
    print(case["data"].rstrip(), file=out)
    print(f"---- events: {json.dumps(case['events'])}", file=out)
    if isinstance(engine, dict) or isinstance(ref, dict):
        print(f"engine: {engine if isinstance(engine, dict) else 'ticks'}", file=out)
        print(f"model:  {ref if isinstance(ref, dict) else 'ticks'}", file=out)
        return
    print("---- ticks that differ (engine | model) ----", file=out)
    by_e = {t[0]: t for t in engine}
    by_m = {t[0]: t for t in ref}
    shown = 0
    for ms in sorted(set(by_e) | set(by_m)):
        if by_e.get(ms) != by_m.get(ms):
            print(f"{_fmt_time(ms)}\n  engine: {_fmt_tick(by_e.get(ms))}\n"
                  f"  model:  {_fmt_tick(by_m.get(ms))}", file=out)
            shown += 1
            if shown >= 12:
                print("  ...", file=out)
                break


def report_difference(driver, case, args):
    small = shrink(driver, case)
    engine = run_driver(driver, [dict(small, id=0)])[0]
    ref = run_model(small)
    path = os.path.join(tempfile.gettempdir(),
                        f"decision_ref_case_{args.seed}_{case.get('id', 'x')}.json")
    with open(path, "w") as f:
        json.dump({k: small[k] for k in ("config", "data", "events")}, f)
    print(f"\n==== case {case.get('id')} (seed {args.seed}) differs; smallest reproduction:")
    print_case(small, engine, ref)
    print(f"---- rerun: python3 {os.path.abspath(__file__)} --driver {driver} --case {path}")


# ---- main ----------------------------------------------------------------------------------

def with_shadows(case):
    """The case with a shadow (mode = "observe") beside each condition: the same rule under
    another name, or a stricter one (above halved, below doubled)."""
    head, *conds = case["config"].split("[[condition]]\n")
    tail = conds[-1].split("\n[decision]", 1)
    conds[-1], dec = tail[0], "\n[decision]" + tail[1]
    shadows = []
    for i, text in enumerate(conds):
        lines = [ln for ln in text.strip("\n").split("\n") if not ln.startswith("mode =")]
        out = []
        for ln in lines:
            key, _, val = ln.partition(" = ")
            if key == "name":
                ln = f'name = "shadow{i}"'
            elif i % 2 == 1 and key == "above":
                ln = f"above = {float(val) / 2}"
            elif i % 2 == 1 and key == "below":
                ln = f"below = {float(val) * 2}"
            out.append(ln)
        shadows.append("\n".join(out + ['mode = "observe"']) + "\n")
    # shadows first: a shadow's trigger comes before the production rule's at the same tick
    config = head + "".join("[[condition]]\n" + t + "\n" for t in shadows) + \
        "".join("[[condition]]\n" + t for t in conds) + dec
    return dict(case, config=config), len(shadows)


def check_shadows(driver, cases):
    """The property of docs/config.md "per-condition shadow mode": adding conditions in mode
    observe never changes the decisions of the others — their rows at every tick, and the
    tick's executed action. Returns the number of cases where it does not hold."""
    variants = []
    for c in cases:
        v, n = with_shadows(c)
        variants.append((v, n))
    base = run_driver(driver, cases)
    shadowed = run_driver(driver, [v for v, _ in variants])
    failures = 0
    for c, (v, n) in zip(cases, variants):
        b, s = base.get(c["id"]), shadowed.get(c["id"])
        if not isinstance(b, list) or not isinstance(s, list):
            continue  # a config the engine refuses is refused either way
        global_observe = 'mode = "observe"' in c["config"].split("[decision]")[1]
        modes = [("observe" in t.split("\nmode = ")[1][:10]) if "\nmode = " in t else global_observe
                 for t in c["config"].split("[[condition]]\n")[1:]]
        bad = len(b) != len(s)
        for tb, ts in zip(b, s):
            rows_b = [r for r, shadow in zip(tb[5], modes) if not shadow]
            rows_s = [r for r, shadow in zip(ts[5][n:], modes) if not shadow]
            exec_b = tb[1:3] if tb[3] else None
            exec_s = ts[1:3] if ts[3] else None
            if rows_b != rows_s or exec_b != exec_s:
                bad = True
        if bad:
            failures += 1
            if failures <= 3:
                print(f"decision_ref: shadows change case {c['id']}:\n{v['config']}")
    print(f"decision_ref: shadow property: {failures} of {len(cases)} cases change when shadow "
          f"conditions are added")
    return failures


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--driver", required=True)
    ap.add_argument("--cases", type=int, default=int(os.environ.get("DECISION_REF_CASES", 10000)))
    ap.add_argument("--seed", type=int, default=int(os.environ.get("DECISION_REF_SEED", 20261130)))
    ap.add_argument("--case", help="run one case from a JSON file and show both sides")
    ap.add_argument("--show", type=int, default=3, help="differences to shrink and print")
    args = ap.parse_args()
    if sys.version_info < (3, 11):
        print("skipped: the reference model needs Python 3.11 (tomllib)")
        return 125
    if not os.access(args.driver, os.X_OK):
        print(f"rollback: error: {args.driver}: no driver (build the decision_ref_driver target)")
        return 1

    if args.case:
        with open(args.case) as f:
            case = json.load(f)
        case.setdefault("events", [])
        engine = run_driver(args.driver, [dict(case, id=0)])[0]
        ref = run_model(case)
        print_case(case, engine, ref)
        print("identical" if engine == ref else "DIFFERENT")
        return 0 if engine == ref else 1

    started = time.monotonic()
    cases = list(gen.cases(args.seed, args.cases))
    t_gen = time.monotonic() - started
    # The engine runs while the model computes (two processes on two cores).
    t0 = time.monotonic()
    wait_engine = start_driver(args.driver, cases)
    ref = {c["id"]: run_model(c) for c in cases}
    t_model = time.monotonic() - t0
    engine = wait_engine()
    t_both = time.monotonic() - t0
    diff = [c for c in cases if engine.get(c["id"]) != ref[c["id"]]]
    ticks = sum(len(v) for v in ref.values() if isinstance(v, list))
    acts = {}
    for v in ref.values():
        if isinstance(v, list):
            for t in v:
                acts[t[1]] = acts.get(t[1], 0) + 1
    print(f"decision_ref: {len(cases)} cases (seed {args.seed}), {ticks} ticks, model actions "
          f"{json.dumps(acts, sort_keys=True)}; generate {t_gen:.1f} s, model {t_model:.1f} s, "
          f"model and engine {t_both:.1f} s")
    print(f"decision_ref: {len(diff)} of {len(cases)} cases differ")
    for c in diff[:args.show]:
        report_difference(args.driver, c, args)

    shadow_failures = check_shadows(args.driver, cases[:2000])
    failed_pins = pinned.check_all(lambda cs: run_driver(args.driver, cs), run_model)
    print(f"decision_ref: total {time.monotonic() - started:.1f} s")
    return 1 if diff or failed_pins or shadow_failures else 0


if __name__ == "__main__":
    sys.exit(main())
