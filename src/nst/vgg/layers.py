"""VGG-19's layer names in the paper's convention, without torch (configs validate with them)."""

from __future__ import annotations

from collections.abc import Iterable

from nst.errors import InputError

_BLOCK_SIZES = (2, 2, 4, 4, 4)

#: Pooling of the extractor: the paper's average or VGG's own max.
POOLINGS = ("avg", "max")


def _layer_names() -> tuple[str, ...]:
    names: list[str] = []
    for block, convs in enumerate(_BLOCK_SIZES, start=1):
        for conv in range(1, convs + 1):
            names += [f"conv{block}_{conv}", f"relu{block}_{conv}"]
        names.append(f"pool{block}")
    return tuple(names)


#: Every layer, in forward order: conv1_1, relu1_1, conv1_2, relu1_2, pool1, conv2_1, ... pool5.
LAYER_NAMES: tuple[str, ...] = _layer_names()
LAYER_INDEX = {name: i for i, name in enumerate(LAYER_NAMES)}


def check_layer_names(layers: Iterable[str], what: str = "layer") -> None:
    """Raise `InputError` for a name that is not a VGG-19 layer, suggesting the closest."""
    for layer in layers:
        if layer not in LAYER_INDEX:
            import difflib

            close = difflib.get_close_matches(str(layer), LAYER_NAMES, n=1)
            hint = f" (did you mean {close[0]}?)" if close else " (see 'nst layers')"
            raise InputError(f"unknown {what} {layer!r}{hint}")


def deepest(layers: Iterable[str]) -> str:
    """The layer that comes last in the forward pass."""
    return max(layers, key=LAYER_INDEX.__getitem__)
