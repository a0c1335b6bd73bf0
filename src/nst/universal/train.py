"""Training the any-painting decoder on photos alone.

Each batch of photo crops is encoded to relu4_1; part of the batch first takes the statistics of
another (colour-jittered) photo through WCT or AdaIN. The decoder, given a random share of the
photo's detail bands, learns to turn the features back into a picture whose own features match them: its relu4_1 against the target, and for the
untouched part the shallower layers and the pixels against the photo; for the transferred part
the per-channel mean and spread of every layer against the donor's. No painting is used.

A checkpoint is written atomically every `checkpoint_seconds`; ``resume=True`` continues on the
same sequence of batches.
"""

from __future__ import annotations

import contextlib
import math
import os
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from nst._version import __version__
from nst.atomic import save_torch_atomically
from nst.errors import InputError
from nst.training import (
    PhotoSet,
    load_photos,
    random_crops,
    read_checkpoint,
    rng_from_list,
    rng_to_list,
    stage_of,
)
from nst.universal.config import DecoderTrainConfig
from nst.universal.network import ENCODER_LAYER, LOSS_LAYERS, Decoder, detail_bands
from nst.universal.store import DecoderCard, load_decoder, save_decoder
from nst.universal.transforms import adain, wct
from nst.vgg.features import FEATURE_RMS, VGG19Features
from nst.vgg.weights import load_weights

CHECKPOINT_FORMAT = "nst-decoder-checkpoint"
CHECKPOINT_VERSION = 1


@dataclass(frozen=True)
class DecoderProgress:
    """One finished training step, as passed to the callback."""

    step: int
    total_steps: int
    size: int
    terms: dict[str, float]
    elapsed: float
    preview: torch.Tensor | None = None

    @property
    def seconds_left(self) -> float | None:
        return None if self.step == 0 else self.elapsed / self.step * (self.total_steps - self.step)


@dataclass
class DecoderTrainResult:
    decoder: Decoder
    card: DecoderCard
    history: list[dict[str, float]]
    steps: int
    elapsed: float
    stopped: bool
    skipped_photos: list[str] = field(default_factory=list)


def jitter_colours(batch: torch.Tensor, amount: float, generator: torch.Generator) -> torch.Tensor:
    """Random colour mixing, saturation and contrast per picture, so donors reach painters' palettes."""
    n = batch.shape[0]
    eye = torch.eye(3).expand(n, 3, 3)
    mix = eye + amount * 0.5 * torch.randn(n, 3, 3, generator=generator)
    grey = batch.mean(1, keepdim=True)
    saturation = 1 + amount * (2 * torch.rand(n, 1, 1, 1, generator=generator) - 0.5)
    coloured = grey + saturation * (batch - grey)
    mixed = torch.einsum("nij,njhw->nihw", mix, coloured)
    contrast = 1 + amount * (torch.rand(n, 1, 1, 1, generator=generator) - 0.3)
    mean = mixed.mean((1, 2, 3), keepdim=True)
    return (mean + contrast * (mixed - mean)).clamp(0, 1)


def _moment_loss(out: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    o, t = out.flatten(2), target.flatten(2)
    return ((o.mean(2) - t.mean(2)) ** 2).mean() + ((o.std(2) - t.std(2)) ** 2).mean()


class DecoderLoss:
    """The training objective (see the module doc), on features divided by FEATURE_RMS."""

    def __init__(self, config: DecoderTrainConfig, device: torch.device) -> None:
        self.config = config
        self.encoder = VGG19Features(load_weights(config.weights), LOSS_LAYERS, pooling="max").to(
            device, memory_format=torch.channels_last)

    def encode(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        # Channels-last convolutions are about 30% faster on CPUs (oneDNN).
        images = images.contiguous(memory_format=torch.channels_last)
        return {k: v / FEATURE_RMS for k, v in self.encoder(images).items()}

    def targets(self, photos: torch.Tensor, donors: torch.Tensor, transferred: torch.Tensor,
                strengths: torch.Tensor, generator: torch.Generator) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """The relu4_1 features to decode (transformed where ``transferred``) and the statistics targets."""
        with torch.no_grad():
            photo_features = self.encode(photos)
            deep = photo_features[ENCODER_LAYER].clone()
            stats = {k: v.clone() for k, v in photo_features.items()}
            chosen = torch.nonzero(transferred).flatten()
            if len(chosen):
                donor_features = self.encode(donors[chosen])
                for j, i in enumerate(chosen.tolist()):
                    c = deep[i].flatten(1)
                    s = donor_features[ENCODER_LAYER][j].flatten(1)
                    use_wct = bool(torch.rand((), generator=generator) < 0.5)
                    moved = (wct if use_wct else adain)(c.cpu().numpy(), s.cpu().numpy())  # NumPy transforms
                    moved = torch.from_numpy(moved).to(c)
                    deep[i] = (strengths[i] * moved + (1 - strengths[i]) * c).view_as(deep[i])
                for k in LOSS_LAYERS:
                    stats[k][chosen] = donor_features[k]
        return deep, {"photo": photo_features, "stats": stats}  # type: ignore[dict-item]

    def __call__(self, output: torch.Tensor, photos: torch.Tensor, deep: torch.Tensor,
                 targets: dict[str, Any], transferred: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        cfg = self.config
        features = self.encode(output)
        kept = ~transferred
        terms = {"feature": cfg.feature_weight * ((features[ENCODER_LAYER] - deep) ** 2).mean()}
        zero = output.new_zeros(())
        if kept.any():
            shallow = sum(((features[k][kept] - targets["photo"][k][kept]) ** 2).mean() for k in LOSS_LAYERS[:-1])
            terms["shallow"] = cfg.shallow_weight * shallow
            terms["pixel"] = cfg.pixel_weight * ((output[kept] - photos[kept]) ** 2).mean()
        else:
            terms["shallow"] = terms["pixel"] = zero
        if transferred.any():
            terms["moments"] = cfg.moment_weight * sum(
                _moment_loss(features[k][transferred], targets["stats"][k][transferred]) for k in LOSS_LAYERS)
        else:
            terms["moments"] = zero
        return sum(terms.values()), terms  # type: ignore[return-value]


def train_decoder(
    photos: str | os.PathLike | PhotoSet,
    output: str | os.PathLike,
    config: DecoderTrainConfig | None = None,
    *,
    device: str | torch.device = "cpu",
    resume: bool = False,
    callback: Callable[[DecoderProgress], bool | None] | None = None,
    photos_source: str = "",
    init: str | os.PathLike | None = None,
) -> DecoderTrainResult:
    """Train the any-painting decoder on the photos in ``photos`` and save it to ``output``;
    ``init``: a decoder file to continue from (a longer training) instead of random weights.

    The checkpoint ``OUTPUT.ckpt`` receives the training state periodically and when the
    callback stops the run (returns True); ``resume=True`` continues from it.
    """
    config = config or DecoderTrainConfig()
    device = torch.device(device)
    output = Path(output)
    if not output.parent.is_dir():
        raise InputError(f"output folder '{output.parent}' does not exist")
    ckpt_path = output.with_name(output.name + ".ckpt")
    if not isinstance(photos, PhotoSet):
        photos = load_photos(photos, shorter_side=max(config.sizes) * 5 // 4)
    if len(photos.images) < config.min_photos:
        raise InputError(f"only {len(photos.images)} usable photos in the photos folder "
                         f"(need at least {config.min_photos}; {len(photos.skipped)} files skipped)")
    identity = {"config": config.to_dict(), "photos": photos.fingerprint, "init": str(init or "")}
    torch.manual_seed(config.seed)
    decoder = Decoder(config.width)
    continued_from: dict[str, Any] = {}
    if init is not None:
        start, start_card = load_decoder(init)
        if start.width != config.width:
            raise InputError(f"decoder '{init}' has width {start.width}, the training {config.width}")
        decoder.load_state_dict(start.state_dict())
        continued_from = start_card.to_dict()  # its steps and time add to this training's
    decoder = decoder.to(device, memory_format=torch.channels_last)
    optimizer = torch.optim.Adam(decoder.parameters(), lr=config.lr)
    rng = random.Random(config.seed)
    generator = torch.Generator().manual_seed(config.seed)
    history: list[dict[str, float]] = []
    step, elapsed_before = 0, 0.0
    if resume:
        if not ckpt_path.exists():
            raise InputError(f"nothing to resume: no checkpoint '{ckpt_path}'")
        state = read_checkpoint(ckpt_path, CHECKPOINT_FORMAT, CHECKPOINT_VERSION, "decoder training")
        if state["identity"] != identity:
            raise InputError(f"checkpoint '{ckpt_path}' belongs to other photos or settings")
        decoder.load_state_dict(state["decoder"])
        optimizer.load_state_dict(state["optimizer"])
        rng.setstate(rng_from_list(state["rng"]))
        generator.set_state(state["generator"])
        history, step, elapsed_before = state["history"], state["step"], state["elapsed"]
    elif ckpt_path.exists():
        raise InputError(f"a checkpoint '{ckpt_path}' of an earlier run exists: pass --resume to continue it, "
                         "or remove it to start afresh")
    loss = DecoderLoss(config, device)
    preview_photo = random_crops(photos.images[:1], max(config.sizes), 1, random.Random(1)).to(device)
    started = time.perf_counter()

    def save_state() -> None:
        save_torch_atomically({
            "format": CHECKPOINT_FORMAT, "version": CHECKPOINT_VERSION, "identity": identity,
            "decoder": decoder.state_dict(), "optimizer": optimizer.state_dict(),
            "rng": rng_to_list(rng.getstate()), "generator": generator.get_state(),
            "history": history, "step": step, "elapsed": elapsed_before + time.perf_counter() - started,
        }, ckpt_path)

    last_save = started
    stopped = False
    decoder.train()
    while step < config.total_iterations:
        size = config.sizes[stage_of(step, config.iterations)]
        batch = random_crops(photos.images, size, config.batch_size, rng).to(device)
        donors = jitter_colours(batch.roll(1, 0).cpu(), config.donor_jitter, generator).to(device)
        transferred = (torch.rand(config.batch_size, generator=generator) < config.transfer_share).to(device)
        strengths = (0.3 + 0.7 * torch.rand(config.batch_size, generator=generator)).to(device)
        deep, targets = loss.targets(batch, donors, transferred, strengths, generator)
        # The share of the photo's detail bands the decoder is given: none for a fifth of the
        # pictures, so it also paints without them, else anything up to all.
        detail = torch.rand(config.batch_size, 1, 1, 1, generator=generator)
        detail = torch.where(torch.rand(config.batch_size, 1, 1, 1, generator=generator) < 0.2, 0.0, detail)
        painted = decoder(deep * FEATURE_RMS, detail_bands(batch), detail.to(device))
        total, terms = loss(painted, batch, deep, targets, transferred)
        optimizer.zero_grad(set_to_none=True)
        total.backward()
        optimizer.step()
        values = {k: float(v.detach()) for k, v in terms.items()} | {"total": float(total.detach())}
        if not math.isfinite(values["total"]):
            raise InputError("training diverged (the loss is not finite); try a smaller lr")
        history.append(values)
        step += 1
        preview = None
        if config.preview_every and (step % config.preview_every == 0 or step == config.total_iterations):
            decoder.eval()
            with torch.no_grad():
                features = loss.encoder(preview_photo)[ENCODER_LAYER]
                preview = torch.cat([decoder(features, detail_bands(preview_photo), d) for d in (0.0, 1.0)], -1)
                preview = preview.clamp(0, 1).cpu()
            decoder.train()
        now = time.perf_counter()
        progress = DecoderProgress(step, config.total_iterations, size, values, elapsed_before + now - started, preview)
        if callback is not None and callback(progress) and step < config.total_iterations:
            save_state()
            stopped = True
            break
        if now - last_save >= config.checkpoint_seconds and step < config.total_iterations:
            save_state()
            last_save = now
    elapsed = elapsed_before + time.perf_counter() - started
    decoder.eval()
    card = DecoderCard(width=config.width, photos=len(photos.images), photos_fingerprint=photos.fingerprint,
                       photos_source=photos_source, steps=step, seconds=round(elapsed, 1), device=device.type,
                       config=config.to_dict(), nst_version=__version__, continued_from=continued_from)
    if not stopped:
        save_decoder(decoder, card, output)
        with contextlib.suppress(FileNotFoundError):
            ckpt_path.unlink()
    return DecoderTrainResult(decoder, card, history, step, elapsed, stopped, list(photos.skipped))
