"""`--param NAME=V1,V2,...`: parse values by the type of the `StyleConfig` field, expand the product.

Values are typed by the field's annotation, so the parser follows `StyleConfig` as it gains
fields. Commas separate the values being compared; `+` joins the items of one tuple value
(``style_layers=conv1_1+conv2_1,conv1_1+conv2_1+conv3_1``); ``none`` is None where a field
allows it.
"""

from __future__ import annotations

import dataclasses
import difflib
import itertools
import re
import types
import typing
from dataclasses import dataclass
from typing import Any

from nst.errors import InputError
from nst.optimise.config import StyleConfig

#: Joins the items of a tuple-valued setting. A '+' after 'e' belongs to a number ("1e+4").
TUPLE_JOIN = "+"
_TUPLE_SPLIT = re.compile(r"(?<![eE])\+")
_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}


@dataclass(frozen=True)
class Param:
    """One varied setting: a `StyleConfig` field and the values to try, in the order given."""

    name: str
    values: tuple[Any, ...]


def field_types() -> dict[str, Any]:
    """Each `StyleConfig` field's resolved type annotation."""
    hints = typing.get_type_hints(StyleConfig)
    return {f.name: hints[f.name] for f in dataclasses.fields(StyleConfig)}


def parse_param(text: str) -> Param:
    """``"style_weight=1e4,5e3"`` -> Param("style_weight", (10000.0, 5000.0)); InputError if bad."""
    name, sep, raw = text.partition("=")
    name = name.strip().replace("-", "_")
    if not sep or not name:
        raise InputError(f"--param {text!r}: expected NAME=VALUE1,VALUE2,... (e.g. style_weight=1e4,5e3)")
    types_ = field_types()
    if name not in types_:
        close = difflib.get_close_matches(name, list(types_), n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        raise InputError(f"--param {text!r}: unknown setting {name!r}{hint}")
    items = [item.strip() for item in raw.split(",")]
    if not raw.strip() or any(not item for item in items):
        raise InputError(f"--param {text!r}: needs a non-empty comma-separated list of values")
    values = tuple(_convert(item, types_[name], name) for item in items)
    seen: list[Any] = []
    for item, value in zip(items, values, strict=True):
        if value in seen:
            raise InputError(f"--param {text!r}: value {item!r} is listed twice")
        seen.append(value)
    return Param(name, values)


def parse_params(texts: typing.Sequence[str]) -> list[Param]:
    """Parse every ``--param``; a setting may be varied by one ``--param`` only."""
    if not texts:
        raise InputError("give at least one --param NAME=VALUE1,VALUE2,...")
    params = [parse_param(t) for t in texts]
    names = [p.name for p in params]
    for name in names:
        if names.count(name) > 1:
            raise InputError(f"--param {name} is given more than once; list all its values in one --param")
    return params


def expand(base: StyleConfig, params: typing.Sequence[Param]) -> list[tuple[dict[str, Any], StyleConfig]]:
    """The cartesian product of the values, the first parameter varying slowest.

    Returns (the varied values, the complete validated config) per combination; a combination
    `StyleConfig` rejects raises InputError naming it.
    """
    combos = []
    for values in itertools.product(*(p.values for p in params)):
        varied = {p.name: v for p, v in zip(params, values, strict=True)}
        try:
            config = base.with_changes(**varied)
        except InputError as exc:
            shown = ", ".join(f"{k}={format_value(v)}" for k, v in varied.items())
            raise InputError(f"--param {shown}: {exc}") from None
        combos.append((varied, config))
    return combos


def format_value(value: Any) -> str:
    """How a value is shown in captions, file names and error messages (inverse of parsing)."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (tuple, list)):
        return TUPLE_JOIN.join(format_value(v) for v in value)
    return str(value)


def json_value(value: Any) -> Any:
    """JSON-ready form of a setting's value (tuples become lists, as in `StyleConfig.to_dict`)."""
    return [json_value(v) for v in value] if isinstance(value, (tuple, list)) else value


def _convert(text: str, kind: Any, name: str) -> Any:
    """Convert one value to ``kind`` (a field annotation) or raise InputError saying what was expected."""
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin in (typing.Union, types.UnionType):
        if type(None) in args and text.lower() == "none":
            return None
        others = [a for a in args if a is not type(None)]
        if len(others) == 2 and typing.get_args(others[1]) == (others[0], Ellipsis):
            # One value or one per item (salient_quantile=0.8 or 0.9+0.8).
            return _convert(text, others[1] if _TUPLE_SPLIT.search(text) else others[0], name)
        if len(others) != 1:
            raise InputError(f"--param {name}: this setting cannot be varied from the command line")
        return _convert(text, others[0], name)
    if origin is tuple:
        if len(args) != 2 or args[1] is not Ellipsis:
            raise InputError(f"--param {name}: this setting cannot be varied from the command line")
        parts = [p.strip() for p in _TUPLE_SPLIT.split(text)]
        if any(not p for p in parts):
            raise InputError(f"--param {name}: {text!r} has an empty item (join items with '{TUPLE_JOIN}')")
        return tuple(_convert(p, args[0], name) for p in parts)
    if kind is bool:
        lowered = text.lower()
        if lowered in _TRUE | _FALSE:
            return lowered in _TRUE
        raise InputError(f"--param {name}: {text!r} is not true or false")
    if kind is int:
        try:
            return int(text)
        except ValueError:
            raise InputError(f"--param {name}: {text!r} is not an integer") from None
    if kind is float:
        try:
            return float(text)
        except ValueError:
            raise InputError(f"--param {name}: {text!r} is not a number") from None
    if kind is str:
        return text
    raise InputError(f"--param {name}: this setting cannot be varied from the command line")
