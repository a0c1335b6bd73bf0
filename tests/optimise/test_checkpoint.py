"""Runs survive interruption: checkpoints are written safely and a resumed run is the run never stopped.

Tiny tensors and the real network's first two blocks (tests/optimise/conftest.py). Interrupts
are injected in this process (tests/cli/test_signals.py sends real signals to real `nst stylize`
processes).
"""

from __future__ import annotations

import os

import pytest
import torch
from PIL import Image

import nst
from nst.errors import InputError
from nst.optimise.checkpoint import Checkpoint, describe_mismatch, fingerprint, load_checkpoint
from nst.optimise.objective import Objective
from tests.interrupts import ctrl_c_inside_lbfgs_step
from tests.optimise.helpers import SHALLOW


@pytest.fixture()
def extractor(shallow_extractor):
    return shallow_extractor


def _config(**changes):
    return nst.StyleConfig(**{"size": 40, "iterations": 10, "tolerance": 0, **SHALLOW, **changes})


def _stop_at(iteration):
    """A callback that presses Ctrl-C once the loop has finished ``iteration`` iterations."""

    def callback(progress):
        if progress.iteration == iteration:
            raise KeyboardInterrupt

    return callback


@pytest.mark.parametrize(
    "changes, stop",
    [({}, 4), ({"optimizer": "adam", "lr": 0.05}, 4),
     pytest.param({"scales": 2, "scale_ratio": 1.25}, 13, marks=pytest.mark.slow)],
    ids=["lbfgs", "adam", "two-scales"],
)
def test_resume_continues_exactly_where_the_run_stopped(extractor, images, tmp_path, changes, stop):
    content, style = images
    config = _config(**changes)
    uninterrupted = nst.transfer_style(content, style, config, extractor=extractor)
    checkpoint = tmp_path / "run.ckpt"
    with pytest.raises(nst.Interrupted) as caught:
        nst.transfer_style(
            content, style, config, extractor=extractor, checkpoint=checkpoint, callback=_stop_at(stop)
        )
    stopped = caught.value
    assert isinstance(stopped, KeyboardInterrupt)  # code that knows only Ctrl-C still stops
    assert stopped.checkpoint == checkpoint and checkpoint.is_file()
    assert (
        stopped.result.iterations == stop and f"interrupted at iteration {stop}" in stopped.result.stop_reason
    )
    assert torch.isfinite(stopped.result.tensor).all()
    saved = load_checkpoint(checkpoint)
    assert len(saved.history) == stop and saved.scale == (2 if stop > 10 else 1)
    seen = []
    resumed = nst.transfer_style(
        content, style, config, extractor=extractor, checkpoint=checkpoint, resume=True, callback=seen.append
    )
    # Same optimiser state, same loss scale, same history: the same bits as a run never stopped.
    assert torch.equal(resumed.tensor, uninterrupted.tensor)
    assert [h.total for h in resumed.history] == [h.total for h in uninterrupted.history]
    assert resumed.iterations == uninterrupted.iterations and resumed.stop_reason == uninterrupted.stop_reason
    assert [p.iteration for p in seen] == list(range(stop + 1, uninterrupted.iterations + 1))


def test_a_run_stopped_by_its_callback_can_be_resumed(extractor, images, tmp_path):
    content, style = images
    config = _config()
    uninterrupted = nst.transfer_style(content, style, config, extractor=extractor)
    checkpoint = tmp_path / "run.ckpt"
    stopped = nst.transfer_style(
        content, style, config, extractor=extractor, checkpoint=checkpoint, checkpoint_seconds=None,
        callback=lambda p: p.iteration == 6,
    )  # fmt: skip
    assert stopped.iterations == 6 and "stopped by request" in stopped.stop_reason
    assert load_checkpoint(checkpoint).iteration == 6  # saved when stopped, not only periodically
    resumed = nst.transfer_style(
        content, style, config, extractor=extractor, checkpoint=checkpoint, resume=True
    )
    assert torch.equal(resumed.tensor, uninterrupted.tensor)


def test_interrupt_inside_the_objective_checkpoints_a_state_that_resumes_exactly(
    extractor, images, tmp_path, monkeypatch
):
    """Ctrl-C lands while VGG runs (where the time goes): the optimiser has changed nothing yet."""
    content, style = images
    config = _config(iterations=8)
    uninterrupted = nst.transfer_style(content, style, config, extractor=extractor)
    calls = {"n": 0}
    original = Objective.__call__

    def interrupted_on_call_6(self, image):
        calls["n"] += 1
        if calls["n"] == 6:  # call 1 sets the loss scale; call 6 is iteration 5's evaluation
            raise KeyboardInterrupt
        return original(self, image)

    monkeypatch.setattr(Objective, "__call__", interrupted_on_call_6)
    checkpoint = tmp_path / "run.ckpt"
    with pytest.raises(nst.Interrupted) as caught:
        nst.transfer_style(content, style, config, extractor=extractor, checkpoint=checkpoint)
    assert caught.value.result.iterations == 4
    assert load_checkpoint(checkpoint).iteration == 4
    monkeypatch.setattr(Objective, "__call__", original)
    resumed = nst.transfer_style(
        content, style, config, extractor=extractor, checkpoint=checkpoint, resume=True
    )
    assert torch.equal(resumed.tensor, uninterrupted.tensor)


def test_periodic_checkpoints_are_written_atomically(extractor, images, tmp_path, monkeypatch):
    content, style = images
    checkpoint = tmp_path / "run.ckpt"
    written = []
    real_save = Checkpoint.save

    def counting_save(self, path):
        written.append(self.iteration)
        return real_save(self, path)

    monkeypatch.setattr(Checkpoint, "save", counting_save)
    nst.transfer_style(
        content, style, _config(iterations=7), extractor=extractor, checkpoint=checkpoint,
        checkpoint_every=3, checkpoint_seconds=None,
    )  # fmt: skip
    assert written == [3, 6]
    # Left in place for the caller (who deletes it after saving the result); no temporaries.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.ckpt"]


def test_a_write_that_fails_keeps_the_previous_checkpoint(extractor, images, tmp_path, monkeypatch):
    content, style = images
    checkpoint = tmp_path / "run.ckpt"
    with pytest.raises(nst.Interrupted):
        nst.transfer_style(
            content, style, _config(), extractor=extractor, checkpoint=checkpoint, callback=_stop_at(3)
        )
    before = checkpoint.read_bytes()

    def full_disk(obj, handle, *args, **kwargs):
        handle.write(b"half a checkpoint")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(torch, "save", full_disk)
    saved = load_checkpoint(checkpoint)
    with pytest.raises(OSError, match="No space"):
        saved.save(checkpoint)
    assert checkpoint.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.ckpt"]


def test_an_interrupt_mid_step_keeps_the_last_checkpoint_and_says_how_old_it_is(
    extractor, images, tmp_path, monkeypatch
):
    content, style = images
    config = _config(iterations=8)
    uninterrupted = nst.transfer_style(content, style, config, extractor=extractor)
    checkpoint = tmp_path / "run.ckpt"
    ctrl_c_inside_lbfgs_step(monkeypatch, 5)
    with pytest.raises(nst.Interrupted) as caught:
        nst.transfer_style(
            content, style, config, extractor=extractor, checkpoint=checkpoint,
            checkpoint_every=3, checkpoint_seconds=None,
        )  # fmt: skip
    stop = caught.value
    assert stop.result.iterations == 4  # booked; the fifth was cut off inside its update
    assert stop.checkpoint == checkpoint and stop.checkpoint_iterations == 3
    assert stop.stale is not None and "inside an optimiser step" in stop.stale
    assert load_checkpoint(checkpoint).iteration == 3
    monkeypatch.undo()
    resumed = nst.transfer_style(
        content, style, config, extractor=extractor, checkpoint=checkpoint, resume=True
    )
    assert torch.equal(resumed.tensor, uninterrupted.tensor)


def test_an_interrupt_whose_checkpoint_cannot_be_written_says_so(extractor, images, tmp_path, monkeypatch):
    content, style = images
    checkpoint = tmp_path / "run.ckpt"
    real_save = Checkpoint.save

    def disk_full_at_the_interrupt(self, path):
        if self.iteration == 5:
            raise OSError(28, "No space left on device")
        return real_save(self, path)

    monkeypatch.setattr(Checkpoint, "save", disk_full_at_the_interrupt)
    with pytest.raises(nst.Interrupted) as caught:
        nst.transfer_style(
            content, style, _config(), extractor=extractor, checkpoint=checkpoint, callback=_stop_at(5),
            checkpoint_every=2, checkpoint_seconds=None,
        )  # fmt: skip
    stop = caught.value
    assert stop.result.iterations == 5
    assert stop.checkpoint_iterations == 4 and load_checkpoint(checkpoint).iteration == 4
    assert stop.stale == "it could not be updated: No space left on device"


def test_a_periodic_checkpoint_that_cannot_be_written_does_not_stop_the_run(
    extractor, images, tmp_path, monkeypatch
):
    content, style = images
    checkpoint = tmp_path / "run.ckpt"
    real_save = Checkpoint.save
    attempts = []

    def disk_full_for_a_while(self, path):
        attempts.append(self.iteration)
        if self.iteration in (2, 4):
            raise OSError(28, "No space left on device")
        return real_save(self, path)

    monkeypatch.setattr(Checkpoint, "save", disk_full_for_a_while)
    result = nst.transfer_style(
        content, style, _config(iterations=7), extractor=extractor, checkpoint=checkpoint,
        checkpoint_every=2, checkpoint_seconds=None,
    )  # fmt: skip
    assert result.iterations == 7 and attempts == [2, 4, 6]
    assert load_checkpoint(checkpoint).iteration == 6  # space came back: saving resumed
    # Said once for the streak of failures, not once per attempt.
    assert result.events == [
        "checkpoint at iteration 2 could not be written (No space left on device); the run went on without it"
    ]


def test_an_interrupt_right_after_a_checkpoint_is_not_called_stale(extractor, images, tmp_path, monkeypatch):
    content, style = images
    checkpoint = tmp_path / "run.ckpt"
    ctrl_c_inside_lbfgs_step(monkeypatch, 5)
    with pytest.raises(nst.Interrupted) as caught:
        nst.transfer_style(
            content, style, _config(), extractor=extractor, checkpoint=checkpoint,
            checkpoint_every=4, checkpoint_seconds=None,
        )  # fmt: skip
    assert caught.value.checkpoint_iterations == 4 and caught.value.stale is None


def _tiled(images):
    """Two tiles of 4 iterations each: a 64x96 picture in 64 px tiles."""
    content, style = images
    content = torch.nn.functional.interpolate(content, size=(64, 96), mode="bilinear")
    return content, style, _config(size=96, iterations=4, scales=1, tile_size=64)


@pytest.mark.slow
def test_a_tiled_level_is_checkpointed_between_tiles_and_resumes_exactly(extractor, images, tmp_path):
    content, style, config = _tiled(images)
    uninterrupted = nst.transfer_style(content, style, config, extractor=extractor)
    checkpoint = tmp_path / "run.ckpt"
    with pytest.raises(nst.Interrupted) as caught:
        nst.transfer_style(
            content, style, config, extractor=extractor, checkpoint=checkpoint, callback=_stop_at(6),
            checkpoint_every=1, checkpoint_seconds=None,
        )  # fmt: skip
    stop = caught.value
    # Inside the second tile: what is kept, in the result and the checkpoint alike, is the picture
    # after the first tile, 4 iterations in.
    assert stop.result.stop_reason == "interrupted at iteration 4 of 8"
    assert stop.checkpoint_iterations == 4 and stop.stale is None
    saved = load_checkpoint(checkpoint)
    assert (saved.tiles_done, saved.iteration, saved.optimizer) == (1, 4, None)
    resumed = nst.transfer_style(
        content, style, config, extractor=extractor, checkpoint=checkpoint, resume=True
    )
    assert resumed.iterations == 8
    assert torch.equal(resumed.tensor, uninterrupted.tensor)


@pytest.mark.slow
def test_a_tiled_level_stopped_by_request_saves_the_finished_tiles(extractor, images, tmp_path):
    content, style, config = _tiled(images)
    uninterrupted = nst.transfer_style(content, style, config, extractor=extractor)
    checkpoint = tmp_path / "run.ckpt"
    stopped = nst.transfer_style(
        content, style, config, extractor=extractor, checkpoint=checkpoint,
        callback=lambda p: p.iteration == 7, checkpoint_every=None, checkpoint_seconds=None,
    )  # fmt: skip
    assert "stopped by request" in stopped.stop_reason
    assert load_checkpoint(checkpoint).tiles_done == 1
    resumed = nst.transfer_style(
        content, style, config, extractor=extractor, checkpoint=checkpoint, resume=True
    )
    assert torch.equal(resumed.tensor, uninterrupted.tensor)


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda c, s, cfg: (c, s, cfg.with_changes(style_weight=5.0)), r"style_weight \(70000.0 -> 5.0\)"),
        (lambda c, s, cfg: (c, s, cfg.with_changes(size=48)), r"size \(40 -> 48\)"),
        (lambda c, s, cfg: (c.flip(-1), s, cfg), "the content image"),
        (lambda c, s, cfg: (c, s * 0.5, cfg), "the style image"),
    ],
    ids=["style-weight", "size", "content", "style"],
)
def test_resume_refuses_other_settings_or_inputs(extractor, images, tmp_path, change, message):
    content, style = images
    checkpoint = tmp_path / "run.ckpt"
    with pytest.raises(nst.Interrupted):
        nst.transfer_style(
            content, style, _config(), extractor=extractor, checkpoint=checkpoint, callback=_stop_at(2)
        )
    content2, style2, config2 = change(content, style, _config())
    with pytest.raises(InputError, match=message):
        nst.transfer_style(content2, style2, config2, extractor=extractor, checkpoint=checkpoint, resume=True)
    assert checkpoint.is_file()  # a refused resume destroys nothing


def test_damaged_or_foreign_checkpoints_are_refused(tmp_path):
    missing = tmp_path / "none.ckpt"
    with pytest.raises(InputError, match="no checkpoint"):
        load_checkpoint(missing)
    garbage = tmp_path / "garbage.ckpt"
    garbage.write_bytes(b"\x80\x04not a zip at all")
    with pytest.raises(InputError, match="damaged"):
        load_checkpoint(garbage)
    foreign = tmp_path / "foreign.ckpt"
    torch.save({"weights": torch.zeros(3)}, foreign)
    with pytest.raises(InputError, match="not an nst checkpoint"):
        load_checkpoint(foreign)
    # A checkpoint is data: one that smuggles in code is refused by weights_only loading.
    evil = tmp_path / "evil.ckpt"
    torch.save({"format": "nst-checkpoint", "version": 1, "image": os.getcwd}, evil)
    with pytest.raises(InputError, match="damaged"):
        load_checkpoint(evil)


def test_fingerprints_see_pixels_not_files():
    a = Image.new("RGB", (4, 3), (10, 20, 30))
    assert fingerprint(a) == fingerprint(a.copy())
    assert fingerprint(a) != fingerprint(Image.new("RGB", (4, 3), (10, 20, 31)))
    assert fingerprint(torch.zeros(1, 3, 2, 2)) != fingerprint(torch.zeros(1, 3, 2, 3))
    same = {"settings": {"size": 1}, "content": "x", "styles": ["y"], "blend": [1.0], "plan": [[1, 1]]}
    assert describe_mismatch(same, dict(same)) is None


def test_resume_needs_a_checkpoint(images):
    content, style = images
    with pytest.raises(InputError, match="resume needs"):
        nst.transfer_style(content, style, _config(), resume=True)


def test_a_checkpoint_from_before_the_new_settings_still_resumes():
    from nst.optimise.checkpoint import describe_mismatch

    current = {"settings": nst.StyleConfig().to_dict()}
    older = {"settings": {k: v for k, v in current["settings"].items() if k != "tile_size"}}
    assert describe_mismatch(older, current) is None
    changed = {"settings": nst.StyleConfig(tile_size=512).to_dict()}
    assert "tile_size" in describe_mismatch(older, changed)


def test_a_checkpoint_with_a_retired_setting_resumes_only_at_the_value_nst_still_paints():
    from nst.optimise.checkpoint import describe_mismatch

    current = {"settings": nst.StyleConfig().to_dict()}
    assert describe_mismatch({"settings": {**current["settings"], "padding": "zeros", "style_loss": "gram"}},
                             current) is None
    assert "style_loss ('wasserstein'" in describe_mismatch(
        {"settings": {**current["settings"], "style_loss": "wasserstein"}}, current)
    assert nst.StyleConfig.from_dict({"padding": "zeros"}) == nst.StyleConfig()
    with pytest.raises(InputError, match="no longer has: padding='reflect' .nst now paints as padding='zeros'"):
        nst.StyleConfig.from_dict({"padding": "reflect"})


def test_a_checkpoint_from_before_the_settings_existed_does_not_resume_with_the_new_defaults():
    from nst.optimise.checkpoint import describe_mismatch

    new = {"settings": nst.StyleConfig().to_dict()}
    # Written before the settings existed: it ran without a stroke weight.
    keys = (
        "stroke_weight", "final_only_style_layers", "coarse_style", "coarse_content_boost",
        "laplacian_weight", "subject_weight",
    )  # fmt: skip
    old = {"settings": {k: v for k, v in new["settings"].items() if k not in keys}}
    mismatch = describe_mismatch(old, new)
    assert mismatch and "stroke_weight (1.0 -> 3.0)" in mismatch
    # A checkpoint of a run with level detail (retired) does not resume; one without it does.
    assert "level_detail (True -> False)" in describe_mismatch({"settings": {**new["settings"], "level_detail": True}}, new)
    assert describe_mismatch({"settings": {**new["settings"], "level_detail": False}}, new) is None
    assert f"laplacian_weight (0.0 -> {nst.StyleConfig().laplacian_weight!r})" in mismatch
    assert f"subject_weight (1.0 -> {nst.StyleConfig().subject_weight!r})" in mismatch
    paper = {"settings": nst.StyleConfig.preset("paper").to_dict()}
    old_paper = {"settings": {k: v for k, v in paper["settings"].items() if k not in keys}}
    assert describe_mismatch(old_paper, paper) is None
