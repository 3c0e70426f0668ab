"""Benchmarks (run as scripts; each prints one JSON document)."""

from __future__ import annotations

import os
import sys
from pathlib import Path


def shared_data() -> Path:
    """The recorded exchange data the benchmarks measure on (../shared/data, as the tests read
    it; MICROFUT_TEST_SHARED_DATA overrides). The bundled sample is too small to measure."""
    root = Path(__file__).resolve().parents[2]
    path = Path(os.environ.get("MICROFUT_TEST_SHARED_DATA", root.parent / "shared" / "data"))
    if not (path / "README.md").exists():
        sys.exit(f"recorded data not found at {path}: benchmarks need ../shared/data")
    return path
