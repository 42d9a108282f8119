"""Renders a field of kron's XDMF output to a PNG with ParaView, without a screen.

    xvfb-run -a pvpython scripts/render.py out/quickstart/quickstart.xdmf u quickstart_u.png [--step N] [--slice z]

Debian's ParaView renders through X, so on a machine without a display run pvpython under
xvfb-run (package xvfb). The picture: a colour map of FIELD on the mid-plane slice normal to the
chosen axis (default z; a 2D grid is drawn as it is), with a colour bar, at 1000 x 800 pixels.
Prints the PNG's path and the field's range over the slice.
"""
import argparse
import sys

from paraview.simple import (ColorBy, GetActiveViewOrCreate, GetColorTransferFunction, GetDisplayProperties,
                             Render, ResetCamera, SaveScreenshot, Show, Slice, XDMFReader)

p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
p.add_argument("xdmf")
p.add_argument("field")
p.add_argument("png")
p.add_argument("--step", type=int, default=-1, help="time step index (default: the last)")
p.add_argument("--slice", choices="xyz", default="z", help="normal of the mid-plane slice (3D grids)")
a = p.parse_args()

reader = XDMFReader(FileNames=[a.xdmf])
reader.UpdatePipelineInformation()
times = list(reader.TimestepValues) if hasattr(reader.TimestepValues, "__len__") else [reader.TimestepValues]
t = times[a.step] if times and times[0] is not None else 0.0
reader.UpdatePipeline(t)
names = list(reader.PointData.keys())
if a.field not in names:
    sys.exit("render.py: no field '%s' in %s (fields: %s)" % (a.field, a.xdmf, ", ".join(names)))
bounds = reader.GetDataInformation().GetBounds()
source = reader
if bounds[4] != bounds[5]:  # 3D: cut the mid-plane
    axis = "xyz".index(a.slice)
    source = Slice(Input=reader)
    source.SliceType = "Plane"
    source.SliceType.Origin = [(bounds[0] + bounds[1]) / 2, (bounds[2] + bounds[3]) / 2, (bounds[4] + bounds[5]) / 2]
    source.SliceType.Normal = [1.0 if i == axis else 0.0 for i in range(3)]
    source.UpdatePipeline(t)
view = GetActiveViewOrCreate("RenderView")
view.ViewSize = [1000, 800]
view.ViewTime = t
display = Show(source, view)
ColorBy(display, ("POINTS", a.field))
display.RescaleTransferFunctionToDataRange(True, False)
display.SetScalarBarVisibility(view, True)
lo, hi = source.PointData[a.field].GetRange()
view.CameraPosition = [0, 0, 1] if a.slice == "z" or bounds[4] == bounds[5] else ([1, 0, 0] if a.slice == "x" else [0, -1, 0])
view.CameraFocalPoint = [0, 0, 0]
view.CameraViewUp = [0, 1, 0] if a.slice != "y" else [0, 0, 1]
ResetCamera(view)
Render(view)
SaveScreenshot(a.png, view, ImageResolution=[1000, 800])
print("%s: %s on %s, range [%g, %g]" % (a.png, a.field, "the mid-plane" if source is not reader else "the grid", lo, hi))
