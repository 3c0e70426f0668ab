"""microfut's bundled data (installed as the ``microfut_data`` package): see sample/README.md."""

from pathlib import Path

SAMPLE_DIR = Path(__file__).resolve().parent / "sample"
