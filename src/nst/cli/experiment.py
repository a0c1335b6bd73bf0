"""What `nst sweep` and `nst grid` share: their output and engine options, and running an
experiment with one progress bar over all its cells."""

from __future__ import annotations

import argparse
import dataclasses
import shlex
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from nst.cli.options import EXIT_OK, add_engine_options, engine_device, engine_from_args
from nst.cli.settings import add_style_options
from nst.errors import InputError
from nst.optimise.config import StyleConfig

if TYPE_CHECKING:  # the experiments package loads when a sweep or grid runs, not with `nst --help`
    from nst.experiments import plan as planning
    from nst.experiments import runner


def add_experiment_options(p: argparse.ArgumentParser) -> None:
    """-o DIR, where the cells run, and the style settings every cell starts from."""
    p.add_argument(
        "-o", "--output", required=True, metavar="DIR", help="experiment folder (created; rerun to resume)"
    )
    add_engine_options(p)
    add_style_options(p)


def run_experiment(args: argparse.Namespace, experiment: planning.Experiment) -> int:
    """Run (or resume) ``experiment`` into ``args.output`` with a progress bar; say what was done."""
    try:
        import matplotlib  # noqa: F401  (the loss plot needs it; say so now, not after the run)
    except ImportError:
        raise InputError(
            "experiments draw loss plots with matplotlib, which is missing: pip install matplotlib"
        ) from None
    device = engine_device(args)
    engine = engine_from_args(args)
    from nst.experiments import runner

    plan = runner.prepare(experiment, Path(args.output))
    total = len(experiment.cells)
    if not args.quiet and plan.finished:
        print(
            f"resuming {args.output}: {len(plan.finished)} of {total} cells already finished", file=sys.stderr
        )
    bar = None if args.quiet else _Bar(plan, device)
    try:
        data = runner.execute(
            plan, device=device, command=_command(args), on_event=bar.update if bar else None, engine=engine
        )
    finally:
        if bar is not None:
            bar.close()
    if not args.quiet:
        this_run = data["runs"][-1]
        done = "" if data["complete"] else " (not complete)"
        print(
            f"wrote {args.output}{done}: {total} cells ({this_run['cells_run']} run now, "
            f"{this_run['cells_skipped']} already done) in {this_run['wall_seconds']:.1f} s; "
            f"sheet {Path(args.output) / runner.SHEET_NAME}, losses {Path(args.output) / runner.PLOT_NAME}",
            file=sys.stderr,
        )
    return EXIT_OK


def _max_iterations(config: StyleConfig, device: str) -> int:
    return sum(iterations for _, iterations in config.scale_plan(config.resolve_size(device)))


class _Bar:
    """One bar over every iteration of every cell; a cell that converges early jumps to its end."""

    def __init__(self, plan: runner.RunPlan, device: str) -> None:
        from tqdm import tqdm

        self.budget = {c.index: _max_iterations(c.config, device) for c in plan.experiment.cells}
        self.seen = dict.fromkeys(self.budget, 0)
        self.cells, self.finished = len(self.budget), len(plan.finished)
        total = sum(self.budget.values())
        done = sum(self.budget[c.index] for c in plan.finished)
        self.bar = tqdm(total=total, initial=done, unit="it", dynamic_ncols=True, file=sys.stderr)
        self._describe()

    def _describe(self) -> None:
        self.bar.set_description(f"cells {self.finished}/{self.cells}", refresh=False)

    def update(self, event: runner.Event) -> None:
        if event.kind == "progress":
            step = min(event.iteration, self.budget[event.index]) - self.seen[event.index]
            self.seen[event.index] += step
            loss = f", loss {event.loss:.4g}" if event.loss is not None else ""
            self.bar.set_postfix_str(
                f"{event.name}: {event.iteration}/{event.max_iterations}{loss}", refresh=False
            )
            self.bar.update(step)
        elif event.kind == "done":
            self.finished += 1
            self._describe()
            self.bar.update(self.budget[event.index] - self.seen[event.index])
            self.seen[event.index] = self.budget[event.index]

    def close(self) -> None:
        self.bar.close()


def _command(args: argparse.Namespace) -> str:
    """The command line, rebuilt from the parsed options (recorded in the manifest)."""
    words = ["nst", args.command]
    if args.command == "sweep":
        words += [args.content, args.style]
        for param in args.param:
            words += ["--param", param]
    else:
        words += ["--content", *args.content, "--style", *args.style]
    given = getattr(args, "given", None) or set()
    options = {f.name for f in dataclasses.fields(StyleConfig)} | {"preset", "device", "jobs", "engine",
                                                                   "ray_address", "task_cpus", "task_gpus"}
    for name in sorted(given & options):
        value = getattr(args, name, None)
        option = f"--{name.replace('_', '-')}"
        if value is None:
            continue
        if isinstance(value, bool):  # --flag / --no-flag
            words.append(option if value else f"--no-{option[2:]}")
            continue
        shown = (",".join(str(v) for v in value) or "none") if isinstance(value, tuple) else str(value)
        words += [option, shown]
    words += ["-o", args.output]
    return shlex.join(words)
