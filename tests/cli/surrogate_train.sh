#!/usr/bin/env bash
# usage: surrogate_train.sh KRON SOURCE_DIR PYTHON [CAPI_TEST] — the surrogate workflow at a small size
# (40 Darcy samples on 21^2): training on 1 and 3 ranks (uneven shares of each batch) gives the
# same weights within rounding; a run resumed from its checkpoint continues bitwise; prediction
# from the checkpoint reproduces the training run's test error; bad data, models and shapes fail
# with one clear line naming the key, before any training.
set -u
kron=$1; src=$2; py=$3; capi=${4:-}
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
cd "$work"
fail() { echo "FAIL: $*"; exit 1; }
run() { local np=$1; shift; mpirun --oversubscribe -n "$np" "$kron" "$@" log.timers=false; }
run 2 "$src/inputs/surrogate/darcy_data.toml" surrogate_data.samples=40 surrogate_data.resolution=101 surrogate_data.progress_every=0 \
  output.dir=data > data.log 2>&1 || { cat data.log; fail "data"; }
train="$src/inputs/surrogate/darcy_train.toml"
small="surrogate_train.data=data/darcy_000000.h5 surrogate_train.train=30 surrogate_train.test=10 surrogate_train.batch=5
       surrogate_train.modes=4 surrogate_train.width=8 surrogate_train.head=16 surrogate_train.padding=3 surrogate_train.progress_every=1"
run 1 "$train" $small surrogate_train.epochs=3 output.dir=np1 > np1.log 2>&1 || { cat np1.log; fail "training on 1 rank"; }
run 3 "$train" $small surrogate_train.epochs=3 output.dir=np3 > np3.log 2>&1 || { cat np3.log; fail "training on 3 ranks"; }
run 2 "$train" $small surrogate_train.epochs=3 surrogate_train.checkpoint_every=1 output.dir=full > full.log 2>&1 || { cat full.log; fail "3 epochs"; }
run 2 "$train" $small surrogate_train.epochs=1 output.dir=res > res1.log 2>&1 || { cat res1.log; fail "1 epoch"; }
run 2 "$train" $small surrogate_train.epochs=3 surrogate_train.resume=true output.dir=res > res2.log 2>&1 || { cat res2.log; fail "resume"; }
grep -q "resuming from res/darcy_fno_model.h5 after epoch 1" res2.log || fail "no resume line: $(cat res2.log)"
"$py" - <<'PY' || exit 1
import h5py, numpy as np, sys
def params(d):
    f = h5py.File(d + "/darcy_fno_model.h5", "r")
    return [f["/parameters/%d" % k][:] for k in range(len(f["parameters"]))], f
p1, f1 = params("np1"); p3, f3 = params("np3"); pf, ff = params("full"); pr, fr = params("res")
d = max(np.abs(a - b).max() for a, b in zip(p1, p3)); s = max(np.abs(a).max() for a in p1)
if not d <= 1e-8 * s: sys.exit("FAIL: 1 and 3 ranks differ by %g of %g" % (d, s))
if any(not np.array_equal(a, b) for a, b in zip(pf, pr)): sys.exit("FAIL: the resumed run is not bitwise the uninterrupted one")
for k in ("m0", "v3"):
    if not np.array_equal(ff["/adam/" + k][:], fr["/adam/" + k][:]): sys.exit("FAIL: Adam state %s differs after resume" % k)
if fr.attrs["epochs_done"] != 3 or fr.attrs["adam_steps"] != 18: sys.exit("FAIL: epochs %s, steps %s" % (fr.attrs["epochs_done"], fr.attrs["adam_steps"]))
print("ok: 1 vs 3 ranks %.1e of %.1e; resume bitwise" % (d, s))
PY
# Prediction from the checkpoint gives the training run's final test error.
want=$("$py" -c "import json; print('%.10g' % json.load(open('full/summary.json'))['error_test_relative_l2'])")
run 3 "$src/inputs/surrogate/darcy_predict.toml" surrogate_predict.model=full/darcy_fno_model.h5 surrogate_predict.data=data/darcy_000000.h5 \
  surrogate_predict.first=30 surrogate_predict.samples=10 surrogate_predict.fields=2 output.dir=pred > pred.log 2>&1 || { cat pred.log; fail "predict"; }
got=$("$py" -c "import json; print('%.10g' % json.load(open('pred/summary.json'))['error_test_relative_l2'])")
[ "$want" = "$got" ] || fail "prediction error $got, training's test error $want"
[ -s pred/darcy_predict.xdmf ] && [ -s pred/darcy_predict_000001.h5 ] || fail "no prediction fields: $(ls pred)"
# The C API (kron_surrogate_predict, through tests/capi/test_capi.c) gives surrogate_predict's predictions.
if [ -n "$capi" ]; then
  "$py" -c "
import h5py, numpy as np
f = h5py.File('data/darcy_000000.h5', 'r'); f['/samples/a'][30:40].astype('<f8').tofile('capi_a.bin')" || fail "extracting inputs"
  mpirun --oversubscribe -n 2 "$capi" predict full/darcy_fno_model.h5 capi_a.bin capi_u.bin 10 > capi.log 2>&1 || { cat capi.log; fail "C API predict"; }
  "$py" - <<'PY' || exit 1
import h5py, numpy as np, sys
want = h5py.File("pred/darcy_predict_000000.h5", "r")["/predictions/u"][:]
got = np.fromfile("capi_u.bin", dtype="<f8").reshape(want.shape)
d = np.abs(got - want).max(); s = np.abs(want).max()
if not d <= 1e-12 * s: sys.exit("FAIL: C API predictions differ from surrogate_predict's by %g of %g" % (d, s))
print("ok: C API predictions = surrogate_predict's (%.1e of %.1e)" % (d, s))
PY
fi
# The Monarch neural operator (learnable Monarch factors starting as the exact DFT, 21 + 4 = 5^2
# padded points): trains, and prediction from its checkpoint rebuilds the same model.
run 2 "$train" $small surrogate_train.transform=monarch_dft surrogate_train.padding=4 surrogate_train.epochs=2 output.dir=mno > mno.log 2>&1 || { cat mno.log; fail "Monarch transforms"; }
grep -q "learnable transforms: .* parameters, starting .* from the DFT rows" mno.log || fail "no transform line: $(cat mno.log)"
want=$("$py" -c "import json; print('%.10g' % json.load(open('mno/summary.json'))['error_test_relative_l2'])")
run 1 "$src/inputs/surrogate/darcy_predict.toml" surrogate_predict.model=mno/darcy_fno_model.h5 surrogate_predict.data=data/darcy_000000.h5 \
  surrogate_predict.first=30 surrogate_predict.samples=10 surrogate_predict.fields=1 output.dir=mnopred > mnopred.log 2>&1 || { cat mnopred.log; fail "predict MNO"; }
got=$("$py" -c "import json; print('%.10g' % json.load(open('mnopred/summary.json'))['error_test_relative_l2'])")
[ "$want" = "$got" ] || fail "MNO prediction error $got, training's test error $want"
echo "ok: the Monarch neural operator trains and predicts ($got)"
# Single precision (precision = fp32): 1 and 3 ranks agree to fp32's rounding and with the fp64
# run to within it; a resumed fp32 run continues bitwise; the checkpoint holds fp32 values (as
# doubles), and prediction from it (in fp64) gives the training run's test error to fp32 rounding.
f32="$small surrogate_train.precision=fp32"
run 1 "$train" $f32 surrogate_train.epochs=3 output.dir=f1 > f1.log 2>&1 || { cat f1.log; fail "fp32 on 1 rank"; }
grep -q "batch 5 over 1 rank, in fp32" f1.log || fail "no precision in the model line: $(cat f1.log)"
run 3 "$train" $f32 surrogate_train.epochs=3 output.dir=f3 > f3.log 2>&1 || { cat f3.log; fail "fp32 on 3 ranks"; }
run 2 "$train" $f32 surrogate_train.epochs=3 output.dir=f2 > f2.log 2>&1 || { cat f2.log; fail "fp32 on 2 ranks"; }
run 2 "$train" $f32 surrogate_train.epochs=1 output.dir=fres > fres1.log 2>&1 || { cat fres1.log; fail "fp32 1 epoch"; }
run 2 "$train" $f32 surrogate_train.epochs=3 surrogate_train.resume=true output.dir=fres > fres2.log 2>&1 || { cat fres2.log; fail "fp32 resume"; }
"$py" - <<'PY' || exit 1
import h5py, numpy as np, sys
def params(d):
    f = h5py.File(d + "/darcy_fno_model.h5", "r")
    return [f["/parameters/%d" % k][:] for k in range(len(f["parameters"]))], f
p1, f1 = params("f1"); p3, _ = params("f3"); p2, _ = params("f2"); pr, fr = params("fres"); p64, _ = params("np1")
s = max(np.abs(a).max() for a in p1)
d13 = max(np.abs(a - b).max() for a, b in zip(p1, p3)); d64 = max(np.abs(a - b).max() for a, b in zip(p1, p64))
if f1.attrs["precision"] not in (b"fp32", "fp32"): sys.exit("FAIL: precision attribute %r" % f1.attrs["precision"])
if any(not np.array_equal(a.astype(np.float32).astype(np.float64), a) for a in p1): sys.exit("FAIL: fp32 weights are not fp32 values")
if not d13 <= 1e-5 * s: sys.exit("FAIL: fp32 on 1 and 3 ranks differ by %g of %g" % (d13, s))
if not d64 <= 1e-4 * s: sys.exit("FAIL: fp32 and fp64 training differ by %g of %g" % (d64, s))
if any(not np.array_equal(a, b) for a, b in zip(p2, pr)): sys.exit("FAIL: the resumed fp32 run is not bitwise the uninterrupted one")
print("ok: fp32 1 vs 3 ranks %.1e, fp32 vs fp64 %.1e of %.1e; fp32 resume bitwise" % (d13, d64, s))
PY
want=$("$py" -c "import json; print(json.load(open('f1/summary.json'))['error_test_relative_l2'])")
run 2 "$src/inputs/surrogate/darcy_predict.toml" surrogate_predict.model=f1/darcy_fno_model.h5 surrogate_predict.data=data/darcy_000000.h5 \
  surrogate_predict.first=30 surrogate_predict.samples=10 surrogate_predict.fields=1 output.dir=fpred > fpred.log 2>&1 || { cat fpred.log; fail "predict fp32"; }
got=$("$py" -c "import json; print(json.load(open('fpred/summary.json'))['error_test_relative_l2'])")
"$py" -c "import sys; w, g = $want, $got; sys.exit(0 if abs(w - g) <= 1e-5 * w else 1)" || fail "fp64 prediction of the fp32 model: $got, training's fp32 test error $want"
echo "ok: the fp32 model predicts in fp64 ($got, trained $want)"
# Bad input: one line naming the key, no training.
expect() {  # regex args...
  local re=$1; shift
  out=$(run 2 "$@" 2>&1); rc=$?
  [ $rc -ne 0 ] || fail "exit 0 for: $*"
  [ "$(echo "$out" | grep -c '^kron: error: ')" = 1 ] && echo "$out" | grep -q "$re" || fail "expected '$re': $out"
  echo "$out" | grep -q "epoch [0-9]*/" && fail "trained before failing: $out"
  echo "ok: $(echo "$out" | grep '^kron: error: ')"
}
expect "surrogate_train.test: train + test = 50 samples, but data/darcy_000000.h5 holds 40" "$train" $small surrogate_train.test=20 output.dir=e1
expect "surrogate_train.spectral: Monarch layer 8 -> 8: 3 blocks do not divide both sizes" "$train" $small surrogate_train.spectral=monarch:3 output.dir=e2
expect "surrogate_train.modes: FNO: 20 modes along x do not fit 24 padded points" "$train" $small surrogate_train.modes=20 output.dir=e3
expect "surrogate_train.width: training needs about .* on one node .*but that node has .* available" "$train" $small surrogate_train.width=30000 output.dir=e8
expect "surrogate_train.init: is projected, but spectral mixing butterfly has no closed-form projection" "$train" $small surrogate_train.spectral=butterfly surrogate_train.init=projected output.dir=e7
expect "surrogate_train.transform: is butterfly, which has no closed-form projection of the DFT" "$train" $small surrogate_train.transform=butterfly output.dir=e9
expect "surrogate_train.transform: Monarch layer 24 -> 8: 5 blocks do not divide both sizes; the transforms map 24 padded points to 8 and back" "$train" $small surrogate_train.transform=monarch:5 output.dir=e10
expect "surrogate_train.transform: is monarch_dft, whose exact Monarch factors of the DFT need a square number of padded points, but 21 points + padding 3 = 24" "$train" $small surrogate_train.transform=monarch_dft output.dir=e14
expect "surrogate_train.precision: is fp32, but transform monarch_dft (the Monarch neural operator) runs in fp64 only" "$train" $small surrogate_train.precision=fp32 surrogate_train.transform=monarch_dft surrogate_train.padding=4 output.dir=e18
expect "surrogate_train.precision.*fp16.*fp64, fp32" "$train" $small surrogate_train.precision=fp16 output.dir=e19
expect "surrogate_train.transform: .*unknown structure 'fft'" "$train" $small surrogate_train.transform=fft output.dir=e11
expect "surrogate_train.mixing: .*unknown structure 'sparse'" "$train" $small surrogate_train.mixing=sparse:2 output.dir=e12
expect "surrogate_train.resume: is true, but there is no checkpoint e4/darcy_fno_model.h5" "$train" $small surrogate_train.resume=true output.dir=e4
expect "surrogate_train.resume: res/darcy_fno_model.h5: holds another model" "$train" $small surrogate_train.width=4 surrogate_train.resume=true output.dir=res
# Files read back are untrusted: a data set with a NaN or an all-zero target, and a training
# checkpoint with a negative Adam second moment or a history of the wrong length, fail when read,
# naming the key, the file and what is wrong (the fuzz targets showed each of these).
"$py" - <<'PY' || exit 1
import h5py, shutil, numpy as np
shutil.copy("data/darcy_000000.h5", "nan.h5"); shutil.copy("data/darcy_000000.h5", "zero.h5")
with h5py.File("nan.h5", "r+") as f:
    a = f["/samples/a"]; v = a[...]; v[3, 2, 2] = np.nan; a[...] = v
with h5py.File("zero.h5", "r+") as f:
    u = f["/samples/u"]; v = u[...]; v[35] = 0; u[...] = v
for name, edit in (("negv", "v"), ("hist", "h")):
    shutil.copytree("full", name)
    with h5py.File(name + "/darcy_fno_model.h5", "r+") as f:
        if edit == "v":
            d = f["/adam/v0"]; x = d[...]; x[0] = -1; d[...] = x
        else:
            x = f["/history/train_loss"][:-1]; del f["/history/train_loss"]; f["/history/train_loss"] = x
PY
expect "surrogate_train.data: nan.h5: sample 3 of /samples/a holds a value that is not finite" "$train" $small surrogate_train.data=nan.h5 output.dir=e15
expect "surrogate_train.data: zero.h5: sample 35 of /samples/u is zero everywhere" "$train" $small surrogate_train.data=zero.h5 output.dir=e16
expect "surrogate_predict.data: nan.h5: sample 3 of /samples/a holds a value that is not finite" "$src/inputs/surrogate/darcy_predict.toml" \
  surrogate_predict.model=full/darcy_fno_model.h5 surrogate_predict.data=nan.h5 surrogate_predict.first=0 surrogate_predict.samples=4 surrogate_predict.fields=1 output.dir=e17
expect "surrogate_train.resume: negv/darcy_fno_model.h5: parameter 0 .*a negative second moment" "$train" $small surrogate_train.epochs=4 surrogate_train.resume=true output.dir=negv
expect "surrogate_train.resume: hist/darcy_fno_model.h5: its history has 2 and 3 entries for 3 epochs" "$train" $small surrogate_train.epochs=4 surrogate_train.resume=true output.dir=hist
run 1 "$src/inputs/surrogate/darcy_data.toml" surrogate_data.samples=2 surrogate_data.resolution=61 output.dir=data13 > data13.log 2>&1 || fail "13^2 data"
expect "surrogate_predict.data: data13/darcy_000000.h5 holds samples of another grid than the model's 21 x 21" \
  "$src/inputs/surrogate/darcy_predict.toml" surrogate_predict.model=full/darcy_fno_model.h5 surrogate_predict.data=data13/darcy_000000.h5 \
  surrogate_predict.samples=2 surrogate_predict.fields=1 output.dir=e5
# A diverging training stops at the epoch, with one line and a non-zero exit, and no final model.
out=$(run 2 "$train" $small surrogate_train.lr=1e300 surrogate_train.epochs=2 output.dir=e7 2>&1) && fail "exit 0 for a diverging training"
[ "$(echo "$out" | grep -c '^kron: error: ')" = 1 ] && echo "$out" | grep -q "^kron: error: surrogate_train: training diverged in epoch 1: the training loss is not finite" \
  || fail "no divergence line: $out"
[ ! -e e7/summary.json ] || fail "a diverged training wrote summary.json"
echo "ok: divergence stops the training at epoch 1"
expect "surrogate_predict.model: .*nosuch_model.h5" "$src/inputs/surrogate/darcy_predict.toml" surrogate_predict.model=nosuch_model.h5 output.dir=e6
echo ok
