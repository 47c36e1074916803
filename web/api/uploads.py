"""Bundles from a browser or API upload: several files, or zip archives of them.

Paths inside a zip keep their folders (forms may live in sub-folders); absolute paths,
``..`` and hidden files are refused or skipped, and a zip may not unpack to more than
:data:`MAX_UNPACKED` bytes or :data:`MAX_FILES` files.
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import PurePosixPath

from werkzeug.datastructures import FileStorage

from engine.bundle import Bundle
from engine.errors import InvalidInput

MAX_UNPACKED = 20 * 1024 * 1024
MAX_FILES = 500
NAME = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")


def bundle_from_upload(name: str, uploads: list[FileStorage]) -> Bundle:
    """Return the bundle ``name`` made of the uploaded files (zips unpacked)."""
    if not NAME.fullmatch(name or ""):
        raise InvalidInput("the bundle name is 1-100 letters, digits, '_', '.' or '-'", field="name")
    files: dict[str, bytes] = {}
    for upload in uploads:
        filename = upload.filename or ""
        content = upload.read()
        if not filename and not content:
            continue
        if filename.lower().endswith(".zip"):
            files.update(_unzip(filename, content))
        else:
            files[_clean_path(PurePosixPath(filename.replace("\\", "/")).name, filename)] = content
    if not files:
        raise InvalidInput("choose BPMN, DMN and form files (or a zip of them) to deploy", field="files")
    if len(files) > MAX_FILES:
        raise InvalidInput("a bundle holds at most {max_files} files", field="files", params={"max_files": MAX_FILES})
    return Bundle(name, files)


def _clean_path(path: str, shown: str) -> str:
    parts = PurePosixPath(path).parts
    if not parts or path.startswith("/") or any(p in ("..", "") for p in parts) or "\x00" in path:
        raise InvalidInput("'{shown}' is not an acceptable file name", field="files", params={"shown": shown})
    return "/".join(parts)


def _unzip(filename: str, content: bytes) -> dict[str, bytes]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
    except zipfile.BadZipFile as exc:
        raise InvalidInput("{filename} is not a zip archive", field="files", params={"filename": filename}) from exc
    files: dict[str, bytes] = {}
    total = 0
    with archive:
        for info in archive.infolist():
            if info.is_dir():
                continue
            parts = PurePosixPath(info.filename).parts
            if any(p.startswith((".", "__")) for p in parts):
                continue  # __MACOSX/, .DS_Store and the like
            total += info.file_size
            if total > MAX_UNPACKED or len(files) >= MAX_FILES:
                raise InvalidInput("{filename} unpacks to more than {max_unpacked} MiB or {max_files} files",
                                   field="files", params={"filename": filename, "max_unpacked": MAX_UNPACKED // 2 ** 20,
                                                          "max_files": MAX_FILES})
            path = _clean_path(info.filename, f"{filename}:{info.filename}")
            try:
                files[path] = archive.read(info)
            except (zipfile.BadZipFile, RuntimeError, NotImplementedError, EOFError) as exc:
                raise InvalidInput("{filename}:{member} cannot be read: {exc}", field="files",
                                   params={"filename": filename, "member": info.filename, "exc": exc}) from exc
    return _strip_common_folder(files)


def _strip_common_folder(files: dict[str, bytes]) -> dict[str, bytes]:
    """Drop a single top folder that every path shares (a zipped ``processes/`` folder)."""
    tops = {p.split("/", 1)[0] for p in files}
    if len(tops) == 1 and all("/" in p for p in files):
        return {p.split("/", 1)[1]: c for p, c in files.items()}
    return files
