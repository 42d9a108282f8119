#!/usr/bin/env python3
"""Compare two runs of one deck through their summary.json (scripts/device-run.sh: the cpu and
cuda backends): every error figure (error_max, error_l2, ...) and energy figure
(energy_physical, energy_spectral) of run B must equal run A's within tol * max(1, |figure|) (the
shipped decks' solutions are of order one, so this is rounding of the solution), a spectrum E(k)
must agree shell by shell within tol * max(1, max |E|), each relative residual must be at most
`tol` in both runs (they are rounding noise, of no use compared with each other), and the runs
must describe the same problem.

usage: compare_summaries.py A/summary.json B/summary.json [tol]
"""
import json
import sys


def main():
    a = json.load(open(sys.argv[1]))
    b = json.load(open(sys.argv[2]))
    tol = float(sys.argv[3]) if len(sys.argv) > 3 else 1e-12
    bad = 0
    errors = [k for k, v in a.items() if k.startswith(("error", "energy_")) and isinstance(v, (int, float))]
    if not errors:
        print(f"compare_summaries: no error figures in {sys.argv[1]}")
        return 1
    for k in sorted(errors):
        if k not in b:
            print(f"  {k}: missing in {sys.argv[2]}")
            bad += 1
            continue
        d = abs(a[k] - b[k])
        ok = d <= tol * max(1.0, abs(a[k]))
        bad += not ok
        print(f"  {k:22s} {a[k]: .12e} {b[k]: .12e}  |diff| {d:.2e}  {'ok' if ok else 'DIFFERS'}")
    if "E" in a:
        ea, eb = a["E"], b.get("E", [])
        scale = max([1.0] + [abs(v) for v in ea])
        d = max((abs(x - y) for x, y in zip(ea, eb)), default=0.0)
        ok = len(ea) == len(eb) and d <= tol * scale
        bad += not ok
        print(f"  {'E(k)':22s} {len(ea)} and {len(eb)} shells  max |diff| {d:.2e}  {'ok' if ok else 'DIFFERS'}")
    for k in ("residual_relative",):
        if k in a:
            ok = a[k] <= tol and b.get(k, 1.0) <= tol
            bad += not ok
            print(f"  {k:22s} {a[k]: .3e} {b.get(k, float('nan')): .3e}  {'ok' if ok else 'ABOVE ' + str(tol)}")
    for k in ("problem", "grid", "transforms", "fft_plan", "k", "modes"):
        if a.get(k) != b.get(k):
            print(f"  {k}: {a.get(k)} vs {b.get(k)}")
            bad += 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
