#!/usr/bin/env bash
# usage: surrogate_data_ranks.sh KRON DECK PYTHON — a small Darcy set (7 samples, 101^2 points
# kept every 5th) is the same on 1 and 3 ranks (uneven: 2, 2, 3 samples) to the last bit of the
# inputs and to the solver's tolerance in the solutions (each sample is its own CG solve,
# independent of the rank count), holds its seeds and parameters, and a is two-valued. The same
# for a small Burgers set (7 samples, 256 points kept every 4th; kind = burgers on the same deck):
# the inputs to the last bit, the solutions within rounding (the FFTs batch other line counts).
set -u
kron=$1; deck=$2; py=$3
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
cd "$work"
small="surrogate_data.samples=7 surrogate_data.resolution=101 surrogate_data.progress_every=0 log.timers=false"
for np in 1 3; do
  mpirun --oversubscribe -n $np "$kron" "$deck" $small output.dir=np$np > np$np.log 2>&1 || { cat np$np.log; echo "FAIL: $np ranks"; exit 1; }
done
"$py" - <<'PY' || exit 1
import h5py, numpy as np, sys
a1, a3 = h5py.File("np1/darcy_000000.h5", "r"), h5py.File("np3/darcy_000000.h5", "r")
for k in ("a", "u", "seeds"):
    x, y = a1["/samples/" + k][:], a3["/samples/" + k][:]
    if x.shape != y.shape: sys.exit("FAIL: /samples/%s shapes %s and %s" % (k, x.shape, y.shape))
if a1["/samples/a"].shape != (7, 21, 21): sys.exit("FAIL: shape %s" % (a1["/samples/a"].shape,))
if not np.array_equal(a1["/samples/a"][:], a3["/samples/a"][:]): sys.exit("FAIL: a differs between 1 and 3 ranks")
du = np.abs(a1["/samples/u"][:] - a3["/samples/u"][:]).max() / np.abs(a1["/samples/u"][:]).max()
if not du <= 1e-9: sys.exit("FAIL: u differs by %g between 1 and 3 ranks" % du)
if list(a1["/samples/seeds"][:]) != list(range(7)): sys.exit("FAIL: seeds %s" % a1["/samples/seeds"][:])
if set(np.unique(a1["/samples/a"][:])) != {3.0, 12.0}: sys.exit("FAIL: a takes %s" % np.unique(a1["/samples/a"][:]))
if np.abs(a1["/fields/u"][:] - a1["/samples/u"][0]).max() != 0: sys.exit("FAIL: /fields/u is not sample 0")
for key, v in (("resolution", 101), ("subsample", 5), ("samples", 7), ("tau", 3.0), ("alpha", 2.0)):
    if a1.attrs[key] != v: sys.exit("FAIL: attribute %s = %s" % (key, a1.attrs[key]))
print("ok: 1 and 3 ranks agree (u to %.1e)" % du)
PY
bsmall="surrogate_data.kind=burgers surrogate_data.tau=5 surrogate_data.samples=7 surrogate_data.resolution=256 surrogate_data.subsample=4 surrogate_data.dt=2e-3 surrogate_data.progress_every=0 log.timers=false"
for np in 1 3; do
  mpirun --oversubscribe -n $np "$kron" "$deck" $bsmall output.dir=b$np output.name=burgers > b$np.log 2>&1 || { cat b$np.log; echo "FAIL: Burgers on $np ranks"; exit 1; }
done
"$py" - <<'PY' || exit 1
import h5py, numpy as np, sys
b1, b3 = h5py.File("b1/burgers_000000.h5", "r"), h5py.File("b3/burgers_000000.h5", "r")
if b1["/samples/a"].shape != (7, 64) or b1["/samples/u"].shape != (7, 64): sys.exit("FAIL: Burgers shapes %s" % (b1["/samples/a"].shape,))
if not np.array_equal(b1["/samples/a"][:], b3["/samples/a"][:]): sys.exit("FAIL: u0 differs between 1 and 3 ranks")
du = np.abs(b1["/samples/u"][:] - b3["/samples/u"][:]).max() / np.abs(b1["/samples/u"][:]).max()
if not du <= 1e-12: sys.exit("FAIL: u(T) differs by %g between 1 and 3 ranks" % du)
# u0 ~ N(0, 625 (-Laplace + 25)^-2): variance sum_k 625 / ((2 pi k)^2 + 25)^2 ~ 0.33
a = b1["/samples/a"][:]
if not 0.05 < a.var() < 1.5: sys.exit("FAIL: u0 variance %g" % a.var())
# nu = 0.1, T = 1: the first mode decays by about exp(-0.1 (2 pi)^2) = 0.019 (the nonlinearity is weak)
r = np.linalg.norm(b1["/samples/u"][:]) / np.linalg.norm(a)
if not 0.005 < r < 0.05: sys.exit("FAIL: |u(T)| / |u0| = %g" % r)
for key, v in (("resolution", 256), ("subsample", 4), ("tau", 5.0), ("alpha", 2.0), ("sigma", 25.0), ("viscosity", 0.1), ("steps", 500)):
    if b1.attrs[key] != v: sys.exit("FAIL: Burgers attribute %s = %s" % (key, b1.attrs[key]))
print("ok: Burgers on 1 and 3 ranks agree (u(T) to %.1e), |u(T)|/|u0| = %.3f" % (du, r))
PY
