"""高空抛物: objects thrown from height, traced back to the floor they came from.

Modules, one idea each: `config` (settings and floor calibration), `foreground`
(moving pixels of the facade region), `tracking` (small-object tracks),
`freefall` (is a track a free fall?), `floors` (image row -> floor), `detector`
(the `Detector` that ties them together), `plugin` (the entry point),
`sidecar` (ground truth of a clip), `scene` and `clips` (the clip generator),
`evaluation` and `chart` (the harness), `cli` (the `gridhub eval` commands).
"""
