"""Where `journal export` and `journal plot` write: only what the user named, never through a link.

Rules (issue 17): the ``--out`` folder itself may be created (and the output says so), never its
missing parents; an existing non-empty ``--out`` folder needs ``--force``; a target that is a
symbolic link is refused before anything is written, and every file is opened with
``O_NOFOLLOW`` so a link planted between the check and the write is refused too. The default
folder (under the data home, no ``--out``) is microfut's own: it is created with its parents
and reused.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Literal, overload

from sim.errors import InputError

NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


@dataclass(frozen=True, slots=True)
class OutFolder:
    path: Path
    created: bool  # this command made the folder (the output says so)


def prepare(
    folder: Path, names: Sequence[str], *, named: bool, force: bool, what: str
) -> OutFolder:
    """Check (and create when missing) the folder that will receive ``names``.

    ``named``: the user passed ``--out`` (strict rules); otherwise the data home's default.
    Raises InputError, before anything is written, for a file in the way, a missing parent of a
    named folder, a non-empty named folder without ``force``, or a target that is a link.
    """
    created = False
    if folder.exists() and not folder.is_dir():
        raise InputError(f"{what} folder {folder} is a file; pass --out with a folder")
    if not folder.exists():
        if named and not folder.parent.is_dir():
            raise InputError(
                f"cannot create {what} folder {folder}: {folder.parent} does not exist "
                "(microfut creates only the --out folder itself; create its parent first)"
            )
        try:
            folder.mkdir(parents=not named, exist_ok=True)
        except OSError as e:
            raise InputError(f"cannot create {what} folder {folder}: {e.strerror}") from None
        created = True
    elif named and not force and _non_empty(folder):
        raise InputError(
            f"{what} folder {folder} is not empty; pass --force to write into it "
            f"(replaces {', '.join(names)})"
        )
    for name in names:
        target = folder / name
        if target.is_symlink():
            raise InputError(
                f"{target} is a symbolic link; microfut does not write through links "
                "(remove it or pick another --out)"
            )
        if target.is_dir():
            raise InputError(f"{target} is a folder; remove it or pick another --out")
    return OutFolder(folder, created)


def _non_empty(folder: Path) -> bool:
    try:
        return next(folder.iterdir(), None) is not None
    except OSError as e:
        raise InputError(f"cannot read folder {folder}: {e.strerror}") from None


@overload
def open_target(path: Path, mode: Literal["w"]) -> IO[str]: ...
@overload
def open_target(path: Path, mode: Literal["wb"]) -> IO[bytes]: ...
def open_target(path: Path, mode: Literal["w", "wb"]) -> IO[str] | IO[bytes]:
    """Open ``path`` for writing (created or truncated) without following a final symlink."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | NOFOLLOW
    try:
        fd = os.open(path, flags, 0o644)
    except OSError as e:
        if e.errno == errno.ELOOP:
            raise InputError(
                f"{path} is a symbolic link; microfut does not write through links"
            ) from None
        raise InputError(f"cannot write {path}: {e.strerror}") from None
    if mode == "wb":
        return os.fdopen(fd, "wb")
    return os.fdopen(fd, "w", encoding="utf-8", newline="")
