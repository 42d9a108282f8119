# python3 check_taylor_green.py FILE.h5 EPS — kron's output of inputs/spectrum_taylor_green.toml,
# read with h5py (not kron's reader), against the analytic field and spectrum:
#  - /fields/u, v, w have shape [nz][ny][nx] and equal the deck's expressions at the points
#    /grid/x, /grid/y, /grid/z with x fastest (catches any axis or element-order mix-up);
#  - /spectrum/E, shell by shell: the Taylor-Green modes (+-1,+-1,+-1), |k| = sqrt(3), put 1/8 in
#    shell 2; eps sin(5z) and eps sin(3x+4y) (|k| = 5) put eps^2/4 each in shell 5; eps cos(7x)
#    puts eps^2/4 in shell 7; every other shell is empty.
import sys

try:
    import h5py
    import numpy as np
except ImportError as e:
    sys.exit("FAIL: %s: %s needs python3-h5py and python3-numpy (scripts/test.sh installs them)" % (e, sys.argv[0]))

path, eps = sys.argv[1], float(sys.argv[2])
with h5py.File(path, "r") as f:
    x, y, z = (np.asarray(f["/grid/" + a][()]) for a in "xyz")
    Z, Y, X = np.meshgrid(z, y, x, indexing="ij")
    want = {
        "u": np.sin(X) * np.cos(Y) * np.cos(Z) + eps * np.sin(5 * Z),
        "v": -np.cos(X) * np.sin(Y) * np.cos(Z) + eps * np.cos(7 * X),
        "w": eps * np.sin(3 * X + 4 * Y),
    }
    for name, w in want.items():
        got = np.asarray(f["/fields/" + name][()])
        if got.shape != (len(z), len(y), len(x)):
            sys.exit("FAIL: /fields/%s has shape %s, expected [nz][ny][nx] = %s" % (name, got.shape, (len(z), len(y), len(x))))
        d = float(np.max(np.abs(got - w)))
        if not d <= 1e-14:
            sys.exit("FAIL: /fields/%s differs from the analytic field by %.3g" % (name, d))
    k = np.asarray(f["/spectrum/k"][()])
    E = np.asarray(f["/spectrum/E"][()])
dk = k[1] - k[0]
ref = np.zeros_like(E)
ref[2] += 0.125
ref[5] += 2 * eps**2 / 4
ref[7] += eps**2 / 4
if not np.all(np.isfinite(E)):
    sys.exit("FAIL: the spectrum holds non-finite values")
d = np.abs(E * dk - ref)
if not float(np.max(d)) <= 1e-14:
    bad = int(np.argmax(d))
    sys.exit("FAIL: shell %d: E dk = %.17g, analytic %.17g" % (bad, E[bad] * dk, ref[bad]))
print("ok: fields in [nz][ny][nx] order equal the expressions; %d shells equal the analytic spectrum" % len(E))
