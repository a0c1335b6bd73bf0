"""Every default of training a style model, once (the CLI's `nst train` reads them from here).

The losses are nst's own (calibrated VGG-19 features, the paper's content loss, a Gram style loss
relative to the painting's at each layer, a little total variation): the layers and the
total-variation weight come from `StyleConfig`, so a model and an optimisation aim at the same
kind of picture; layer weights and pooling are the paper's (see their comment). What differs from
Johnson et al. (2016) and why is in each field's comment and in docs/instant.md.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from nst.errors import InputError
from nst.optimise.config import StyleConfig, setting
from nst.optimise.fixed import LAPLACIAN_SIZE, SUBJECT_LAYER

_STYLE = StyleConfig()
#: The style losses training can use (`TrainConfig.style_loss`), the default first.
STYLE_LOSSES = ("relative", "paper")
#: The precisions training can run in (`TrainConfig.precision`), the default first.
PRECISIONS = ("bf16", "fp32")


@dataclass(frozen=True)
class TrainConfig:
    """Settings of one training run of an image transformation network. A field made with `setting`
    is an option of `nst train`; the others are fixed (the losses' layers, pooling, weights)."""

    # Coarse-to-fine training: `iterations[i]` steps on `sizes[i]` px square crops. The network
    # learns colours and strokes at the cheap small size (a step at 128 px costs about a quarter
    # of one at 256 px) and fine detail at the last. Johnson et al.: 40,000 steps at 256 px.
    sizes: tuple[int, ...] = setting(
        (128, 256), "crop size of each training stage in px, coarse to fine", group="basic", metavar="N,.."
    )
    iterations: tuple[int, ...] = setting((1200, 300), "steps of each stage", group="basic", metavar="N,..")
    batch_size: int = setting(4, "photos in each step", metavar="N")
    # Adam, as Johnson et al.
    lr: float = setting(1e-3, "Adam's step size", metavar="X")
    # The losses: nst's calibrated alpha, layers and total variation (StyleConfig), so a model
    # aims at the picture the optimisation paints. Beta is the paper's 1e4, as the shipped models
    # were trained, not StyleConfig's: its larger beta serves max pooling and the optimisation's
    # pyramid, and with average pooling 5e4 painted over the photo's detail (docs/instant.md).
    content_weight: float = setting(
        _STYLE.content_weight, "alpha, weight of the content loss", group="basic", metavar="A"
    )
    style_weight: float = setting(1e4, "beta, weight of the style loss", group="basic", metavar="B")
    # Deviation: conv2_2 besides the paper's conv4_2. An optimisation starts from the photo and
    # keeps its edges; a network paints from nothing, and with conv4_2 alone it kept the layout
    # but lost faces and windows (Johnson et al. use relu2_2 alone).
    content_layers: tuple[str, ...] = ("conv2_2", *_STYLE.content_layers)
    style_layers: tuple[str, ...] = _STYLE.style_layers
    # Unit layer weights and average pooling, the paper's, as the shipped models were trained
    # (their fine-tunings set their own weights). Not StyleConfig's: its layer weights serve a
    # coarse-to-fine optimisation (conv5_1 off at the coarse levels), which a network trained at
    # one scale does not have.
    style_layer_weights: tuple[float, ...] | None = setting(
        None,
        "a weight per style layer, conv1_1 to conv5_1: more on the first paints more brush texture "
        "without the deep layers' objects",
        metavar="W1,...,W5", shown="1 each",
    )
    # Deviation: "relative", each layer's squared Gram difference over the painting's own, so every
    # layer counts alike. With the paper's E_l conv5_1 took about 60% of a trained model's style
    # loss (The Starry Night) and the brush texture of conv2_1 to conv4_1 stayed furthest from the
    # painting. From scratch (1000 steps, 12 validation photos) it carried more of the painting and
    # kept more of the photo than "paper" (docs/instant.md).
    style_loss: str = setting(
        "relative", "the style loss: each layer's Gram difference relative to the painting's (every layer "
        "alike), or the paper's", choices=STYLE_LOSSES,
    )
    tv_weight: float = setting(_STYLE.tv_weight, "total-variation smoothing weight", metavar="W")
    # The optimisation's two ways of keeping the photo, for training: each crop's subject (its
    # strong SUBJECT_LAYER response) weighs up to this many times more in the content loss (1: all
    # alike), and the outline term holds its luminance outlines averaged to LAPLACIAN_SIZE px (0: off).
    subject_weight: float = setting(1.0, "the photo's subject weighs up to this many times more in the content "
                                    "loss (1: every position alike)", metavar="X")
    subject_layer: str = SUBJECT_LAYER
    laplacian_weight: float = setting(0.0, "weight of the outline term that holds the photo's outlines (0: off)",
                                      metavar="W")
    laplacian_size: int = LAPLACIAN_SIZE
    pooling: str = "avg"
    weights: str = _STYLE.weights
    # The painting's longest side in px when its Gram matrices are taken: sets the size of the
    # brush strokes the model paints, in pixels of its output. 512: strokes as in a 512 px
    # rendition of the painting, the size the models are mostly applied at.
    style_size: int = setting(
        512, "the painting's longest side in px for its Gram matrices: sets the stroke size", group="basic",
        metavar="N",
    )
    # Network width: channels of the first layer (Johnson et al.: 32). 16 paints a 512 px picture
    # about four times faster on a CPU (docs/instant.md), 1.7 MB of weights instead of 6.7 MB.
    width: int = setting(16, "channels of the network's first layer (Johnson et al.: 32)", metavar="N")
    residual_blocks: int = setting(5, "residual blocks at a quarter of the resolution", metavar="N")
    seed: int = setting(0, "random seed", metavar="N")
    # bfloat16 autocast for the VGG loss network and the model on CPUs that support it (about
    # 1.9x faster there); Gram matrices and losses stay in float32. "fp32" turns it off.
    precision: str = setting(
        "bf16", "bf16 autocast where the CPU or GPU supports it, or fp32", choices=PRECISIONS
    )
    # At least this many readable photos are needed (fewer would overfit a few pictures).
    min_photos: int = 8
    # A preview of the model on a fixed photo every this many steps (0: none).
    preview_every: int = setting(200, "write MODEL-preview.png every N steps; 0: never", metavar="N")
    # Save the training state for --resume every this many seconds.
    checkpoint_seconds: float = 60.0

    def __post_init__(self) -> None:
        if not self.sizes or len(self.sizes) != len(self.iterations):
            raise InputError("sizes and iterations need one entry each per training stage")
        if any(size < 64 for size in self.sizes):
            raise InputError("training sizes must be at least 64 px")
        if any(n < 0 for n in self.iterations) or sum(self.iterations) < 1:
            raise InputError("iterations must be non-negative with at least one step in all")
        for name in ("batch_size", "width", "residual_blocks", "style_size", "min_photos"):
            if getattr(self, name) < 1:
                raise InputError(f"{name} must be at least 1")
        if self.lr <= 0:
            raise InputError("lr must be positive")
        if self.precision not in PRECISIONS:
            raise InputError(f"precision must be {_either(PRECISIONS)}, got {self.precision!r}")
        if self.style_loss not in STYLE_LOSSES:
            raise InputError(f"style_loss must be {_either(STYLE_LOSSES)}, got {self.style_loss!r}")
        if self.style_layer_weights is not None and len(self.style_layer_weights) != len(self.style_layers):
            raise InputError("style_layer_weights needs one weight per style layer")

    @property
    def total_iterations(self) -> int:
        return sum(self.iterations)

    def with_changes(self, **changes: Any) -> TrainConfig:
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return {f.name: (list(v) if isinstance(v := getattr(self, f.name), tuple) else v)
                for f in dataclasses.fields(self)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        known = {f.name: f for f in dataclasses.fields(cls)}
        values = {k: (tuple(v) if isinstance(v, list) else v) for k, v in data.items() if k in known}
        values.setdefault("style_loss", "paper")  # settings saved before it existed were trained so
        return cls(**values)


def _either(choices: tuple[str, ...]) -> str:
    """'a' or 'b' (or 'c'), for errors that name the allowed values."""
    return " or ".join(repr(choice) for choice in choices)
