"""Locate recorded exchange data across the configured (read-only) data folders."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from sim.errors import DataError


def find_data_file(relpath: str, dirs: Sequence[Path]) -> Path:
    """Return the first ``dir/relpath`` that exists; DataError naming the folders if none."""
    for d in dirs:
        candidate = d / relpath
        if candidate.exists():
            return candidate
    searched = ", ".join(str(d) for d in dirs) or "(no data folders configured)"
    raise DataError(
        f"recorded data '{relpath}' was not found in {searched}; "
        "set [data] dirs in the config or MICROFUT_DATA__DIRS to the folder holding it"
    )


def existing_dirs(dirs: Sequence[Path]) -> list[Path]:
    """The configured data folders that exist on this machine."""
    return [d for d in dirs if d.is_dir()]
