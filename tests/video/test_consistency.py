"""Flow and temporal consistency: the flow follows the motion, consistency lowers the warping
error, a cut resets the state."""

from __future__ import annotations

import numpy as np
import pytest

av = pytest.importorskip("av", reason="nst[video] is not installed")
cv2 = pytest.importorskip("cv2", reason="nst[video] is not installed")

from nst.video import synthetic as video_clips  # noqa: E402
from nst.video.config import VideoConfig  # noqa: E402
from nst.video.consistency import MotionEstimator, StableModel, advance, previous_frames  # noqa: E402
from nst.video.flow import warp  # noqa: E402
from nst.video.paint import ModelPainter  # noqa: E402
from nst.video.synthetic import pan_zoom, with_cut  # noqa: E402


def test_flow_follows_a_pan_and_the_check_finds_the_occluded_strip() -> None:
    frames = pan_zoom(128, 96, 8)
    truth, valid = video_clips.pan_zoom_motion(128, 96, 8)[3]
    motion = MotionEstimator(VideoConfig(flow_scale=1.0)).motion(frames[3], frames[4])
    # motion.back goes from frame 4 to frame 3: compare it with the true 4 -> 3 motion in the middle.
    expected = -truth[20:76, 20:108]
    assert np.median(np.abs(motion.back[20:76, 20:108] - expected)) < 0.5
    assert motion.share > 0.8 and not motion.cut
    a = frames[3].astype(np.float32)
    assert np.abs(warp(frames[3].astype(np.float32), np.zeros((96, 128, 2), np.float32)) - a).max() == 0


def test_repair_gives_the_band_along_a_moving_edge_its_true_motion() -> None:
    from nst.video.flow import repair_flow

    cv2 = pytest.importorskip("cv2")
    background = cv2.cvtColor(video_clips.texture(96, 64, 1), cv2.COLOR_RGB2GRAY)
    square = cv2.cvtColor(video_clips.texture(96, 64, 2), cv2.COLOR_RGB2GRAY)
    before, now = background.copy(), background.copy()
    before[20:44, 30:54] = square[20:44, 30:54]
    now[20:44, 34:58] = square[20:44, 30:54]  # the square moved 4 px right
    truth = np.zeros((64, 96, 2), np.float32)
    truth[20:44, 34:58, 0] = -4.0  # flow from now back to before
    # A smooth flow, as DIS gives across a moving edge: wrong in a band, which the checks failed.
    smooth = cv2.GaussianBlur(truth, (0, 0), 3.0)
    band = np.abs(smooth - truth).max(-1) > 0.5
    mask = (~band).astype(np.float32)
    flow, repaired = repair_flow(smooth, mask, before, now, tolerance=0.04)
    inner = band.copy()
    inner[20:44, 30:34] = False  # uncovered background: seen in `now` only, no motion explains it
    assert inner.sum() > 100
    error = np.abs(flow - truth).max(-1)
    fixed = (repaired == 1) & inner
    assert ((error < 0.5) & fixed)[inner].mean() > 0.7  # most of the band gets its true motion back
    assert (error[fixed] < 1.0).mean() > 0.85  # and what is repaired is nearly always right
    # (The rest: 3x3 patches that straddle the edge, and smooth texture that several motions fit.)
    assert (flow[~band] == smooth[~band]).all() and (repaired[~band] == 1).all()
    # Where no candidate explains the picture (new content), nothing is repaired.
    noise = np.random.default_rng(0).integers(0, 256, now.shape, dtype=np.uint8)
    _, none = repair_flow(smooth, mask, before, noise, tolerance=0.04)
    assert none[band].mean() < 0.05


def _run(model, frames, consistency):
    engine = StableModel(ModelPainter(model), VideoConfig(consistency=consistency))
    state, out, cuts = {}, [], []
    for i, rgb in enumerate(frames):
        painted, _, cut = engine.step(rgb, previous_frames(state, (1,) if consistency else ()))
        state = advance(state, rgb, painted, 1, cut)
        out.append(painted)
        cuts += [i] if cut else []
    engine.close()
    return out, cuts


def _warping_error(frames, motion):
    errors = []
    for t, (flow, valid) in enumerate(motion):
        if valid.any():
            errors.append(float((((warp(frames[t + 1], flow) - frames[t]) ** 2).mean(-1))[valid].mean()))
    return float(np.mean(errors))


@pytest.mark.parametrize("make", ["pan_zoom", "moving_object"])
def test_consistency_lowers_the_warping_error(model, make: str) -> None:
    w, h, n = 128, 96, 10
    frames = getattr(video_clips, make)(w, h, n)
    motion = getattr(video_clips, f"{make}_motion")(w, h, n)
    independent, _ = _run(model, frames, 0.0)
    stable, _ = _run(model, frames, VideoConfig().consistency)
    ratio = _warping_error(stable, motion) / _warping_error(independent, motion)
    assert ratio < (0.5 if make == "pan_zoom" else 0.9), ratio
    # Not by blurring into mush: the frames stay near the model's own pictures.
    rms = np.sqrt(np.mean([(a - b) ** 2 for a, b in zip(stable, independent, strict=True)])) * 255
    assert rms < 30


def test_a_cut_resets_the_state_so_shots_do_not_smear(model) -> None:
    frames = with_cut(96, 64, 10)
    stable, cuts = _run(model, frames, VideoConfig().consistency)
    independent, _ = _run(model, frames, 0.0)
    assert cuts == [5]
    assert np.array_equal(stable[5], independent[5])  # the new shot's first frame is its own


def test_state_keeps_the_frames_long_term_terms_need() -> None:
    state: dict = {}
    for i in range(6):
        state = advance(state, np.full((2, 2, 3), i, np.uint8), np.full((2, 2, 3), i / 10, np.float32), 4, False)
    assert sorted(state) == sorted(f"{k}_{j}" for k in ("input", "output") for j in (1, 2, 3, 4))
    assert [j for j, _, _ in previous_frames(state, (1, 2, 4))] == [1, 2, 4]
    assert state["input_4"][0, 0, 0] == 2 and state["output_1"][0, 0, 0] == pytest.approx(0.5)
    assert list(advance(state, state["input_1"], state["output_1"], 4, True)) == ["input_1", "output_1"]
