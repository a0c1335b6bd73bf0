"""Options made from settings: one option per field of `StyleConfig` (or `TrainConfig`) that
`nst.optimise.config.setting` documents, so a setting, its default and its help exist once.

A field ``style_weight: float`` becomes ``--style-weight B``; its parser comes from the annotation:

=============================  ====================================================================
``int``, ``float``             a number (``not an integer: 'x'``)
``int | None``                 a number, or ``auto`` for None
``str``                        as given, among the field's ``choices`` if it has them
``bool``                       ``--x`` / ``--no-x``
``tuple[str, ...]``            a comma list of layer names (the field's ``empty`` word: none)
``tuple[float|int, ...]``      a comma list of numbers (``| None``: the same, None by default)
``float | tuple[float, ...]``  one number, or a comma list of them
=============================  ====================================================================
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any

from nst.cli.options import add_device_option, comma_list, number
from nst.optimise.config import StyleConfig
from nst.optimise.presets import PRESETS

#: The titles of the two groups of style options in `--help`.
STYLE_GROUPS = {
    "basic": "style settings (nst's defaults; --preset paper for the paper's method)",
    "expert": "expert style settings (what each does and why: docs/method.md)",
}


def add_settings(
    groups: Mapping[str, Any],
    cls: type,
    *,
    shown: Mapping[str, str] | None = None,
    notes: Mapping[str, str] | None = None,
) -> None:
    """Add an option for every documented field of the dataclass ``cls`` to ``groups[its group]``
    (argument groups or parsers, keyed by `nst.optimise.config.SETTING_GROUPS`). ``shown`` replaces
    the default a field's help states (for a command where its default means something else);
    ``notes`` follow it."""
    hints = _hints(cls)
    for field in dataclasses.fields(cls):
        meta = field.metadata
        if "help" not in meta:
            continue
        name = "--" + field.name.replace("_", "-")
        default = (shown or {}).get(field.name, meta.get("shown", _shown(field.default)))
        said = [part for part in (default, (notes or {}).get(field.name)) if part]
        text = meta["help"] + (f" (default: {'; '.join(said)})" if said else "")
        options: dict[str, Any] = {"default": field.default, "help": text.replace("%", "%%")}
        if "metavar" in meta:
            options["metavar"] = meta["metavar"]
        if "choices" in meta:
            options["choices"] = meta["choices"]
        options.update(_parsing(name, hints[field.name], meta))
        groups[meta["group"]].add_argument(name, **options)


def add_style_options(
    parser: argparse.ArgumentParser,
    *,
    size: str | None = None,
    before_expert: Callable[[argparse.ArgumentParser], None] | None = None,
) -> None:
    """`--preset` and every `StyleConfig` setting, basic first and expert after, then `--device` and
    `--quiet`. ``size``: the default of --size as this command has it; ``before_expert`` adds the
    command's own group between the two."""
    basic = parser.add_argument_group(STYLE_GROUPS["basic"])
    basic.add_argument(
        "--preset",
        choices=tuple(PRESETS),
        help="start from a named set of settings (README 'Presets'); options you give override it",
    )
    if before_expert is not None:
        before_expert(parser)
    expert = parser.add_argument_group(STYLE_GROUPS["expert"])
    add_settings({"basic": basic, "expert": expert}, StyleConfig, shown={"size": size} if size else None,
                 notes=_the_papers())
    add_device_option(parser)
    parser.add_argument("--quiet", action="store_true", help="no progress bar or summary")


def settings_from_args(args: argparse.Namespace, cls: type, base: Any = None) -> Any:
    """The ``cls`` settings named by parsed options: ``base`` (default: ``cls()``) with the options
    given on the command line (recorded by `nst.cli.main` in ``args.given``; all of them without
    it). Validated as any new settings are."""
    names = {f.name for f in dataclasses.fields(cls) if "help" in f.metadata}
    given = getattr(args, "given", None)
    changes = {k: v for k, v in vars(args).items() if k in names and (given is None or k in given)}
    return dataclasses.replace(cls() if base is None else base, **changes)


def config_from_args(args: argparse.Namespace) -> StyleConfig:
    """The `StyleConfig` named by parsed options (validated): with ``--preset``, the preset's
    settings replace the defaults, and the options given replace the preset's."""
    preset = getattr(args, "preset", None)
    return settings_from_args(args, StyleConfig, StyleConfig.preset(preset) if preset else None)


@functools.cache
def _the_papers() -> dict[str, str]:
    """"the paper's: X" for each setting whose default is not the paper's method (its preset)."""
    ours, paper = StyleConfig(), StyleConfig.preset("paper")
    return {
        f.name: f"the paper's: {_shown(getattr(paper, f.name))}"
        for f in dataclasses.fields(StyleConfig)
        if getattr(ours, f.name) != getattr(paper, f.name)
    }


# --------------------------------------------------------------------------- from annotations to parsers


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _parsing(name: str, hint: Any, meta: Mapping[str, Any]) -> dict[str, Any]:
    """argparse's ``type`` (or ``action``) for a field annotated ``hint``."""
    members = typing.get_args(hint) if isinstance(hint, types.UnionType) else (hint,)
    optional = type(None) in members
    members = tuple(m for m in members if m is not type(None))
    if members == (bool,):
        return {"action": argparse.BooleanOptionalAction}
    if members in ((int,), (float,)):
        return {"type": _auto(members[0]) if optional else number(members[0])}
    if members == (str,):
        return {}
    if len(members) == 1 and typing.get_origin(members[0]) is tuple:
        item = typing.get_args(members[0])[0]
        if item is str:
            return {"type": _layer_list(name, meta.get("empty"))}
        return {"type": comma_list(item, name)}
    if len(members) == 2 and members[0] in (int, float) and typing.get_origin(members[1]) is tuple:
        return {"type": _one_or_many(members[0], name)}
    raise TypeError(f"{name}: no option type for a setting annotated {hint}")


def _auto(kind: Callable[[str], Any]) -> Callable[[str], Any]:
    """A number, or 'auto' for None (the setting's automatic choice)."""
    one = number(kind)

    def parse(text: str) -> Any:
        return None if text.strip().lower() == "auto" else one(text)

    return parse


def _layer_list(name: str, empty: str | None) -> Callable[[str], tuple[str, ...]]:
    """'conv5_1,conv4_1' -> the names; with an ``empty`` word, it (or nothing) gives ()."""
    names = comma_list(str, name)

    def parse(text: str) -> tuple[str, ...]:
        if empty is not None and text.strip().lower() in ("", empty):
            return ()
        return names(text)

    return parse


def _one_or_many(kind: Callable[[str], Any], name: str) -> Callable[[str], Any]:
    """'0.8' -> 0.8; '0.9,0.8' -> (0.9, 0.8)."""
    numbers = comma_list(kind, name)

    def parse(text: str) -> Any:
        values = numbers(text)
        return values[0] if len(values) == 1 else values

    return parse


def _shown(value: Any) -> str:
    """A default as the help states it."""
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, tuple):
        return ",".join(_shown(v) for v in value) or "none"
    if isinstance(value, float):
        return f"{value:g}"
    return "auto" if value is None else str(value)

