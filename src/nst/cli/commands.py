"""Every `nst` command, in the order `nst --help` lists them: adding a command is one line here and
a module ``nst.cli.<module>`` with ``add_arguments(parser)`` and ``run(args) -> int`` (and, if its
``--help`` needs more than the line below, a ``DESCRIPTION``). Modules load only when their command
is parsed or run, so ``nst stylize --model`` does not pay for the others."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Command:
    name: str
    module: str  # nst.cli.<module>
    help: str  # its line in `nst --help`


COMMANDS: tuple[Command, ...] = (
    Command("stylize", "stylize", "paint a photo in the style of a painting, or with a style model (--model)"),
    Command("demo", "demo", "paint a bundled photo with a bundled style model (no files needed)"),
    Command("info", "info", "print the settings stored in an image nst made"),
    Command("layers", "layers", "list VGG-19 layer names"),
    Command("train", "train", "train a style model (instant style) for one painting"),
    Command("models", "models", "list the bundled style models"),
    Command("export", "export", "write a style model as ONNX (checked against torch)"),
    Command("sweep", "sweep", "one photo and one painting, with settings varied (e.g. the style weight)"),
    Command("grid", "grid", "every photo in every painting's style, side by side"),
    Command("batch", "batch", "paint many photos (a folder or a list) with paintings or style models; resumable"),
    Command("video", "video", "paint a video clip without flicker (a style model, or the optimisation)"),
    Command("serve", "serve", "web app and REST API in the browser (needs the 'web' extra)"),
)
