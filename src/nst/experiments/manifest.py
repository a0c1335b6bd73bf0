"""manifest.json: the record of an experiment folder, rewritten atomically after every cell.

It holds what was asked (kind, inputs with checksums, settings of every cell), what happened
(per cell: status, image checksum, iterations, stop reason, timings, final losses, loss history)
and every invocation that worked on the folder (``runs``). Resume trusts it, so it is validated
when read and compared with the experiment being asked for.
"""

from __future__ import annotations

import json
import platform
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import nst
from nst.atomic import write_atomically
from nst.errors import InputError
from nst.experiments.plan import Cell, Experiment
from nst.optimise.config import StyleConfig

SCHEMA = "nst-experiment/1"
FILENAME = "manifest.json"
PENDING, DONE = "pending", "done"

#: Keys every manifest has, and the JSON types of their values.
TOP_LEVEL: dict[str, type | tuple[type, ...]] = {
    "schema": str,
    "kind": str,
    "nst_version": str,
    "torch_version": str,
    "python_version": str,
    "created": str,
    "updated": str,
    "command": (str, type(None)),
    "inputs": dict,
    "base_settings": dict,
    "params": dict,
    "layout": dict,
    "cells": list,
    "runs": list,
    "complete": bool,
    "sheet": (str, type(None)),
    "plot": (str, type(None)),
}
#: Keys every cell has, whatever its status.
CELL_KEYS: dict[str, type | tuple[type, ...]] = {
    "index": int,
    "name": str,
    "image": str,
    "row": int,
    "col": int,
    "label": str,
    "varied": dict,
    "content": dict,
    "style": dict,
    "settings": dict,
    "seed": int,
    "status": str,
}
#: Keys a finished cell adds.
DONE_KEYS: dict[str, type | tuple[type, ...]] = {
    "image_sha256": str,
    "device": str,
    "size": list,
    "iterations": int,
    "stop_reason": str,
    "elapsed_seconds": (int, float),
    "timings": dict,
    "final_losses": dict,
    "history": dict,
    "finished": str,
}


def now() -> str:
    """UTC time, ISO 8601, to the second."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def image_name(cell: Cell) -> str:
    return f"{cell.name}.png"


def cell_entry(cell: Cell) -> dict[str, Any]:
    """A pending cell's record."""
    return {
        "index": cell.index,
        "name": cell.name,
        "image": image_name(cell),
        "row": cell.row,
        "col": cell.col,
        "label": cell.label,
        "varied": dict(cell.varied),
        "content": cell.content.to_dict(),
        "style": cell.style.to_dict(),
        "settings": cell.config.to_dict(),
        "seed": cell.config.seed,
        "status": PENDING,
        **({"model": cell.model.to_dict()} if cell.model is not None else {}),
        **({"instant": cell.instant.to_dict()} if cell.instant is not None else {}),
    }


def new_manifest(experiment: Experiment, command: str | None = None) -> dict[str, Any]:
    """The manifest of a fresh experiment folder: every cell pending."""
    import torch

    stamp = now()
    return {
        "schema": SCHEMA,
        "kind": experiment.kind,
        "nst_version": nst.__version__,
        "torch_version": torch.__version__,
        "python_version": platform.python_version(),
        "created": stamp,
        "updated": stamp,
        "command": command,
        "inputs": {
            "contents": [i.to_dict() for i in experiment.contents],
            "styles": [i.to_dict() for i in experiment.styles],
        },
        "base_settings": experiment.base.to_dict(),
        "params": experiment.params_dict(),
        "layout": {
            "rows": list(experiment.rows),
            "columns": list(experiment.columns),
            "column_title": experiment.column_title,
        },
        "cells": [cell_entry(c) for c in experiment.cells],
        "runs": [],
        "complete": False,
        "sheet": None,
        "plot": None,
        **({"skipped": [{"path": p, "error": why} for p, why in experiment.skipped]}
           if experiment.kind == "batch" else {}),
    }


def validate(data: Any) -> None:
    """Raise InputError unless ``data`` has this schema's keys and types."""
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        raise InputError(f"not an nst experiment manifest (schema {SCHEMA!r} expected)")
    _check_keys(data, TOP_LEVEL, "manifest")
    for i, cell in enumerate(data["cells"]):
        if not isinstance(cell, dict):
            raise InputError(f"manifest cell {i} is not an object")
        _check_keys(cell, CELL_KEYS, f"manifest cell {i}")
        if cell["status"] not in (PENDING, DONE):
            raise InputError(f"manifest cell {i} has unknown status {cell['status']!r}")
        if cell["status"] == DONE:
            _check_keys(cell, DONE_KEYS, f"manifest cell {i}")


def _check_keys(data: dict[str, Any], keys: dict[str, Any], where: str) -> None:
    for key, kind in keys.items():
        if key not in data:
            raise InputError(f"{where} lacks {key!r}")
        value = data[key]
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise InputError(f"{where}: {key!r} has the wrong type ({type(value).__name__})")


def read(folder: Path) -> dict[str, Any] | None:
    """The folder's validated manifest, None if it has none, InputError if it is not one of ours."""
    path = folder / FILENAME
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"'{path}' is not a readable manifest: {exc}") from None
    try:
        validate(data)
    except InputError as exc:
        raise InputError(f"'{path}': {exc}") from None
    return data


def write(folder: Path, data: dict[str, Any]) -> None:
    """Replace manifest.json atomically: readers see the old or the new file, never a partial one."""
    data["updated"] = now()
    # Strict JSON: the runner stores non-finite numbers as null.
    text = json.dumps(data, indent=1, allow_nan=False, ensure_ascii=False)
    write_atomically(folder / FILENAME, lambda handle: handle.write(text.encode("utf-8")), mode=0o644)


def difference(data: dict[str, Any], experiment: Experiment) -> str | None:
    """Why the recorded experiment is not ``experiment`` (None when it is the same one).

    Same means the same kind and, cell by cell, the same name, the same input bytes and the same
    settings. Settings are compared as configs, so a field added to `StyleConfig` since the
    manifest was written (absent there, default now) does not make the experiment different.
    """
    if data["kind"] != experiment.kind:
        return f"it is a {data['kind']}, not a {experiment.kind}"
    recorded = data["cells"]
    if len(recorded) != len(experiment.cells):
        return f"it has {len(recorded)} cells, this command asks for {len(experiment.cells)}"
    for old, cell in zip(recorded, experiment.cells, strict=True):
        if old["name"] != cell.name:
            return f"cell {cell.index + 1} is '{old['name']}' there, '{cell.name}' here"
        for role, image in (("content", cell.content), ("style", cell.style)):
            if old[role].get("sha256") != image.sha256:
                return f"cell '{cell.name}' used a different {role} image ({old[role].get('path')})"
        model = cell.model.to_dict() if cell.model is not None else None
        if old.get("model") != model:
            return f"cell '{cell.name}' used different style model settings"
        if old.get("instant") != (cell.instant.to_dict() if cell.instant is not None else None):
            return f"cell '{cell.name}' was painted another way (--instant or its settings differ)"
        try:
            old_config = StyleConfig.from_dict(old["settings"])
        except InputError as exc:
            return f"cell '{cell.name}' has settings this version cannot read ({exc})"
        if old_config != cell.config:
            new = cell.config.to_dict()
            changed = sorted(k for k, v in old_config.to_dict().items() if new.get(k) != v)
            return f"cell '{cell.name}' has different settings ({', '.join(changed)})"
    return None
