"""Experiments: many stylizations compared side by side (a settings sweep, a content x style grid).

    from nst.experiments import plan, runner
    experiment = plan.sweep("photo.jpg", "painting.jpg", nst.StyleConfig(size=128), params)
    manifest = runner.execute(runner.prepare(experiment, "out/"), jobs=1)

Each output folder holds the images, manifest.json, sheet.png and losses.png (docs/experiments.md).
"""

from nst.experiments.params import Param, parse_param, parse_params
from nst.experiments.plan import Experiment, grid, sweep
from nst.experiments.runner import Event, execute, prepare

__all__ = [
    "Event",
    "Experiment",
    "Param",
    "execute",
    "grid",
    "parse_param",
    "parse_params",
    "prepare",
    "sweep",
]
