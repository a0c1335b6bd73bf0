"""The optimisation path of nst video: every frame painted from the previous one."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

av = pytest.importorskip("av", reason="nst[video] is not installed")
cv2 = pytest.importorskip("cv2", reason="nst[video] is not installed")

import nst  # noqa: E402
from nst.video import synthetic as video_clips  # noqa: E402
from nst.video.config import VideoConfig  # noqa: E402
from nst.video.consistency import advance, previous_frames  # noqa: E402
from nst.video.flow import warp  # noqa: E402
from nst.video.synthetic import pan_zoom, write_clip  # noqa: E402
from tests.optimise.helpers import SHALLOW  # noqa: E402


@pytest.mark.slow
def test_optimisation_path_paints_every_frame_from_the_previous_one(tmp_path: Path) -> None:
    from PIL import Image

    from nst.video.optimise import FrameOptimiser

    frames = pan_zoom(48, 32, 3)
    style = tmp_path / "style.png"
    Image.fromarray(video_clips.texture(48, 48, 3)).save(style)
    config = VideoConfig(size=48, frame_iterations=4, long_term=(1, 2))
    style_config = nst.StyleConfig(iterations=6, scales=1, **SHALLOW)  # the network's first two blocks
    engine = FrameOptimiser(style, style_config, config, (48, 32))
    state: dict = {}
    painted = []
    for rgb in frames:
        out, share, cut = engine.step(rgb, previous_frames(state, config.long_term))
        state = advance(state, rgb, out, 2, cut)
        painted.append(out)
    assert sorted(state) == ["input_1", "input_2", "output_1", "output_2"]
    assert all(p.shape == (32, 48, 3) for p in painted)
    # Frame 1 starts from frame 0 warped and is held to it: nearer to it than an independent frame.
    motion = engine.motion.motion(frames[0], frames[1])
    warped = warp(painted[0], motion.back)
    independent = engine.independent(frames[1])
    assert np.abs(painted[1] - warped).mean() < np.abs(independent - warped).mean()
    clip = write_clip(tmp_path / "c.mp4", frames, audio=False)
    result = nst.stylize_video(clip, tmp_path / "o.mp4", style=style, config=config, style_config=style_config)
    assert result.method == "optimisation" and result.frames == 3 and result.size == (48, 32)
    # Independent frames on an engine (here in this process) are those painted frame by frame.
    from nst.engines import make_engine

    independent = config.with_changes(consistency=0, optimise_chunk_frames=2)
    nst.stylize_video(clip, tmp_path / "a.mp4", style=style, config=independent, style_config=style_config)
    nst.stylize_video(clip, tmp_path / "b.mp4", style=style, config=independent, style_config=style_config,
                      engine=make_engine("local"))
    assert (tmp_path / "a.mp4").read_bytes() == (tmp_path / "b.mp4").read_bytes()
