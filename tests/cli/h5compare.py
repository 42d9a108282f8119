# python3 h5compare.py A.h5 B.h5 TOL DATASET [DATASET ...] — the datasets exist in both files with
# the same shape, every value in both is finite, and max |a - b| <= TOL. (h5diff --delta would
# count NaN == NaN as equal and pass two all-NaN fields.)
import sys

try:
    import h5py
    import numpy as np
except ImportError as e:
    sys.exit("FAIL: %s: %s needs python3-h5py and python3-numpy (scripts/test.sh installs them)" % (e, sys.argv[0]))

a_path, b_path, tol = sys.argv[1], sys.argv[2], float(sys.argv[3])
with h5py.File(a_path, "r") as fa, h5py.File(b_path, "r") as fb:
    for name in sys.argv[4:]:
        if name not in fa or name not in fb:
            sys.exit("FAIL: %s missing in %s" % (name, a_path if name not in fa else b_path))
        a, b = np.asarray(fa[name][()]), np.asarray(fb[name][()])
        if a.shape != b.shape:
            sys.exit("FAIL: %s: shape %s in %s but %s in %s" % (name, a.shape, a_path, b.shape, b_path))
        for path, v in ((a_path, a), (b_path, b)):
            if v.size == 0 or not np.all(np.isfinite(v)):
                sys.exit("FAIL: %s in %s is empty or holds non-finite values" % (name, path))
        d = float(np.max(np.abs(a - b)))
        if not d <= tol:
            sys.exit("FAIL: %s differs by %.3g > %.3g between %s and %s" % (name, d, tol, a_path, b_path))
print("ok", a_path, b_path, len(sys.argv) - 4, "datasets")
