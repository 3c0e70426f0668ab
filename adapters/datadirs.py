"""Locate recorded exchange data across the configured (read-only) data folders."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

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


def load_json(path: Path) -> Any:
    """Read a JSON file; DataError naming the file when it is unreadable or corrupt."""
    try:
        with path.open("rb") as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        raise DataError(f"cannot read {path}: {e}; restore or delete the file") from None
