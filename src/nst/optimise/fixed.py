"""What nst fixes instead of asking: constants that were settings once, and the settings it no
longer has (so that a saved run that holds one still reads, or is refused in one line)."""

from __future__ import annotations

from typing import Any

from nst.errors import InputError

#: The loop has converged when the loss fell by less than `StyleConfig.tolerance` over this many
#: iterations: long enough to ride out L-BFGS's uneven steps.
PATIENCE = 20
#: L-BFGS memory: past steps that shape the next (torch's default is 100; most Gatys
#: implementations use 50, with the same pictures at a lower memory).
LBFGS_HISTORY = 50
#: The outline term compares the pictures' Laplacians averaged down to about this many px on the
#: longest side: the photo's large outlines, not its texture.
LAPLACIAN_SIZE = 64
#: The layer whose response strength marks the photo's subject (`StyleConfig.subject_weight`):
#: conv5_1 sees objects whole.
SUBJECT_LAYER = "conv5_1"
#: The style layers from which the painting's strongest positions (a portrait's eyes) are left
#: out (`StyleConfig.salient_quantile`): the ones that see objects, not strokes.
SALIENT_LAYERS: tuple[str, ...] = ("conv4_1", "conv5_1")


#: Settings nst no longer has, each with the one value under which it still paints the same: a
#: saved run (a checkpoint, a manifest, a PNG's settings) holding that value reads as today's.
RETIRED_SETTINGS: dict[str, Any] = {
    "style_loss": "gram", "padding": "zeros", "content_layer_weights": None, "laplacian_size": LAPLACIAN_SIZE,
    "patience": PATIENCE, "history_size": LBFGS_HISTORY, "salient_layers": list(SALIENT_LAYERS),
    "subject_layer": SUBJECT_LAYER, "level_detail": False,
}  # fmt: skip


def without_retired(settings: dict[str, Any]) -> dict[str, Any]:
    """``settings`` less the retired ones at the value nst still paints (`RETIRED_SETTINGS`)."""
    return {k: v for k, v in settings.items() if k not in RETIRED_SETTINGS or RETIRED_SETTINGS[k] != v}


def refuse_retired(settings: dict[str, Any]) -> dict[str, Any]:
    """``settings`` less the retired ones at the value nst still paints; `InputError` naming any
    retired setting at another value."""
    settings = without_retired(settings)
    retired = sorted(k for k in settings if k in RETIRED_SETTINGS)
    if retired:
        raise InputError(
            "setting(s) nst no longer has: "
            + ", ".join(f"{k}={settings[k]!r} (nst now paints as {k}={RETIRED_SETTINGS[k]!r})" for k in retired)
        )
    return settings
