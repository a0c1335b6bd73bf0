"""The local engine and its jobs: a photo that breaks later, engine names, one network per distinct extractor."""

from __future__ import annotations

from pathlib import Path

import pytest

from nst.engines import Job, make_engine
from nst.engines.local import LocalEngine
from nst.engines.work import run_job
from nst.errors import InputError
from tests.engines.pictures import picture, tiny_model

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture()
def model(tmp_path: Path) -> Path:
    return tiny_model(tmp_path / "tiny.pt")


def test_a_job_whose_photo_breaks_later_is_reported_and_the_rest_go_on(model: Path, tmp_path: Path) -> None:
    good, gone = picture(tmp_path / "good.png", 0), tmp_path / "gone.png"
    jobs = [Job(0, "gone", str(tmp_path), str(gone), model=str(model), size=32),
            Job(1, "good", str(tmp_path), str(good), model=str(model), size=32)]
    results = []
    make_engine("local", jobs=1).run(jobs, results.append)
    assert results[0].error and "gone.png" in results[0].error and results[0].partial is None
    assert results[1].error is None and (tmp_path / results[1].partial).is_file()
    assert results[1].partial.startswith(".good.") and results[1].partial.endswith(".partial.png")
    # every attempt writes a file of its own
    again = run_job(jobs[1], {})
    assert again.partial != results[1].partial and again.sha256 == results[1].sha256


def test_make_engine_names() -> None:
    assert isinstance(make_engine("local", jobs=2), LocalEngine)
    with pytest.raises(InputError, match="unknown engine 'spark'"):
        make_engine("spark")


def test_a_worker_keeps_one_network_per_distinct_extractor(tmp_path: Path) -> None:
    """Workers cache VGG networks by `StyleConfig.extractor_key`: a setting that changes the
    network (the pooling) gets its own, one that does not (the style weight) shares it."""
    from nst.optimise.config import StyleConfig

    photo, style = picture(tmp_path / "a.png", 0), picture(tmp_path / "s.png", 1, (32, 32))
    base = StyleConfig(size=64, iterations=1, scales=1)
    cache: dict = {"threads": 1}
    for index, config in enumerate((base, base.with_changes(style_weight=2e4), base.with_changes(pooling="avg"))):
        result = run_job(Job(index, f"p{index}", str(tmp_path), str(photo), style=str(style), config=config), cache)
        assert result.error is None
    assert len([key for key in cache if key != "threads"]) == 2
