"""The trade journal: a durable SQLite record of every paper account, and resume from it.

``Journal.open(path)`` is the entry point (``sim/journal/store.py``); ``restore.resume_point``
says where an account resumes.
"""

from sim.journal.store import AccountInfo, Journal

__all__ = ["AccountInfo", "Journal"]
