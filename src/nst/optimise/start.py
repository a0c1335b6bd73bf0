"""Where each pyramid level of the optimisation starts: the photo, noise, another engine's picture
(``init="instant"``, ``init="model:NAME"``), an image file, or the level below it."""

from __future__ import annotations

import torch

from nst.image import ImageSource, load_image, tensor_to_pil
from nst.optimise.config import StyleConfig


def initial_image(config: StyleConfig, content: torch.Tensor, painted: torch.Tensor | None) -> torch.Tensor:
    """The first level's starting picture: the photo, seeded noise, or a picture (``painted`` or
    ``config.init``'s file) resized to the level."""
    if config.init == "content":
        return content.clone()
    if config.init == "noise":
        generator = torch.Generator().manual_seed(config.seed)
        return torch.rand(content.shape, generator=generator).to(content.device)
    h, w = content.shape[-2:]
    start = painted if painted is not None else load_image(config.init).to(content.device)
    return torch.nn.functional.interpolate(start, size=(h, w), mode="bicubic", align_corners=False).clamp(
        0, 1
    )


def painted_start(config: StyleConfig, content: ImageSource, styles: list[ImageSource], blend: tuple[float, ...],
                 size: int, device: str | torch.device) -> torch.Tensor | None:
    """With ``init="model:NAME"`` the style model's picture of the photo at the final size, with
    ``init="instant"`` the any-painting engine's (the optimisation then starts from it, resized to
    each run's first level); None otherwise."""
    photo = load_image(content, size).to(device)
    if config.init == "instant":
        from nst.universal.config import InstantConfig  # the any-painting engine, only for this start
        from nst.universal.paint import AnyPainting

        picture = AnyPainting.load(device=device).paint(
            photo, [tensor_to_pil(s[0] if s.dim() == 4 else s) if isinstance(s, torch.Tensor) else s for s in styles],
            InstantConfig(size=size, style_blend=blend if len(styles) > 1 else None))
        return load_image(picture).to(device)
    name = config.init_model
    if name is None:
        return None
    from nst.models.torch_model import StyleModel  # the feed-forward engine, only for this start

    return StyleModel.load(name, device).paint_tensor(photo)


def next_level_start(previous: torch.Tensor, content: torch.Tensor) -> torch.Tensor:
    """The start of a pyramid level: the last level's picture, upsampled (bicubic) to the size of
    ``content``."""
    def resize(x: torch.Tensor, size: tuple[int, ...]) -> torch.Tensor:
        smaller = size[0] < x.shape[-2]  # antialiasing only when shrinking (it changes the kernel)
        return torch.nn.functional.interpolate(x, size=size, mode="bicubic", align_corners=False, antialias=smaller)

    return resize(previous, content.shape[-2:]).clamp(0, 1)
