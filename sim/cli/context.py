"""Per-invocation CLI state: the loaded settings, shared by every command group."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from config.settings import Settings

_config_file: Path | None = None
_settings: Settings | None = None


def set_config_file(path: Path | None) -> None:
    """Remember the --config flag; settings load lazily so `--help` never fails on bad config."""
    global _config_file, _settings
    _config_file = path
    _settings = None


def settings() -> Settings:
    """The settings for this invocation (raises ConfigError on a broken layer)."""
    global _settings
    if _settings is None:
        from config.settings import load_settings  # pydantic: only when a command needs it

        _settings = load_settings(_config_file)
    return _settings
