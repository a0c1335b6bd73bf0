"""Training an image transformation network on nst's own perceptual losses (Johnson et al. 2016).

One painting, a folder of photos: the network learns to paint any photo so that its calibrated
VGG-19 features match the photo (content) and its Gram matrices match the painting (style), the
same objective the optimisation minimises for one picture. Progress, previews and the end of
each step reach the caller through a callback; the library never prints.

A checkpoint (model, optimiser, data-order generator, history) is written atomically every
`TrainConfig.checkpoint_seconds`, so a run killed at any moment continues from its last
checkpoint with ``resume=True``, on exactly the same sequence of batches.
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

from nst import losses
from nst.atomic import save_torch_atomically
from nst.errors import InputError
from nst.image import load_pil, pil_to_tensor, resize_longest
from nst.models.card import ModelCard
from nst.models.config import TrainConfig
from nst.models.network import TransformerNet
from nst.models.registry import resolve_model
from nst.models.store import load_model, save_model
from nst.optimise.config import StyleConfig
from nst.optimise.objective import compute_style_grams
from nst.training import (
    PhotoSet,
    file_fingerprint,
    load_photos,
    random_crops,
    read_checkpoint,
    rng_from_list,
    rng_to_list,
    stage_of,
)
from nst.vgg.features import VGG19Features
from nst.vgg.weights import load_weights

CHECKPOINT_FORMAT = "nst-train-checkpoint"
CHECKPOINT_VERSION = 1
#: The relative style loss's scale: beta 1e4 then weighs a photo's style about as the paper's loss
#: does (The Starry Night, calibrated features, 256 px crops of BSDS500 photos: 1.5e-3 either way).
RELATIVE_STYLE_SCALE = 1.5e-7


@dataclass(frozen=True)
class TrainProgress:
    """One finished training step, as passed to the callback."""

    step: int
    total_steps: int
    size: int
    content: float
    style: float
    tv: float
    total: float
    elapsed: float
    # A picture of the model on a fixed photo, (1, 3, H, W) in [0, 1], every `preview_every` steps.
    preview: torch.Tensor | None = None

    @property
    def seconds_left(self) -> float | None:
        done = self.step
        return None if done == 0 else self.elapsed / done * (self.total_steps - done)


@dataclass
class TrainResult:
    """What a training run returns. ``stopped`` is True when the callback asked it to stop."""

    model: TransformerNet
    card: ModelCard
    history: list[dict[str, float]]
    steps: int
    elapsed: float
    stopped: bool
    skipped_photos: list[str] = field(default_factory=list)
    photos: int = 0


class PerceptualLoss:
    """Content + Gram style + total variation on calibrated VGG-19 features, for batches."""

    def __init__(self, config: TrainConfig, style: torch.Tensor, device: torch.device):
        self.config = config
        # Every position of the painting counts, as when the shipped models were trained: the
        # optimisation's salient cut (StyleConfig.salient_quantile) has not been tried for training.
        style_config = StyleConfig(
            style_layers=config.style_layers, content_layers=config.content_layers, salient_quantile=1.0
        )
        subject = (config.subject_layer,) if config.subject_weight != 1.0 else ()
        layers = tuple(dict.fromkeys(config.content_layers + config.style_layers + subject))
        self.extractor = VGG19Features(load_weights(config.weights), layers, pooling=config.pooling).to(device)
        # Per-position Gram matrices of the painting; multiplied by each crop size's positions.
        self.style_grams = {k: v[0].to(device) for k, v in compute_style_grams(
            self.extractor, style_config, [style.to(device)]).items()}
        self.layer_weights = config.style_layer_weights or (1.0,) * len(config.style_layers)

    def __call__(self, output: torch.Tensor, photo: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        cfg = self.config
        with torch.no_grad():
            targets = self.extractor(photo)
        features = self.extractor(output)
        content = sum(losses.content_loss(features[k].float(), targets[k].float(), self._subject(targets, k))
                      for k in cfg.content_layers)
        style = output.new_zeros((), dtype=torch.float32)
        for layer, weight in zip(cfg.style_layers, self.layer_weights, strict=True):
            f = features[layer]
            positions = f.shape[-2] * f.shape[-1]
            target = self.style_grams[layer] * positions
            if cfg.style_loss == "relative":
                style = style + weight * RELATIVE_STYLE_SCALE * losses.relative_style_loss(f, target)
            else:
                style = style + weight * losses.style_loss(f, target)
        tv = losses.tv_loss(output.float())
        terms = {"content": cfg.content_weight * content, "style": cfg.style_weight * style,
                 "tv": cfg.tv_weight * tv}
        if cfg.laplacian_weight:
            pool = max(1, round(max(photo.shape[-2:]) / cfg.laplacian_size))
            target = losses.laplacian_target(photo.float(), pool)
            terms["content"] = terms["content"] + cfg.laplacian_weight * losses.laplacian_loss(output.float(), target, pool)
        return terms["content"] + terms["style"] + terms["tv"], terms

    def _subject(self, targets: dict[str, torch.Tensor], layer: str) -> torch.Tensor | None:
        """Each crop's subject weights at ``layer`` (1 everywhere when the subject weight is 1)."""
        cfg = self.config
        if cfg.subject_weight == 1.0:
            return None
        subject = targets[cfg.subject_layer].float()
        size = tuple(targets[layer].shape[-2:])
        return torch.cat([losses.subject_weights(subject[i : i + 1], cfg.subject_weight, size)  # type: ignore[arg-type]
                          for i in range(subject.shape[0])])


def _autocast(config: TrainConfig, device: torch.device) -> contextlib.AbstractContextManager[Any]:
    if config.precision == "bf16" and (device.type == "cuda" or _cpu_has_bf16()):
        return torch.autocast(device_type=device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext()


def _cpu_has_bf16() -> bool:
    try:
        with open("/proc/cpuinfo") as handle:
            flags = handle.read()
        return "avx512_bf16" in flags or "amx_bf16" in flags
    except OSError:
        return False


def _identity(config: TrainConfig, style_hash: str, photos: PhotoSet, init_hash: str | None) -> dict[str, Any]:
    identity = {"config": config.to_dict(), "style": style_hash, "photos": photos.fingerprint}
    if init_hash is not None:
        identity["init"] = init_hash
    return identity


def _init_file(init: str | os.PathLike) -> Path:
    """The torch file of the model to fine-tune: a bundled name or a .pt path (not ONNX)."""
    files = resolve_model(init)
    if files.torch_path is None:
        raise InputError(f"cannot fine-tune '{init}': training needs the torch file (.pt), not ONNX")
    return files.torch_path


def _initial_network(config: TrainConfig, init: Path | None) -> tuple[TransformerNet, ModelCard | None]:
    """A fresh network (seeded), or the weights of the model at ``init`` to fine-tune."""
    torch.manual_seed(config.seed)
    if init is None:
        return TransformerNet(config.width, config.residual_blocks), None
    network, card = load_model(init)
    if (network.width, network.residual_blocks) != (config.width, config.residual_blocks):
        raise InputError(f"cannot fine-tune '{init}': it has width {network.width} and {network.residual_blocks} "
                         f"residual blocks, the settings ask for {config.width} and {config.residual_blocks}")
    return network.requires_grad_(True), card


def train_style_model(
    style_image: str | os.PathLike,
    photos: str | os.PathLike | PhotoSet,
    output: str | os.PathLike,
    config: TrainConfig | None = None,
    *,
    name: str | None = None,
    painting: str | None = None,
    device: str | torch.device = "cpu",
    checkpoint: str | os.PathLike | None = None,
    resume: bool = False,
    callback: Callable[[TrainProgress], bool | None] | None = None,
    init: str | os.PathLike | None = None,
) -> TrainResult:
    """Train a style model for ``style_image`` on the photos in ``photos`` and save it to ``output``.

    ``checkpoint`` (default ``OUTPUT.ckpt``) receives the training state periodically and when the
    callback stops the run; ``resume=True`` continues from it (refused if the painting, the photos
    or the settings differ). The callback may return True to stop; the result then has
    ``stopped=True`` and nothing is written to ``output``. On completion the checkpoint is removed.
    ``init`` (a bundled model's name or a .pt file) fine-tunes that model instead of starting from random weights; its
    card is kept in the new card's ``fine_tuned_from``.
    """
    config = config or TrainConfig()
    device = torch.device(device)
    output = Path(output)
    ckpt_path = Path(checkpoint) if checkpoint is not None else output.with_name(output.name + ".ckpt")
    style_path = Path(style_image)
    style_pil = load_pil(style_path)
    style_hash = file_fingerprint(style_path)
    if not isinstance(photos, PhotoSet):
        photos = load_photos(photos, shorter_side=max(config.sizes) * 5 // 4)
    if len(photos.images) < config.min_photos:
        raise InputError(f"only {len(photos.images)} usable photos in the photos folder "
                         f"(need at least {config.min_photos}; {len(photos.skipped)} files skipped)")
    init_path = _init_file(init) if init is not None else None
    identity = _identity(config, style_hash, photos, file_fingerprint(init_path) if init_path else None)
    model, parent = _initial_network(config, init_path)
    model = model.to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    rng = random.Random(config.seed)
    history: list[dict[str, float]] = []
    step = 0
    elapsed_before = 0.0
    if resume:
        if not ckpt_path.exists():
            raise InputError(f"nothing to resume: no checkpoint '{ckpt_path}'")
        state = read_checkpoint(ckpt_path, CHECKPOINT_FORMAT, CHECKPOINT_VERSION, "training")
        if state["identity"] != identity:
            raise InputError(f"checkpoint '{ckpt_path}' belongs to another painting, photo set or settings; "
                             "start without --resume (after removing it) or train with the same inputs")
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        rng.setstate(rng_from_list(state["rng"]))
        history = state["history"]
        step = state["step"]
        elapsed_before = state["elapsed"]
    elif ckpt_path.exists():
        raise InputError(f"a checkpoint '{ckpt_path}' of an earlier run exists: pass --resume to continue it, "
                         "or remove it to start afresh")

    style = pil_to_tensor(resize_longest(style_pil, config.style_size)).to(device)
    loss = PerceptualLoss(config, style, device)
    preview_photo = pil_to_tensor(resize_longest(photos.images[0], max(config.sizes))).to(device)

    def save_state() -> None:
        save_torch_atomically({
            "format": CHECKPOINT_FORMAT, "version": CHECKPOINT_VERSION, "identity": identity,
            "model": model.state_dict(), "optimizer": optimizer.state_dict(),
            "rng": rng_to_list(rng.getstate()), "history": history, "step": step,
            "elapsed": elapsed_before + time.perf_counter() - started,
        }, ckpt_path)

    started = time.perf_counter()
    last_save = started
    stopped = False
    model.train()
    while step < config.total_iterations:
        size = config.sizes[stage_of(step, config.iterations)]
        batch = random_crops(photos.images, size, config.batch_size, rng).to(device)
        with _autocast(config, device):
            painted = model(batch)
            total, terms = loss(painted, batch)
        optimizer.zero_grad(set_to_none=True)
        total.backward()
        optimizer.step()
        values = {k: float(v.detach()) for k, v in terms.items()} | {"total": float(total.detach())}
        if not math.isfinite(values["total"]):
            raise InputError("training diverged (the loss is not finite); try a smaller --lr")
        history.append(values)
        step += 1
        preview = None
        if config.preview_every and (step % config.preview_every == 0 or step == config.total_iterations):
            preview = _paint(model, preview_photo)
        now = time.perf_counter()
        progress = TrainProgress(step, config.total_iterations, size, values["content"], values["style"],
                                 values["tv"], values["total"], elapsed_before + now - started, preview)
        if callback is not None and callback(progress):
            stopped = step < config.total_iterations
            if stopped:
                save_state()
                break
        if now - last_save >= config.checkpoint_seconds and step < config.total_iterations:
            save_state()
            last_save = now
    elapsed = elapsed_before + time.perf_counter() - started
    model.eval()
    card = ModelCard(
        name=name or output.stem,
        painting=painting or style_path.stem,
        style_file=style_path.name,
        style_sha256=style_hash,
        photos=len(photos.images),
        photos_fingerprint=photos.fingerprint,
        steps=step,
        seconds=round(elapsed, 1),
        device=device.type,
        config=config.to_dict(),
        fine_tuned_from=parent.to_dict() if parent is not None else None,
    )
    if not stopped:
        save_model(model, card, output)
        with contextlib.suppress(FileNotFoundError):
            ckpt_path.unlink()
    return TrainResult(model, card, history, step, elapsed, stopped, list(photos.skipped), len(photos.images))


def _paint(model: TransformerNet, photo: torch.Tensor) -> torch.Tensor:
    model.eval()
    with torch.no_grad():
        out = model(photo).clamp(0, 1).cpu()
    model.train()
    return out
