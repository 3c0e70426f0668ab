"""The trade journal: a durable SQLite record of every paper account, and resume from it.

``Journal.open(path)`` is the entry point (``sim/journal/store.py``); ``restore.resume_point``
says where an account resumes. ``reader.JournalReader`` reads with sqlite3 alone (quick start-up
for `journal list`/`show`), so this package imports SQLAlchemy only when ``Journal`` is used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sim.journal.store import AccountInfo, Journal

__all__ = ["AccountInfo", "Journal"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from sim.journal import store

        return getattr(store, name)
    raise AttributeError(f"module 'sim.journal' has no attribute {name!r}")
