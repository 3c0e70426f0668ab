"""The desk's screen as plain text lines, as a terminal of the pilot's size shows it."""

from __future__ import annotations

import io

from rich.console import Console
from textual.app import App


def screen_lines(app: App) -> list[str]:
    """Every row of the terminal, trailing spaces stripped (what a trader can read)."""
    width, height = app.size
    console = Console(width=width, height=height, file=io.StringIO(), force_terminal=True,
                      color_system="truecolor", record=True, legacy_windows=False,
                      safe_box=False)  # fmt: skip
    console.print(app.screen._compositor.render_update(full=True))
    text = console.export_text()
    return [line.rstrip() for line in text.splitlines()][:height]
