# python3 check_bench_json.py FILE SUITE CASE[,CASE..] — a kron-bench JSON report is complete and
# every figure in it is a finite, positive number: each row has its statistics (median, quartiles,
# repetition count, page faults), each baseline row its speedup, each bandwidth row its fraction
# of the copy reference, and exactly the named cases ran (a row's case name starts with one).
import json
import math
import sys

path, suite, cases = sys.argv[1], sys.argv[2], sys.argv[3].split(",")
with open(path) as f:
    j = json.load(f)


def fail(msg):
    sys.exit("FAIL: %s: %s" % (path, msg))


def finite_positive(x, what):
    if not isinstance(x, (int, float)) or isinstance(x, bool) or not math.isfinite(x) or x <= 0:
        fail("%s is %r, not a finite positive number" % (what, x))


if j.get("suite") != suite:
    fail("suite is %r, expected %r" % (j.get("suite"), suite))
for key in ("machine_at_start", "machine_at_end"):
    m = j.get(key, {})
    if not m.get("cpu_model") or len(m.get("ranks", [])) != j.get("nranks"):
        fail("%s lacks the CPU model or a binding line per rank" % key)
rows = j.get("results", [])
if not rows:
    fail("no results")
seen = set()
for r in rows:
    name = r.get("case", "?")
    st = r.get("kron", {})
    for k in ("median_seconds", "q1_seconds", "q3_seconds", "min_seconds", "max_seconds"):
        finite_positive(st.get(k), "%s: kron %s" % (name, k))
    if not (st["min_seconds"] <= st["q1_seconds"] <= st["median_seconds"] <= st["q3_seconds"] <= st["max_seconds"]):
        fail("%s: kron quantiles out of order" % name)
    if st.get("repetitions", 0) < 2:
        fail("%s: %r repetitions" % (name, st.get("repetitions")))
    if not isinstance(st.get("page_faults_per_repetition"), (int, float)):
        fail("%s: no page-fault count" % name)
    if "baseline" in r:
        finite_positive(r.get("speedup_vs_baseline"), name + ": speedup")
        finite_positive(r.get("baseline_stats", {}).get("median_seconds"), name + ": baseline median")
    if "bytes_per_round" in r:
        finite_positive(r.get("fraction_of_copy_bandwidth"), name + ": fraction of copy bandwidth")
    base = name.split(" ")[0]
    seen.add(base)
# Row names start with the case's word (poisson_fftw and poisson_amg rows both with "poisson").
aliases = {"compact": "compact6", "poisson_fftw": "poisson", "poisson_amg": "poisson", "kronecker_solve": "kronecker", "hm_step": "GP-HM", "fno": "FNO"}
want = {aliases.get(c, c) for c in cases}
if seen != want:
    fail("cases run %s, expected %s" % (sorted(seen), sorted(want)))
print("ok", path, len(rows), "rows")
