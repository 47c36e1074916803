"""A deployable bundle: the files of a process folder, named and hashed."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from .errors import InvalidInput

KINDS = {".bpmn": "bpmn", ".dmn": "dmn", ".json": "json", ".j2": "template", ".jinja": "template",
         ".html": "template", ".txt": "template", ".md": "text", ".yaml": "data", ".yml": "data",
         ".csv": "data"}


@dataclass(frozen=True)
class Bundle:
    """The files of one deployment: ``{relative path: bytes}``."""

    name: str
    files: dict[str, bytes]

    @property
    def content_hash(self) -> str:
        """Return the SHA-256 over the sorted (path, file hash) pairs."""
        digest = hashlib.sha256()
        for path in sorted(self.files):
            digest.update(path.encode("utf-8") + b"\0")
            digest.update(hashlib.sha256(self.files[path]).hexdigest().encode() + b"\n")
        return digest.hexdigest()

    def of_kind(self, kind: str) -> dict[str, bytes]:
        """Return the files of one kind (``bpmn``, ``dmn``, ``json`` …)."""
        return {p: c for p, c in sorted(self.files.items()) if kind_of(p) == kind}


def kind_of(path: str) -> str:
    """Return the kind of a bundle file from its extension."""
    return KINDS.get(Path(path).suffix.lower(), "other")


def read_bundle(paths: list[Path | str], name: str | None = None) -> Bundle:
    """Read folders (recursively) and files into a bundle; folders keep relative paths."""
    files: dict[str, bytes] = {}
    resolved = [Path(p) for p in paths]
    if not resolved:
        raise InvalidInput("nothing to deploy: give a folder or files")
    for path in resolved:
        if path.is_dir():
            for file in sorted(path.rglob("*")):
                rel = file.relative_to(path)
                if file.is_file() and not any(part.startswith((".", "__")) for part in rel.parts):
                    files[rel.as_posix()] = file.read_bytes()
        elif path.is_file():
            files[path.name] = path.read_bytes()
        else:
            raise InvalidInput("{path} does not exist", path=str(path), params={"path": path})
    if not files:
        raise InvalidInput("no files found in {resolved}", params={"resolved": ", ".join(map(str, resolved))})
    default = resolved[0].resolve().name if resolved[0].is_dir() else resolved[0].resolve().parent.name
    return Bundle(name or default, files)
