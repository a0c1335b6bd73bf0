"""Video: paint a clip without flicker (``nst video``; `nst.stylize_video`).

Modules, in the order data flows through them:

- `config`: `VideoConfig`, every default of a video run, once.
- `io`: decoding and encoding with PyAV (colour matrix and range explicit, audio copied, H.264
  segments concatenated), animated GIF/WebP with Pillow.
- `flow`: OpenCV's DIS optical flow, warping, forward-backward occlusion masks, cut detection.
- `consistency`: the fast path's temporal blending of a style model's frames.
- `optimise`: the optimisation path (Ruder, Dosovitskiy and Brox 2016).
- `work`: the work folder beside the output (manifest, finished chunks, the state to resume from).
- `api`: `stylize_video`, which drives a clip through them.

Nothing here is imported by ``import nst`` until used; PyAV and OpenCV load with the first clip.
"""
