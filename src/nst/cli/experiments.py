"""`nst sweep` and `nst grid`: argument parsing, checks before any work, and the progress bar."""

from __future__ import annotations

import argparse
import dataclasses
import shlex
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nst.cli.options import (
    EXIT_OK,
    add_engine_options,
    add_style_options,
    config_from_args,
    engine_device,
    engine_from_args,
)
from nst.errors import InputError
from nst.optimise.config import StyleConfig

if TYPE_CHECKING:  # the experiments package loads when a sweep or grid runs, not with `nst --help`
    from nst.experiments import plan as planning
    from nst.experiments import runner


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "-o", "--output", required=True, metavar="DIR", help="experiment folder (created; rerun to resume)"
    )
    add_engine_options(p)
    add_style_options(p)


def add_commands(sub: Any, only: str | None = None) -> None:
    """Add `sweep` and `grid` (or ``only`` one of them) to the `nst` subcommands."""
    if only in (None, "sweep"):
        _add_sweep(sub)
    if only in (None, "grid"):
        _add_grid(sub)


def _add_sweep(sub: Any) -> None:
    p = sub.add_parser(
        "sweep",
        help="one photo and one artwork, with settings varied (e.g. the paper's style weights)",
        description="Stylize CONTENT in the style of STYLE once per combination of the --param values; "
        "write the images, manifest.json, a contact sheet and a loss plot to DIR.",
    )
    p.add_argument("content", help="the photo")
    p.add_argument("style", help="the artwork")
    p.add_argument(
        "--param",
        action="append",
        required=True,
        metavar="NAME=V1,V2,...",
        help="a setting (any of 'nst stylize's, e.g. style_weight) and the values to try; several "
        "--param give every combination; join a list value's items with '+' (style_layers=conv1_1+conv2_1)",
    )
    _common(p)
    p.set_defaults(run=cmd_sweep)


def _add_grid(sub: Any) -> None:
    p = sub.add_parser(
        "grid",
        help="every photo in every artwork's style, side by side",
        description="Stylize each --content image in each --style; write the images, manifest.json, "
        "a contact sheet and a loss plot to DIR.",
    )
    p.add_argument("--content", nargs="+", required=True, metavar="IMAGE", help="photos (the rows)")
    p.add_argument("--style", nargs="+", required=True, metavar="IMAGE", help="artworks (the columns)")
    _common(p)
    p.set_defaults(run=cmd_grid)


def cmd_sweep(args: argparse.Namespace) -> int:
    base = config_from_args(args)
    from nst.experiments import plan as planning
    from nst.experiments.params import parse_params

    params = parse_params(args.param)
    experiment = planning.sweep(args.content, args.style, base, params)
    return _run(args, experiment)


def cmd_grid(args: argparse.Namespace) -> int:
    from nst.experiments import plan as planning

    experiment = planning.grid(args.content, args.style, config_from_args(args))
    return _run(args, experiment)


def _run(args: argparse.Namespace, experiment: planning.Experiment) -> int:
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
        if value is None:
            continue
        shown = ",".join(str(v) for v in value) if isinstance(value, tuple) else str(value)
        words += [f"--{name.replace('_', '-')}", shown]
    words += ["-o", args.output]
    return shlex.join(words)


__all__ = ["add_commands", "cmd_grid", "cmd_sweep"]
