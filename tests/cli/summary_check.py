# python3 summary_check.py summary.json CHECK [CHECK ...] — each CHECK is KEY<=VALUE, KEY>=VALUE,
# KEY<VALUE, KEY>VALUE or KEY==VALUE (KEY may be a dotted path into nested objects, e.g.
# timers.solve.calls); the key must exist and hold a finite number that satisfies it. Also:
# KEY=TEXT for strings, KEY~VALUE for "within 1% of VALUE". JSON has no NaN: kron writes null for a non-finite value, which fails.
import json
import math
import re
import sys

path = sys.argv[1]
with open(path) as f:
    s = json.load(f)


def get(key):
    v = s
    for part in key.split("."):
        if not isinstance(v, dict) or part not in v:
            sys.exit("FAIL: %s: no key %s" % (path, key))
        v = v[part]
    return v


for check in sys.argv[2:]:
    m = re.fullmatch(r"([\w.\-]+)(<=|>=|==|<|>|=|~)(.*)", check)
    if not m:
        sys.exit("FAIL: bad check %r" % check)
    key, op, want = m.groups()
    v = get(key)
    if op == "=":
        if v != want:
            sys.exit("FAIL: %s: %s is %r, expected %r" % (path, key, v, want))
        continue
    if not isinstance(v, (int, float)) or isinstance(v, bool) or not math.isfinite(v):
        sys.exit("FAIL: %s: %s is %r, not a finite number" % (path, key, v))
    w = float(want)
    ok = {"<=": v <= w, ">=": v >= w, "==": v == w, "<": v < w, ">": v > w, "~": abs(v - w) <= 0.01 * abs(w)}[op]
    if not ok:
        sys.exit("FAIL: %s: %s = %.6g, expected %s %s" % (path, key, v, op, want))
print("ok", path, " ".join(sys.argv[2:]))
