"""What an experiment is: its cells (content, style, settings, file name), laid out in rows and columns.

Planning reads and checks every input, so that a bad image or setting is refused before any work.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nst
from nst.errors import InputError
from nst.experiments.params import Param, expand, format_value, json_value
from nst.optimise.config import StyleConfig

#: Characters kept in cell file names; others become '_'.
_UNSAFE = re.compile(r"[^A-Za-z0-9._+=-]+")
_MAX_NAME = 100


@dataclass(frozen=True)
class InputImage:
    """An input file, named for captions and identified by its bytes (so resume survives a move)."""

    path: Path
    name: str
    sha256: str

    def to_dict(self) -> dict[str, str]:
        return {"name": self.name, "path": str(self.path), "sha256": self.sha256}


@dataclass(frozen=True)
class ModelSpec:
    """A style model painting a batch's photos (instead of an optimisation with a style image)."""

    model: str
    size: int | None = None
    strength: float = 1.0
    preserve_color: str = "none"

    def to_dict(self) -> dict[str, Any]:
        return {"model": self.model, "size": self.size, "strength": self.strength,
                "preserve_color": self.preserve_color}


@dataclass(frozen=True)
class InstantSpec:
    """A batch's paintings painted in seconds by nst.universal (instead of an optimisation)."""

    size: int | None = None
    strength: float = 1.0
    preserve_color: str = "none"
    stroke_scale: float = 1.0

    def to_dict(self) -> dict[str, Any]:
        return {"instant": True, "size": self.size, "strength": self.strength,
                "preserve_color": self.preserve_color, "stroke_scale": self.stroke_scale}


@dataclass(frozen=True)
class Cell:
    """One stylization of the experiment and where it sits on the contact sheet."""

    index: int
    name: str
    row: int
    col: int
    label: str
    content: InputImage
    style: InputImage
    config: StyleConfig
    varied: dict[str, Any] = field(default_factory=dict)
    #: A batch cell painted by a style model (``style`` is then the model's file).
    model: ModelSpec | None = None
    #: A batch cell painted in seconds with any painting (``style`` is the painting).
    instant: InstantSpec | None = None


@dataclass(frozen=True)
class Experiment:
    """A sweep (one content and style, settings varied) or a grid (contents x styles, settings fixed)."""

    kind: str
    base: StyleConfig
    cells: tuple[Cell, ...]
    rows: tuple[str, ...]
    columns: tuple[str, ...]
    contents: tuple[InputImage, ...]
    styles: tuple[InputImage, ...]
    params: tuple[Param, ...] = ()
    #: What the columns vary (a sweep's last parameter; "style" in a grid).
    column_title: str = ""
    #: A batch's photos that could not be read: (path, why), reported and left out.
    skipped: tuple[tuple[str, str], ...] = ()

    def params_dict(self) -> dict[str, list[Any]]:
        return {p.name: [json_value(v) for v in p.values] for p in self.params}


def read_input(path: str | Path, role: str, decode: bool = True) -> InputImage:
    """Check that ``path`` is an image nst can read and fingerprint it; InputError otherwise.

    ``decode=False`` reads only the file's header (a batch: the worker decodes the photo, and
    reports one that breaks later).
    """
    p = Path(path).expanduser()
    if not p.is_file():
        what = "is a directory" if p.is_dir() else "does not exist"
        raise InputError(f"{role} image '{path}' {what}")
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise InputError(f"{role} image '{path}' is unreadable: {exc.strerror or exc}") from None
    if decode:
        nst.load_image(p, 16)  # decodes the whole file: raises InputError for anything Pillow cannot read
    else:
        _check_header(p, role)
    return InputImage(p.resolve(), p.stem, hashlib.sha256(data).hexdigest())


def _check_header(path: Path, role: str) -> None:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            image.size  # noqa: B018  (the header was parsed)
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        raise InputError(f"{role} image '{path}' is not a raster image Pillow can read") from None


def read_inputs(paths: Sequence[str | Path], role: str) -> tuple[InputImage, ...]:
    """Several inputs; the same file twice is refused, equal names are told apart by a suffix."""
    if not paths:
        raise InputError(f"give at least one {role} image")
    images: list[InputImage] = []
    for path in paths:
        image = read_input(path, role)
        if any(other.path == image.path for other in images):
            raise InputError(f"{role} image '{path}' is listed twice")
        names = {other.name for other in images}
        name, n = image.name, 2
        while name in names:
            name, n = f"{image.name}-{n}", n + 1
        images.append(InputImage(image.path, name, image.sha256))
    return tuple(images)


def check_init_images(configs: Sequence[StyleConfig]) -> None:
    """An ``init`` that names a file must be a readable image (checked now, not mid-run)."""
    for config in configs:
        if config.init_model is not None:
            from nst.models.registry import resolve_model

            resolve_model(config.init_model)
    for init in sorted({c.init for c in configs if c.init_is_image}):
        read_input(init, "init")


def file_stem(text: str) -> str:
    """A portable file name stem made of ``text``'s safe characters."""
    return _UNSAFE.sub("_", text).strip("._")[:_MAX_NAME] or "cell"


def _unique(stems: list[str]) -> list[str]:
    out: list[str] = []
    for stem in stems:
        name, n = stem, 2
        while name in out:
            name, n = f"{stem}-{n}", n + 1
        out.append(name)
    return out


def sweep(content: str | Path, style: str | Path, base: StyleConfig, params: Sequence[Param]) -> Experiment:
    """One content and one style image, every combination of ``params`` applied to ``base``.

    Columns are the values of the last parameter; rows are the combinations of the others.
    """
    content_image = read_input(content, "content")
    style_image = read_input(style, "style")
    combos = expand(base, params)
    check_init_images([c for _, c in combos])
    last = params[-1]
    columns = tuple(format_value(v) for v in last.values)
    per_row = len(last.values)
    row_labels = []
    for varied, _ in combos[::per_row]:
        row_labels.append(", ".join(f"{k} = {format_value(v)}" for k, v in varied.items() if k != last.name))
    stems = _unique(
        [file_stem("__".join(f"{k}={format_value(v)}" for k, v in varied.items())) for varied, _ in combos]
    )
    cells = tuple(
        Cell(
            index=i,
            name=stems[i],
            row=i // per_row,
            col=i % per_row,
            label=", ".join(f"{k}={format_value(v)}" for k, v in varied.items()),
            content=content_image,
            style=style_image,
            config=config,
            varied={k: json_value(v) for k, v in varied.items()},
        )
        for i, (varied, config) in enumerate(combos)
    )
    return Experiment(
        "sweep",
        base,
        cells,
        tuple(row_labels),
        columns,
        (content_image,),
        (style_image,),
        tuple(params),
        column_title=last.name,
    )


def grid(contents: Sequence[str | Path], styles: Sequence[str | Path], base: StyleConfig) -> Experiment:
    """Every content image (rows) in every style (columns), with the same settings."""
    content_images = read_inputs(contents, "content")
    style_images = read_inputs(styles, "style")
    check_init_images([base])
    cells = []
    stems = _unique([file_stem(f"{c.name}__{s.name}") for c in content_images for s in style_images])
    for r, c in enumerate(content_images):
        for k, s in enumerate(style_images):
            i = r * len(style_images) + k
            cells.append(
                Cell(
                    index=i,
                    name=stems[i],
                    row=r,
                    col=k,
                    label=f"{c.name} × {s.name}",
                    content=c,
                    style=s,
                    config=base,
                    varied={"content": c.name, "style": s.name},
                )
            )
    return Experiment(
        "grid",
        base,
        tuple(cells),
        tuple(c.name for c in content_images),
        tuple(s.name for s in style_images),
        content_images,
        style_images,
        column_title="style",
    )


def batch(
    photos: Sequence[str | Path],
    base: StyleConfig,
    styles: Sequence[str | Path] = (),
    models: Sequence[ModelSpec] = (),
    instant: InstantSpec | None = None,
) -> Experiment:
    """Every photo (rows) painted with every style image and every style model (columns).

    Photos that cannot be read are left out and listed in ``skipped``; style images and models
    must all be usable (InputError otherwise). With one style or model, each output is named
    after its photo. With ``instant`` the style images are painted by nst.universal, in seconds.
    """
    if not styles and not models:
        raise InputError("give a style image (--style) or a style model (--model)")
    readable: list[InputImage] = []
    skipped: list[tuple[str, str]] = []
    seen: set[Path] = set()
    for path in photos:
        try:
            image = read_input(path, "photo", decode=False)
        except InputError as exc:
            skipped.append((str(path), " ".join(str(exc).split())))
            continue
        if image.path in seen:
            raise InputError(f"photo '{path}' is listed twice")
        seen.add(image.path)
        readable.append(image)
    if not readable:
        raise InputError(f"none of the {len(photos)} photos could be read" + (f" ({skipped[0][1]})" if skipped else ""))
    readable = _renamed(readable)
    columns: list[tuple[InputImage, ModelSpec | None]] = [(s, None) for s in read_inputs(styles, "style")] if styles else []
    check_init_images([base])
    for spec in models:
        columns.append((_model_input(spec), spec))
    names = _renamed([c for c, _ in columns])
    columns = [(named, spec) for named, (_, spec) in zip(names, columns, strict=True)]
    stems = _unique([
        file_stem(p.name if len(columns) == 1 else f"{p.name}__{c.name}") for p in readable for c, _ in columns
    ])
    cells = []
    for r, photo in enumerate(readable):
        for k, (column, spec) in enumerate(columns):
            i = r * len(columns) + k
            cells.append(Cell(
                index=i, name=stems[i], row=r, col=k, label=f"{photo.name} × {column.name}", content=photo,
                style=column, config=base, varied={"content": photo.name, "style": column.name}, model=spec,
                instant=instant if spec is None else None,
            ))
    return Experiment(
        "batch",
        base,
        tuple(cells),
        tuple(p.name for p in readable),
        tuple(c.name for c, _ in columns),
        tuple(readable),
        tuple(c for c, _ in columns),
        column_title="style",
        skipped=tuple(skipped),
    )


def _renamed(images: Sequence[InputImage]) -> list[InputImage]:
    """Equal names told apart by a suffix."""
    out: list[InputImage] = []
    for image in images:
        names = {other.name for other in out}
        name, n = image.name, 2
        while name in names:
            name, n = f"{image.name}-{n}", n + 1
        out.append(InputImage(image.path, name, image.sha256))
    return out


def _model_input(spec: ModelSpec) -> InputImage:
    """A style model as a batch column: its file, its card's name and the file's checksum."""
    from nst.models.loader import load_style_model
    from nst.models.registry import resolve_model

    files = resolve_model(spec.model)
    model = load_style_model(spec.model)  # InputError now for a file that is not a usable model
    path = files.onnx_path if files.onnx_path is not None else files.torch_path
    assert path is not None
    data = Path(path).read_bytes()
    return InputImage(Path(path).resolve(), file_stem(model.card.name), hashlib.sha256(data).hexdigest())
