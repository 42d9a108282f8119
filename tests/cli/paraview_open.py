# pvpython paraview_open.py XDMF NPOINTS ARRAY[,ARRAY..] — ParaView's own XDMF reader opens the
# file kron wrote and finds the expected points and point arrays with finite values.
import math
import sys

from paraview.simple import Xdmf3ReaderS

path, npoints, arrays = sys.argv[1], int(sys.argv[2]), sys.argv[3].split(",")
r = Xdmf3ReaderS(FileName=[path])
r.UpdatePipeline()
got = r.GetDataInformation().GetNumberOfPoints()
if got != npoints:
    sys.exit("FAIL: %s: ParaView sees %d points, expected %d" % (path, got, npoints))
names = [r.PointData.GetArray(i).GetName() for i in range(len(r.PointData))]
for a in arrays:
    if a not in names:
        sys.exit("FAIL: %s: array %s missing (ParaView sees %s)" % (path, a, names))
    lo, hi = r.PointData[a].GetRange()
    if not (math.isfinite(lo) and math.isfinite(hi)):
        sys.exit("FAIL: %s: array %s has non-finite range" % (path, a))
print("ok", path, got, names)
