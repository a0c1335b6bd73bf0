"""The work folder beside a video's output: what makes a long run survive being killed.

``OUT.work/`` holds ``manifest.json`` (the input's identity, the settings, the stream's facts and
the finished chunks), one file per finished chunk (an H.264 segment, or the frames themselves for
an animation) and ``state-NNNNN.npz``: what the frame after chunk NNNNN needs from earlier ones (the previous painted
frames, kept losslessly, and the previous input frames). Every file is written to a temporary name
and renamed, and the manifest last, so the folder always describes finished work only.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np

from nst._version import __version__
from nst.atomic import write_atomically
from nst.errors import InputError

SCHEMA = "nst-video/1"
MANIFEST = "manifest.json"


def work_folder(output: Path) -> Path:
    return output.with_name(f"{output.name}.work")


def file_identity(path: Path) -> dict[str, Any]:
    """Enough to tell a file from another quickly: size, and a hash of its first and last MiB."""
    size = path.stat().st_size
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        digest.update(handle.read(1 << 20))
        if size > 2 << 20:
            handle.seek(size - (1 << 20))
            digest.update(handle.read(1 << 20))
    return {"path": str(path.resolve()), "bytes": size, "sha256_ends": digest.hexdigest()}


class WorkFolder:
    """The work folder of one output: created fresh, or reopened to resume (then its identity and
    settings must equal this run's)."""

    def __init__(self, output: Path, identity: dict[str, Any]):
        self.path = work_folder(output)
        self.identity = identity
        self.manifest: dict[str, Any] = {}

    @property
    def chunks(self) -> list[dict[str, Any]]:
        return self.manifest.get("chunks", [])

    @property
    def frames_done(self) -> int:
        return sum(c["frames"] for c in self.chunks)

    def exists(self) -> bool:
        return (self.path / MANIFEST).is_file()

    def start(self) -> None:
        """A fresh folder (one left by an earlier run of this output is removed first)."""
        self.remove()
        self.path.mkdir()
        self.manifest = {"schema": SCHEMA, "nst_version": __version__, **self.identity, "chunks": []}
        self._save_manifest()

    def reopen(self) -> None:
        """Continue the folder's run; refuses one made from other inputs or settings."""
        try:
            manifest = json.loads((self.path / MANIFEST).read_text())
        except (OSError, ValueError):
            raise InputError(f"the work folder '{self.path}' has no readable manifest; "
                             "start again with --overwrite") from None
        if manifest.get("schema") != SCHEMA:
            raise InputError(f"'{self.path}' is not an nst video work folder")
        for key, value in self.identity.items():
            if manifest.get(key) != value:
                what = _first_difference(manifest.get(key), value)
                raise InputError(f"the work folder '{self.path}' was made with another {key} ({what}); "
                                 "use the same command, or --overwrite to start again")
        self.manifest = manifest

    def remove(self) -> None:
        """Delete the folder, which must be a work folder (never a folder a user made)."""
        if not self.path.exists():
            return
        if not (self.path / MANIFEST).is_file() or not self.path.is_dir():
            raise InputError(f"'{self.path}' exists and is not an nst work folder; move it away")
        shutil.rmtree(self.path)

    def chunk_file(self, index: int, suffix: str) -> Path:
        return self.path / f"chunk-{index:05d}{suffix}"

    def state_file(self, index: int) -> Path:
        return self.path / f"state-{index:05d}.npz"

    def commit_chunk(self, entry: dict[str, Any], state: dict[str, np.ndarray]) -> None:
        """Record a finished chunk (its file is in place) and the state after it. The state is
        written first under the chunk's own name, so a kill at any moment leaves a manifest whose
        last chunk has its state; the previous chunk's state goes only after that."""
        index = entry["index"]
        write_atomically(self.state_file(index), lambda handle: np.savez(handle, **state))
        self.manifest["chunks"].append(entry)
        self._save_manifest()
        if index > 0:
            self.state_file(index - 1).unlink(missing_ok=True)

    def load_state(self) -> dict[str, np.ndarray]:
        """The state after the last finished chunk (empty before the first)."""
        if not self.chunks:
            return {}
        with np.load(self.state_file(self.chunks[-1]["index"])) as data:
            return {k: data[k] for k in data.files}

    def _save_manifest(self) -> None:
        text = json.dumps(self.manifest, indent=1, sort_keys=True).encode()
        write_atomically(self.path / MANIFEST, lambda handle: handle.write(text))


def _first_difference(old: Any, new: Any) -> str:
    if isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(set(old) | set(new)):
            if old.get(key) != new.get(key):
                return f"{key}: {old.get(key)!r} there, {new.get(key)!r} now"
    return f"{old!r} there, {new!r} now"
