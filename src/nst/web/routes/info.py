"""GET /api/info: version, device, defaults, presets, models, the any-painting engine, limits and
queue counts."""

from __future__ import annotations

import dataclasses

from fastapi import APIRouter

import nst
from nst._version import __version__
from nst.optimise.config import PRESERVE_COLOR_MODES
from nst.optimise.presets import PRESET_SUMMARIES, PRESETS
from nst.web.dependencies import ServerDep
from nst.web.guard import STROKE_SCALES
from nst.web.instant import card_summary
from nst.web.schemas import INSTANT_SIZE, InfoOut, ModelOut

router = APIRouter(tags=["server"])


@router.get("/api/info", response_model=InfoOut)
def info(server: ServerDep) -> InfoOut:
    """Version, device, defaults, presets, limits and queue counts: what a client needs to start."""
    defaults = nst.StyleConfig()
    limits = server.limits
    return InfoOut(
        version=__version__,
        device=server.device,
        defaults=defaults.to_dict(),
        default_size=min(defaults.resolve_size(server.device.split(":")[0]), limits.max_size),
        presets={name: nst.StyleConfig.preset(name).to_dict() for name in PRESETS},
        preset_summaries=dict(PRESET_SUMMARIES),
        preserve_color_modes=list(PRESERVE_COLOR_MODES),
        models=[ModelOut(**card_summary(card)) for card in server.painter.cards()],
        instant_size=min(INSTANT_SIZE, limits.max_size),
        anypainting=server.anypainting.available(),
        stroke_scales=list(STROKE_SCALES),
        limits=dataclasses.asdict(limits),
        counts=server.store.counts(),
    )
